"""Negative control: the checks must be able to fail.

One truth-table bit of a LUT that matters for the vectors is flipped; the
flipped netlist is compiled to Verilog and checked against the ORIGINAL
netlist's expectations. Simulation must report mismatches and the formal
proof must fail, with either proof strategy. Bits moved between GroupSum
groups (same fabric, different counts) must fail the proof too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.errors import ToolError
from lut2rtl.evaluate import evaluate
from lut2rtl.families import FAMILIES
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Layer, Netlist
from lut2rtl.verify.formal import prove_equivalence
from lut2rtl.verify.simulate import simulate_design
from lut2rtl.verify.vectors import expected_vectors, random_inputs

ICE40 = FAMILIES["ice40"]


def flip_one_bit(net: Netlist, in_bits: np.ndarray) -> tuple[Netlist, int, int]:
    """The first (layer, LUT) whose flipped row 0..2^k-1 changes an output on ``in_bits``."""
    want = evaluate(net, in_bits).out_bits
    for l, layer in enumerate(net.layers):
        for n in range(layer.size):
            for bit in range(1 << layer.k):
                tables = layer.tables.copy()
                tables[n] ^= np.uint64(1) << np.uint64(bit)
                layers = list(net.layers)
                layers[l] = Layer(layer.k, layer.inputs, tables)
                flipped = net.replace(layers=tuple(layers), outputs=net.outputs)
                if np.any(evaluate(flipped, in_bits).out_bits != want):
                    return flipped, l, n
    raise AssertionError("no single-bit flip changes the outputs")


@pytest.fixture
def original() -> Netlist:
    return random_netlist(11, 20, [40, 30, 20], 2, classes=4)


@pytest.mark.verilator
def test_simulation_detects_flipped_bit(original: Netlist, tmp_path: Path, sim_cache: Path) -> None:
    vectors = expected_vectors(original, random_inputs(original.n_inputs, 400, 0))
    flipped, _, _ = flip_one_bit(original, vectors.in_bits)
    res_dir = compile_netlist(flipped, tmp_path / "flipped", target="ice40", pipeline=1, out_bits=True).out_dir
    design = read_build_folder(res_dir)
    res = simulate_design(design, vectors, cache_dir=sim_cache)
    assert not res.ok
    assert res.comparison.mismatched_vectors > 0
    assert res.comparison.n_valid_errors == 0  # the data differs, the timing does not
    # and the same design matches its own (flipped) netlist: the failure is the flip, nothing else
    assert simulate_design(design, expected_vectors(flipped, vectors.in_bits), cache_dir=sim_cache).ok


@pytest.mark.yosys
def test_formal_detects_flipped_bit(original: Netlist, tmp_path: Path) -> None:
    flipped, _, _ = flip_one_bit(original, random_inputs(original.n_inputs, 400, 0))
    res_dir = compile_netlist(flipped, tmp_path / "flipped", target="ice40", pipeline=0).out_dir
    design = read_build_folder(res_dir)
    bad = prove_equivalence(original, design.verilog, design.manifest.top, family=ICE40, out_bits=False)
    assert not bad.proved
    assert "in_bits" in bad.detail
    good = prove_equivalence(flipped, design.verilog, design.manifest.top, family=ICE40, out_bits=False)
    assert good.proved


@pytest.mark.yosys
def test_formal_cut_strategy_alone_cannot_prove_a_flipped_bit(original: Netlist, tmp_path: Path) -> None:
    # the cut strategy (free values at the named wires, one SAT call) must never "prove" a wrong design
    flipped, _, _ = flip_one_bit(original, random_inputs(original.n_inputs, 400, 0))
    design = read_build_folder(compile_netlist(flipped, tmp_path / "flipped", target="ice40", pipeline=0).out_dir)
    with pytest.raises(ToolError, match="undecided"):
        prove_equivalence(original, design.verilog, design.manifest.top, family=ICE40, out_bits=False,
                          strategies=("cut",))
    good = prove_equivalence(flipped, design.verilog, design.manifest.top, family=ICE40, out_bits=False,
                             strategies=("cut",))
    assert good.proved and "yosys expose -cut" in good.method


@pytest.mark.yosys
@pytest.mark.parametrize("strategies", [("cut",), ("cut", "miter")])
def test_formal_detects_bits_moved_between_groups(original: Netlist, tmp_path: Path,
                                                   strategies: tuple[str, ...]) -> None:
    # same fabric, two output bits swapped across classes: only the GroupSum differs
    g = original.n_outputs // original.group_sum.classes
    outs = np.asarray(original.outputs).copy()
    for i in range(g):  # a pair of bits from classes 0 and 1 that differ on some input
        j = g + i
        if outs[i] != outs[j]:
            outs[i], outs[j] = outs[j], outs[i]
            break
    moved = original.replace(outputs=outs)
    ins = random_inputs(original.n_inputs, 400, 0)
    assert np.any(evaluate(moved, ins).counts != evaluate(original, ins).counts)
    design = read_build_folder(compile_netlist(moved, tmp_path / "moved", target="ice40", pipeline=0).out_dir)
    if strategies == ("cut",):
        with pytest.raises(ToolError, match="undecided"):
            prove_equivalence(original, design.verilog, design.manifest.top, family=ICE40, out_bits=False,
                              strategies=strategies)
    else:
        assert not prove_equivalence(original, design.verilog, design.manifest.top, family=ICE40, out_bits=False,
                                     strategies=strategies).proved


@pytest.mark.yosys
def test_lut_cut_points_prove_and_never_pass_a_flipped_bit(original: Netlist, tmp_path: Path) -> None:
    # the LUT-level cut points (chosen by random simulation) are hints: the right design proves (with
    # them, or, where a LUT cut is not locally provable, with the popcount cut points alone), and a
    # flipped LUT bit never proves, the cut strategy alone included
    flipped, _, _ = flip_one_bit(original, random_inputs(original.n_inputs, 400, 0))
    for net, name in ((original, "good"), (flipped, "flipped")):
        design = read_build_folder(compile_netlist(net, tmp_path / name, target="ice40", pipeline=0,
                                                   opt=2).out_dir)
        if net is original:
            res = prove_equivalence(original, design.verilog, design.manifest.top, family=ICE40, out_bits=False,
                                    lut_cuts=True, strategies=("cut",))
            assert res.proved and "cut points" in res.method
        else:
            with pytest.raises(ToolError, match="undecided"):
                prove_equivalence(original, design.verilog, design.manifest.top, family=ICE40, out_bits=False,
                                  lut_cuts=True, strategies=("cut",))

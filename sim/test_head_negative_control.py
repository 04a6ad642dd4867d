"""Negative controls inside the GroupSum head: one adder of the popcount tree made wrong, or one
comparator register that stores its value instead of the complement the comparator reads, in the
emitted Verilog, is caught by simulation and by the formal proof."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.families import FAMILIES
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.formal import prove_equivalence
from lut2rtl.verify.simulate import simulate_design
from lut2rtl.verify.vectors import expected_vectors, random_inputs


def break_one_adder(verilog: str) -> str:
    """Turn the adder that drives a popcount partial sum (``gs_c<c>_n<node>``) into a subtractor."""
    for m in re.finditer(r"assign (gs_c\d+_n\d+) = (\\\$\d+) \[", verilog):
        drv = re.escape(m.group(2))
        new, n = re.subn(rf"(assign {drv}  = [^;]*?) \+ ", r"\1 - ", verilog, count=1)
        if n:
            return new
    raise AssertionError("no popcount adder found in the Verilog")


def break_one_ternary_lut(verilog: str) -> str:
    """Flip one bit of a heap chain's LUT6_2 (its propagate output for x = 1, the other inputs 0)."""
    m = re.search(r"LUT6_2 #\(\s*\.INIT\(64'h([0-9a-fA-F]+)\)", verilog)
    assert m, "no LUT6_2 in the Verilog"
    value = int(m.group(1), 16) ^ (1 << 33)
    return verilog[:m.start(1)] + f"{value:016x}" + verilog[m.end(1):]


def break_one_carry_cell(verilog: str) -> str:
    """Flip one bit of a chained adder's CCU2C: the propagate of its first half for A = 1 (``INIT0`` bit 9,
    set in an adding half: ``a ^ b`` at ``A = 1, B = 0``, ``D = 1``), in a half whose ``A0`` is a signal
    (an operand narrower than the other reads a constant 0 there, and the flipped row is never read)."""
    for m in re.finditer(r"CCU2C #\(\s*\.INIT0\(16'h([0-9a-fA-F]+)\)(.*?)\);", verilog, re.S):
        value = int(m.group(1), 16)
        a0 = re.search(r"\.A0\(([^)]*)\)", m.group(2))
        if value >> 9 & 1 and a0 is not None and not re.fullmatch(r"\s*1'h[01]\s*", a0.group(1)):
            return verilog[:m.start(1)] + f"{value ^ 1 << 9:04x}" + verilog[m.end(1):]
    raise AssertionError("no adding CCU2C half with a signal on A0 in the Verilog")


@pytest.mark.verilator
@pytest.mark.yosys
@pytest.mark.parametrize(("target", "breaker"), [("ice40", break_one_adder), ("xilinx", break_one_ternary_lut),
                                                 ("ecp5", break_one_carry_cell)])
def test_wrong_compressor_is_caught(tmp_path: Path, sim_cache: Path, target: str, breaker) -> None:  # type: ignore[no-untyped-def]
    # ice40: an adder of the tree made a subtractor; xilinx: one bit of a heap chain's LUT6_2 flipped;
    # ecp5: one bit of a chained adder's CCU2C flipped
    net = random_netlist(21, 24, [48, 40], 2, classes=4) if target != "xilinx" else \
        random_netlist(22, 24, [60, 60], 2, classes=3)
    good = compile_netlist(net, tmp_path / "b", target=target, pipeline=0, name="core").out_dir
    text = (good / "core.v").read_text()
    bad = breaker(text)
    assert bad != text
    (good / "core.v").write_text(bad)
    design = read_build_folder(good)
    vectors = expected_vectors(net, random_inputs(net.n_inputs, 512, 3))
    sim = simulate_design(design, vectors, cache_dir=sim_cache)
    assert not sim.ok and sim.comparison.mismatched_vectors > 0
    assert not prove_equivalence(net, design.verilog, "core", family=FAMILIES[target], out_bits=False).proved
    # the control of the control: the unbroken design passes both
    (good / "core.v").write_text(text)
    assert simulate_design(design, vectors, cache_dir=sim_cache).ok
    proof = prove_equivalence(net, design.verilog, "core", family=FAMILIES[target], out_bits=False)
    assert proof.proved and "yosys expose -cut" in proof.method


def drop_comparator_inversion(verilog: str, register: str) -> str:
    """Remove the inversion in front of a comparator's complement register (``<value>_n_q<level>``): the
    first ``assign $N = ~ ...`` that feeds one, ``register`` naming which kind (a class count's copy
    ``gs_count``, or a tournament winner's register ``gs_r``)."""
    for m in re.finditer(rf"({register}\w*_n_q\d+) <= (\\\$\d+) ;", verilog):
        new, n = re.subn(rf"(assign {re.escape(m.group(2))}  = )~ ", r"\1", verilog, count=1)
        if n:
            return new
    raise AssertionError(f"no complement register {register}..._n_q.. fed by an inverter in the Verilog")


@pytest.mark.verilator
@pytest.mark.yosys
@pytest.mark.parametrize("register", ["gs_count", "gs_r"])
def test_wrong_comparator_polarity_is_caught(tmp_path: Path, sim_cache: Path, register: str) -> None:
    # every head level registered (iCE40 at 400 MHz): the comparators read ~a from registers storing the
    # complement; one register that stores a instead is caught by simulation and by the pipelined proof
    from lut2rtl.verify.check import verify_build

    net = random_netlist(23, 24, [64, 48], 2, classes=6)
    out = compile_netlist(net, tmp_path / "b", target="ice40", clock_mhz=400.0, name="core").out_dir
    text = (out / "core.v").read_text()
    bad = drop_comparator_inversion(text, register)
    assert bad != text
    (out / "core.v").write_text(bad)
    sim = verify_build(out, extra_vectors=512, cache_dir=sim_cache)
    assert sim.sim is not None and not sim.sim.ok
    proof = verify_build(out, formal=True, simulate=False)
    assert proof.formal is not None and not proof.formal.proved, proof.formal_error  # refuted, not a tool error
    # the control of the control: the unbroken design passes both
    (out / "core.v").write_text(text)
    good = verify_build(out, extra_vectors=512, formal=True, cache_dir=sim_cache)
    assert good.ok and good.formal is not None and good.formal.proved

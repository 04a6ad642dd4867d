"""The ternary adder (dual-output LUT + carry chain) and the popcount trees built from it.

Its function is proved with Yosys's own models of ``LUT6_2`` and ``CARRY4``
(``sat`` over every input); a whole head is simulated with Verilator."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import Module, Signal

from lut2rtl.compile import compile_netlist
from lut2rtl.evaluate import class_counts, predict
from lut2rtl.families import FAMILIES
from lut2rtl.netlist import GroupSum, Layer, Netlist, rows_to_table
from lut2rtl.rtl import ternary
from lut2rtl.rtl.groupsum import plan_groupsum
from lut2rtl.rtl.popcount import adder_luts, family_popcount, plan_popcount

from .simhelp import prove_with_models, split_counts
from .vsim import build_sim, run_sim

XILINX = FAMILIES["xilinx"]


def test_init_table() -> None:
    init = ternary.ternary_init(XILINX.ternary)
    for x, y, z, c, unused in itertools.product((0, 1), repeat=5):
        idx = x | y << 1 | z << 2 | c << 3 | unused << 4
        assert (init >> idx) & 1 == (x + y + z >= 2)  # O5: the bit's carry to the next LUT
        assert (init >> (32 + idx)) & 1 == (x ^ y ^ z ^ c)  # O6: the chain's propagate


@pytest.mark.parametrize("g", [*range(1, 40), 64, 99, 100, 101, 200, 333, 1000])
def test_ternary_plan_counts_every_bit_once(g: int) -> None:
    plan = plan_popcount(g, 6, leaf=3, arity=3)
    if g == 1:
        assert plan.root == 0 and not plan.ops
        return
    used = [a for op in plan.ops for a in op.args if a < g]
    assert sorted(used) == list(range(g))  # every bit read once, by a counter or as a carry-in
    assert plan.maxes[plan.root] == g
    for op in plan.ops:
        assert plan.maxes[op.out] == sum(plan.maxes[a] for a in op.args)
        if op.kind == "add3":
            assert len(op.args) in (3, 4) and all(plan.maxes[a] == 1 for a in op.args[3:])
            assert plan.maxes[op.out].bit_length() <= max(plan.maxes[a].bit_length() for a in op.args[:3]) + 2
    assert plan.root >= g


def test_ternary_tree_is_cheaper_and_shallower() -> None:
    for g in (60, 100, 200, 1000):
        two, three = plan_popcount(g, 6, leaf=3), plan_popcount(g, 6, leaf=3, arity=3)
        luts2 = sum(adder_luts(two, op) for op in two.ops if op.kind != "count")
        luts3 = sum(adder_luts(three, op) for op in three.ops if op.kind != "count")
        # (0.74x to 0.80x of the searched two-number tree: 33 against 41 LUTs at 60 bits)
        assert luts3 < 0.85 * luts2 and three.depth < two.depth, (g, luts2, luts3)
    # the families: Xilinx compresses the group as one bit heap of the same LUT6_2 + CARRY4 chains (test_heap.py)
    assert [op.kind for op in family_popcount(100, XILINX).ops if op.kind != "count"] == ["heap"]
    assert not any(op.kind in ("add3", "heap") for op in family_popcount(100, FAMILIES["ice40"]).ops)


def _prove_adder(tmp_path: Path, widths: tuple[int, int, int], cin: bool) -> bool:
    m = Module()
    xs = [Signal(w, name=n) for w, n in zip(widths, "xyz")]
    c = Signal(name="cin")
    total = ternary.ternary_adder(m, "t", [*xs, *([c] if cin else [])], XILINX)
    assert len(total) == max(widths) + 2
    s, ok = Signal(len(total), name="s"), Signal(name="ok")
    m.d.comb += [s.eq(total), ok.eq(s == xs[0] + xs[1] + xs[2] + (c if cin else 0))]
    return prove_with_models(tmp_path, m, [*xs, c, s, ok], XILINX, {"LUT6_2", "CARRY4"})


@pytest.mark.yosys
@pytest.mark.parametrize(("widths", "cin"), [((1, 1, 1), True), ((2, 2, 2), True), ((3, 2, 1), False),
                                             ((4, 4, 4), True), ((5, 3, 5), True), ((7, 7, 6), False)])
def test_adder_proved_with_the_primitive_models(tmp_path: Path, widths: tuple[int, int, int], cin: bool) -> None:
    # (widths 4 and 7: one full CARRY4 and a second one; 5: an adder whose top bit is in the next block)
    assert _prove_adder(tmp_path, widths, cin)


@pytest.mark.yosys
def test_wrong_init_is_refuted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    right = ternary.ternary_init(XILINX.ternary)
    monkeypatch.setattr(ternary, "ternary_init", lambda chain: right ^ (1 << (32 + 0b0101)))  # O6 for x = z = 1
    assert not _prove_adder(tmp_path, (3, 3, 3), True)


def _head_only(classes: int, g: int) -> Netlist:
    """A network whose outputs are its inputs (buffers): the compiled design is the head alone."""
    n = classes * g
    buf = rows_to_table(np.array([[False, True]]))[0]
    return Netlist(n_inputs=n, layers=(Layer(k=1, inputs=np.arange(n)[:, None], tables=np.full(n, buf)),),
                   group_sum=GroupSum(classes=classes))


@pytest.mark.verilator
@pytest.mark.parametrize(("target", "cell"), [("xilinx", "LUT6_2"), ("ecp5", "CCU2C")])
@pytest.mark.parametrize(("classes", "g", "pipeline"), [(3, 37, 0), (4, 100, 3)])
def test_head_simulates_bit_exact(tmp_path: Path, classes: int, g: int, pipeline: int, target: str, cell: str,
                                  rng: np.random.Generator) -> None:
    # the heads built from primitive instances: Xilinx's bit heap, ECP5's chained adders (rtl/carrychain.py)
    net = _head_only(classes, g)
    if target == "xilinx":
        assert any(st.kind == "heap" for st in plan_groupsum(classes * g, classes, XILINX).steps)
    n = classes * g
    rows = [np.zeros(n), np.ones(n)]
    for k in (1, g // 2, g):  # ties: every class the same count
        row = np.zeros(n)
        for c in range(classes):
            row[c * g:c * g + k] = 1
        rows.append(row)
    row = np.zeros(n)  # the two top classes tied, the lower index wins
    for c, k in ((classes - 1, g), (1, g), (0, g - 1)):
        row[c * g:c * g + k] = 1
    rows.append(row)
    dense = rng.random((60, 1)) < rng.random((60, n))  # varied densities
    bits = np.vstack([np.array(rows, dtype=bool), dense])
    res = compile_netlist(net, tmp_path / "b", target=target, pipeline=pipeline, name="head")
    assert cell in (tmp_path / "b" / "head.v").read_text()
    got = run_sim(build_sim(tmp_path / "b", tmp_path / "sim"), bits, pipeline)
    assert set(got["cycle"]) == {pipeline}
    counts = class_counts(bits, classes)
    assert np.array_equal(split_counts(got["out_counts"], classes, res.manifest.count_width), counts)
    assert np.array_equal(np.array(got["out_class"]), predict(counts))

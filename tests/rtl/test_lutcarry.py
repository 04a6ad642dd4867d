"""Carry + LUT cells of the iCE40 argmax (lut2rtl/rtl/lutcarry.py) and where the head uses them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from amaranth.hdl import C, Cat, Const, Instance, Module, Mux, Signal, Value

from lut2rtl.families import FAMILIES
from lut2rtl.rtl import lutcarry
from lut2rtl.rtl.groupsum import (
    _lut_carry_matches,
    build_groupsum,
    family_popcount,
    groupsum_levels,
    head_layout,
    plan_groupsum,
)
from lut2rtl.rtl.lutcarry import adder, compare_mux

from .simhelp import prove_with_models

# modules built to be inspected or refused are never elaborated (Amaranth warns when they are collected)
pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl._ir.UnusedElaboratable")

ICE40 = FAMILIES["ice40"]
CELLS = {"SB_LUT4", "SB_CARRY"}


@pytest.fixture(params=[False, True], ids=["cells", "flipped"])
def flip(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """The negative control where True: every LUT these cells get has one INIT bit flipped."""
    if request.param:
        real = lutcarry.lut_init
        monkeypatch.setattr(lutcarry, "lut_init", lambda fam, f: real(fam, f) ^ 1 << 6)
    return bool(request.param)


@pytest.mark.yosys
def test_cells_equal_their_function_for_every_input(tmp_path: Path, flip: bool) -> None:
    # adders of several shapes (carry-in or not, a sum of the operands' width or one more, a narrower operand,
    # a constant operand bit), plain and complemented, and comparators with the winner's mux in both
    # polarities: equal to x + y + c, b > a and gt ? b : a for every input (sat over Yosys's SB_LUT4 /
    # SB_CARRY models). Control: one INIT bit flipped in every LUT is refuted
    m = Module()
    ports: list[Value] = []
    same: Value = C(1, 1)
    for i, (wx, wy, cin, width, invert) in enumerate([(2, 2, True, 3, False), (3, 3, False, 4, True),
                                                      (3, 2, True, 3, True), (1, 1, True, 2, True),
                                                      (2, 2, False, 3, False)]):
        x, y = Signal(wx, name=f"x{i}"), Signal(wy, name=f"y{i}")
        c = Signal(name=f"c{i}") if cin else None
        ports += [x, y, *([c] if c is not None else [])]
        xv = Cat(x[0], C(1, 1)) if i == 4 else x  # a constant bit in an operand
        s = adder(m, f"a{i}", xv, y, c, width, ICE40, invert=invert)
        want = (xv + y + (c if c is not None else 0))[:width]
        same = same & ((~s if invert else s) == want)
    for i, invert in enumerate((False, True)):
        a, b = Signal(4, name=f"ca{i}"), Signal(4, name=f"cb{i}")
        ports += [a, b]
        gt, win = compare_mux(m, f"m{i}", b, ~a, ICE40, invert=invert)
        same = same & (gt == (b > a)) & ((~win if invert else win) == Mux(b > a, b, a))
    ok = Signal(name="ok")
    m.d.comb += ok.eq(same)
    assert prove_with_models(tmp_path, m, [*ports, ok], ICE40, CELLS) is not flip


def _instances(m: Module) -> dict[str, dict[str, str]]:
    """Each instance of ``m``: port -> its value's text (a slice is a new object per access)."""
    return {n: {p: repr(v) for p, (v, _kind) in sm.ports.items()}
            for n, (sm, _loc) in m._named_submodules.items() if isinstance(sm, Instance)}


def test_each_lut_reads_its_carry_operands_and_carry_in() -> None:
    # nextpnr puts a LUT into a carry's logic cell only where the LUT reads the carry's two operands on I1 / I2
    # and its carry-in on I3 (families.LutCarry); the mux LUT reads gt on I0 besides
    m = Module()
    b, na = Signal(3, name="b"), Signal(3, name="na")
    gt, _ = compare_mux(m, "t", b, na, ICE40)
    x, y = Signal(3, name="x"), Signal(2, name="y")
    adder(m, "s", x, y, Signal(name="c"), 4, ICE40, invert=True)
    inst = _instances(m)
    for prefix in ("t", "s"):
        carries = [p for k, p in sorted(inst.items()) if k.startswith(prefix) and "carry" in k]
        luts = [p for k, p in sorted(inst.items()) if k.startswith(prefix) and "lut" in k]
        assert len(carries) == len(luts) == 3
        for c, lut in zip(carries, luts, strict=True):
            assert (lut["I1"], lut["I2"], lut["I3"]) == (c["I0"], c["I1"], c["CI"])
            assert "(sig " in lut["I1"] and "(sig " in lut["I2"] or c["I1"] == "(const 1'd0)"
        if prefix == "t":
            assert all(lut["I0"] == repr(gt) for lut in luts)
    # the sum's top bit: one LUT reads the last carry-out on I3 (it sits at the chain's top, no pass-out cell)
    top = next(p for k, p in inst.items() if k.startswith("s") and k.endswith("top"))
    last = next(p for k, p in inst.items() if k.startswith("s") and k.endswith("carry2"))
    assert top["I3"] == last["CO"]


def test_refusals() -> None:
    with pytest.raises(ValueError, match="bits"):
        adder(Module(), "t", Signal(2), Signal(2), None, 4, ICE40)
    with pytest.raises(ValueError, match="operands of 3 and 2 bits"):
        compare_mux(Module(), "t", Signal(3), Signal(2), ICE40)
    with pytest.raises(ValueError, match="no carry primitive"):
        compare_mux(Module(), "t", Signal(3), Signal(3), FAMILIES["generic"])


def test_which_matches_get_cells() -> None:
    # at pipeline 0 every match of 10 classes of 100 bits gets the cells; the left operands' producers give
    # their complement: the first round's left classes' last adders and the winners later read as a left
    # operand
    plan = plan_groupsum(1000, 10, ICE40)
    pairs, negated = _lut_carry_matches(plan)
    matches = [i for i, st in enumerate(plan.steps) if st.kind == "pair"]
    assert sorted(pairs) == matches and len(matches) == 9
    roots = {plan.steps[i].reads[1][0] for i in matches[:5]}  # round 1: gs_count0, 2, 4, 6, 8
    alias = {st.out[0]: st.reads[0][0] for st in plan.steps if st.kind == "alias"}
    assert {alias[r] for r in roots} <= negated
    assert len(negated) == 5 + 4  # and the winners that are left operands of rounds 2 to 4 (2, 1, 1)
    # families without such cells, and a register between a comparison and its mux: none
    for fam in (FAMILIES["generic"], FAMILIES["ecp5"], dataclasses.replace(ICE40, lut_carry=None)):
        assert _lut_carry_matches(plan_groupsum(1000, 10, fam)) == (frozenset(), frozenset())
    levels = groupsum_levels(1000, 10, ICE40)
    every = plan_groupsum(1000, 10, ICE40, range(1, levels + 1))
    assert _lut_carry_matches(every)[0] == frozenset()
    # a register between the counts and the first round: its complement copies give ~a, so every match still
    # qualifies, and no last adder is complemented
    depth = next(st.reads[0][1] for st in plan.steps if st.kind == "alias")
    after = plan_groupsum(1000, 10, ICE40, (depth,))
    pairs, negated = _lut_carry_matches(after)
    assert len(pairs) == 9 and after.copies and not {alias[r] for r in roots} & negated


def _head(m: Module, bits: Value, classes: int, register_after: tuple[int, ...] = ()) -> tuple[Value, list[Value]]:
    """The ice40 head over ``bits`` with its leaf counters written in plain logic (the fabric's job in a
    compiled design); returns (class, counts)."""
    n = len(bits)
    plan = plan_groupsum(n, classes, ICE40, register_after)
    g = n // classes
    leaves, raw = head_layout(family_popcount(g, ICE40))
    parts: list[Value] = []
    for c in range(classes):
        for op in leaves:
            parts.append(sum(bits[c * g + a] for a in op.args)[:len(op.args).bit_length()])
        parts += [bits[c * g + i] for i in raw]
    hw = build_groupsum(m, Cat(*parts), plan)
    assert _lut_carry_matches(plan)[0]
    return hw.cls, hw.counts


@pytest.mark.yosys
def test_head_counts_and_argmax_for_every_input(tmp_path: Path, flip: bool) -> None:
    # a whole iCE40 head with the comparator cells (5 classes of 7 bits: leaves, carry-ins, complemented last
    # adders, three rounds) gives every class's popcount and the first class of the largest count, for all
    # 2**35 inputs (sat). Control: one flipped INIT bit in the cells is refuted
    classes, g = 5, 7
    m = Module()
    bits = Signal(classes * g, name="bits")
    cls, counts = _head(m, bits, classes)
    want = [sum(bits[c * g + i] for i in range(g)) for c in range(classes)]
    best, best_c = want[0], Const(0, len(cls))
    for c in range(1, classes):  # ties keep the lower index
        better = want[c] > best
        best, best_c = Mux(better, want[c], best), Mux(better, c, best_c)
    ok = Signal(name="ok")
    m.d.comb += ok.eq((cls == best_c) & Cat(*(got == w for got, w in zip(counts, want, strict=True))).all())
    assert prove_with_models(tmp_path, m, [bits, ok], ICE40, CELLS) is not flip


@pytest.mark.yosys
@pytest.mark.nextpnr
def test_cells_pack_into_fewer_logic_cells(tmp_path: Path) -> None:
    # nextpnr --pack-only on hx8k: the head of 4 classes of 20 bits with the comparator cells takes fewer logic
    # cells than the same head with Yosys's comparators and muxes (plain logic; the control), by about one cell
    # per count bit of each match
    import re

    from amaranth.back import rtlil

    from lut2rtl.tools._run import run_tool
    from lut2rtl.tools.nextpnr import find_nextpnr
    from lut2rtl.tools.yosys import run_yosys

    cells = {}
    classes, g = 8, 12
    for name, fam in (("cells", ICE40), ("plain", dataclasses.replace(ICE40, lut_carry=None))):
        m = Module()
        bits = Signal(classes * g, name="bits")
        plan = plan_groupsum(classes * g, classes, fam)
        hw = build_groupsum(m, bits[:plan.width], plan)
        # the outputs registered, as the harness and a user's logic do
        outs = [Signal.like(v, name=f"q{i}") for i, v in enumerate([hw.cls, *hw.counts])]
        m.d.sync += [q.eq(v) for q, v in zip(outs, [hw.cls, *hw.counts], strict=True)]
        (tmp_path / f"{name}.il").write_text(rtlil.convert(m, ports=[bits, *outs], name="top"))
        run_yosys(f"read_rtlil {name}.il; synth_ice40 -top top -json {name}.json", cwd=tmp_path)
        pack = run_tool([find_nextpnr(ICE40), "--hx8k", "--package", "ct256", "--json", f"{name}.json",
                         "--pack-only"], cwd=tmp_path, what="nextpnr-ice40")
        found = re.search(r"ICESTORM_LC:\s+(\d+)/", pack.stderr + pack.stdout)
        assert found, pack.stderr[-2000:]
        cells[name] = int(found.group(1))
    # 4-bit counts: round 1's four muxes move into their comparators (the left counts' inverters now pack with
    # their registers), round 2's two as well; the last round's mux is dead either way
    assert cells["plain"] - cells["cells"] >= 4 * (4 + 2) - 4, cells

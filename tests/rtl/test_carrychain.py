"""Chained two-number adders on ECP5 CCU2C cells (lut2rtl/rtl/carrychain.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import C, Cat, Module, Signal

from lut2rtl.families import FAMILIES
from lut2rtl.rtl import carrychain
from lut2rtl.rtl.carrychain import ADD_INIT, PASS_INIT, build_chain, chain_halves, group_chains
from lut2rtl.rtl.groupsum import level_delays, plan_groupsum

from .simhelp import prove_with_models

CELL = FAMILIES["ecp5"].chain_adder


def _half(init: int, a: int, b: int, c: int) -> tuple[int, int]:
    """One CCU2C half as Yosys's model computes it (D = 1, C = 0, INJECT1 = NO): (output, carry out)."""
    f = init >> (8 | b << 1 | a) & 1
    g = init >> (b << 1 | a) & 1
    return f ^ c, c if f else g


def test_half_inits() -> None:
    assert (ADD_INIT, PASS_INIT) == (0x660A, 0x000A)
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                s, co = _half(ADD_INIT, a, b, c)
                assert s + 2 * co == a + b + c  # a full adder
                assert _half(PASS_INIT, a, b, c) == (c, a)  # carry in out, A on as the next carry


def test_chain_halves() -> None:
    # 2-bit adders with carry-in and carry-out: a half to start, two bits and one shared half each
    assert chain_halves([(2, True, True)]) == 4
    assert chain_halves([(2, True, True)] * 3) == 10
    assert chain_halves([(3, False, False)]) == 3  # no carry-in, a sum that never reaches the carry-out
    assert chain_halves([(3, False, False), (2, False, True)]) == 3 + 1 + 2 + 1
    assert group_chains([(2, True, True)] * 5, 10) == [[0, 1, 2], [3, 4]]
    assert group_chains([(20, True, True), (2, True, True)], 10) == [[0], [1]]


@pytest.mark.yosys
@pytest.mark.parametrize("flip", [False, True])
def test_chain_equals_sum_for_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flip: bool) -> None:
    # a chain of adders of several shapes (carry-in or not, a sum cut to the operands' width, constant operand
    # bits) equals x + y + cin for every input, by sat over Yosys's CCU2C model; negative control: one flipped
    # INIT bit of the adding half is refuted
    if flip:
        monkeypatch.setattr(carrychain, "ADD_INIT", ADD_INIT ^ 1 << 10)
    m = Module()
    shapes = [(2, 2, True, 3), (3, 3, False, 4), (2, 1, True, 2), (1, 1, True, 2), (2, 2, False, 3)]
    ports, adders = [], []
    for i, (wx, wy, cin, width) in enumerate(shapes):
        x, y = Signal(wx, name=f"x{i}"), Signal(wy, name=f"y{i}")
        c = Signal(name=f"c{i}") if cin else None
        ports += [x, y, *([c] if c is not None else [])]
        if i == 4:  # a constant bit in an operand
            x = Cat(x[0], C(1, 1))
        adders.append((x, y, c, width))
    sums = build_chain(m, "t", adders, CELL)
    ok = Signal(name="ok")
    same = C(1, 1)
    for (x, y, c, width), s in zip(adders, sums, strict=True):
        same = same & (s == (x + y + (c if c is not None else 0))[:width])
    m.d.comb += ok.eq(same)
    assert prove_with_models(tmp_path, m, [*ports, ok], FAMILIES["ecp5"], {"CCU2C"}) is not flip


def test_build_refuses_a_wrong_width() -> None:
    with pytest.raises(ValueError, match="bits"):
        build_chain(Module(), "t", [(Signal(2), Signal(2), None, 4)], CELL)


def test_plan_links_adders_of_one_level() -> None:
    fam = FAMILIES["ecp5"]
    plan = plan_groupsum(1000, 10, fam)
    adds = [st for st in plan.steps if st.kind == "add"]
    assert adds and all(st.link for st in adds)
    by_chain: dict[int, set[int]] = {}
    for st in adds:
        by_chain.setdefault(st.link[0], set()).add(st.reads[0][1])
        assert st.link[1] <= fam.chain_halves or len([s for s in adds if s.link[0] == st.link[0]]) == 1
    assert all(len(levels) == 1 for levels in by_chain.values())  # one level per chain
    assert len(by_chain) < len(adds)  # several adders share a chain
    # the delay model follows the carry through the whole chain
    plain = plan_groupsum(1000, 10, FAMILIES["ice40"])
    assert max(level_delays(plan)) >= max(level_delays(plain))
    assert np.isfinite(plan.luts)

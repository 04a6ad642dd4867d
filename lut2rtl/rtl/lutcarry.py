"""Carry primitives that share a logic cell with a LUT (iCE40 ``SB_CARRY`` + ``SB_LUT4``), written out.

The argmax compares two counts with a carry chain: ``b > a`` is the carry-out of ``b + ~a``. Written as
``>`` and a mux, Yosys maps the comparison onto a chain whose LUTs compute nothing (only the carry-out is
read), and the winner's count mux onto LUTs of their own: one logic cell per count bit for the chain and
one for the mux. nextpnr puts a LUT into a carry's cell only where the LUT reads the carry's operands on
its operand inputs and the carry-in on its carry input (:class:`lut2rtl.families.LutCarry`); a mux reading
``gt``, ``b_i`` and ``a_i`` is not such a LUT. Here the mux is one: position ``i`` of the chain is a carry
of ``(b_i, ~a_i)`` and a LUT of ``(gt, b_i, ~a_i, carry-in)`` that gives ``gt ? b_i : a_i`` (or its
complement), so the comparison and the mux take one cell per bit (:func:`compare_mux`).

That needs ``~a`` as a signal of its own. An inverter in front of the chain would take the cell back, so
``~a`` comes from the LUT that makes ``a``: a previous match's mux gives its winner's complement where the
next match reads it as its left operand, and a class count's last adder gives its sum's complement
(:func:`adder`: the same chain as Yosys's ``+``, each sum LUT inverted, the carry-out read by one inverting
LUT, which sits at the chain's top without a pass-out cell). The true count (an output of the core) is then
an inverter of it, which packs with the flip-flop that registers it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from amaranth.hdl import Const, Instance, Module, Signal, Value

from ..families import Family, LutCarry
from ..netlist import rows_to_table, table_to_init, truth_table_rows
from .ternary import INTERNAL

__all__ = ["adder", "compare_mux", "lut_init"]


def lut_init(family: Family, f: Callable[[np.ndarray], np.ndarray]) -> int:
    """The ``INIT`` of the family's LUT computing ``f(x)``, ``x[:, m]`` its ``m``-th input, through the
    netlist's truth-table encoding (:func:`lut2rtl.netlist.table_to_init`, like every fabric LUT)."""
    rows = truth_table_rows(family.lut_size)
    return int(table_to_init(rows_to_table(np.asarray(f(rows), dtype=bool)), family.lut_size))


def _spec(family: Family) -> LutCarry:
    if family.lut_carry is None or family.primitive is None:
        raise ValueError(f"{family.name} has no carry primitive that shares a cell with a LUT")
    return family.lut_carry


def _lut(m: Module, name: str, family: Family, init: int, inputs: dict[int, Value], out: Value) -> None:
    assert family.primitive is not None
    ports: dict[str, object] = {f"p_{family.init_param}": Const(init, 2 ** family.lut_size),
                                f"o_{family.output_port}": out}
    for k, port in enumerate(family.input_ports):
        ports[f"i_{port}"] = inputs.get(k, Const(0, 1))
    m.submodules[name] = Instance(family.primitive_name(family.lut_size), **ports)  # type: ignore[arg-type]


def _chain(m: Module, name: str, family: Family, x: Value, y: Value, cin: Value, n: int,
           lut: Callable[[int, Value], tuple[int, dict[int, Value], Value]]) -> Value:
    """``n`` positions of a carry chain over ``(x_i, y_i)`` (0 past an operand's width), carry-in ``cin``;
    position ``i``'s LUT is ``lut(i, carry_in_i)`` = (INIT, the LUT's other inputs, its output). Returns
    the carry-out."""
    lc = _spec(family)
    c = Value.cast(cin)
    for i in range(n):
        xi = x[i] if i < len(x) else Const(0, 1)
        yi = y[i] if i < len(y) else Const(0, 1)
        co = Signal(name=f"{name}{INTERNAL}c{i + 1}")
        m.submodules[f"{name}{INTERNAL}carry{i}"] = Instance(
            lc.cell, **{f"i_{lc.operands[0]}": xi, f"i_{lc.operands[1]}": yi, f"i_{lc.carry_in}": c,
                        f"o_{lc.carry_out}": co})
        init, extra, out = lut(i, c)
        _lut(m, f"{name}{INTERNAL}lut{i}", family, init,
             {lc.lut_operands[0]: xi, lc.lut_operands[1]: yi, lc.lut_carry_in: c, **extra}, out)
        c = co
    return c


def adder(m: Module, name: str, x: Value, y: Value, cin: Value | None, width: int, family: Family, *,
          invert: bool = False) -> Value:
    """``x + y + cin`` in ``width`` bits (the wider operand's, or one more: then the top bit is the
    carry-out), or its complement with ``invert``, as carry + LUT cells (module docstring)."""
    lc = _spec(family)
    x, y = Value.cast(x), Value.cast(y)
    p = max(len(x), len(y))
    if not p <= width <= p + 1:
        raise ValueError(f"a sum of {p}-bit operands has {p} or {p + 1} bits, not {width}")
    out = Signal(width, name=f"{name}{INTERNAL}{'n' if invert else 's'}")
    o1, o2, oc = lc.lut_operands[0], lc.lut_operands[1], lc.lut_carry_in
    sum_init = lut_init(family, lambda r: (r[:, o1] ^ r[:, o2] ^ r[:, oc]) ^ invert)
    co = _chain(m, name, family, x, y, Const(0, 1) if cin is None else cin, p,
                lambda i, c: (sum_init, {}, out[i]))
    if width > p:  # the carry-out, read by one LUT on its carry input: that LUT is the chain's top
        _lut(m, f"{name}{INTERNAL}top", family, lut_init(family, lambda r: r[:, oc] ^ invert), {oc: co}, out[p])
    return out


def compare_mux(m: Module, name: str, b: Value, na: Value, family: Family, *,
                invert: bool = False) -> tuple[Value, Value]:
    """``gt = b > a`` for counts of one width, from ``b`` and ``na = ~a`` (the carry-out of ``b + ~a``),
    and the winner ``gt ? b : a`` (its complement with ``invert``) from the same cells: position ``i``'s
    LUT reads ``gt`` on the LUT's free input (module docstring)."""
    lc = _spec(family)
    b, na = Value.cast(b), Value.cast(na)
    if len(b) != len(na) or not len(b):
        raise ValueError(f"operands of {len(b)} and {len(na)} bits")
    gt = Signal(name=f"{name}{INTERNAL}gt")
    win = Signal(len(b), name=f"{name}{INTERNAL}{'n' if invert else 'w'}")
    fr, o1, o2 = lc.lut_free, lc.lut_operands[0], lc.lut_operands[1]
    mux_init = lut_init(family, lambda r: np.where(r[:, fr], r[:, o1], ~r[:, o2]) ^ invert)
    co = _chain(m, name, family, b, na, Const(0, 1), len(b), lambda i, c: (mux_init, {fr: gt}, win[i]))
    m.d.comb += gt.eq(co)
    return gt, win

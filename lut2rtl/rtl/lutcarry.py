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

The head's adders take one group bit each as their carry-in. From logic, nextpnr brings it into the chain
through a *feed-in* cell of its own, whose LUT stays empty. :func:`feed` writes that cell out instead and
puts a LUT of the fabric that reads two signals into it, on the two inputs the carry leaves free; the LUT's
own cell goes away. The cell's carry has a constant carry-in ``k`` and gives ``maj(c, x, k)``: the bit ``c``
where ``x`` is a signal that ``c`` implies (``k = 0``: ``c & x``) or that implies ``c`` (``k = 1``:
``c | x``), such as an input of a LUT that computes an AND or an OR (:func:`lut2rtl.rtl.network.plan_feeds`
finds them). nextpnr packs a carry with a constant carry-in with the one LUT that reads its operands on the
operand inputs (``pack_carries``), so the pair needs no cell beyond the one the feed-in took. The operands
are two nets: with ``c`` on both, nextpnr's router can circle for ever between the LUT's two pins.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from amaranth.hdl import Const, Instance, Module, Signal, Value

from ..families import Family, LutCarry
from ..netlist import rows_to_table, table_to_init, table_to_rows, truth_table_rows
from .ternary import INTERNAL

__all__ = ["FEED_CARRY", "FEED_WIRE", "adder", "compare_mux", "feed", "feed_init", "feed_verilog", "lut_init"]

# a feed cell's carry-out (the carry-in bit, as the chain reads it) and its carry instance, after the moved LUT's
# name: internal names, which formal hides
FEED_WIRE = f"{INTERNAL}feed"
FEED_CARRY = f"{INTERNAL}feedc"


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


def feed_init(family: Family, table: int, k: int) -> int:
    """The ``INIT`` of a fabric LUT of ``k <= 2`` inputs (``table`` in the netlist's encoding) moved into a
    feed cell: its inputs on the LUT's free input and its carry input, in that order (module docstring)."""
    lc = _spec(family)
    if not 0 <= k <= 2:
        raise ValueError(f"a feed cell holds a LUT of at most 2 inputs, not {k}")
    out = table_to_rows(np.uint64(table), k)
    pins = (lc.lut_free, lc.lut_carry_in)[:k]

    def f(r: np.ndarray) -> np.ndarray:
        j = np.zeros(len(r), dtype=np.int64)
        for m, pin in enumerate(pins):
            j |= r[:, pin].astype(np.int64) << (k - 1 - m)
        return out[j]

    return lut_init(family, f)


def _feed_pins(family: Family, c: object, x: object, inputs: list[object], zero: object) -> dict[str, object]:
    """The moved LUT's port connections: ``c`` and ``x`` on the carry's operand inputs, ``inputs`` on the
    others."""
    lc = _spec(family)
    pins = {lc.lut_operands[0]: c, lc.lut_operands[1]: x}
    pins.update(zip((lc.lut_free, lc.lut_carry_in), inputs))
    return {family.input_ports[m]: pins.get(m, zero) for m in range(family.lut_size)}


def feed(m: Module, name: str, c: Value, x: Value, carry_in: int, inputs: list[Value], init: int, out: Value,
         family: Family) -> Value:
    """A feed cell (module docstring): the carry-out ``maj(c, x, carry_in)``, which must equal ``c``, for a
    chain's carry-in, and the LUT ``name`` (``INIT`` from :func:`feed_init`) of ``inputs`` driving ``out``."""
    lc = _spec(family)
    assert family.primitive is not None
    co = Signal(name=f"{name}{FEED_WIRE}")
    m.submodules[f"{name}{FEED_CARRY}"] = Instance(
        lc.cell, **{f"i_{lc.operands[0]}": c, f"i_{lc.operands[1]}": x, f"i_{lc.carry_in}": Const(carry_in, 1),
                    f"o_{lc.carry_out}": co})
    ports: dict[str, object] = {f"i_{p}": v for p, v in _feed_pins(family, c, x, inputs, Const(0, 1)).items()}
    ports[f"p_{family.init_param}"] = Const(init, 2 ** family.lut_size)
    ports[f"o_{family.output_port}"] = out
    m.submodules[name] = Instance(family.primitive_name(family.lut_size), **ports)  # type: ignore[arg-type]
    return co


def feed_verilog(name: str, c: str, x: str, carry_in: int, inputs: list[str], init: int, out: str,
                 family: Family) -> tuple[str, list[str]]:
    """:func:`feed` as lines of structural Verilog (nets by name): the carry-out's net
    (``<out>`` + :data:`FEED_WIRE`) and the two instances."""
    lc = _spec(family)
    co = f"{out}{FEED_WIRE}"
    conns = ", ".join(f".{p}({v})" for p, v in _feed_pins(family, c, x, inputs, "1'b0").items())
    width = 2 ** family.lut_size
    return co, [f"  {family.primitive_name(family.lut_size)} #(.{family.init_param}({width}'h{init:0{width // 4}X})) "
                f"{name} ({conns}, .{family.output_port}({out}));",
                f"  {lc.cell} {name}{FEED_CARRY} (.{lc.operands[0]}({c}), .{lc.operands[1]}({x}), "
                f".{lc.carry_in}(1'b{carry_in}), .{lc.carry_out}({co}));"]

"""Two-number adders on a chain of split-LUT carry cells (ECP5 ``CCU2C``), several adders per chain.

Yosys maps ``+`` on ECP5 onto ``CCU2C`` only from five result bits up; a narrower sum becomes LUT4
logic (a 2-bit sum with a carry-in: four LUT4s, a 3-bit one: six, more where ABC picks wide LUTs for
depth). Each adder it does map is a chain of its own, and nextpnr puts a feed-in cell in front of a
carry-in from logic.

Here every adder is built from the cell (:class:`lut2rtl.families.CarryCell`). One half of the cell
(one LUT4) adds bit ``i`` of both operands and the carry into it: ``D = 1`` selects the LUT's upper
half as the propagate ``F = a ^ b``, and the generate ``G`` (the LUT's first four bits, read by ``A``
and ``B``) is ``a``: where ``a ^ b = 0`` both bits equal ``a``. One half per operand bit.

Between two adders of one chain a single half does the work of both ends: with ``F = 0`` its output is
the carry into it (the previous adder's carry-out: that sum's top bit), and its carry out is ``G = A``,
the next adder's carry-in bit (0 where it has none). The same half starts a chain whose first adder has
a carry-in (the chain's own carry-in is 0) and ends a chain whose last adder has a carry-out. Two adders
always meet at such a half, even where the first one's sum never reaches its carry-out (the operands'
maxima say so): then each adder's sum depends on its own operands only, whatever values they take,
which the formal proof's cut points need (it checks every adder with its operands free). A chain of
adders of ``p_i`` operand bits thus takes ``sum(p_i)`` halves plus at most one per adder and one more,
in whole cells (:func:`chain_halves`): 2-bit adders with carry-in and carry-out three halves each,
where Yosys spends four LUT4s. Several adders of one level of the popcount tree share a chain, at most
``Family.chain_halves`` halves long: nextpnr's timing follows the carry through the whole chain, the
halves that pass a carry on included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from amaranth.hdl import C, Cat, Const, Instance, Module, Signal, Value

from ..families import CarryCell
from ..netlist import rows_to_table, table_to_init, truth_table_rows
from .ternary import INTERNAL

__all__ = ["ADD_INIT", "PASS_INIT", "build_chain", "cell_init", "chain_halves", "group_chains"]


def cell_init(f: Callable[..., Any], g: Callable[..., Any]) -> int:
    """The ``INIT`` of one half: propagate ``f(a, b, c)`` (``A, B, C`` with ``D = 1``) and generate
    ``g(a, b)`` (the first four bits: ``C = D = 0``), as a 4-input truth table over ``A..D`` through
    the netlist's encoding (:func:`lut2rtl.netlist.table_to_init`, like every fabric LUT)."""
    rows = truth_table_rows(4)
    a, b, c, d = (rows[:, m] for m in range(4))
    out = np.where(d, f(a, b, c), np.where(c, False, g(a, b))).astype(bool)
    return int(table_to_init(rows_to_table(out), 4))


ADD_INIT = cell_init(lambda a, b, c: a ^ b, lambda a, b: a)  # one operand bit of each: 0x660A
PASS_INIT = cell_init(lambda a, b, c: False, lambda a, b: a)  # carry in -> output, A -> carry out: 0x000A

# one adder of a chain: (operand bits p, has a carry-in, has a carry-out)
Shape = tuple[int, bool, bool]


def chain_halves(shapes: Sequence[Shape]) -> int:
    """Halves of a chain of adders of ``shapes``, in order (see the module docstring), before rounding
    up to whole cells."""
    total = 0
    carry = False  # the last adder ends with a carry-out
    for j, (p, cin, cout) in enumerate(shapes):
        total += p + (1 if cin or j else 0)
        carry = cout
    return total + (1 if carry else 0)


def group_chains(shapes: Sequence[Shape], cap: int) -> list[list[int]]:
    """Consecutive runs of ``shapes`` (indices) whose chains take at most ``cap`` halves each (an adder
    longer than ``cap`` alone)."""
    out: list[list[int]] = []
    for i in range(len(shapes)):
        if out and chain_halves([shapes[j] for j in out[-1]] + [shapes[i]]) <= cap:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def build_chain(m: Module, name: str, adders: Sequence[tuple[Value, Value, Value | None, int]],
                cell: CarryCell) -> list[Value]:
    """The adders ``(x, y, cin or None, width)`` of one chain as ``cell`` instances in ``m``; each
    adder's sum, ``width`` bits (at most one above the wider operand)."""
    zero, one = C(0, 1), C(1, 1)
    halves: list[tuple[int, Value, Value]] = []  # (INIT, A, B)
    bits: list[list[int]] = []  # per adder: the halves whose outputs are its sum's bits
    carry = False
    for j, (x, y, cin, width) in enumerate(adders):
        x, y = Value.cast(x), Value.cast(y)
        p = max(len(x), len(y))
        if not p <= width <= p + 1:
            raise ValueError(f"a sum of {p}-bit operands has {p} or {p + 1} bits, not {width}")
        if cin is not None and len(Value.cast(cin)) != 1:
            raise ValueError("the carry-in is one bit")
        if cin is not None or j:
            if carry:  # the previous adder's carry-out is the output of this half
                bits[-1].append(len(halves))
            halves.append((PASS_INIT, Value.cast(cin) if cin is not None else zero, zero))
        bits.append(list(range(len(halves), len(halves) + p)))
        halves += [(ADD_INIT, x[i] if i < len(x) else zero, y[i] if i < len(y) else zero) for i in range(p)]
        carry = width > p
    if carry:
        bits[-1].append(len(halves))
        halves.append((PASS_INIT, zero, zero))
    if len(halves) % len(cell.outputs):
        halves += [(0, zero, zero)] * (len(cell.outputs) - len(halves) % len(cell.outputs))
    outs: list[Value] = []
    cin_sig: Value = zero
    per = len(cell.outputs)
    for k in range(0, len(halves), per):
        ports: dict[str, object] = {f"i_{cell.carry_in}": cin_sig}
        for h in range(per):
            init, a, b = halves[k + h]
            ports[f"p_{cell.init[h]}"] = Const(init, 16)
            ports[f"p_{cell.inject[h]}"] = "NO"
            for port, v in zip(cell.inputs[h], (a, b, zero, one), strict=True):
                ports[f"i_{port}"] = v
            s = Signal(name=f"{name}{INTERNAL}s{k + h}")
            ports[f"o_{cell.outputs[h]}"] = s
            outs.append(s)
        co = Signal(name=f"{name}{INTERNAL}co{k // per}")
        ports[f"o_{cell.carry_out}"] = co
        m.submodules[f"{name}{INTERNAL}cell{k // per}"] = Instance(cell.cell, **ports)  # type: ignore[arg-type]
        cin_sig = co
    return [Cat(*(outs[i] for i in idx)) for idx in bits]

"""A ternary adder on the carry chain: one dual-output LUT per bit.

``x + y + z + cin`` is ``S + 2C + cin`` with ``S = x ^ y ^ z`` and ``C =
maj(x, y, z)`` bitwise, a two-operand addition the carry chain does. Bit
``i`` of the chain adds ``S_i`` and ``C_{i-1}``: its propagate signal is
``p_i = x_i ^ y_i ^ z_i ^ C_{i-1}`` and, when ``p_i = 0``, both addends
equal ``C_{i-1}``, which is therefore the generate input. One LUT with two
outputs computes, from ``x_i, y_i, z_i, C_{i-1}``, both ``p_i`` (to the
chain) and ``C_i`` (to the LUT of bit ``i + 1``). A ternary adder of
``w``-bit operands thus takes ``w + 1`` LUTs (bit ``w`` adds ``C_{w-1}``
alone) and gives ``w + 2`` bits, the top one the chain's carry-out; the
carry-in takes one more input bit. A two-operand adder of the same width
takes ``w`` LUTs and removes one operand instead of two.

The primitives and their ports are the family's ``ternary`` chain
(:class:`lut2rtl.families.TernaryChain`; Xilinx 7-series: ``LUT6_2``, whose
``O6`` is ``INIT[32 + {I4..I0}]`` with ``I5 = 1`` and ``O5`` is
``INIT[{I4..I0}]``; ``CARRY4``: ``O = S ^ carry``, ``CO = S ? carry : DI`` per
bit, the chain's first carry ``CI | CYINIT``). The LUT's two truth tables
become its ``INIT`` with :func:`lut2rtl.netlist.table_to_init`, like every
fabric LUT. The simulation and the formal proof use Yosys's models of both
(``cells_sim.v``).
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import C, Cat, Const, Instance, Module, Signal, Value

from ..families import Family, TernaryChain
from ..netlist import rows_to_table, table_to_init, truth_table_rows

__all__ = ["INTERNAL", "dual_chain", "ternary_adder", "ternary_init"]

# in the names of an adder's instances and internal signals (here and in rtl/lutcarry.py): the formal proof
# hides these names, so that the adder's named sum (not a wire inside a primitive) is the one its readers use
# after flattening
INTERNAL = "__tern_"


def ternary_init(chain: TernaryChain) -> int:
    """``INIT`` of the dual-output LUT at one chain bit: inputs ``I0..I3 = x,
    y, z, C_{i-1}`` (the others unused but the last, tied to 1); the sum
    output is ``x ^ y ^ z ^ C_{i-1}``, the carry output ``maj(x, y, z)``."""
    k = len(chain.lut_inputs) - 1  # the inputs of each half
    rows = truth_table_rows(k)
    x, y, z, c = (rows[:, m] for m in range(4))
    carry = table_to_init(rows_to_table(x & y | x & z | y & z), k)
    total = table_to_init(rows_to_table(x ^ y ^ z ^ c), k)
    return int(carry) | int(total) << (1 << k)


def ternary_adder(m: Module, name: str, args: Sequence[Value], family: Family) -> Value:
    """``x + y + z (+ cin)`` of ``args`` (three unsigned numbers, then an
    optional 1-bit carry-in) as primitives in ``m``; the sum, ``w + 2`` bits
    for ``w``-bit operands (see the module docstring)."""
    t = family.ternary
    if t is None:
        raise ValueError(f"family {family.name} has no ternary adder")
    if len(args) not in (3, 4) or (len(args) == 4 and len(args[3]) != 1):
        raise ValueError("a ternary adder takes three numbers and an optional 1-bit carry-in")
    ops = [Value.cast(a) for a in args[:3]]
    cin = Value.cast(args[3]) if len(args) == 4 else C(0, 1)
    w = max(len(a) for a in ops)
    zero = C(0, 1)
    # bit i reads the operands' bits i and the transfer of bit i - 1 (bit w: the transfer alone)
    outs, _ = dual_chain(m, name, [[a[i] if i < len(a) else zero for a in ops] for i in range(w + 1)], [None] * (w + 1),
                         cin, family)
    return Cat(*outs)


def dual_chain(m: Module, name: str, bits: Sequence[Sequence[Value]], direct: Sequence[Value | None], cin: Value,
               family: Family) -> tuple[list[Value], Value]:
    """One chain of dual-output LUTs on the carry chain, as primitives in ``m``.

    Position ``i`` reads up to three ``bits[i]`` and ``t_i``: the transfer (``maj`` of ``bits[i - 1]``) of
    the previous position when that one read two or more bits, otherwise ``direct[i]`` (or 0). Its LUT
    gives the propagate ``xor(bits[i]) ^ t_i`` and its transfer; ``t_i`` is the generate input. Returns
    the sum bits then the chain's carry-out, and the last position's transfer (0 when it read fewer than
    two bits): ``sum_i 2**i (sum(bits[i]) + t_i) + cin`` equals the sum bits plus ``2**len`` times the
    carry-out and the last transfer (``t_i`` counted where it is a ``direct`` bit)."""
    t = family.ternary
    if t is None:
        raise ValueError(f"family {family.name} has no dual-output LUT beside its carry chain")
    init = Const(ternary_init(t), 1 << len(t.lut_inputs))
    zero = C(0, 1)
    prop, gen = [], []
    transfer: Value = zero
    for i, (ins, d) in enumerate(zip(bits, direct, strict=True)):
        if len(ins) > 3:
            raise ValueError(f"a position reads at most three bits, got {len(ins)}")
        fed = i > 0 and len(bits[i - 1]) >= 2
        if fed and d is not None:
            raise ValueError(f"position {i} gets the previous transfer: it has no direct input")
        t_in = transfer if fed else (Value.cast(d) if d is not None else zero)
        lut = [*ins, *[zero] * (3 - len(ins)), t_in]
        lut += [zero] * (len(t.lut_inputs) - 1 - len(lut)) + [C(1, 1)]
        p, c = Signal(name=f"{name}{INTERNAL}p{i}"), Signal(name=f"{name}{INTERNAL}c{i}")
        m.submodules[f"{name}{INTERNAL}lut{i}"] = Instance(
            t.lut, p_INIT=init, **{f"i_{port}": v for port, v in zip(t.lut_inputs, lut)},
            **{f"o_{t.lut_sum}": p, f"o_{t.lut_carry}": c})
        prop.append(p)
        gen.append(t_in)
        transfer = c if len(ins) >= 2 else zero
    outs: list[Value] = []
    carry: Value = zero
    top: Value = zero
    n_chain = t.chain_bits
    for lo in range(0, len(prop), n_chain):
        n = min(n_chain, len(prop) - lo)
        pad = [zero] * (n_chain - n)
        j = lo // n_chain
        o, co = Signal(n_chain, name=f"{name}{INTERNAL}o{j}"), Signal(n_chain, name=f"{name}{INTERNAL}co{j}")
        m.submodules[f"{name}{INTERNAL}carry{j}"] = Instance(t.carry, **{
            f"i_{t.carry_in}": carry if lo else zero, f"i_{t.carry_init}": zero if lo else cin,
            f"i_{t.generate}": Cat(*gen[lo:lo + n], *pad), f"i_{t.propagate}": Cat(*prop[lo:lo + n], *pad),
            f"o_{t.sum_out}": o, f"o_{t.carry_out}": co})
        outs += [o[j] for j in range(n)]
        carry, top = co[n_chain - 1], co[n - 1]
    return [*outs, top], transfer

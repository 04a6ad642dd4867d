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

The primitives are the family's ``dual_lut`` and ``carry`` (Xilinx 7-series:
``LUT6_2``, whose ``O6`` is ``INIT[32 + {I4..I0}]`` with ``I5 = 1`` and
``O5`` is ``INIT[{I4..I0}]``; ``CARRY4``: ``O = S ^ carry``, ``CO = S ?
carry : DI`` per bit, the chain's first carry ``CI | CYINIT``). The
simulation and the formal proof use Yosys's models of both (``cells_sim.v``).
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import C, Cat, Const, Instance, Module, Signal, Value

from ..families import Family

__all__ = ["CHAIN_BITS", "INTERNAL", "ternary_adder", "ternary_init"]

CHAIN_BITS = 4  # bits of one carry primitive (CARRY4)
# in the names of an adder's instances and internal signals: the formal proof hides these names, so that
# the adder's named sum (not a wire inside a primitive) is the one its readers use after flattening
INTERNAL = "__tern_"


def ternary_init() -> int:
    """``INIT`` of the dual-output LUT at one chain bit: inputs ``I0..I3 = x,
    y, z, C_{i-1}`` (``I4`` unused, ``I5 = 1``); ``O6 = x ^ y ^ z ^ C_{i-1}``,
    ``O5 = maj(x, y, z)``."""
    init = 0
    for idx in range(32):  # {I4..I0}
        x, y, z, c = (idx >> 0) & 1, (idx >> 1) & 1, (idx >> 2) & 1, (idx >> 3) & 1
        init |= (x & y | x & z | y & z) << idx  # O5
        init |= (x ^ y ^ z ^ c) << (32 + idx)  # O6
    return init


def ternary_adder(m: Module, name: str, args: Sequence[Value], family: Family) -> Value:
    """``x + y + z (+ cin)`` of ``args`` (three unsigned numbers, then an
    optional 1-bit carry-in) as primitives in ``m``; the sum, ``w + 2`` bits
    for ``w``-bit operands (see the module docstring)."""
    if family.dual_lut is None or family.carry is None:
        raise ValueError(f"family {family.name} has no ternary adder")
    if len(args) not in (3, 4) or (len(args) == 4 and len(args[3]) != 1):
        raise ValueError("a ternary adder takes three numbers and an optional 1-bit carry-in")
    ops = [Value.cast(a) for a in args[:3]]
    cin = Value.cast(args[3]) if len(args) == 4 else C(0, 1)
    w = max(len(a) for a in ops)
    init = Const(ternary_init(), 64)
    zero = C(0, 1)
    prop, gen = [], []
    c_prev: Value = zero
    for i in range(w + 1):
        bits = [a[i] if i < len(a) else zero for a in ops]
        p, c = Signal(name=f"{name}{INTERNAL}p{i}"), Signal(name=f"{name}{INTERNAL}c{i}")
        m.submodules[f"{name}{INTERNAL}lut{i}"] = Instance(
            family.dual_lut, p_INIT=init, i_I0=bits[0], i_I1=bits[1], i_I2=bits[2], i_I3=c_prev, i_I4=zero,
            i_I5=C(1, 1), o_O6=p, o_O5=c)
        prop.append(p)
        gen.append(c_prev)
        c_prev = c
    outs: list[Value] = []
    carry: Value = zero
    top: Value = zero
    for lo in range(0, w + 1, CHAIN_BITS):
        n = min(CHAIN_BITS, w + 1 - lo)
        pad = [zero] * (CHAIN_BITS - n)
        j = lo // CHAIN_BITS
        o, co = Signal(CHAIN_BITS, name=f"{name}{INTERNAL}o{j}"), Signal(CHAIN_BITS, name=f"{name}{INTERNAL}co{j}")
        m.submodules[f"{name}{INTERNAL}carry{j}"] = Instance(
            family.carry, i_CI=carry if lo else zero, i_CYINIT=zero if lo else cin,
            i_DI=Cat(*gen[lo:lo + n], *pad), i_S=Cat(*prop[lo:lo + n], *pad), o_O=o, o_CO=co)
        outs += [o[j] for j in range(n)]
        carry, top = co[CHAIN_BITS - 1], co[n - 1]
    return Cat(*outs, top)

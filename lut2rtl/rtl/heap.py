"""Bit-heap compression on a carry chain with dual-output LUTs (Xilinx ``LUT6_2`` + ``CARRY4``).

A *heap* is a set of bits, each with a column (weight ``2**column``); its value is the weighted sum.
A popcount starts as a heap (the group's bits in column 0, a leaf counter's bits in columns 0 and 1) and
ends as a number (at most one bit per column).

The element is a *chain*: consecutive positions of a carry chain, one dual-output LUT each. Position ``p``
(column ``col + p``) reads up to three heap bits ``a`` of its column and a bit ``t`` of the same weight:
the previous position's *transfer* when that position read two or more bits, otherwise (at the first
position, or after one that read fewer) a heap bit of its column read directly, or 0. The LUT gives the
chain its propagate ``S = xor(a) ^ t`` and the transfer ``maj(a)`` (weight ``2 * 2**column``) to the next
position's LUT; the chain's generate input is ``t`` (when ``S = 0``, ``xor(a) = t``, so the position adds
``2t``). With carry-in ``ci`` (a heap bit of column ``col``, or 0) the chain computes
``sum_p 2**p (sum(a_p) + t_p) + ci`` (``t_p`` counted where it is a heap bit) as its sum bits ``O_p``, its
carry-out, and the last position's transfer when nothing reads it (both weight ``2**(col + L)``).

That is the ternary adder of :mod:`.ternary` with heap bits for operand bits, and with the first
position's generate input and the carry-in free for two more bits: every full position removes two bits
of the heap for one LUT, also at the ends of a chain, where a ternary adder over narrow numbers spends a
LUT on its top bit alone. A *stage* is a set of chains over the heap (one logic level: a LUT and a short
carry chain); bits no chain reads pass on. Stages repeat until every column holds at most three bits
(five in the lowest: one more as the generate input, one as the carry-in); then one last chain, extended
upward until no transfer is left over, gives a number.

Planning works on column heights only (:func:`plan_heap`); :func:`apply_stage` performs a stage on actual
bits with a callback that makes each chain, so the planner, the hardware (:func:`heap_chain` via
``rtl/groupsum.py``) and the pure-Python model the tests use (:func:`chain_value`) consume and produce
bits in one order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Chain", "HeapPlan", "apply_stage", "chain_outputs", "chain_value", "plan_heap"]

T = TypeVar("T")

# bits one position's LUT reads (a dual-output LUT6_2 with a shared 5-input half: three bits and t)
_TAKE = 3


@dataclass(frozen=True)
class Chain:
    """A chain from column ``col``: per position the heap bits its LUT reads (``takes``) and whether its
    ``t`` is a heap bit (``direct``; only where no transfer comes in); ``ci``: the carry-in is a heap bit."""

    col: int
    takes: tuple[int, ...]
    direct: tuple[bool, ...]
    ci: bool
    carry: bool = True  # the carry-out is an output (False: it is 0 for every input, see max_value)

    @property
    def length(self) -> int:
        return len(self.takes)

    def transfer_in(self, p: int) -> bool:
        """Position ``p``'s ``t`` is the previous position's transfer."""
        return p > 0 and self.takes[p - 1] >= 2

    @property
    def outputs(self) -> list[int]:
        """Columns of the chain's outputs, in order: the sum bits, the carry-out, the last transfer."""
        top = self.col + self.length
        return [self.col + p for p in range(self.length)] + [top] * (self.carry + (self.takes[-1] >= 2))

    def max_value(self) -> int:
        """The largest value of the sum bits and carry-out, ``sum - 2**L * transfer`` over all inputs: with
        the last position's transfer 0 it reads at most one set bit there, with it 1 all of them."""
        low = sum((k + d) << p for p, (k, d) in enumerate(zip(self.takes[:-1], self.direct[:-1]))) + self.ci
        top = self.length - 1
        without = low + ((min(1, self.takes[-1]) + self.direct[-1]) << top)
        with_ = low + ((self.takes[-1] + self.direct[-1]) << top) - (1 << self.length) if self.takes[-1] >= 2 else 0
        return max(without, with_)

    @property
    def reads(self) -> int:
        return sum(self.takes) + sum(self.direct) + int(self.ci)


@dataclass(frozen=True)
class HeapPlan:
    """Stages of chains from a heap of ``heights`` (bits per column) down to a number of ``width`` bits."""

    heights: tuple[int, ...]
    stages: tuple[tuple[Chain, ...], ...]
    width: int

    @property
    def luts(self) -> int:
        return sum(ch.length for st in self.stages for ch in st)

    @property
    def carries(self) -> int:
        """Carry primitives of 4 bits (``CARRY4``): one per started 4 positions of a chain."""
        return sum(-(-ch.length // 4) for st in self.stages for ch in st)


def _grow(cols: list[list[T]], col: int) -> list[T]:
    while len(cols) <= col:
        cols.append([])
    return cols[col]


def apply_stage(cols: Sequence[Sequence[T]], chains: Sequence[Chain],
                make: Callable[[Chain, list[tuple[list[T], T | None]], T | None], list[T]]) -> list[list[T]]:
    """The heap after ``chains`` (one stage): each chain reads the first unread bits of its columns, per
    position its ``takes`` bits then its direct ``t`` bit, then the carry-in; ``make(chain, positions,
    ci)`` gets per position ``(a bits, direct t or None)`` and returns the chain's outputs
    (:attr:`Chain.outputs` order). The new heap: per column the bits no chain read, then the chains'
    outputs in chain order."""
    rest = [list(c) for c in cols]
    made: list[list[T]] = []
    for ch in chains:
        pos: list[tuple[list[T], T | None]] = []
        for p, (k, d) in enumerate(zip(ch.takes, ch.direct, strict=True)):
            col = _grow(rest, ch.col + p)
            if len(col) < k + d:
                raise ValueError(f"column {ch.col + p} has {len(col)} bits, the chain reads {k + d}")
            a = [col.pop(0) for _ in range(k)]
            pos.append((a, col.pop(0) if d else None))
        ci = None
        if ch.ci:
            col = _grow(rest, ch.col)
            if not col:
                raise ValueError(f"column {ch.col} has no bit left for the carry-in")
            ci = col.pop(0)
        outs = make(ch, pos, ci)
        for c, o in zip(ch.outputs, outs, strict=True):
            _grow(made, c).append(o)
    n = max(len(rest), len(made))
    return [(rest[c] if c < len(rest) else []) + (made[c] if c < len(made) else []) for c in range(n)]


def chain_value(ch: Chain, positions: Sequence[tuple[Sequence[int], int | None]], ci: int | None) -> list[int]:
    """The chain's outputs (0/1, :attr:`Chain.outputs` order) for given input bits: a model of the LUTs
    (``S = xor(a) ^ t``, transfer ``maj(a)``) and of the carry chain (``O = S ^ c``, next ``c = S ? c : t``)."""
    carry = int(ci or 0)
    outs: list[int] = []
    tr = 0
    for p, (a, d) in enumerate(positions):
        t = tr if ch.transfer_in(p) else int(d or 0)
        s = (sum(a) + t) & 1
        tr = int(sum(a) >= 2)
        outs.append(s ^ carry)
        carry = carry if s else t
    if ch.carry:
        outs.append(carry)
    if ch.takes[-1] >= 2:
        outs.append(tr)
    return outs


def chain_outputs(ch: Chain) -> int:
    return len(ch.outputs)


def _chain(col: int, takes: list[int], direct: list[bool], ci: bool) -> Chain:
    """A chain whose carry-out is an output only where it can be 1 (a carry-out that is 0 by construction
    would be a constant bit in the heap, one that the formal proof could not cut at)."""
    ch = Chain(col, tuple(takes), tuple(direct), ci)
    return ch if ch.max_value() >= 1 << ch.length else Chain(col, ch.takes, ch.direct, ci, carry=False)


def _final(h: list[int]) -> Chain | None:
    """The last chain, when one chain reads the whole heap (per column three bits and ``t`` where no
    transfer comes in, the carry-in in the lowest), else None."""
    lo = next((c for c, n in enumerate(h) if n), None)
    if lo is None:
        return None
    hi = max(c for c, n in enumerate(h) if n)
    takes: list[int] = []
    direct: list[bool] = []
    for c in range(lo, hi + 1):
        k = min(_TAKE, h[c])
        fed = c > lo and takes[-1] >= 2
        d = not fed and h[c] > k
        if h[c] - k - d > (1 if c == lo else 0):
            return None
        takes.append(k)
        direct.append(d)
    ci = h[lo] - takes[0] - direct[0] > 0
    while takes[-1] >= 2:  # the last transfer: one more position adds it alone
        takes.append(0)
        direct.append(False)
    return _chain(lo, takes, direct, ci)


def _stage(h: list[int]) -> list[Chain]:
    """One compression stage: chains from the lowest column with three bits left, extended upward while
    the next column has three bits left."""
    rem = list(h)
    chains: list[Chain] = []
    while True:
        start = next((c for c, n in enumerate(rem) if n >= _TAKE), None)
        if start is None:
            return chains
        takes, direct = [], []
        c = start
        while True:
            fed = bool(takes) and takes[-1] >= 2
            k = min(_TAKE, rem[c])
            rem[c] -= k
            d = not fed and rem[c] > 0
            rem[c] -= d
            takes.append(k)
            direct.append(d)
            c += 1
            if c >= len(rem) or rem[c] < _TAKE:
                break
        ci = rem[start] > 0
        rem[start] -= ci
        chains.append(_chain(start, takes, direct, ci))


def plan_heap(heights: Sequence[int], width: int) -> HeapPlan:
    """Stages that reduce a heap of ``heights`` (bits per column) to a number of ``width`` bits (the
    caller's bound on the sum); raises ``ValueError`` if the heap's maximum does not fit ``width``."""
    h = [int(n) for n in heights]
    if sum(n << c for c, n in enumerate(h)) >= 1 << width:
        raise ValueError(f"a heap of heights {h} can exceed {width} bits")
    stages: list[tuple[Chain, ...]] = []
    while any(n > 1 for n in h):
        last = _final(h)
        chains = [last] if last is not None else _stage(h)
        if not chains:  # cannot happen: some column has 2 bits and the final chain reads up to 3
            raise AssertionError(f"no chain for heap {h}")
        cols = apply_stage([[0] * n for n in h], chains, lambda ch, pos, ci: [0] * len(ch.outputs))
        h = [len(c) for c in cols]
        stages.append(tuple(chains))
        if last is not None:
            break
    while h and h[-1] == 0:
        h.pop()
    return HeapPlan(tuple(int(n) for n in heights), tuple(stages), width)

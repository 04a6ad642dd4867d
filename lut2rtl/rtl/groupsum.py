"""GroupSum hardware: per-class popcount (compressor/adder trees) and argmax.

The popcount of each class's group of ``g`` output bits is built from a
*plan*: a small pure-Python description of a tree of operations over
"numbers" (unsigned values with a known maximum), computed once from
``(g, lut_size)`` and shared by :func:`groupsum_levels` and
:func:`build_groupsum`, so the level count used for pipeline planning is the
level count of the hardware that is built.

Operations of a plan (LUT4 families: counters of 3 bits; LUT6: of 6 bits):

``count``
    A popcount of at most ``lut_size`` single bits, written as a table per
    output bit so it maps onto one LUT per result bit. One LUT level.
``add``
    ``x + y + c``: two numbers and one input bit, which the carry chain
    absorbs as its carry-in. Yosys maps ``+`` onto the family's carry
    primitive (``SB_CARRY``, ``CCU2C``, ``CARRY4``): one LUT per operand bit.
    A chain of <= ~14 bits counts as one level: a carry hop is several times
    faster than a LUT plus its routing. Intermediate sums carry the Yosys
    ``keep`` attribute, otherwise Yosys merges the tree into one ``$macc`` and
    builds its own, larger compressor (measured 1.87 LUT4/bit on iCE40).

A balanced tree of counters and adders costs about one LUT per input bit
removed. Measured (Yosys 0.70, 10 classes x 100 bits, popcount only, see
``bench/bench_popcount.py``): iCE40 1.27 SB_LUT4 + 0.76 SB_CARRY per bit
(behavioural: 1.87 + 0.06); Xilinx 0.96 LUT6 per bit (behavioural 1.55).
On iCE40 a carry-in from logic and a carry-out into logic each cost an extra
logic cell in nextpnr (feed-in/feed-out), so placed cells are higher than the
Yosys LUT count; the benchmark reports both.

Argmax is a binary tournament over the classes in index order: a round
compares neighbours (``right > left``, a carry chain: one level) and muxes
the winner's count and index (one LUT level); ties keep the left, i.e. the
lowest class index, as :func:`lut2rtl.evaluate.predict` does.

Pipelining: level ``i`` (1-based) is the ``i``-th LUT level; with ``i`` in
``register_after`` every value alive across the boundary after level ``i``
is registered. The counts are delayed to the end of the last level too, so
``counts`` and ``cls`` belong to the same input sample and the latency is
``stages`` cycles.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value

__all__ = ["TARGETS", "GroupSumHW", "build_groupsum", "class_width", "count_width", "groupsum_levels"]

TARGETS = ("ice40", "ecp5", "xilinx", "gowin", "generic")
LUT_SIZES = (4, 6)
_KEEP = {"keep": 1}
_POPCOUNTS = [bin(i).count("1") for i in range(64)]


def count_width(group_size: int) -> int:
    """Bits of a class count: ``group_size.bit_length()`` (0 .. group_size)."""
    if group_size < 0:
        raise ValueError(f"group size must be >= 0, got {group_size}")
    return group_size.bit_length()


def class_width(classes: int) -> int:
    """Bits of the predicted class index: ``max(1, (classes - 1).bit_length())``."""
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    return max(1, (classes - 1).bit_length())


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class _Op:
    kind: str  # "count" | "add"
    args: tuple[int, ...]  # number ids (for "add": x, y[, cin])
    out: int  # number id of the result


@dataclass
class _Plan:
    """A popcount tree over ``n_inputs`` single bits (number ids 0 .. n-1)."""

    n_inputs: int
    maxes: list[int] = field(default_factory=list)  # per number id: its maximum value
    levels: list[int] = field(default_factory=list)  # per number id: the level it is ready after
    ops: list[_Op] = field(default_factory=list)
    root: int = -1

    def new(self, kind: str, args: Sequence[int], mx: int) -> int:
        out = len(self.maxes)
        self.maxes.append(mx)
        self.levels.append(max(self.levels[a] for a in args) + 1)
        self.ops.append(_Op(kind, tuple(args), out))
        return out

    @property
    def depth(self) -> int:
        return self.levels[self.root] if self.root >= 0 else 0


def _plan_popcount(g: int, lut_size: int, *, leaf: int | None = None, cin: bool = True) -> _Plan:
    """Counters of ``leaf`` bits (LUT logic), then a balanced tree of adders;
    with ``cin`` every adder also absorbs one input bit as its carry-in."""
    plan = _Plan(g, maxes=[1] * g, levels=[0] * g)
    if g == 0:
        return plan
    if g == 1:
        plan.root = 0
        return plan
    if leaf is None:
        leaf = 6 if lut_size >= 6 else 3
    # L leaves and L - 1 adders with a carry-in each: L * leaf + L - 1 = g
    n_leaves = max(1, (g + 1) // (leaf + 1)) if cin else max(1, -(-g // leaf))
    spare: list[int] = []
    nums: list[int] = []
    pos = 0
    for i in range(n_leaves):
        size = leaf if i < n_leaves - 1 else min(leaf, g - pos)
        chunk = list(range(pos, pos + size))
        pos += size
        nums.append(chunk[0] if len(chunk) == 1 else plan.new("count", chunk, len(chunk)))
    spare = list(range(pos, g))
    # balanced adder tree over the leaves, level by level
    while len(nums) > 1 or spare:
        if len(nums) == 1:  # input bits left over: fold them into counters/adders
            take = spare[:leaf]
            spare = spare[leaf:]
            nums.append(take[0] if len(take) == 1 else plan.new("count", take, len(take)))
            continue
        nxt = []
        for i in range(0, len(nums) - 1, 2):
            args = [nums[i], nums[i + 1]]
            if spare:
                args.append(spare.pop())
            nxt.append(plan.new("add", args, sum(plan.maxes[a] for a in args)))
        if len(nums) % 2:
            nxt.append(nums[-1])
        nums = nxt
    plan.root = nums[0]
    return plan


def _argmax_levels(classes: int) -> int:
    return 2 * max(0, (classes - 1).bit_length())


def groupsum_levels(n_outputs: int, classes: int, lut_size: int) -> int:
    """Logic depth of popcount + argmax in LUT levels (for pipeline planning).

    A carry chain of an adder or comparator counts as one level (see the
    module docstring)."""
    g = _group_size(n_outputs, classes)
    _check_lut_size(lut_size)
    return _plan_popcount(g, lut_size).depth + _argmax_levels(classes)


def _group_size(n_outputs: int, classes: int) -> int:
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    if n_outputs < classes or n_outputs % classes:
        raise ValueError(f"{n_outputs} output bits do not split into {classes} equal non-empty groups")
    return n_outputs // classes


def _check_lut_size(lut_size: int) -> None:
    if lut_size not in LUT_SIZES:
        raise ValueError(f"lut_size must be one of {LUT_SIZES}, got {lut_size}")


# --------------------------------------------------------------------------- hardware


@dataclass
class GroupSumHW:
    """What :func:`build_groupsum` elaborated.

    ``counts[c]`` is class ``c``'s popcount (``count_width(g)`` bits) and
    ``cls`` the argmax (``class_width(classes)`` bits, ties to the lowest
    index), both ``stages`` cycles after ``bits`` (combinational if 0).
    ``levels`` is :func:`groupsum_levels`; ``luts_estimate`` a rough LUT
    count (one LUT per adder/comparator/mux result bit)."""

    counts: list[Value]
    cls: Value
    stages: int
    luts_estimate: int
    levels: int = 0


class _Stager:
    """Hands out values as seen at a later level, through the register
    boundaries in between (one register per value and boundary, shared)."""

    def __init__(self, m: Module, boundaries: frozenset[int], domain: str) -> None:
        self.m = m
        self.boundaries = boundaries
        self.domain = domain
        self._cache: dict[tuple[str, int], Value] = {}

    def at(self, v: Value, name: str, ready: int, level: int) -> Value:
        """``v`` (named ``name``, ready after level ``ready``) for logic in ``level``."""
        if isinstance(v, Const):  # constants need no register
            return v
        for b in range(ready, level):
            if b not in self.boundaries:
                continue
            key = (name, b)
            r = self._cache.get(key)
            if r is None:
                r = Signal(len(v), name=f"{name}_q{b}")
                self.m.d[self.domain] += r.eq(v)
                self._cache[key] = r
            v = r
        return v


def _build_popcount(m: Module, bits: Sequence[Value], plan: _Plan, stager: _Stager, prefix: str,
                    ) -> tuple[Value, int]:
    """Elaborate ``plan`` over ``bits``; returns the root value and a LUT estimate."""
    vals: list[Value | None] = [*bits] + [None] * (len(plan.maxes) - plan.n_inputs)
    names = [f"{prefix}_b{i}" for i in range(plan.n_inputs)] + [""] * (len(plan.maxes) - plan.n_inputs)
    luts = 0
    for op in plan.ops:
        lvl = plan.levels[op.out]
        width = plan.maxes[op.out].bit_length()
        args = [stager.at(vals[a], names[a], plan.levels[a], lvl) for a in op.args]  # type: ignore[arg-type]
        if op.kind == "count":
            # one table per output bit: LUT logic, kept away from carry chains
            total: Value = Array(Const(v, width) for v in _POPCOUNTS[:1 << len(args)])[Cat(*args)]
            luts += width
        else:
            total = args[0]
            for a in args[1:]:
                total = total + a
            luts += width - 1  # one LUT per chain bit; the top bit is the carry-out
        # keep: without it Yosys merges the whole tree into one $macc and
        # rebuilds its own (1.9 LUT4 per bit) compressor from it
        sig = Signal(width, name=f"{prefix}_n{op.out}", attrs=_KEEP)
        m.d.comb += sig.eq(total[:width])
        vals[op.out] = sig
        names[op.out] = sig.name
    if plan.root < 0:
        return Const(0, 0), 0
    return vals[plan.root], luts  # type: ignore[return-value]


def build_groupsum(
    m: Module,
    bits: Value,
    classes: int,
    *,
    lut_size: int,
    target: str,
    register_after: Container[int] = (),
    domain: str = "sync",
) -> GroupSumHW:
    """Elaborate per-class popcount and argmax into ``m``.

    ``bits`` is ``n_outputs`` wide; group ``c`` is ``bits[c*g : (c+1)*g]``
    with ``g = n_outputs // classes``. After logic level ``i`` (1-based,
    ``1 <= i <= groupsum_levels(...)``) a register stage is inserted when
    ``i in register_after`` (registers in ``domain``, reset value 0).
    ``target`` is one of ``ice40, ecp5, xilinx, gowin, generic``; the design
    is plain Amaranth logic for every target (carry chains come from Yosys's
    mapping of ``+`` and ``>``). Raises ``ValueError`` for bad arguments.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (known: {', '.join(TARGETS)})")
    _check_lut_size(lut_size)
    bits = Value.cast(bits)
    n = len(bits)
    if not isinstance(bits, Signal):
        # bit-slicing a wide expression (a Cat of many parts) lowers the whole
        # expression once per slice: quadratic; slicing one wire is not
        flat = Signal(n, name="gs_bits")
        m.d.comb += flat.eq(bits)
        bits = flat
    g = _group_size(n, classes)
    plan = _plan_popcount(g, lut_size)
    total_levels = plan.depth + _argmax_levels(classes)
    boundaries = _boundaries(register_after, total_levels)
    stager = _Stager(m, boundaries, domain)
    cw = count_width(g)

    luts = 0
    counts: list[Value] = []
    for c in range(classes):
        root, est = _build_popcount(m, [bits[c * g + i] for i in range(g)], plan, stager, f"gs_c{c}")
        luts += est
        cnt = Signal(cw, name=f"gs_count{c}")
        m.d.comb += cnt.eq(root)
        counts.append(cnt)

    # argmax tournament; every candidate is (count, index, name, ready level)
    cands: list[tuple[Value, Value, str, int]] = [
        (counts[c], Const(c, class_width(classes)), f"gs_count{c}", plan.depth) for c in range(classes)]
    rnd = 0
    while len(cands) > 1:
        rnd += 1
        nxt = []
        for i in range(0, len(cands) - 1, 2):
            (ca, ia, na, ra), (cb, ib, nb, rb) = cands[i], cands[i + 1]
            lv_cmp = max(ra, rb) + 1
            gt = Signal(name=f"gs_r{rnd}_{i // 2}_gt")
            m.d.comb += gt.eq(_greater(stager.at(cb, nb, rb, lv_cmp), stager.at(ca, na, ra, lv_cmp), target))
            lv_mux = lv_cmp + 1
            sel = stager.at(gt, gt.name, lv_cmp, lv_mux)
            wc = Signal(cw, name=f"gs_r{rnd}_{i // 2}_count")
            wi = Signal(class_width(classes), name=f"gs_r{rnd}_{i // 2}_index")
            m.d.comb += [
                wc.eq(Mux(sel, stager.at(cb, nb, rb, lv_mux), stager.at(ca, na, ra, lv_mux))),
                wi.eq(Mux(sel, stager.at(ib, nb + "_idx", rb, lv_mux), stager.at(ia, na + "_idx", ra, lv_mux))),
            ]
            luts += cw + cw + class_width(classes)  # comparator chain + muxes
            nxt.append((wc, wi, wc.name, lv_mux))
        if len(cands) % 2:
            nxt.append(cands[-1])
        cands = nxt
    _, cls_v, cls_name, cls_ready = cands[0]
    # align everything with the last level: counts and class of one sample
    cls = stager.at(cls_v, cls_name + "_idx", cls_ready, total_levels + 1)
    out_counts = [stager.at(cnt, f"gs_count{c}", plan.depth, total_levels + 1) for c, cnt in enumerate(counts)]
    return GroupSumHW(counts=out_counts, cls=cls, stages=len(boundaries), luts_estimate=luts, levels=total_levels)


def _greater(b: Value, a: Value, target: str) -> Value:
    """``b > a`` for unsigned values of one width, written for ``target``."""
    if target == "xilinx" or len(a) == 0:
        # LUT6 + CARRY4: Yosys's own comparator mapping is the smaller one
        return b > a
    # carry-out of b + ~a (= b - a - 1 + 2**w, at least 2**w iff b > a): one
    # carry chain; Yosys maps ``b > a`` on LUT4 families to twice the LUTs
    return (b + ~a)[len(a)]


def _boundaries(register_after: Container[int], total_levels: int) -> frozenset[int]:
    if isinstance(register_after, range | list | tuple | set | frozenset):
        vals = set(register_after)
    else:  # any Container: probe the valid levels
        vals = {i for i in range(1, total_levels + 1) if i in register_after}
    bad = sorted(v for v in vals if not isinstance(v, int) or not 1 <= v <= total_levels)
    if bad:
        raise ValueError(f"register_after has levels {bad} outside 1..{total_levels} (the GroupSum's logic depth)")
    return frozenset(vals)

"""Popcount trees (plans) and the fused leaf counters of the GroupSum head.

A :class:`PopcountPlan` describes the tree that sums one class's group of bits:
leaf counters, then adders on the carry chain (see :mod:`.groupsum` for the
hardware and the cost model). :func:`fuse_head` turns the leaf counters into
netlist LUTs, so that the optimizer packs them with the last fabric layer.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..families import Family
from ..netlist import FUSED_HEAD, Layer, Netlist, rows_to_table, table_depends_on
from ..passes.const import constant_outputs
from .heap import HeapPlan, plan_heap

__all__ = ["FUSED", "HEAD_GROUPS", "POPCOUNT_WIRE", "PopcountOp", "PopcountPlan", "adder_luts", "class_popcounts",
           "family_popcount", "fuse_head", "group_size", "head_family", "head_groups", "head_layout", "pack_order",
           "plan_popcount",
           "tree_cost"]

# name of partial sum ``node`` (a number id of the PopcountPlan) of class ``c``
POPCOUNT_WIRE = "gs_c{c}_n{node}"
# netlist metadata key of a network whose outputs are the fused head's inputs (value: the original outputs)
FUSED = FUSED_HEAD
# netlist metadata key of a fused network whose head counts fewer than all of each class's bits (value:
# head_groups)
HEAD_GROUPS = "lut2rtl_head_groups"


@dataclass(frozen=True)
class PopcountOp:
    kind: str  # "count" | "add" | "add3" | "heap"
    args: tuple[int, ...]  # number ids (for "add": x, y[, cin]; for "add3": x, y, z[, cin]; "heap": all)
    out: int  # number id of the result
    heap: HeapPlan | None = None  # "heap": its stages (rtl/heap.py), each one level


@dataclass
class PopcountPlan:
    """A popcount tree over ``n_inputs`` single bits (number ids 0 .. n-1)."""

    n_inputs: int
    maxes: list[int] = field(default_factory=list)  # per number id: its maximum value
    levels: list[int] = field(default_factory=list)  # per number id: the level it is ready after
    ops: list[PopcountOp] = field(default_factory=list)
    root: int = -1

    def new(self, kind: str, args: Sequence[int], mx: int, heap: HeapPlan | None = None) -> int:
        out = len(self.maxes)
        self.maxes.append(mx)
        self.levels.append(max(self.levels[a] for a in args) + op_levels(kind, heap))
        self.ops.append(PopcountOp(kind, tuple(args), out, heap))
        return out

    @property
    def depth(self) -> int:
        return self.levels[self.root] if self.root >= 0 else 0


def op_levels(kind: str, heap: HeapPlan | None = None) -> int:
    """Logic levels of one operation: a heap's stages, otherwise one."""
    return max(1, len(heap.stages)) if kind == "heap" and heap is not None else 1


def plan_popcount(g: int, lut_size: int, *, leaf: int | None = None, cin: bool = True,
                  arity: int = 2, heap: bool = False) -> PopcountPlan:
    """Counters of ``leaf`` bits (LUT logic), then a tree of adders of ``arity`` (2 or 3) numbers;
    with ``cin`` every adder also absorbs one input bit as its carry-in. With ``heap``: counters of
    ``leaf`` bits over the whole group (the last bits that fill no counter stay single), then one
    ``heap`` operation that compresses all of them (rtl/heap.py).

    Two-number adders with carry-ins: the tree of least :func:`tree_cost` among the balanced tree
    (:func:`_balanced_tree`) and the trees :func:`_merge_tree` builds for leaf counts near the natural
    one, no deeper than the balanced tree. At 100 bits the balanced tree ends with an adder that adds
    one left-over bit to a 7-bit sum (six LUTs and two feed cells for one bit, and one more level);
    the searched tree keeps the 25 leaves, makes the left-over bit a number of its own and adds the numbers
    ready first, one level shallower (6 levels, 171 cells by :func:`tree_cost` against 7 and 175)."""
    if arity not in (2, 3):
        raise ValueError(f"adders sum 2 or 3 numbers, not {arity}")
    if leaf is None:
        leaf = 6 if lut_size >= 6 else 3
    if heap and g > 1:
        plan = PopcountPlan(g, maxes=[1] * g, levels=[0] * g)
        nums = [plan.new("count", range(i, i + leaf), leaf) if leaf > 1 else i for i in range(0, g - g % leaf, leaf)]
        nums += range(g - g % leaf, g)
        heights: list[int] = []
        for a in nums:
            for j in range(plan.maxes[a].bit_length()):
                heights += [0] * (j + 1 - len(heights))
                heights[j] += 1
        plan.root = plan.new("heap", nums, g, plan_heap(heights, g.bit_length()))
        return plan
    if arity != 2 or not cin or leaf < 2 or g <= leaf:
        return _balanced_tree(g, leaf, cin, arity)
    shape = _searched_shape(g, leaf)
    if shape is None:
        return _balanced_tree(g, leaf, cin, arity)
    tree = _merge_tree(g, leaf, *shape)
    assert tree is not None
    return tree


@functools.lru_cache(maxsize=4096)
def _searched_shape(g: int, leaf: int) -> tuple[int, str] | None:
    """The leaf count and merge order of :func:`plan_popcount`'s tree for ``g`` bits; None: the balanced tree.
    Cached: compiling a 100-class network plans each class's tree many times (150 calls for a 100,000-gate
    network, 1.9 s uncached)."""
    best = _balanced_tree(g, leaf, True, 2)
    key, shape = (tree_cost(best), best.depth), None
    natural = (g + 1) // (leaf + 1)
    for n_leaves in range(max(1, natural - MERGE_WINDOW), min(g // leaf, natural + MERGE_WINDOW) + 1):
        for order in ("level", "width"):
            cand = _merge_tree(g, leaf, n_leaves, order)
            if cand is not None and cand.depth <= best.depth and (tree_cost(cand), cand.depth) < key:
                key, shape = (tree_cost(cand), cand.depth), (n_leaves, order)
    return shape


# leaf counts searched on either side of (g + 1) // (leaf + 1) (a search over all of them found the same
# trees for every group of 4 to 2,000 bits)
MERGE_WINDOW = 3


def tree_cost(plan: PopcountPlan) -> int:
    """A popcount tree's cost in logic cells: a leaf counter's LUTs (one per output bit), and per adder its
    LUTs (:func:`adder_luts`) plus a cell for its carry-out and one for a carry-in from logic. On iCE40
    those are nextpnr's feed-out and feed-in cells; on ECP5 the pass halves between chained adders
    (rtl/carrychain.py)."""
    cost = 0
    for op in plan.ops:
        if op.kind == "count":
            cost += len(op.args).bit_length()
        else:
            cost += adder_luts(plan, op) + 1 + (1 if op.kind == "add" and len(op.args) == 3 else 0)
    return cost


def _merge_tree(g: int, leaf: int, n_leaves: int, order: str) -> PopcountPlan | None:
    """``n_leaves`` counters of ``leaf`` bits, then adders that each sum the two numbers first in
    ``order`` ("level": the earliest ready, then the smallest; "width": the narrowest, then the earliest)
    and take a left-over bit as carry-in while there is one. Bits beyond the carry-ins are numbers of
    their own. None when the carry-ins cannot take all the bits left over."""
    plan = PopcountPlan(g, maxes=[1] * g, levels=[0] * g)
    nums = [plan.new("count", range(leaf * i, leaf * i + leaf), leaf) for i in range(n_leaves)]
    rest = g - leaf * n_leaves
    singles = max(0, -(-(rest - n_leaves + 1) // 2))  # n + s numbers take n + s - 1 carry-ins
    nums += range(leaf * n_leaves, leaf * n_leaves + singles)
    spare = list(range(leaf * n_leaves + singles, g))
    if len(spare) > len(nums) - 1:
        return None

    def rank(a: int) -> tuple[int, int]:
        if order == "level":
            return plan.levels[a], plan.maxes[a]
        return plan.maxes[a].bit_length(), plan.levels[a]

    ready = [(rank(a), i, a) for i, a in enumerate(nums)]
    heapq.heapify(ready)
    tick = itertools.count(len(ready))
    while len(ready) > 1:
        x, y = heapq.heappop(ready)[2], heapq.heappop(ready)[2]
        parts = [x, y] + ([spare.pop()] if spare else [])
        out = plan.new("add", parts, sum(plan.maxes[a] for a in parts))
        heapq.heappush(ready, (rank(out), next(tick), out))
    plan.root = ready[0][2]
    return plan


def _balanced_tree(g: int, leaf: int, cin: bool, arity: int) -> PopcountPlan:
    """Counters of ``leaf`` bits, then a balanced tree of adders of ``arity`` numbers, level by level; with
    ``cin`` every adder also absorbs one input bit as its carry-in. A level of a ternary tree with two
    numbers left over adds them with a two-number adder."""
    plan = PopcountPlan(g, maxes=[1] * g, levels=[0] * g)
    if g == 0:
        return plan
    if g == 1:
        plan.root = 0
        return plan
    # L leaves and about (L - 1) / (arity - 1) adders with a carry-in each:
    # L * leaf + (L - 1) / (arity - 1) >= g
    if cin:
        n_leaves = max(1, (g + 1) // (leaf + 1)) if arity == 2 else \
            max(1, -(-(2 * g + 1) // (2 * leaf + 1)))
    else:
        n_leaves = max(1, -(-g // leaf))
    spare: list[int] = []
    nums: list[int] = []
    pos = 0
    for i in range(n_leaves):
        size = leaf if i < n_leaves - 1 else min(leaf, g - pos)
        if size <= 0:
            break
        chunk = list(range(pos, pos + size))
        pos += size
        nums.append(chunk[0] if len(chunk) == 1 else plan.new("count", chunk, len(chunk)))
    spare = list(range(pos, g))

    def add(kind: str, parts: list[int]) -> int:
        if spare:
            parts.append(spare.pop())
        return plan.new(kind, parts, sum(plan.maxes[a] for a in parts))

    # balanced adder tree over the leaves, level by level
    while len(nums) > 1 or spare:
        if len(nums) == 1:  # input bits left over: fold them into counters/adders
            take = spare[:leaf]
            spare = spare[leaf:]
            nums.append(take[0] if len(take) == 1 else plan.new("count", take, len(take)))
            continue
        nxt = []
        i = 0
        while len(nums) - i >= arity:
            nxt.append(add("add" if arity == 2 else "add3", nums[i:i + arity]))
            i += arity
        if len(nums) - i == 2:
            nxt.append(add("add", nums[i:i + 2]))
        elif len(nums) - i == 1:
            nxt.append(nums[i])
        nums = nxt
    plan.root = nums[0]
    return plan


def family_popcount(g: int, family: Family) -> PopcountPlan:
    """The popcount tree lut2rtl builds for a group of ``g`` bits on ``family``."""
    return plan_popcount(g, family.lut_size, leaf=family.popcount_leaf, cin=family.popcount_cin,
                         arity=3 if family.dual_lut else 2, heap=family.popcount_heap)


def head_family(net: Netlist, family: Family, clock_mhz: float | None = None, delay_scale: float = 1.0) -> Family:
    """``family`` as the head of ``net`` is built. On a family that compresses a bit heap, leaf counters
    only where they can fuse with the fabric: a leaf LUT replaces the LUTs of its three bits where those
    read two or more inputs each; over network inputs or one-input LUTs (wires after optimization) it
    costs two LUTs per three bits, which the heap would have removed for 1.5 (two bits per LUT). Measured
    on Xilinx: digits' whole core 1,477 LUTs with leaves, 1,555 without; a head over 10 x 100 input bits
    1,174 with, 674 without.

    With chained adders (``family.chain_adder``) and a clock to meet, a chain is at most as long as the
    delay model lets one level fit in a clock period beside a register stage (at least 4 halves)."""
    if family.chain_adder is not None and clock_mhz:
        budget = 1000.0 / clock_mhz / delay_scale - family.t_stage_ns - family.t_level_ns
        cap = max(4, int(budget / family.t_carry_ns)) if family.t_carry_ns > 0 else family.chain_halves
        family = dataclasses.replace(family, chain_halves=min(family.chain_halves, cap))
    if not family.popcount_heap or net.group_sum is None or family.popcount_leaf <= 1 or not net.n_outputs:
        return family
    outs = np.asarray(net.outputs, dtype=np.int64)
    layer = np.searchsorted(np.asarray(net.offsets), outs, side="right") - 1  # -1: a network input
    ks = np.array([net.layers[i].k if i >= 0 else 0 for i in layer.tolist()])
    return family if 2 * int((ks >= 2).sum()) >= len(ks) else dataclasses.replace(family, popcount_leaf=1)


def adder_luts(plan: PopcountPlan, op: PopcountOp) -> int:
    """LUTs of one adder of ``plan``: one per chain bit. A two-number adder's
    top bit is its carry-out; a ternary adder has a bit above its widest
    operand (rtl/ternary.py) and its carry-out on top of that."""
    width = plan.maxes[op.out].bit_length()
    if op.kind == "heap":
        assert op.heap is not None
        return op.heap.luts
    if op.kind == "add3":
        return max(plan.maxes[a].bit_length() for a in op.args[:3]) + 1
    return width - 1


def head_layout(pc: PopcountPlan) -> tuple[list[PopcountOp], list[int]]:
    """The fused head's inputs of one group: the leaf counters (each ``maxes[out].bit_length()`` bits,
    LSB first, in plan order), then the group's bits that no counter reads (in index order)."""
    leaves = [op for op in pc.ops if op.kind == "count"]
    counted = {a for op in leaves for a in op.args}
    return leaves, [i for i in range(pc.n_inputs) if i not in counted]


def head_groups(net: Netlist, family: Family | None = None) -> tuple[tuple[int, ...], ...] | None:
    """Which of each class's group bits the head counts, in order, where constant propagation
    (:func:`lut2rtl.passes.const.constant_outputs`) proves some of them 0; ``None`` (every bit, in index
    order) where it proves none and the order is not changed. A bit that is always 0 adds nothing, so the
    class's tree is planned for fewer bits (a random network's outputs are 20 % constant 0; a trained one's
    up to a few %). A bit that is always 1 stays: the head reads it as a constant (``const_bits`` of
    :func:`lut2rtl.rtl.groupsum.build_groupsum`).

    On a ``family`` with ``popcount_pack``, each class's bits are also ordered for the LUTs (a popcount does
    not depend on the order): :func:`pack_order` puts bits whose logic fits one LUT together into the leaf
    counters, and network inputs at the tree's single bits (carry-ins)."""
    if net.group_sum is None:
        return None
    zeros = {i for i, v in constant_outputs(net).items() if v == 0}
    classes = int(net.group_sum.classes)
    g = group_size(net.n_outputs, classes)
    groups = None if not zeros else tuple(tuple(i for i in range(g) if c * g + i not in zeros)
                                          for c in range(classes))
    if family is None or not family.popcount_pack or family.popcount_heap or family.popcount_leaf != 3:
        return groups
    sizes = [g] * classes if groups is None else [len(x) for x in groups]
    plans = {n: family_popcount(n, family) for n in sorted(set(sizes))}
    # supports as the optimizer leaves them (copies merged, wires and constants folded), output for output
    from ..passes import optimize

    opt = optimize(net, 2, lut_size=family.lut_size)
    assert opt.n_outputs == net.n_outputs
    info = _bit_supports(opt, family.lut_size)
    packed = []
    for c in range(classes):
        pos = range(g) if groups is None else groups[c]
        leaves, raw = head_layout(plans[len(pos)])
        order = pack_order([info[c * g + p] for p in pos], [op.args for op in leaves], raw, family.lut_size)
        packed.append(tuple(pos[i] for i in order))
    return None if groups is None and all(x == tuple(range(g)) for x in packed) else tuple(packed)


# candidates looked at per bit when pack_order searches for bits that share LUT inputs (bounds the search on
# wide groups; the order stays deterministic)
PACK_NEIGHBOURS = 24
# up to this many bits of one class that fit one LUT, pack_order looks at every triple of them
PACK_EXACT = 160


def _bit_supports(net: Netlist, lut_size: int) -> list[tuple[frozenset[int] | None, bool, bool]]:
    """Per output: the signals a leaf LUT would read to compute it (its network inputs where they are at
    most ``lut_size``, else the signals its LUT reads where those are; ``None``: neither; none for a
    constant), whether it is a LUT (not a network input or constant), and whether that LUT has no other
    reader (so that a leaf reading its inputs instead saves it). Inputs a LUT's table ignores are not
    counted."""
    n_sig = net.n_signals
    fanout = np.zeros(n_sig, dtype=np.int64)
    sup: list[frozenset[int] | None] = [frozenset((i,)) for i in range(net.n_inputs)]
    fanin: list[frozenset[int] | None] = [None] * net.n_inputs
    for layer in net.layers:
        deps = np.asarray(table_depends_on(layer.tables, layer.k)).reshape(len(layer.inputs), layer.k)
        for ins, dep in zip(layer.inputs.tolist(), deps.tolist()):
            read = [x for x, d in zip(ins, dep) if d]
            fanout[read] += 1
            direct = frozenset(read)
            fanin.append(direct)
            acc: frozenset[int] | None = frozenset()
            for x in direct:
                sx = sup[x]
                acc = None if sx is None or acc is None else acc | sx
                if acc is not None and len(acc) > lut_size:
                    acc = None
                if acc is None:
                    break
            sup.append(acc)
    outs = np.asarray(net.outputs, dtype=np.int64)
    np.add.at(fanout, outs[outs >= 0], 1)
    res: list[tuple[frozenset[int] | None, bool, bool]] = []
    for o in outs.tolist():
        if o < 0:  # a constant (CONST0 / CONST1): reads nothing, costs nothing
            res.append((frozenset(), False, False))
            continue
        is_lut = o >= net.n_inputs
        s = sup[o]
        if s is None and is_lut:
            f = fanin[o]
            s = f if f is not None and len(f) <= lut_size else None
        res.append((s, is_lut, is_lut and int(fanout[o]) == 1))
    return res


def pack_order(bits: Sequence[tuple[frozenset[int] | None, bool, bool]], leaves: Sequence[Sequence[int]],
               singles: Sequence[int], lut_size: int) -> list[int]:
    """An order of one class's group bits for a popcount plan whose leaf counters read the positions
    ``leaves`` (three each, or fewer in a small group) and whose other positions are ``singles``: the bit
    at each position.

    ``bits`` are :func:`_bit_supports`' entries. A leaf counter's two LUTs read its three bits; where the
    three bits' logic together reads at most ``lut_size`` signals, each LUT can read those signals instead,
    and the LUTs of the bits that have no other reader go away. The same holds for part of a triple: a bit
    read as it is (its LUT kept) is one signal, so a 2-input gate beside two such bits also fits a LUT4.
    So the leaves are filled greedily with the triples that save the most such LUTs. Candidates are bits
    that share signals (found through an index of the signals), completed by any free bit small enough for
    the room left (``lut_size`` minus the signals already read), bits whose LUT goes away first, else any
    bit read as it is (one that saves nothing elsewhere first). Two constants in a leaf make it the third
    bit alone (its two LUTs go away), so constants are paired (a random 100K-gate, 100-class network: 20 %
    of its group bits are constant 1). Network inputs left over go to the single
    positions, where a bit needs no LUT of its own; every other bit goes where room is left, in index
    order."""
    n = len(bits)
    assert sum(len(x) for x in leaves) + len(singles) == n and all(len(x) <= 3 for x in leaves)
    n_triples = sum(len(x) == 3 for x in leaves)
    sup = [b[0] for b in bits]
    gain = [int(b[2]) for b in bits]
    small = [i for i in range(n) if sup[i] is not None]
    size = {i: len(sup[i]) for i in small}  # type: ignore[arg-type]
    index: dict[int, list[int]] = {}
    for i in small:
        for v in sorted(sup[i]):  # type: ignore[arg-type]
            index.setdefault(v, []).append(i)
    # the bits a free place of room r takes, best first: a LUT that goes away, then the most signals
    by_room = [sorted((i for i in small if size[i] <= r), key=lambda i: (-gain[i], -size[i], i))
               for r in range(lut_size + 1)]

    def near(vs: frozenset[int], skip: tuple[int, ...]) -> list[int]:
        return sorted({j for v in vs for j in index.get(v, ()) if j not in skip})[:PACK_NEIGHBOURS]

    # candidates: (bits, rooms of the places left to fill with any free bit of at most that many signals)
    cands: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    if len(small) <= PACK_EXACT:  # every triple that fits, as well
        rank = {x: r for r, x in enumerate(small)}
        for a, x in enumerate(small):
            for y in small[a + 1:]:
                u = sup[x] | sup[y]  # type: ignore[operator]
                if len(u) > lut_size:
                    continue
                # a third bit adds at most lut_size - |u| signals; where none, it reads signals of u
                zs = small[rank[y] + 1:] if len(u) < lut_size else sorted(
                    {j for v in u for j in index[v] if rank[j] > rank[y]})
                for z in zs:
                    if len(u | sup[z]) <= lut_size:  # type: ignore[operator]
                        cands.add(((x, y, z), ()))
                if len(u) < lut_size and (gain[x] or gain[y]):  # and a bit read as it is
                    cands.add(((x, y), (lut_size - len(u),)))
            if size[x] <= lut_size - 2 and gain[x]:  # with two bits read as they are
                cands.add(((x,), (lut_size - size[x] - 1, 1)))
    for x in (small if len(small) > PACK_EXACT else ()):  # else the exact triples above (measured better)
        sx = sup[x]
        assert sx is not None
        room = lut_size - size[x]
        if room >= 2:
            cands.add(((x,), (room - 1, 1)))
        for y in near(sx, (x,)):
            u = sx | sup[y]  # type: ignore[operator]
            if len(u) > lut_size:
                continue
            if len(u) < lut_size:
                cands.add((tuple(sorted((x, y))), (lut_size - len(u),)))
            for z in near(u, (x, y)):
                if len(u | sup[z]) <= lut_size:  # type: ignore[operator]
                    cands.add((tuple(sorted((x, y, z))), ()))
    free = [True] * n
    # bits a room takes where no bit whose LUT goes away fits, read as they are (one signal each): those that
    # save nothing elsewhere first, then the widest; constants last (they are worth more in pairs, below)
    closed = sorted(range(n), key=lambda i: (size.get(i) == 0, gain[i] and sup[i] is not None,
                                             -(size.get(i, lut_size + 1)), i))

    def fill(members: tuple[int, ...], rooms: tuple[int, ...]) -> tuple[list[int], int] | None:
        """The bits for ``rooms`` (a negative room: beside two constants, any bit but a constant) and the
        LUTs they save: a bit read as it is saves none."""
        got: list[int] = []
        saved = 0
        for r in rooms:  # the larger room first (rooms are listed so)
            i = None if r < 0 else next(
                (i for i in by_room[r] if free[i] and gain[i] and i not in members and i not in got), None)
            if i is not None:
                saved += gain[i]
            else:
                i = next((i for i in closed if free[i] and (r >= 0 or size.get(i) != 0) and i not in members
                          and i not in got), None)
            if i is None:
                return None
            got.append(i)
        return got, saved

    consts = [i for i in small if size[i] == 0]
    for a in range(0, len(consts) - 1, 2):  # two constants make a leaf of the third bit alone
        cands.add(((consts[a], consts[a + 1]), (-1,)))

    def worth(members: tuple[int, ...], saved: int = 0) -> int:
        # LUTs a leaf of ``members`` (their LUTs gone) and bits that save ``saved`` removes; two constants make
        # the leaf the third bit alone: its two LUTs go away, whatever that bit is
        return 2 if sum(size.get(i) == 0 for i in members) >= 2 else sum(gain[i] for i in members) + saved

    heap = [(-(worth(m) + len(r)), m, r) for m, r in sorted(cands)]
    heapq.heapify(heap)
    triples: list[tuple[int, ...]] = []
    while heap and len(triples) < n_triples:
        neg, m, r = heapq.heappop(heap)
        if not all(free[i] for i in m):
            continue
        filled = fill(m, r)
        if filled is None:
            continue
        got, saved = filled
        s = 2 if sum(size.get(i) == 0 for i in (*m, *got)) >= 2 else worth(m, saved)
        if s <= 0:
            continue
        if s < -neg:  # the free bits left fill it less well than when it was queued
            heapq.heappush(heap, (-s, m, r))
            continue
        for i in (*m, *got):
            free[i] = False
        triples.append((*m, *got))
    rest = [i for i in range(n) if free[i]]
    # network inputs first at the single positions (no LUT of their own there), then LUTs that stay anyway
    rest.sort(key=lambda i: (bits[i][1], bits[i][2], i))
    order = [-1] * n
    for pos, i in zip(singles, rest):
        order[pos] = i
    packed = iter(triples)
    fill_bits = iter(rest[len(singles):])
    for leaf in leaves:
        t = next(packed, None) if len(leaf) == 3 else None
        for pos, i in zip(leaf, t if t is not None else fill_bits):
            order[pos] = i
    assert sorted(order) == list(range(n))
    return order


def class_popcounts(n_outputs: int, classes: int, family: Family,
                    groups: Sequence[Sequence[int]] | None = None) -> list[PopcountPlan]:
    """Each class's popcount plan: over its whole group, or over the bits ``groups`` names."""
    g = group_size(n_outputs, classes)
    if groups is not None and len(groups) != classes:
        raise ValueError(f"{len(groups)} head groups for {classes} classes")
    sizes = [g] * classes if groups is None else [len(x) for x in groups]
    plans = {n: family_popcount(n, family) for n in sorted(set(sizes))}
    return [plans[n] for n in sizes]


def fuse_head(net: Netlist, family: Family, out_bits: bool = False) -> Netlist:
    """``net`` with the GroupSum's leaf counters as LUTs of its own, so that the
    optimizer packs them together with the last fabric layer; its outputs are the
    head's inputs (:func:`head_layout` per class, over the bits :func:`head_groups`
    names), then, with ``out_bits``, the original outputs. The GroupSum and the rest
    of the metadata are kept; the metadata key :data:`FUSED` records the original
    output count, :data:`HEAD_GROUPS` the head groups where they are not whole."""
    if net.group_sum is None or FUSED in net.metadata:
        return net
    classes = int(net.group_sum.classes)
    g = group_size(net.n_outputs, classes)
    groups = head_groups(net, family)
    by_k: dict[int, tuple[list[list[int]], list[int]]] = {}
    order: list[tuple[int, int]] = []  # (k, index in its layer) of every head input, in layout order
    for c, pc in enumerate(class_popcounts(net.n_outputs, classes, family, groups)):
        pos = range(g) if groups is None else groups[c]
        leaves, raw = head_layout(pc)
        for op in leaves:
            k = len(op.args)
            ins, tabs = by_k.setdefault(k, ([], []))
            counts = np.array([bin(r).count("1") for r in range(1 << k)])  # symmetric: row order is moot
            for j in range(int(k).bit_length()):
                ins.append([int(net.outputs[c * g + pos[a]]) for a in op.args])
                tabs.append(int(rows_to_table(((counts >> j) & 1).astype(bool)[None, :])[0]))
                order.append((k, len(ins) - 1))
        order += [(0, int(net.outputs[c * g + pos[i]])) for i in raw]
    layers, first = list(net.layers), {}
    for k, (ins, tabs) in sorted(by_k.items()):
        first[k] = net.n_signals + sum(len(by_k[q][0]) for q in sorted(by_k) if q < k)
        layers.append(Layer(k=k, inputs=np.array(ins, dtype=np.int64), tables=np.array(tabs, dtype=np.uint64)))
    outs = [first[k] + i if k else i for k, i in order] + (net.outputs.tolist() if out_bits else [])
    meta = {**net.metadata, FUSED: net.n_outputs}
    if groups is not None:
        meta[HEAD_GROUPS] = [list(x) for x in groups]
    return net.replace(layers=tuple(layers), outputs=np.array(outs, dtype=np.int64), metadata=meta)


def group_size(n_outputs: int, classes: int) -> int:
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    if n_outputs < classes or n_outputs % classes:
        raise ValueError(f"{n_outputs} output bits do not split into {classes} equal non-empty groups")
    return n_outputs // classes

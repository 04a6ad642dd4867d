"""GroupSum hardware: per-class popcount (compressor/adder trees) and argmax.

The popcount of each class's group of ``g`` output bits is built from a
*plan*: a small pure-Python description of a tree of operations over
"numbers" (unsigned values with a known maximum), computed from the number of
bits it counts and the family (:func:`family_popcount`), shared by planning,
building and the formal proof's cut points. A class counts its whole group,
or the bits :func:`head_groups` keeps (those constant propagation does not
prove 0), so classes may have plans of different sizes.

Operations of a plan:

``count`` (the leaves)
    A popcount of ``family.popcount_leaf`` (3) single bits. These counters are
    not built here: :func:`fuse_head` adds them to the netlist as LUTs before
    optimization, so the optimizer packs them with the last fabric layer
    (a LUT6 reads three 2-input gates and gives one bit of their sum; on
    LUT4 families ABC's cover merges where the inputs fit). The head's input
    vector is then, per class, the leaf counts and the bits no leaf reads
    (:func:`head_layout`).
``add``
    ``x + y + c``: two numbers and one group bit, which the carry chain
    absorbs as its carry-in. Yosys maps ``+`` onto the family's carry
    primitive (``SB_CARRY``, ``CCU2C``, ``CARRY4``): one LUT per operand bit.
    A chain of <= ~14 bits counts as one level: a carry hop is several times
    faster than a LUT plus its routing. Intermediate sums carry the Yosys
    ``keep`` attribute, otherwise Yosys merges the tree into one ``$macc`` and
    builds its own, larger compressor (measured 1.87 LUT4/bit on iCE40).
    On a family with ``chain_adder`` (ECP5 ``CCU2C``) the adders are cell
    instances instead (:mod:`.carrychain`): the adders of one level share
    chains (``_Step.link``), one half between two adders; Yosys would build
    the sums under five bits from LUT4s and give every adder its own chain.
``add3``
    ``x + y + z + c`` from a dual-output LUT beside the carry chain
    (``Family.dual_lut``: Xilinx ``LUT6_2`` + ``CARRY4``), built from those
    primitives by :func:`.ternary.ternary_adder`: one LUT per bit for three
    numbers, where a two-number adder removes one (a plan of ``arity`` 3;
    no family uses it now: Xilinx compresses a heap, below). Yosys maps ``+``
    on Xilinx to two-number adders only.
``heap``
    The whole group (leaf counts and bits) as one bit heap, compressed in
    stages of chains of those primitives (:mod:`.heap`; ``Family.popcount_heap``,
    Xilinx): two bits per LUT. Each stage is one level and one step; its
    chains' outputs are one named vector (``<sum>_h<stage>``, formal's cut
    points), the last stage gives the number.

Cost: on a LUT4 + carry fabric a leaf counter removes one bit for two LUTs
and an adder bit one bit for one cell, plus a cell for a carry-in from logic
and one for a carry-out into logic (nextpnr's feed-in/feed-out on iCE40);
bench/bench_head.py measures the head against a behavioural ``sum()``. The
tree of two-number adders is the cheapest under this cost
(:func:`lut2rtl.rtl.popcount.tree_cost`) of the balanced tree and trees that
repeatedly add the two earliest-ready (or narrowest) numbers, for leaf counts
near ``(g + 1) / 4``, and never deeper than the balanced tree
(:func:`plan_popcount`).

Argmax is a binary tournament over the classes in index order: a round
compares neighbours (``right > left``, a carry chain: one level) and muxes
the winner's count and index (one LUT level); ties keep the left, i.e. the
lowest class index, as :func:`lut2rtl.evaluate.predict` does; ceil(log2
classes) rounds (11 for 2,000 classes). The index is planned bit by bit:
a bit both candidates share (a constant, or the same bit) is passed on, a bit
clear on the left and set on the right is the match's ``gt`` itself, and only
the others are muxed; constant bits are never registered (a register of a
constant with initial value 0 is a real flip-flop, and Yosys turns a mux with
a constant arm in front of one into set/reset logic, a slow path on iCE40).
A carry-chain comparator reads its inverted operand straight from a register
where there is one (:func:`_left_operands`). On a family with ``lut_carry``
(iCE40) a match with no register between comparison and mux is built as
carry + LUT cells with the winner's mux inside the comparator's cells, its
left operand's complement given by the LUTs that make it (:mod:`.lutcarry`,
:func:`_lut_carry_matches`).

Pipelining: level ``i`` (1-based) is the ``i``-th LUT level after the fabric;
with ``i`` in ``register_after`` every value alive across the boundary after
level ``i`` is registered. The counts are delayed to the end of the last level
too, so ``counts`` and ``cls`` belong to the same input sample and the latency
is ``stages`` cycles. :func:`level_delays` gives each level's delay by the
family's model (for ``--clock-mhz``).

Planning and building are separate: :func:`plan_groupsum` turns the popcount
trees and the tournament into a list of steps over named values, from which
it counts LUTs and flip-flops before anything is elaborated;
:func:`build_groupsum` renders the same steps in Amaranth. Partial sums
(leaf counts included) are named :data:`POPCOUNT_WIRE` (formal verification
cuts the proof there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from itertools import count

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value

from ..families import Family
from .carrychain import Shape, build_chain, chain_halves, group_chains
from .heap import Chain, apply_stage
from .lutcarry import adder as lut_carry_adder
from .lutcarry import compare_mux
from .popcount import (
    FUSED,
    HEAD_GROUPS,
    POPCOUNT_WIRE,
    PopcountOp,
    PopcountPlan,
    adder_luts,
    class_popcounts,
    family_popcount,
    fuse_head,
    group_size,
    head_family,
    head_groups,
    head_layout,
    op_levels,
    plan_popcount,
)
from .ternary import dual_chain, ternary_adder

__all__ = ["FUSED", "HEAD_GROUPS", "HEAD_REGISTERS", "POPCOUNT_WIRE", "WINNER_WIRE", "GroupSumHW", "GroupSumPlan",
           "PopcountPlan", "build_groupsum", "class_popcounts", "class_width", "count_width", "family_popcount",
           "fuse_head", "groupsum_levels", "head_family", "head_groups", "head_layout", "level_delays",
           "plan_groupsum", "plan_popcount"]

LUT_SIZES = (4, 6)
# every register of the head is named ``<value>_q<level>`` or ``<value>_n_q<level>`` (_Stager), and every value
# ``gs_...``: a Yosys name pattern for them (the formal proof hides these names, see lut2rtl/verify/formal.py)
HEAD_REGISTERS = "gs_*_q*"
# the count of the winner of match ``m`` (from 0) of tournament round ``r`` (from 1): a cut point of the
# formal proof (lut2rtl/verify/formal.py)
WINNER_WIRE = "gs_r{r}_{m}_count"
_KEEP = {"keep": 1}


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


def _argmax_levels(classes: int) -> int:
    return 2 * max(0, (classes - 1).bit_length())


def groupsum_levels(n_outputs: int, classes: int, family: Family,
                    groups: Sequence[Sequence[int]] | None = None) -> int:
    """Logic depth of popcount + argmax in LUT levels after the fused leaf
    counters (for pipeline planning). A carry chain of an adder or comparator
    counts as one level (see the module docstring)."""
    return plan_groupsum(n_outputs, classes, family, groups=groups).levels


def _check_lut_size(lut_size: int) -> None:
    if lut_size not in LUT_SIZES:
        raise ValueError(f"lut_size must be one of {LUT_SIZES}, got {lut_size}")


# --------------------------------------------------------------------------- the whole head


# (name, level): value ``name`` as seen by logic in ``level`` (through the registers in between)
_Read = tuple[str, int]


@dataclass(frozen=True)
class _Step:
    # "count"/"add"/"add3" (a partial sum), "alias" (a class count), "pair" (a tournament match: out = (gt, count),
    # reads = (b@cmp, a@cmp, gt@mux, b@mux, a@mux)), "ibit" (a bit of the winner's index: reads = (gt, b, a)),
    # "class" (the winner's index from its bits)
    kind: str
    out: tuple[str, ...]
    width: int
    reads: tuple[_Read, ...]
    bits: tuple[int, ...] = ()  # "leaf": its bits in the head's input vector, LSB first
    # "heap" / "heapnum" (a stage of a bit heap, the last one giving the number): the heap's bits per column
    # as (index into reads, bit), and the stage's chains (rtl/heap.py)
    layout: tuple[tuple[tuple[int, int], ...], ...] = ()
    chains: tuple[Chain, ...] = ()
    # "add" on a family with chained adders (rtl/carrychain.py): (chain id, the chain's halves)
    link: tuple[int, int] = ()


@dataclass(frozen=True, eq=False)
class GroupSumPlan:
    """Popcount + argmax of ``classes`` groups, planned (see the module docstring): ``ready`` is the level
    after which each value exists, ``consts`` the class indices, ``luts``/``ffs`` the estimates, ``levels``
    the logic depth and ``boundaries`` the levels followed by a register stage."""

    n_outputs: int  # of the network: classes x group bits
    classes: int
    family: Family
    width: int  # of the head's input vector (fused leaves and bits; see head_layout)
    inputs: dict[str, int]  # group bits read directly: position in the input vector
    steps: tuple[_Step, ...]
    ready: dict[str, int]
    widths: dict[str, int]
    consts: dict[str, int]
    outputs: tuple[_Read, ...]  # the class, then the counts
    levels: int
    boundaries: frozenset[int]
    luts: int
    ffs: int
    # comparator left operands on carry-style families (see _left_operands): registers storing the complement,
    # and values that get a complement copy at their last register before the comparator
    inverted: frozenset[str] = frozenset()
    copies: frozenset[str] = frozenset()

    @property
    def group(self) -> int:
        return self.n_outputs // self.classes

    @property
    def count_width(self) -> int:
        return count_width(self.group)

    @property
    def class_width(self) -> int:
        return class_width(self.classes)

    @property
    def stages(self) -> int:
        return len(self.boundaries)

    def _last_reads(self) -> dict[str, int]:
        last: dict[str, int] = {}
        for r in (*(r for st in self.steps for r in st.reads), *self.outputs):
            last[r[0]] = max(last.get(r[0], 0), r[1])
        return last

    def input_registers(self, positions: Container[int]) -> int:
        """Flip-flops ``ffs`` counts for the head's input bits at ``positions`` (raw group bits and leaf counter
        bits, each registered at every boundary between level 0 and its last reader); :func:`build_groupsum`
        builds none for a constant bit."""
        last = self._last_reads()
        bits = {n: int(i in positions) for n, i in self.inputs.items()}
        bits.update((st.out[0], sum(1 for i in st.bits if i in positions)) for st in self.steps if st.kind == "leaf")
        return sum(k * sum(1 for b in self.boundaries if self.ready[n] <= b < last.get(n, 0))
                   for n, k in bits.items() if k)

    def feed_positions(self, consts: Container[int] = ()) -> tuple[tuple[int, ...], frozenset[int]]:
        """For feed cells (:func:`.lutcarry.feed`): the positions in the head's input vector of the group bits
        that one ``add`` reads as its carry-in, with no register in between, and that nothing else reads;
        and the positions of the input bits that a register holds (a LUT driving one should keep its cell,
        which the flip-flop packs into). ``consts`` are the input bits that are constants: an adder whose
        operands are one bit wide up to constant bits (a leaf that always counts 2 or 3 has a constant high
        bit) is a sum of at most 2 bits once Yosys folds the constants, which it builds from LUTs
        (``LutCarry.min_chain_sum``), and its carry-in gets no feed cell."""
        last = self._last_reads()
        held = {i for n, i in self.inputs.items() if any(0 <= b < last.get(n, 0) for b in self.boundaries)}
        held.update(i for st in self.steps if st.kind == "leaf" and any(
            0 <= b < last.get(st.out[0], 0) for b in self.boundaries) for i in st.bits)
        if self.family.lut_carry is None:
            return (), frozenset(held)
        readers: dict[str, int] = {}
        for r in (*(r for st in self.steps for r in st.reads), *self.outputs):
            readers[r[0]] = readers.get(r[0], 0) + 1
        # widths up to the highest bit that is not a constant
        wide: dict[str, int] = {n: int(i not in consts) for n, i in self.inputs.items()}
        for st in self.steps:
            if st.kind == "leaf":
                wide[st.out[0]] = max((j + 1 for j, i in enumerate(st.bits) if i not in consts), default=0)
        cins = []
        for st in self.steps:
            if st.kind == "add" and not st.link and len(st.reads) == 3:
                name, level = st.reads[2]
                if (name in self.inputs and readers[name] == 1 and self.widths.get(name, 1) == 1
                        and not any(0 <= b < level for b in self.boundaries)
                        and max(wide.get(r[0], self.widths[r[0]]) for r in st.reads[:2]) + 1
                        >= self.family.lut_carry.min_chain_sum):
                    cins.append(self.inputs[name])
        return tuple(sorted(cins)), frozenset(held)


def plan_groupsum(n_outputs: int, classes: int, family: Family, register_after: Container[int] = (), *,
                  groups: Sequence[Sequence[int]] | None = None) -> GroupSumPlan:
    """Plan popcount and argmax of ``n_outputs`` bits in ``classes`` groups
    for ``family``, with a register stage after each level in
    ``register_after`` (1-based, ``1 <= i <= groupsum_levels(...)``); with
    ``groups`` (:func:`~lut2rtl.rtl.popcount.head_groups`), each class's tree
    counts only as many bits as its group names. Raises ``ValueError`` for bad
    arguments."""
    _check_lut_size(family.lut_size)
    g = group_size(n_outputs, classes)
    pcs = class_popcounts(n_outputs, classes, family, groups)
    # the leaf counters are fabric LUTs (fuse_head): their results are ready at level 0
    levels: dict[int, list[int]] = {}  # per plan (by id): each number's level
    for pc in pcs:
        if id(pc) in levels:
            continue
        lv = [0] * len(pc.maxes)
        for op in pc.ops:
            lv[op.out] = 0 if op.kind == "count" else max(lv[a] for a in op.args) + op_levels(op.kind, op.heap)
        levels[id(pc)] = lv
    depth = max((levels[id(pc)][pc.root] for pc in pcs if pc.root >= 0), default=0)
    total = depth + _argmax_levels(classes)
    boundaries = _boundaries(register_after, total)
    cw, clw = count_width(g), class_width(classes)
    ready: dict[str, int] = {}
    widths: dict[str, int] = {}
    consts: dict[str, int] = {}
    inputs: dict[str, int] = {}
    steps: list[_Step] = []
    luts = pos = 0

    def value(name: str, width: int, level: int) -> str:
        ready[name], widths[name] = level, width
        return name

    for c, pc in enumerate(pcs):
        lv = levels[id(pc)]
        leaves, raw = head_layout(pc)
        names = [f"gs_c{c}_b{i}" for i in range(pc.n_inputs)] + [""] * (len(pc.maxes) - pc.n_inputs)
        for op in leaves:
            w = pc.maxes[op.out].bit_length()
            names[op.out] = value(POPCOUNT_WIRE.format(c=c, node=op.out), w, 0)
            steps.append(_Step("leaf", (names[op.out],), w, (), tuple(range(pos, pos + w))))
            pos += w
        for i in raw:
            inputs[value(names[i], 1, 0)] = pos
            pos += 1
        for op in pc.ops:
            if op.kind in ("add", "add3"):
                width = pc.maxes[op.out].bit_length()
                names[op.out] = value(POPCOUNT_WIRE.format(c=c, node=op.out), width, lv[op.out])
                steps.append(_Step(op.kind, (names[op.out],), width, tuple((names[a], lv[op.out]) for a in op.args)))
                luts += adder_luts(pc, op)
            elif op.kind == "heap":
                names[op.out] = _heap_steps(steps, value, pc, op, names, lv[op.out], c)
                luts += adder_luts(pc, op)
        root = ((names[pc.root], depth),) if pc.root >= 0 else ()
        steps.append(_Step("alias", (value(f"gs_count{c}", cw, depth),), cw, root))
    # argmax tournament; every candidate is (count name, its index's bit names, LSB first); constant index bits
    # are the names of constants, so only the bits that vary are muxed and registered
    consts["gs_0"], consts["gs_1"] = 0, 1
    value("gs_0", 1, depth), value("gs_1", 1, depth)
    cands = [(f"gs_count{c}", tuple(f"gs_{c >> j & 1}" for j in range(clw))) for c in range(classes)]
    rnd = 0
    while len(cands) > 1:
        rnd += 1
        nxt = []
        for i in range(0, len(cands) - 1, 2):
            (na, ia), (nb, ib) = cands[i], cands[i + 1]
            lv_cmp = max(ready[na], ready[nb]) + 1
            lv_mux = lv_cmp + 1
            pre = f"gs_r{rnd}_{i // 2}"
            gt, wc = value(f"{pre}_gt", 1, lv_cmp), value(WINNER_WIRE.format(r=rnd, m=i // 2), cw, lv_mux)
            steps.append(_Step("pair", (gt, wc), cw, ((nb, lv_cmp), (na, lv_cmp), (gt, lv_mux), (nb, lv_mux),
                                                      (na, lv_mux))))
            luts += cw + cw  # comparator chain + count mux
            bits = []
            for j, (a, b) in enumerate(zip(ia, ib, strict=True)):
                if a == b:  # both candidates have this bit (constants, or the same bit of a candidate)
                    bits.append(a)
                elif (a, b) == ("gs_0", "gs_1"):  # the right candidate's bit is set, the left's clear: gt
                    bits.append(gt)
                else:
                    bits.append(value(f"{pre}_i{j}", 1, lv_mux))
                    steps.append(_Step("ibit", (bits[-1],), 1, ((gt, lv_mux), (b, lv_mux), (a, lv_mux))))
                    luts += 1
            nxt.append((wc, tuple(bits)))
        if len(cands) % 2:
            nxt.append(cands[-1])
        cands = nxt
    # align everything with the last level: counts and class of one sample
    cls = value("gs_class", clw, total + 1)
    steps.append(_Step("class", (cls,), clw, tuple((b, total + 1) for b in cands[0][1])))
    outputs = ((cls, total + 1), *((f"gs_count{c}", total + 1) for c in range(classes)))
    # a value is registered once at every boundary between where it is made and its last reader
    last: dict[str, int] = {}
    for r in (*(r for st in steps for r in st.reads), *outputs):
        last[r[0]] = max(last.get(r[0], 0), r[1])
    ffs = sum(widths[n] * sum(1 for b in boundaries if ready[n] <= b < lv)
              for n, lv in last.items() if n not in consts)
    if family.chain_adder is not None:
        luts += _link_chains(steps, widths, family)
    inverted, copies = _left_operands(steps, outputs, family, boundaries, ready)
    # a copy: one register per bit, fed by an inverter
    ffs += sum(widths[n] for n in copies)
    luts += sum(widths[n] for n in copies)
    return GroupSumPlan(n_outputs=n_outputs, classes=classes, family=family, width=pos, inputs=inputs,
                        steps=tuple(steps),
                        ready=ready, widths=widths, consts=consts, outputs=outputs, levels=total,
                        boundaries=boundaries, luts=luts, ffs=ffs, inverted=inverted, copies=copies)


def _heap_steps(steps: list[_Step], value: Callable[[str, int, int], str], pc: PopcountPlan, op: PopcountOp,
                names: list[str], done: int, c: int) -> str:
    """The steps of a ``heap`` operation that is ready after level ``done``: one per stage, each reading
    the values that hold the heap's bits (at first the operation's numbers, bit ``j`` in column ``j``) and
    making the vector of its chains' outputs, ``<sum>_h<stage>``; the last stage makes the sum, a number.
    Bits that no chain reads stay in the value that made them (a register stage registers that value): a
    stage's vector holds its chains' outputs only, so no two named vectors share a bit (the formal proof
    cuts at them). Returns the name of the sum."""
    assert op.heap is not None
    stages = op.heap.stages or ((),)  # a heap that is a number already: one stage without chains
    level = done - len(stages)
    heap: list[list[tuple[str, int]]] = []
    for a in op.args:
        for j in range(pc.maxes[a].bit_length()):
            heap += [[] for _ in range(j + 1 - len(heap))]
            heap[j].append((names[a], j))
    final = POPCOUNT_WIRE.format(c=c, node=op.out)
    for i, chains in enumerate(stages):
        level += 1
        last = i == len(stages) - 1
        made = final if last else f"{final}_h{i}"
        ids = count()
        after = apply_stage(heap, chains,
                            lambda ch, pos, ci, made=made, ids=ids: [(made, next(ids)) for _ in ch.outputs])
        vals = list(dict.fromkeys(v for col in heap for v, _ in col))
        layout = tuple(tuple((vals.index(v), b) for v, b in col) for col in heap)
        width = pc.maxes[op.out].bit_length() if last else next(ids)
        steps.append(_Step("heapnum" if last else "heap", (value(made, width, level),), width,
                           tuple((v, level) for v in vals), layout=layout, chains=chains))
        heap = after
    return final


def _link_chains(steps: list[_Step], widths: dict[str, int], family: Family) -> int:
    """Put the adders of ``steps`` into chains of the family's carry cells (rtl/carrychain.py): each run of
    consecutive adders of one level (one class, one tree level: no adder of a run reads another) is cut
    into chains of at most ``family.chain_halves`` halves. Sets each adder's ``link``; returns the change
    of the LUT estimate (a chain's cells, two halves each, against one LUT per adder bit)."""
    runs: list[list[int]] = []
    for i, st in enumerate(steps):
        if st.kind != "add":
            continue
        if runs and runs[-1][-1] == i - 1 and steps[i - 1].reads[0][1] == st.reads[0][1]:
            runs[-1].append(i)
        else:
            runs.append([i])
    assert family.chain_adder is not None
    per = len(family.chain_adder.outputs)
    delta = n_chains = 0
    for run in runs:
        shapes = [_add_shape(steps[i], widths) for i in run]
        for group in group_chains(shapes, family.chain_halves):
            halves = chain_halves([shapes[j] for j in group])
            for j in group:
                i = run[j]
                steps[i] = dataclasses.replace(steps[i], link=(n_chains, halves))
                delta -= steps[i].width - 1
            delta += -(-halves // per) * per
            n_chains += 1
    return delta


def _add_shape(st: _Step, widths: dict[str, int]) -> Shape:
    """An "add" step's shape in a chain: (operand bits, a carry-in, a carry-out); its reads are the two
    numbers and an optional group bit, the carry-in."""
    p = max(widths[st.reads[0][0]], widths[st.reads[1][0]])
    return p, len(st.reads) == 3, st.width > p


def _left_operands(steps: list[_Step], outputs: tuple[_Read, ...], family: Family, boundaries: frozenset[int],
                   ready: dict[str, int]) -> tuple[frozenset[str], frozenset[str]]:
    """Where the comparators' inverted operand comes from a register without an inverter in between.

    A carry-chain comparator computes ``b > a`` as the carry-out of ``b + ~a``; the carry cell reads its
    operands directly (iCE40 ``SB_CARRY``: the logic cell's I1/I2; ECP5 ``CCU2C`` as Yosys maps ``+``),
    so ``~a`` is a LUT of its own in front of the chain: a LUT and a routing hop on the path from a register,
    the critical path of a design with every level registered (hx8k 5.1 ns at 200 MHz, of which 0.9 ns the
    inverter and its hop). Where a register sits between ``a``'s producer and the comparator, it stores
    ``~a`` instead: the inversion moves into the producing LUT (a tournament mux) or into the register's
    own logic cell, and the readers that want ``a`` (the next mux) absorb the inversion into their LUT.
    ``a`` that are also outputs (the class counts of the first round) keep their registers and get a
    complement copy at the last register before the comparator (``copies``); the others store the
    complement in every register (``inverted``). Families whose carry cells have LUTs in front (Xilinx's
    native ``>``; ECP5's ``a - b``, whose inverted operand Yosys folds into the ``CCU2C``) need neither."""
    if family.comparator != "carry":
        return frozenset(), frozenset()
    out_names = {n for n, _ in outputs}
    inverted, copies = set(), set()
    for st in steps:
        if st.kind != "pair":
            continue
        a, lv_cmp = st.reads[1]
        if not any(ready[a] <= b < lv_cmp for b in boundaries):
            continue  # combinational: the inverter merges into the producing LUT
        (copies if a in out_names else inverted).add(a)
    return frozenset(inverted), frozenset(copies)


def _lut_carry_matches(plan: GroupSumPlan) -> tuple[frozenset[int], frozenset[str]]:
    """The matches (step indices) built as comparator cells with the winner's mux inside
    (:func:`.lutcarry.compare_mux`), and the values whose producer gives their complement for them.

    On a family with ``lut_carry``, a match qualifies where no register sits between its comparison and
    its mux, and ``~a`` (its left operand's complement) costs nothing: it comes from a register that
    stores it (:func:`_left_operands`: the register's own cell or its producer's LUT inverts), or without
    a register in between from a producer that gives it: an earlier such match (its mux LUT inverted), or,
    for a class count, the class's last adder (:func:`.lutcarry.adder`, its sum LUTs inverted). Elsewhere
    ``~a`` would be an inverter of its own, where it now shares the comparator's cell with nothing. A
    winner that a later match reads as its left operand is made as its complement, straight or into
    the register that stores it."""
    if plan.family.lut_carry is None:
        return frozenset(), frozenset()
    made = {name: (i, st) for i, st in enumerate(plan.steps) for name in st.out}

    def direct(name: str, level: int) -> bool:
        return not any(plan.ready[name] <= b < level for b in plan.boundaries)

    pairs: set[int] = set()
    negated: set[str] = set()
    for i, st in enumerate(plan.steps):
        if st.kind != "pair" or not plan.widths[st.out[1]]:
            continue
        (a, lv_cmp) = st.reads[1]
        if lv_cmp in plan.boundaries:
            continue
        j, src = made.get(a, (-1, None))
        if not direct(a, lv_cmp):  # through registers: they store ~a where _left_operands says so
            if a not in plan.inverted and a not in plan.copies:
                continue
            if src is not None and src.kind == "pair" and j in pairs:
                negated.add(a)
        elif src is not None and src.kind == "alias" and src.reads:  # a class count: its last adder
            root = src.reads[0][0]
            src = made.get(root, (-1, None))[1]
            if src is None or src.kind != "add" or src.link or not direct(root, lv_cmp):
                continue
            negated.add(root)
        elif src is not None and src.kind == "pair" and j in pairs:
            negated.add(a)
        else:
            continue
        pairs.add(i)
    return frozenset(pairs), frozenset(negated)


def level_delays(plan: GroupSumPlan) -> list[float]:
    """Delay of each logic level of the head (ns, the family's model): the slowest
    operation of the level, a carry chain costing one LUT level plus its bits."""
    f = plan.family
    out = [0.0] * plan.levels
    for st in plan.steps:
        if st.kind in ("add", "add3"):
            # a chained adder: the carry runs through its whole chain (nextpnr's timing follows it)
            chains = [(st.reads[0][1], st.link[1] if st.link else st.width)]
        elif st.kind in ("heap", "heapnum"):
            chains = [(st.reads[0][1], max((ch.length for ch in st.chains), default=0))]
        elif st.kind == "pair":  # comparator chain, then the muxes
            chains = [(st.reads[0][1], st.width + 1), (st.reads[2][1], 0)]
        elif st.kind == "ibit":  # a mux beside the pair's
            chains = [(st.reads[0][1], 0)]
        else:
            continue
        for lvl, bits in chains:
            out[lvl - 1] = max(out[lvl - 1], f.t_level_ns + bits * f.t_carry_ns)
    return out


@dataclass
class GroupSumHW:
    """What :func:`build_groupsum` elaborated.

    ``counts[c]`` is class ``c``'s popcount (``count_width(g)`` bits) and
    ``cls`` the argmax (``class_width(classes)`` bits, ties to the lowest
    index), both ``stages`` cycles after ``bits`` (combinational if 0)."""

    counts: list[Value]
    cls: Value
    stages: int


class _Stager:
    """Hands out values as seen at a later level, through the register
    boundaries in between (one register per value and boundary, shared)."""

    def __init__(self, m: Module, plan: GroupSumPlan, domain: str) -> None:
        self.m = m
        self.plan = plan
        self.domain = domain
        self.vals: dict[str, Value] = {}
        # values some of whose bits are constants (leaf counters over constant fabric outputs): bit -> value;
        # their registers hold the other bits only
        self.known: dict[str, dict[int, int]] = {}
        self._cache: dict[str, Value] = {}

    def at(self, read: _Read, *, invert: bool = False) -> Value:
        """Value ``read`` (its complement with ``invert``), through the registers in between; registers of
        ``plan.inverted`` values store the complement, a ``plan.copies`` value read inverted comes from a
        complement copy of its last register (see :func:`_left_operands`)."""
        name, level = read
        v = self.vals[name]
        if isinstance(v, Const):  # constants need no register
            return ~v if invert else v
        bounds = [b for b in range(self.plan.ready[name], level) if b in self.plan.boundaries]
        known = self.known.get(name)
        if known and bounds:  # a leaf counter (never inverted or copied: those are comparator operands)
            assert name not in self.plan.inverted and name not in self.plan.copies, name
            var = [i for i in range(len(v)) if i not in known]
            r: Value | None = Cat(*(v[i] for i in var)) if var else None
            for b in bounds:
                r = None if r is None else self._register(f"{name}_q{b}", r)
            out = Cat(*(Const(known[i], 1) if i in known else r[var.index(i)] for i in range(len(v))))  # type: ignore[index]
            return ~out if invert else out
        neg = name in self.plan.inverted and bool(bounds)  # v is the complement after the first register
        for i, b in enumerate(bounds):
            if invert and name in self.plan.copies and i == len(bounds) - 1:
                return self._register(f"{name}_n_q{b}", ~v)
            v = self._register(f"{name}_n_q{b}" if neg else f"{name}_q{b}", ~v if neg and i == 0 else v)
        return v if neg == invert else ~v

    def _register(self, name: str, d: Value) -> Value:
        r = self._cache.get(name)
        if r is None:
            # a data register: no reset (docs/hardware.md), like the fabric's stage registers
            r = self._cache[name] = Signal(len(d), name=name, reset_less=True)
            self.m.d[self.domain] += r.eq(d)
        return r


def build_groupsum(m: Module, bits: Value, plan: GroupSumPlan, *, domain: str = "sync",
                   const_bits: Mapping[int, int] | None = None) -> GroupSumHW:
    """Elaborate a :func:`plan_groupsum` plan into ``m``.

    ``bits`` is the head's input vector (``plan.width`` bits: per class the
    fused leaf counters and the bits they do not read, see :func:`head_layout`).
    ``const_bits`` names the bits of ``bits`` that are constants (index -> 0 or 1; the fabric knows
    them): they are read as constants, so they are never registered (a leaf counter's register holds its
    other bits). A register of a 1, initial value 0, is a real flip-flop; Yosys merges all of them into
    one whose fanout reaches every class, and on a 100-class ECP5 design its routes across the chip were
    the critical path.
    Registers are in ``domain``, without reset (initial value 0). The design is plain Amaranth
    logic (carry chains come from Yosys's mapping of ``+`` and ``>``), except
    the ternary adders of a family with ``dual_lut`` (primitive instances,
    which Amaranth's own simulator cannot run)."""
    bits = Value.cast(bits)
    if len(bits) != plan.width:
        raise ValueError(f"the plan is for {plan.width} bits, got {len(bits)}")
    if not isinstance(bits, Signal):
        # bit-slicing a wide expression (a Cat of many parts) lowers the whole
        # expression once per slice: quadratic; slicing one wire is not
        flat = Signal(len(bits), name="gs_bits")
        m.d.comb += flat.eq(bits)
        bits = flat
    st = _Stager(m, plan, domain)
    # chained adders (rtl/carrychain.py): the members of each chain, built at the last one
    members: dict[int, int] = {}
    for step in plan.steps:
        if step.link:
            members[step.link[0]] = members.get(step.link[0], 0) + 1
    pending: dict[int, list[tuple[_Step, list[Value]]]] = {}
    # matches built as comparator cells with the mux inside, and the values whose producer gives their
    # complement for one (rtl/lutcarry.py)
    cell_pairs, negated = _lut_carry_matches(plan)
    const_bits = const_bits or {}
    for name, i in plan.inputs.items():
        st.vals[name] = Const(const_bits[i], 1) if i in const_bits else bits[i]
    for name, c in plan.consts.items():
        st.vals[name] = Const(c, plan.widths[name])
    for i_step, step in enumerate(plan.steps):
        if step.kind in ("ibit", "class"):
            sig = Signal(step.width, name=step.out[0])
            sel, *rest = (st.at(r) for r in step.reads)
            m.d.comb += sig.eq(Mux(sel, *rest) if step.kind == "ibit" else Cat(sel, *rest))
            st.vals[step.out[0]] = sig
            continue
        if step.kind == "pair":
            gt, wc = (Signal(plan.widths[k], name=k) for k in step.out)
            st.vals.update(zip(step.out, (gt, wc)))
            if i_step in cell_pairs:
                # ~a through its named wire (formal's cut point); synthesis folds the two inverters, and the
                # carry reads the complement that a's producer gives
                inv = step.out[1] in negated
                g, win = compare_mux(m, f"{step.out[0]}_lc", st.at(step.reads[0]), st.at(step.reads[1], invert=True),
                                     plan.family, invert=inv)
                m.d.comb += [gt.eq(g), wc.eq(~win if inv else win)]
                continue
            if plan.family.comparator == "native":
                m.d.comb += gt.eq(st.at(step.reads[0]) > st.at(step.reads[1]))
            elif plan.family.comparator == "sub":  # a - b < 0: the sign (borrow) bit of the (w + 1)-bit difference
                a = st.at(step.reads[1])
                m.d.comb += gt.eq((a - st.at(step.reads[0]))[len(a)])
            else:
                m.d.comb += gt.eq(_carry_greater(st.at(step.reads[0]), st.at(step.reads[1], invert=True)))
            sel, b, a = (st.at(r) for r in step.reads[2:])
            m.d.comb += wc.eq(Mux(sel, b, a))
            continue
        args = [st.at(r) for r in step.reads]
        total: Value
        if step.link:
            assert plan.family.chain_adder is not None
            group = pending.setdefault(step.link[0], [])
            group.append((step, args))
            if len(group) < members[step.link[0]]:
                continue
            first = group[0][0].out[0]
            sums = build_chain(m, f"{first}_k", [(a[0], a[1], a[2] if len(a) == 3 else None, s.width)
                                                 for s, a in group], plan.family.chain_adder)
            for (s, _), total in zip(group, sums, strict=True):
                sig = Signal(s.width, name=s.out[0], attrs=_KEEP)
                m.d.comb += sig.eq(total)
                st.vals[s.out[0]] = sig
            continue
        if step.kind in ("heap", "heapnum"):
            total = _heap_stage(m, step, args, plan.family)
        elif step.kind == "leaf":  # a counter in the fabric, named for formal's cut points
            known = {j: const_bits[i] for j, i in enumerate(step.bits) if i in const_bits}
            if known:
                st.known[step.out[0]] = known
            total = Cat(*(Const(known[j], 1) if j in known else bits[i] for j, i in enumerate(step.bits)))
        elif step.kind == "add3":  # the family's ternary adder, as primitives
            total = ternary_adder(m, step.out[0], args, plan.family)
        elif step.kind == "add" and step.out[0] in negated:  # a class count whose complement a comparator reads
            total = ~lut_carry_adder(m, f"{step.out[0]}_lc", args[0], args[1], args[2] if len(args) == 3 else None,
                                     step.width, plan.family, invert=True)
        elif step.kind == "add":
            total = args[0]
            for a in args[1:]:
                total = total + a
        else:  # alias: the class count
            sig = Signal(step.width, name=step.out[0])
            m.d.comb += sig.eq(args[0] if args else Const(0, 0))
            st.vals[step.out[0]] = sig
            continue
        # keep: without it Yosys merges the whole tree into one $macc and
        # rebuilds its own (1.9 LUT4 per bit) compressor from it
        sig = Signal(step.width, name=step.out[0], attrs=_KEEP)
        m.d.comb += sig.eq(total[:step.width])
        st.vals[step.out[0]] = sig
    cls, *counts = (st.at(r) for r in plan.outputs)
    return GroupSumHW(counts=counts, cls=cls, stages=plan.stages)


def _heap_stage(m: Module, step: _Step, args: list[Value], family: Family) -> Value:
    """One stage of a bit heap (see :func:`_heap_steps`): the outputs of its chains, in chain order; the
    last stage's heap has at most one bit per column and is returned as that number."""
    cols = [[args[r][b] for r, b in col] for col in step.layout]
    ids = count()
    outs: list[Value] = []

    def make(ch: Chain, pos: list[tuple[list[Value], Value | None]], ci: Value | None) -> list[Value]:
        o, transfer = dual_chain(m, f"{step.out[0]}_k{next(ids)}", [a for a, _ in pos], [d for _, d in pos],
                                 Const(0, 1) if ci is None else ci, family)
        made = o[:ch.length + ch.carry] + ([transfer] if ch.takes[-1] >= 2 else [])
        outs.extend(made)
        return made

    heap = apply_stage(cols, step.chains, make)
    if step.kind == "heap":
        return Cat(*outs)
    assert all(len(col) <= 1 for col in heap), [len(col) for col in heap]
    return Cat(*(col[0] if col else Const(0, 1) for col in heap), Const(0, step.width))


def _carry_greater(b: Value, na: Value) -> Value:
    """``b > a`` for unsigned values of one width from ``b`` and ``na = ~a``: the carry-out of ``b + ~a``
    (``b - a - 1 + 2**w``, at least ``2**w`` iff ``b > a``)."""
    return (b + na)[len(na)] if len(na) else Const(0, 1)


def _boundaries(register_after: Container[int], total_levels: int) -> frozenset[int]:
    if isinstance(register_after, range | list | tuple | set | frozenset):
        vals = set(register_after)
    else:  # any Container: probe the valid levels
        vals = {i for i in range(1, total_levels + 1) if i in register_after}
    bad = sorted(v for v in vals if not isinstance(v, int) or not 1 <= v <= total_levels)
    if bad:
        raise ValueError(f"register_after has levels {bad} outside 1..{total_levels} (the GroupSum's logic depth)")
    return frozenset(vals)

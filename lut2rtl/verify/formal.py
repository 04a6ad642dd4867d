"""Formal equivalence: the compiled Verilog equals the netlist for every input.

The design (FPGA primitives from Yosys's simulation models, or plain logic)
is compared with the independent Verilog of :mod:`.reference`, written
straight from ``netlist.pt``. Yosys reads both, flattens them, builds a miter
(``miter -equiv``: an output that is 1 iff some output port differs) and
proves ``trigger = 0`` with SAT (``sat -verify -prove trigger 0``).

Two strategies, tried in this order:

1. ``cut``: the design is flattened, and the reference is written with the
   names of the design's popcount partial sums (see
   :class:`.reference.NameHint`). ``expose -shared -cut`` cuts every wire
   (not port) the two modules share by name into an output (its driver)
   and a free input (read by its former readers), in both modules alike;
   then one miter + SAT call proves all outputs, old and new, equal for all
   values of the inputs and of the cut wires. That implies the designs are
   equal: the real values of the reference's cut wires satisfy the
   design's cut equations, which, the design being acyclic, have one
   solution: the design's real values. Names are hints, never assumptions:
   a wrongly paired wire makes the proof fail, not pass. The cuts turn the
   popcount (hard for one monolithic SAT call: two different adder
   structures) into many small local problems; digits.pt (2,000 LUTs,
   GroupSum of 10 x 200 bits) proves in under 10 s.
   The leaf counters of the fused head are cut too: in the flattened design
   their bits also carry the names of fabric outputs and of the head's input
   vector, so every other alias of a partial sum is renamed private first
   (``rename -hide``; names only, the function is untouched) and the
   partial sum's own name becomes the one its readers use (with registers
   as wires, again after the registers became wires: a leaf registered at
   the end of the fabric then shares its net with the LUT behind the
   register). A leaf whose bits may have been merged with a constant or
   another signal, or be built as the complement of one (a leaf that always
   counts 1 or 2 has its low bit as an inverter of its high bit), stays
   uncut. Splitting the cut outputs over two Yosys processes was tried and
   dropped: each part still holds nearly the whole fabric, which every leaf
   reads (a 30,000-gate network: 185,181 and 185,043 SAT cells in the two
   parts against 185,192 in one, 124 s against 112 s).
   The argmax tournament is cut too, at each match's winning count
   (:data:`~lut2rtl.rtl.groupsum.WINNER_WIRE`), and the reference then
   writes its argmax as the same tournament of classes in index order
   (:class:`.reference.NameHint` ``winners``), so each match is a local
   step. Against the reference's chain of compares, ABC spent 200 s of
   the proof of a random 20,000-gate, 100-class network (ice40, p0)
   proving the two argmaxes equal: 270 s against 106 s with the cuts, the
   two proofs run side by side (10 classes: 108 s). A 100,000-gate,
   100-class network at pipeline 4 proves in 721 s (native Yosys, 15 GB),
   where it did not finish in 1,260 s. (Counts of a few bits are easy
   either way: a 16,000-gate, 2,000-class network of 2-bit counts proves
   in about 100 s with YoWASP's Yosys, with the chain or the cuts.) A
   winner is named only where every bit of it varies on random samples (a
   bit constant in the design is folded into its readers, and the cut
   would not reach them; a 512-class network of 2-bit counts failed its
   cut proof when the names followed the counts' widths alone).
   Measured: a random 100,000-gate, 10-class network (ice40, 60,144 LUTs)
   proves in 584 s with native Yosys (``LUT2RTL_YOSYS=pyosys``, 11.7 GB
   peak); uncut leaves left one SAT problem over the whole head that did not
   finish in 17 minutes. The attempts, in order: partial sums with leaves;
   with the design's LUTs paired with source LUTs as well
   (:mod:`.cutpoints`); partial sums without leaves.
2. ``miter``: if the cut proof fails (a real difference, or a cut wire
   whose free value is impossible in the real circuit), one monolithic
   miter (``miter -equiv``) and ``sat -verify -prove trigger 0`` decide,
   with a counterexample when the designs differ.

Before SAT, both strategies run ``techmap`` and ABC (``abc -g AND``; its
default script fraigs: nodes it proves equal by simulation and SAT are
merged). Two LUT fabrics that share most internal functions then collapse
to a miter that SAT settles at once: examples/digits_best.pt (6,000
trained 4-input LUTs) proves in about a minute, where SAT alone did not
finish in minutes. ABC is trusted as a synthesis step is (it preserves the
function), with one guard: an undefined (x) bit would be a don't-care to
ABC (Yosys's ``abc`` even replaces it with 0), which could make two
different designs "equal"; ``setundef -anyconst`` first turns every such
bit into a free value that must be allowed to be anything
(tests/verify/test_reference.py has the case that fails without it).
The reference writes each LUT as a ``?:`` tree on its inputs: Yosys
techmaps an indexed constant into a wide shifter, which took 150 s for
6,000 LUTs.

Also tried: ``equiv_make`` + ``equiv_simple`` on the same named pairs (it
proves digits.pt in 17 s, but each of its thousands of steps rebuilds most
of the circuit: minutes at 6,000 LUTs); ``freduce`` before SAT (a 150-LUT
proof took minutes instead of a second); cutting the LUT fabric at wires
the two sides share (``expose -cut`` on one alias of a flattened net leaves
readers of the other aliases uncut, so such a proof fails -- it never
passes wrongly); ABC's fraiging made that unnecessary.

Only combinational circuits are proved this way. A pipelined design is
proved by :mod:`.pipelined`: its timing structurally, its ``out_valid`` by
BMC, and its function here, with ``registers_as_wires`` (every plain D
flip-flop replaced by a wire, ``Q = D``; any other register fails the proof).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ToolError
from ..families import Family
from ..netlist import Netlist
from ..rtl.groupsum import HEAD_REGISTERS, POPCOUNT_WIRE, WINNER_WIRE, class_popcounts, head_groups
from ..rtl.heap import Chain, apply_stage
from ..rtl.popcount import PopcountOp
from ..rtl.ternary import INTERNAL as TERNARY_INTERNAL
from ..tools.yosys import run_yosys
from .cutpoints import lut_cut_names
from .primitives import instantiated_modules, primitive_library
from .reference import HeapStage, NameHint, SumNode, emit_reference_verilog

log = logging.getLogger(__name__)

__all__ = ["FormalResult", "prove_equivalence"]

REF_TOP = "lut2rtl_formal_reference"
# networks from this many LUTs on are cut at their LUTs too (:mod:`.cutpoints`)
LUT_CUTS_FROM = 3000
MITER = "lut2rtl_formal_miter"
_SUM_PREFIX = POPCOUNT_WIRE.split("{")[0]  # names of the popcount partial sums start with this
_WINNERS = re.sub(r"\{\w+\}", "*", WINNER_WIRE)  # a Yosys pattern for the tournament's winning counts


@dataclass(frozen=True)
class FormalResult:
    """Outcome of a proof: ``proved`` is True only when SAT showed the miter unsatisfiable."""

    proved: bool
    seconds: float
    method: str
    detail: str  # the counterexample (failed proof) or a summary line


def _primitive_reads(family: Family | None, design_text: str, work: Path) -> list[str]:
    if family is None or family.primitive is None:
        return []
    # only the models the design uses: parsing a whole cells_sim.v takes minutes in WASM Yosys
    (work / "prims.v").write_text(primitive_library(family, instantiated_modules(design_text)))
    return ["read_verilog -DNO_INCLUDES prims.v"]


def prove_equivalence(net: Netlist, verilog: str | Path, top: str, *, family: Family | None, out_bits: bool,
                      timeout: float | None = 600.0, keep_dir: Path | None = None,
                      lut_size: int | None = None,
                      strategies: tuple[str, ...] = ("cut", "miter"),
                      registers_as_wires: bool = False, lut_cuts: bool | None = None,
                      groups: Sequence[Sequence[int]] | None = None) -> FormalResult:
    """Prove that module ``top`` of ``verilog`` (combinational) computes ``net``.

    ``out_bits`` says whether the design has the ``out_bits`` port next to its
    GroupSum outputs; ``lut_size`` is the LUT size the design was compiled
    for (it fixes the shape of the popcount trees the ``cut`` strategy
    names; default: the family's; a wrong value makes the ``cut``
    strategy fail, never pass). ``strategies`` are tried in order (see
    the module docstring); ``timeout`` bounds the whole proof;
    ``registers_as_wires`` proves the design with every D flip-flop replaced
    by a wire (see :mod:`.pipelined` for what that proves); ``lut_cuts``
    adds cut points at the design's LUTs paired with source LUTs
    (:mod:`.cutpoints`; default: from :data:`LUT_CUTS_FROM` LUTs on); ``groups`` are the bits each
    class's tree counts, in the design's order (the build folder records them; default: computed by
    :func:`~lut2rtl.rtl.popcount.head_groups` for ``family``, as the compiler does). Returns a
    :class:`FormalResult` (``proved=False`` with a counterexample when they
    differ); raises :class:`ToolError` when Yosys fails for another reason
    (unreadable Verilog, port mismatch, timeout), or when no strategy decides.
    """
    if top in (REF_TOP, MITER):
        raise ValueError(f"design top must not be named {top}")
    unknown = set(strategies) - {"cut", "miter"}
    if not strategies or unknown:
        raise ValueError(f"strategies must be a non-empty subset of cut, miter; got {strategies}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lut2rtl-formal-") as tmp:
        work = Path(tmp) if keep_dir is None else Path(keep_dir)
        work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(verilog, work / "design.v")
        _flatten_design(top, family, work, time_left(t0, timeout), registers_as_wires=registers_as_wires)
        notes: list[str] = []
        if "cut" in strategies:
            if lut_cuts is None:
                lut_cuts = net.n_luts >= LUT_CUTS_FROM
            size = lut_size or (family.lut_size if family else 4)
            # cut attempts, in order: (1) at every popcount partial sum, the leaf counters included; (2) the
            # same plus the design's LUTs paired with source LUTs: complete where the design's LUTs are packed
            # source LUTs, but over a restructured (ABC) cover a LUT may read cut wires its source
            # counterpart does not, and the local step fails; (3) the partial sums without the leaf counters
            # (a leaf's bit may be merged with another signal in ways the hint's random simulation missed)
            attempts = [(False, True)] + ([(True, True)] if lut_cuts and family is not None else []) + [
                (False, False)]
            arity = 3 if family is not None and family.dual_lut else 2
            heap = family is not None and family.popcount_heap
            chained = family is not None and family.chain_adder is not None
            for with_luts, leaves in attempts:
                ok, why = _prove_cut(net, top, out_bits, size, work, time_left(t0, timeout),
                                     family=family if with_luts else None, arity=arity, leaves=leaves, heap=heap,
                                     chained=chained, head=family, groups=groups)
                what = ("LUT and popcount cut points" if with_luts else "popcount cut points") + (
                    "" if leaves else ", leaf counters uncut")
                if ok:
                    return FormalResult(True, time.perf_counter() - t0, f"yosys expose -cut ({what}) + miter + sat",
                                        "SAT proved every output and cut wire equal: equal for all inputs")
                notes.append(why)
                log.info("formal: cut strategy (%s): %s; trying the next strategy", what, why)
        if "miter" not in strategies:
            raise ToolError(f"formal check of {top} undecided: {'; '.join(notes)}")
        proved, detail = _prove_miter(net, top, out_bits, work, time_left(t0, timeout))
    method = "yosys miter + sat" + (f" (after cut: {notes[0]})" if notes else "")
    return FormalResult(proved=proved, seconds=time.perf_counter() - t0, method=method, detail=detail)


def time_left(t0: float, timeout: float | None) -> float | None:
    """Seconds left of ``timeout`` since ``t0``; ToolError when none are."""
    if timeout is None:
        return None
    left = timeout - (time.perf_counter() - t0)
    if left <= 0:
        raise ToolError(f"formal check timed out after {timeout:.0f} s")
    return left


# every plain D flip-flop becomes a wire (the combinational view of a pipelined design)
_DFF_AS_WIRE = """(* techmap_celltype = "$dff" *)
module _lut2rtl_dff_as_wire (CLK, D, Q);
  parameter WIDTH = 1;
  parameter CLK_POLARITY = 1'b1;
  input CLK;
  input [WIDTH-1:0] D;
  output [WIDTH-1:0] Q;
  assign Q = D;
endmodule
"""


def _flatten_design(top: str, family: Family | None, work: Path, timeout: float | None, *,
                    registers_as_wires: bool = False) -> None:
    """design.v (+ primitive models) -> design_flat.il (module ``top``) and wires.txt (its wire names)."""
    as_wires: list[str] = []
    if registers_as_wires:
        (work / "dff_as_wire.v").write_text(_DFF_AS_WIRE)
        # only plain D flip-flops may become wires: an enable or a set/reset would change the function
        as_wires = ["techmap -map dff_as_wire.v", "select -assert-none t:$*ff* t:$*latch* t:$*sr*",
                    "attrmap -remove init", "opt_clean",
                    # a register whose output is a named partial sum (a leaf counter registered at the end of
                    # the fabric) now shares its net with its input, which has the fabric's names (the LUT's
                    # output): hidden too, or the cut at the sum's name misses the readers of the other
                    # name, and the cut proof fails (measured: digits_best.pt, ice40 --pipeline 4)
                    f"rename -hide w:*{_SUM_PREFIX}* %a w:*{_SUM_PREFIX}* %d", "opt_clean"]
    script = [
        *_primitive_reads(family, (work / "design.v").read_text(errors="replace"), work),
        "read_verilog design.v",
        # -top keeps only the primitive models the design uses (running proc on
        # the whole model library is slow)
        f"hierarchy -check -top {top}",
        "proc",
        # ROMs/memories (e.g. popcount tables) become logic the SAT solver can model
        "memory",
        "flatten -wb",  # the carry/mux models are whiteboxes
        # wires inside a ternary adder's primitives would otherwise be the names its readers use after
        # opt_clean (they are driven directly by a cell), and cutting the adder's named sum would miss them
        f"rename -hide w:*{TERNARY_INTERNAL}*",
        # the same for every other alias of a named partial sum: a leaf counter's bits are also outputs of
        # the fabric module, slices of its output vector and of the head's input vector; with those names
        # hidden, the partial sum's own name is the one every reader uses, so a cut there reaches them all
        f"rename -hide w:*{_SUM_PREFIX}* %a w:*{_SUM_PREFIX}* %d",
        f"rename -hide w:*{_WINNERS} %a w:*{_WINNERS} %d",
        # the head's registers (``<value>_q<level>``, ``<value>_n_q<level>``) are no cut points: hidden, a
        # register that becomes a wire leaves its input's name (a partial sum's) on the merged net
        f"rename -hide w:*{HEAD_REGISTERS}",
        *as_wires,
        "opt_clean",
        f"tee -q -o wires.txt select -list {top}/w:*{_SUM_PREFIX}* {top}/w:*{_WINNERS}",
        "write_rtlil design_flat.il",
    ]
    run_yosys("\n".join(script), cwd=work, log_file="flatten.log", timeout=timeout)


def _suffixes(wires: list[str]) -> dict[str, str | None]:
    """Last component of each wire name -> the full name (None if ambiguous)."""
    by_suffix: dict[str, str | None] = {}
    for full in wires:
        name = full.split("/", 1)[-1]
        suffix = name.rsplit(".", 1)[-1]
        by_suffix[suffix] = None if suffix in by_suffix else name
    return by_suffix


def _name_hint(net: Netlist, lut_size: int, wires: list[str], arity: int = 2, leaves: bool = True,
               heap: bool = False, chained: bool = False, family: Family | None = None,
               groups: Sequence[Sequence[int]] | None = None) -> NameHint:
    """Names of the design's popcount partial sums, for the reference to use.

    The root of each tree is left unnamed: in the design it is the same net
    as the count and the ``out_counts`` port, and cutting a wire with aliases
    on ports does not cut where it should (the proof then fails, it does not
    pass); the outputs themselves are compared anyway.

    ``chained``: the adders are carry-cell chains (rtl/carrychain.py). Where an
    operand bit is a constant, Yosys folds the cells at that position, and a sum
    bit becomes the very net from which the bit below it is computed (``1 + c``:
    the bit is ``~c``, the carry-out ``c``); a cut at the sum would then also cut
    inside its own driver. Such an adder stays uncut (a bit constant on every
    sample of the network is taken for a constant: at worst a cut is lost).

    Each class's tree counts the bits :func:`~lut2rtl.rtl.popcount.head_groups` names, in its order (the
    compiler leaves out the bits constant propagation proves 0), or ``groups`` where given (the order the
    build folder records): the reference adds the bits left out to the tree's root, so its count is still
    the popcount of the whole group."""
    by_suffix = _suffixes(wires)
    if net.group_sum is None:
        return NameHint()
    classes = net.group_sum.classes
    group = net.n_outputs // classes
    # the tree shape the compiler used (a hint only; every family builds its tree with the default leaves,
    # of two- or three-number adders, or one bit heap, which has leaves only where they fuse with the
    # fabric: rtl/popcount.py:head_family): the plan whose heap the design names
    base = family if family is not None else Family("generic", lut_size)
    if groups is None:  # the bits each class's tree counts (not proved constant 0), in its order
        groups = head_groups(net, family)
    variants = []  # per leaf size: each class's plan and the group bits its inputs are
    for leaf in ((Family.popcount_leaf, 1) if heap else (Family.popcount_leaf,)):
        fam = dataclasses.replace(base, lut_size=lut_size, popcount_leaf=leaf)
        if family is None:
            fam = dataclasses.replace(fam, popcount_heap=heap)
        variants.append((class_popcounts(net.n_outputs, classes, fam, groups),
                         [tuple(range(group))] * classes if groups is None else list(groups)))
    plans, positions = next(((p, q) for p, q in variants if p[0].root >= p[0].n_inputs
                             and f"{POPCOUNT_WIRE.format(c=0, node=p[0].root)}_h0" in by_suffix), variants[0])
    samples = _output_samples(net)  # [samples, n_outputs] bool
    const = (samples.all(axis=0) | ~samples.any(axis=0)).tolist()
    # a leaf counter whose bits the optimizer may have merged with another signal (a constant, a copy of
    # another leaf or of a group bit, or the complement of one: a bit that is always the inverse of its own
    # leaf's other bit is built as an inverter of it, and a cut there leaves the inverter reading a free
    # value) stays uncut: the merged net has two sum names, or none
    # ... or with a network input or a signal inside the fabric: a leaf may count to a function the fabric
    # also computes (a leaf of a gate of p and q and two bits read as they are can carry p itself), and
    # the optimizer then gives both one net, which the fabric reads on
    inner = _signal_samples(net)
    seen = {inner[:, i].tobytes() for i in range(inner.shape[1])}
    seen |= {(~inner[:, i]).tobytes() for i in range(inner.shape[1])}
    del inner
    leaf_bits: dict[bytes, int] = {}
    leaf_sigs: dict[tuple[int, int], list[bytes]] = {}
    for c in range(classes):
        plan, pos = plans[c], positions[c]
        for op in plan.ops:
            if op.kind == "count":
                cnt = samples[:, [c * group + pos[a] for a in op.args]].sum(axis=1)
                sigs = [((cnt >> j) & 1).astype(bool).tobytes() for j in range(plan.maxes[op.out].bit_length())]
                leaf_sigs[c, op.out] = sigs
                for sg in sigs:
                    leaf_bits[sg] = leaf_bits.get(sg, 0) + 1
    sums = []
    for c in range(classes):
        plan, pos = plans[c], positions[c]
        n = plan.n_inputs
        leaf_args = {op.out: op.args for op in plan.ops if op.kind == "count"}  # a heap reads leaves of group bits
        # per plan number: whether a bit of it is the same on every sample (chained adders, see above)
        steady = [False] * len(plan.maxes)
        if chained:
            vals: list[np.ndarray] = [samples[:, c * group + pos[b]].astype(np.int64) for b in range(n)]
            vals += [np.zeros(len(samples), dtype=np.int64)] * (len(plan.maxes) - n)
            for op in plan.ops:
                vals[op.out] = sum((vals[a] for a in op.args), np.zeros(len(samples), dtype=np.int64))
            for i, v in enumerate(vals):
                w = plan.maxes[i].bit_length()
                steady[i] = any(len(np.unique((v >> j) & 1)) < 2 for j in range(w))
        ids: dict[int, int] = {}  # plan number id -> node index
        nodes: list[SumNode] = []
        fixed = [bool(const[c * group + pos[b]]) for b in range(n)] + [False] * (len(plan.maxes) - n)
        for op in plan.ops:
            # a partial sum of constant bits is a constant that the design's
            # Verilog has already folded into its readers: a cut there would not
            # reach them, so it stays uncut (and so does the root, see above)
            fixed[op.out] = all(fixed[a] for a in op.args)
            name = by_suffix.get(POPCOUNT_WIRE.format(c=c, node=op.out))
            if name is None and op.out != plan.root and op.kind != "count":
                nodes = []
                break
            # the leaf counters are fabric LUTs of the fused head; their named wires are cut like the
            # adders' sums (the flattening hides their other names), unless a bit may have been merged
            merged = op.kind == "count" and (any(fixed[a] for a in op.args) or any(
                leaf_bits[sg] + leaf_bits.get(_complement(sg), 0) > 1 or sg in seen or not sg.strip(b"\x00")
                or not sg.strip(b"\x01")
                for sg in leaf_sigs[c, op.out]))
            folded = op.kind == "add" and any(steady[a] for a in op.args)
            if op.out == plan.root or fixed[op.out] or merged or folded or (op.kind == "count" and not leaves):
                name = None
            bits = tuple(pos[a] for a in op.args if a < n)
            subs = tuple(ids[a] for a in op.args if a >= n)
            ids[op.out] = len(nodes)
            heap_vals = None
            if op.kind == "heap":
                heap_vals = [(samples[:, c * group + pos[a]].astype(np.int64) if a < n else
                              samples[:, [c * group + pos[b] for b in leaf_args[a]]].sum(axis=1),
                              plan.maxes[a].bit_length()) for a in op.args]
            nodes.append(SumNode(name, bits, subs, _heap_hint(op, POPCOUNT_WIRE.format(c=c, node=op.out), by_suffix,
                                                              heap_vals)))
        dropped = tuple(sorted(set(range(group)) - set(pos)))
        if nodes and dropped:  # the bits the tree does not count, added to its root
            nodes.append(SumNode(None, dropped, (len(nodes) - 1,)))
        sums.append(tuple(nodes))
    # the argmax tournament: a match's winning count is named where every bit of it varies on the samples
    # (a bit constant in the design is folded into its readers, and a cut there would not reach them; the
    # design knows more constants than the bits it counts show: a leaf of two bits that are never 1
    # together has a constant top bit)
    cw = group.bit_length()
    cands = [samples[:, c * group:(c + 1) * group].sum(axis=1) for c in range(classes)]
    winners: list[tuple[str | None, ...]] = []
    while len(cands) > 1:
        won = [np.maximum(cands[2 * j], cands[2 * j + 1]) for j in range(len(cands) // 2)]
        winners.append(tuple(by_suffix.get(WINNER_WIRE.format(r=len(winners) + 1, m=j))
                             if all(len(np.unique((v >> b) & 1)) == 2 for b in range(cw)) else None
                             for j, v in enumerate(won)))
        cands = won + cands[len(cands) // 2 * 2:]
    return NameHint(sums=tuple(sums), winners=tuple(winners))


def _complement(signature: bytes) -> bytes:
    """The sample signature (bool bytes) of the inverse signal."""
    return (~np.frombuffer(signature, dtype=bool)).tobytes()


def _heap_hint(op: PopcountOp, name: str, by_suffix: dict[str, str | None],
               values: list[tuple[np.ndarray, int]] | None = None) -> tuple[HeapStage, ...]:
    """A ``heap`` operation's stages for the reference, each named as the design names it (the last one,
    the sum, is the node itself); nothing (a plain sum) unless the design has every stage's name.

    ``values``: the heap's numbers on sample inputs, with their widths. A stage with a bit that is the
    same on every sample stays unnamed (uncut): such a bit is computed from constant group bits, which
    Yosys folds into the design's next stage, so a cut at it would not reach its readers (the proof
    would fail, not pass: examples/digits_gumbel.pt on Xilinx, 34 constant head bits)."""
    if op.kind != "heap" or op.heap is None:
        return ()
    stages = op.heap.stages
    names = [by_suffix.get(f"{name}_h{i}") for i in range(len(stages) - 1)]
    if any(n is None for n in names):
        return ()
    if values is not None:
        cols: list[list[np.ndarray]] = []
        for v, width in values:  # the heap's columns, as the design builds them (rtl/popcount.py: plan_popcount)
            for j in range(width):
                while len(cols) <= j:
                    cols.append([])
                cols[j].append((v >> j) & 1)
        for i, st in enumerate(stages[:-1]):
            outs: list[np.ndarray] = []

            def make(ch: Chain, pos: list[tuple[list[np.ndarray], np.ndarray | None]], ci: np.ndarray | None,
                     outs: list[np.ndarray] = outs) -> list[np.ndarray]:
                got = _chain_values(ch, pos, ci)
                outs.extend(got)
                return got

            cols = apply_stage(cols, st, make)
            if any(len(np.unique(b)) < 2 for b in outs):
                names[i] = None
    return tuple(HeapStage(n, tuple((ch.col, ch.takes, ch.direct, ch.ci, ch.carry) for ch in st))
                 for n, st in zip([*names, None], stages, strict=True))


def _chain_values(ch: Chain, positions: list[tuple[list[np.ndarray], np.ndarray | None]],
                  ci: np.ndarray | None) -> list[np.ndarray]:
    """:func:`lut2rtl.rtl.heap.chain_value` on arrays of samples."""
    zero = np.zeros_like(positions[0][0][0] if positions[0][0] else positions[0][1])
    carry = zero if ci is None else ci
    tr = zero
    outs: list[np.ndarray] = []
    for p, (a, d) in enumerate(positions):
        t = tr if ch.transfer_in(p) else (zero if d is None else d)
        sa = sum(a, zero)
        s = (sa + t) & 1
        tr = (sa >= 2).astype(zero.dtype)
        outs.append(s ^ carry)
        carry = np.where(s == 1, carry, t)
    if ch.carry:
        outs.append(carry)
    if ch.takes[-1] >= 2:
        outs.append(tr)
    return outs


def _output_samples(net: Netlist, samples: int = 512):  # type: ignore[no-untyped-def]
    """The netlist's output bits on random inputs, [samples, n_outputs] (a hint only)."""
    import numpy as np

    from ..evaluate import evaluate

    x = np.random.default_rng(0).integers(0, 2, (samples, net.n_inputs)).astype(bool)
    return evaluate(net, x).out_bits.astype(bool)


def _signal_samples(net: Netlist, samples: int = 512):  # type: ignore[no-untyped-def]
    """Every signal of the netlist (its inputs, then every LUT) on the inputs of :func:`_output_samples`,
    [samples, n_signals]."""
    every = net.replace(outputs=np.arange(net.n_signals, dtype=np.int64), group_sum=None)
    return _output_samples(every, samples)


def _read_both(reference: str) -> list[str]:
    """Yosys commands: the flattened design and the reference Verilog, elaborated."""
    # (no hierarchy -top here: it would drop one of the two modules)
    return ["read_rtlil design_flat.il", f"read_verilog {reference}", "proc", "opt_clean"]


def _miter_sat(top: str, show: str = "") -> list[str]:
    """Yosys commands: a miter of the reference and ``top``, proved with SAT."""
    return [f"miter -equiv -flatten {REF_TOP} {top} {MITER}", f"hierarchy -top {MITER}", "opt -fast",
            # ABC (its default script fraigs: merges nodes it proves equal with
            # simulation + SAT) shrinks the miter of two LUT fabrics that share
            # most of their internal functions to something SAT settles at
            # once. An undefined bit would be a don't-care to ABC (it could pick
            # the value that makes the two sides agree), so any such bit first
            # becomes a free value ($anyconst), which both ABC and SAT must allow
            # to be anything.
            # after techmap only opt_clean: ``opt -fast`` there took 47 of 106 s on a 30,000-gate network,
            # more than ABC, which folds the same constants (84.5 s in all with opt_clean)
            "techmap", "opt_clean", "setundef -anyconst", "abc -g AND", "opt -fast",
            f"sat -verify -prove trigger 0 {show}".rstrip()]


def _prove_cut(net: Netlist, top: str, out_bits: bool, lut_size: int, work: Path,
               timeout: float | None, family: Family | None = None, arity: int = 2,
               leaves: bool = True, heap: bool = False, chained: bool = False,
               head: Family | None = None, groups: Sequence[Sequence[int]] | None = None) -> tuple[bool, str]:
    """(True, "") when SAT proves the cut miter; else (False, why). With
    ``family``, the design's LUTs paired with source LUTs are cut too; ``head``
    is the family the design's head was planned for."""
    wires = _read(work / "wires.txt").split()
    signals = lut_cut_names(net, top, family, work, timeout=timeout) if family is not None else {}
    try:
        hint = dataclasses.replace(_name_hint(net, lut_size, wires, arity, leaves, heap, chained, head, groups),
                                   signals=signals)
        text = emit_reference_verilog(net, REF_TOP, out_bits=out_bits, hint=hint)
    except ValueError as e:  # a hint that does not fit: cut nothing
        log.info("formal: no name hint (%s)", e)
        text = emit_reference_verilog(net, REF_TOP, out_bits=out_bits, hint=NameHint(signals=signals))
    (work / "reference_cut.v").write_text(text)
    script = [
        *_read_both("reference_cut.v"),
        # an adder wider than the wire it drives leaves the wire an alias of a
        # slice, which expose -cut does not cut; trimming the unused bits makes
        # the named wire the adder's own output
        "wreduce",
        "opt_clean",
        # ports stay whole: a port net is also an alias of internal wires, and a
        # cut there would not reach every reader
        f"expose -shared -cut {REF_TOP}/w:* {REF_TOP}/x:* %d {top}/w:* {top}/x:* %d",
        *_miter_sat(top),
    ]
    try:
        run_yosys("\n".join(script), cwd=work, log_file="cut.log", timeout=timeout)
    except ToolError as e:
        text = _read(work / "cut.log")
        if "SAT proof finished - model found: FAIL!" in text:
            return False, "a cut output differs for some value of the cut wires"
        if "timed out" in str(e):
            raise
        return False, f"cut proof failed to run: {str(e).splitlines()[0][:200]}"
    return True, ""


def _prove_miter(net: Netlist, top: str, out_bits: bool, work: Path, timeout: float | None) -> tuple[bool, str]:
    (work / "reference.v").write_text(emit_reference_verilog(net, REF_TOP, out_bits=out_bits))
    script = [
        *_read_both("reference.v"),
        *_miter_sat(top, "-show-inputs -show-outputs"),
    ]
    try:
        run_yosys("\n".join(script), cwd=work, log_file="formal.log", timeout=timeout)
    except ToolError as e:
        text = _read(work / "formal.log")
        if "SAT proof finished - model found: FAIL!" not in text and "Assert failed" not in text:
            raise ToolError(f"formal check of {top} could not run: {e}", command=e.command,
                            stderr=e.stderr) from None
        return False, _counterexample(text)
    return True, "SAT proved the miter unsatisfiable: equal for all inputs"


def _read(p: Path) -> str:
    try:
        return p.read_text(errors="replace")
    except OSError:
        return ""


def _counterexample(log_text: str) -> str:
    # the table of input/output values that `sat -show-inputs -show-outputs` prints for a failing model
    m = re.search(r"SAT proof finished - model found: FAIL!(.*?)(?:\nERROR:|\Z)", log_text, re.S)
    body = m.group(1) if m else log_text[-2000:]
    lines = [ln.strip() for ln in body.splitlines() if re.match(r"^\s*\\[A-Za-z_]", ln)]
    return "\n".join(lines[:40])

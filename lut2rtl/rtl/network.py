"""`LutNetwork`: a netlist as a pipelined Amaranth component.

Ports (see docs/hardware.md): ``in_valid``, ``in_bits`` (or ``in_features``,
for a netlist whose encoder was lowered into it: lut2rtl.encoder) in; ``out_valid``
and, with a GroupSum, ``out_class`` and ``out_counts`` (class ``c`` in bits
``[c*count_width, (c+1)*count_width)``), ``out_bits`` without a GroupSum or
when asked for. ``out_valid`` is ``in_valid`` delayed by ``latency`` cycles.
With ``clock_ports=True`` the component also has ``clk`` and ``rst`` ports and
drives its own ``sync`` domain from them (what a stand-alone top needs);
otherwise it uses the enclosing design's ``sync`` domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from amaranth.hdl import Cat, ClockDomain, ClockSignal, Const, Instance, Module, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..errors import CompileError, OptionError
from ..families import DEFAULT_FAMILY, Family, get_family
from ..netlist import CONST0, CONST1, Netlist, table_to_rows, truth_table_rows
from . import groupsum as _gs
from .fabric import CHUNK, Feed, Segment, build_segment, cell_inits, chunks, segments, write_fabric_verilog
from .mapping import MappedFabric, map_netlist
from .pipeline import StagePlan, clock_cuts, plan_stages

__all__ = ["AUTO_VERILOG_CELLS", "FABRICS", "MAX_PIPELINE", "LutNetwork", "NetworkPlan", "check_plan_options",
           "check_ports", "plan_feeds", "plan_network"]

FABRICS = ("auto", "amaranth", "verilog")
# Above this many mapped cells ``fabric="auto"`` writes the LUT fabric as
# structural Verilog (Amaranth costs ~0.5-1 ms per LUT cell; the writer ~2 us).
AUTO_VERILOG_CELLS = 4000
MAX_PORT_BITS = (1 << 16) - 1
# --clock-mhz plans for this fraction of the period: the delay model is a fit
# (within about 0.5 ns of nextpnr on the designs it was fitted to), not a timer
CLOCK_MARGIN = 0.9
# More stages than any LUT network has levels (popcount included); refusing
# absurd values up front keeps a typo from allocating millions of registers.
MAX_PIPELINE = 1024


@dataclass(frozen=True, eq=False)
class NetworkPlan:
    """Everything decided before elaboration: mapping, pipeline, widths."""

    net: Netlist
    target: Family
    fabric: MappedFabric
    stages: StagePlan
    segments: tuple[Segment, ...]
    inits: np.ndarray | None
    groupsum: _gs.GroupSumPlan | None
    fabric_mode: str  # "amaranth" | "verilog"
    clock_mhz: float | None  # the clock the stages were placed for, if any
    period_ns: float  # the delay model's longest register-to-register stage
    # LUTs of the last segment moved into feed cells (see plan_feeds)
    feeds: dict[int, Feed] = field(default_factory=dict)

    @property
    def latency(self) -> int:
        return self.stages.pipeline



def check_ports(net: Netlist) -> None:
    """:class:`CompileError` when a port of the design would be wider than Amaranth allows."""
    for what, width in (("input bits", net.n_inputs), ("output bits", net.n_outputs)):
        if width > MAX_PORT_BITS:
            raise CompileError(f"the network has {width} {what}; a port of the design can have at most "
                               f"{MAX_PORT_BITS} (Amaranth's limit on one value)")


def check_plan_options(pipeline: int, fabric: str, clock_mhz: float | None = None) -> None:
    """:class:`OptionError` unless ``pipeline``, ``fabric`` and ``clock_mhz`` are usable."""
    if clock_mhz is not None and (isinstance(clock_mhz, bool) or not isinstance(clock_mhz, int | float)
                                  or not 0 < clock_mhz <= 2000):
        raise OptionError("clock_mhz", f"must be a frequency in MHz (0 < F <= 2000), got {clock_mhz!r}")
    if clock_mhz is not None and pipeline:
        raise OptionError("clock_mhz", "places the register stages itself: give it or pipeline, not both")
    if not isinstance(pipeline, int) or isinstance(pipeline, bool) or pipeline < 0:
        raise OptionError("pipeline", f"must be a non-negative integer, got {pipeline!r}")
    if pipeline > MAX_PIPELINE:
        raise OptionError("pipeline", f"{pipeline} is more than {MAX_PIPELINE} register stages")
    if fabric not in FABRICS:
        raise OptionError("fabric", f"must be one of {', '.join(FABRICS)}, got {fabric!r}")


def device_delay_scale(family: Family, device: str | None) -> float:
    """The delay model's scale for ``device`` (1.0 for None); :class:`OptionError` for a part of another family."""
    if device is None:
        return 1.0
    parts = {d.name: d for d in family.devices}
    if device not in parts:
        raise OptionError("device", f"{device!r} is not one of the {family.name} parts "
                                    f"({', '.join(parts) or 'none'})")
    return parts[device].delay_scale


def plan_network(net: Netlist, target: str | Family = DEFAULT_FAMILY, pipeline: int = 0, *,
                 fabric: str = "auto", out_bits: bool = False, clock_mhz: float | None = None,
                 device: str | None = None) -> NetworkPlan:
    """Map ``net`` onto ``target``'s LUTs and place ``pipeline`` register stages; with
    ``clock_mhz``, place the fewest stages whose logic the family's delay model puts
    within one clock period (``pipeline`` must then be 0), scaled to ``device``
    (one of the family's parts) when given.

    With a GroupSum, the leaf counters of its popcount become part of the LUT
    fabric (:func:`~lut2rtl.rtl.groupsum.fuse_head`; a network that the compiler
    already fused and optimized is taken as it is)."""
    tgt = get_family(target)
    check_plan_options(pipeline, fabric, clock_mhz)
    scale = device_delay_scale(tgt, device)
    check_ports(net)
    gs = net.group_sum
    if gs is not None:
        net = _gs.fuse_head(net, tgt, out_bits)
        n_src = int(net.metadata[_gs.FUSED])
        groups = net.metadata.get(_gs.HEAD_GROUPS)
        g_levels = _gs.groupsum_levels(n_src, int(gs.classes), tgt, groups)
        if net.n_outputs != _gs.plan_groupsum(n_src, int(gs.classes), tgt, groups=groups).width + out_bits * n_src:
            raise CompileError("internal error: the fused network's outputs do not fit its GroupSum "
                               "(fused with other options?)")
    fab = map_netlist(net, tgt.lut_size)
    delays = [tgt.t_level_ns] * fab.depth
    if gs is not None:
        delays += _gs.level_delays(_gs.plan_groupsum(n_src, int(gs.classes), tgt, groups=groups))
    delays = [d * scale for d in delays]
    t_stage = tgt.t_stage_ns * scale
    cuts = None if clock_mhz is None else clock_cuts(delays, CLOCK_MARGIN * 1000.0 / clock_mhz - t_stage)
    stages = plan_stages(fab, pipeline, g_levels if gs is not None else 0, cuts)
    gs_plan = None if gs is None else _gs.plan_groupsum(n_src, int(gs.classes), tgt, stages.groupsum_cuts,
                                                        groups=groups)
    bounds = [0, *(c for c in (*stages.fabric_cuts, *(fab.depth + c for c in stages.groupsum_cuts))), len(delays)]
    period = t_stage + max((sum(delays[a:b]) for a, b in zip(bounds[:-1], bounds[1:])), default=0.0)
    mode = fabric
    if mode == "auto":
        mode = "verilog" if fab.n_cells > AUTO_VERILOG_CELLS else "amaranth"
    segs = segments(fab, stages)
    feeds: dict[int, Feed] = {}
    if gs_plan is not None:
        feeds, segs[-1] = plan_feeds(fab, segs[-1], gs_plan, out_bits)
    return NetworkPlan(
        net=net, target=tgt, fabric=fab, stages=stages, segments=tuple(segs),
        inits=None if tgt.primitive is None else cell_inits(fab, tgt), groupsum=gs_plan, fabric_mode=mode,
        clock_mhz=clock_mhz, period_ns=period, feeds=feeds,
    )


def plan_feeds(fab: MappedFabric, last: Segment, gs_plan: _gs.GroupSumPlan,
               out_bits: bool) -> tuple[dict[int, Feed], Segment]:
    """Fabric LUTs to move into feed cells (:func:`lut2rtl.rtl.lutcarry.feed`), as {cell: its :class:`Feed`},
    and the last segment with its cells in an order that puts each moved LUT after the signals its feed
    cell's carry reads; none unless the family has ``lut_carry``.

    The carry-in bits are those :meth:`GroupSumPlan.feed_positions` names, each net once (with two feed
    cells of one net nextpnr finds two LUTs to pair each carry with, and pairs none), whose driving LUT has
    an input ``x`` that the bit implies or that implies it (an AND or an OR in it): the carry gives
    ``maj(bit, x, k)``. The LUTs are the last segment's LUTs of two inputs, other than the bit and ``x``,
    whose output no register holds (there the flip-flop packs into the LUT's cell; a LUT of one input, an
    inverter, Yosys merges into its readers, and its feed cell would keep the carry alone). A moved LUT
    reads the bit's net (a carry operand): it must not be in the bit's fan-in, or the design would have a
    loop of connections (not of function). A LUT after the bit in (level, topological position) is not,
    and neither are such LUTs together, as every connection goes up in that order; a LUT before it is
    taken where a bounded search of the bit's fan-in does not find it, unless such LUTs together close a
    loop through each other's bits (then those of them that the loops reach stay where they are). The bits
    are matched from the top of that order down, each with the first fitting LUT nearest the top."""
    outs = np.asarray(fab.outputs).tolist()
    cins, held = gs_plan.feed_positions({q for q in range(gs_plan.width) if outs[q] < 0})
    if not cins or last.cells.size == 0:
        return {}, last
    if out_bits and gs_plan.stages:
        held = held | set(range(gs_plan.width, len(outs)))
    n_in, level = fab.n_inputs, fab.level
    held_refs = {outs[q] for q in held}
    cells = last.cells.tolist()
    pos = {n_in + c: k for k, c in enumerate(cells)}
    nets: dict[int, Feed] = {}
    for q in cins:
        r = outs[q]
        if r not in pos or r in nets:  # (a bit from an earlier segment comes through a register)
            continue
        d = r - n_in
        k = int(fab.cell_k[d])
        out, rows = table_to_rows(fab.cell_tables[d], k), truth_table_rows(k)
        for m_ in range(k):
            x = int(fab.cell_inputs[d, m_])
            if x < 0 or x == r:
                continue
            if not out[~rows[:, m_]].any():  # r implies x: r & x == r
                nets[r] = Feed(q, x, 0)
                break
            if out[rows[:, m_]].all():  # x implies r: r | x == r
                nets[r] = Feed(q, x, 1)
                break
    small = [c for c, k in zip(cells, (fab.cell_k[last.cells] == 2).tolist()) if k and n_in + c not in held_refs]

    def key(v: int) -> tuple[int, int]:  # every connection of the fabric goes up in it
        return int(level[v]), pos.get(v, -1)

    small.sort(key=lambda c: key(n_in + c), reverse=True)
    feeds: dict[int, Feed] = {}
    below: set[int] = set()  # moved LUTs that come before their bit in key order
    for r in sorted(nets, key=key, reverse=True):
        for c in small[:16]:
            if {r, nets[r].partner} & set(fab.cell_inputs[c, :2].tolist()):
                continue
            up = key(n_in + c) > key(r)
            if up or not _reaches(fab, n_in + c, r):
                feeds[c] = nets[r]
                small.remove(c)
                if not up:
                    below.add(c)
                break
    order, stuck = _feed_order(fab, cells, pos, feeds)
    while order is None:  # LUTs below their bits closed loops through one another: those past a loop stay
        drop = {c for c in feeds if c in below and n_in + c in stuck}
        if not drop:
            raise CompileError("internal error: the feed cells' LUTs close a loop in the fabric")
        feeds = {c: f for c, f in feeds.items() if c not in drop}
        order, stuck = _feed_order(fab, cells, pos, feeds)
    if order == cells:
        return feeds, last
    return feeds, dataclasses.replace(last, cells=np.asarray(order, dtype=last.cells.dtype))


def _feed_order(fab: MappedFabric, cells: list[int], pos: dict[int, int],
                feeds: dict[int, Feed]) -> tuple[list[int] | None, set[int]]:
    """The segment's ``cells`` in an order where every cell comes after its inputs and each moved LUT after its
    feed cell's bit and partner (the given order where it is one; else Kahn's algorithm), or None and the
    cells (as references) that no such order reaches: the loops and what they feed."""
    n_in = fab.n_inputs
    outs = fab.outputs
    after = {c: [v for v in (int(outs[f.position]), f.partner) if v in pos] for c, f in feeds.items()}
    if all(pos[v] < pos[n_in + c] for c, vs in after.items() for v in vs):
        return cells, set()
    readers: dict[int, list[int]] = {}
    waiting = {}
    for c in cells:
        srcs = {int(x) for x in fab.cell_inputs[c, :fab.cell_k[c]].tolist() if int(x) in pos}
        srcs.update(after.get(c, ()))
        waiting[n_in + c] = len(srcs)
        for x in srcs:
            readers.setdefault(x, []).append(n_in + c)
    ready = [x for x in (n_in + c for c in cells) if not waiting[x]]
    order: list[int] = []
    while ready:
        x = ready.pop()
        order.append(x - n_in)
        for y in readers.get(x, ()):
            waiting[y] -= 1
            if not waiting[y]:
                ready.append(y)
    if len(order) == len(cells):
        return order, set()
    return None, {x for x, k in waiting.items() if k}


def _reaches(fab: MappedFabric, ref: int, target: int, budget: int = 256) -> bool:
    """Whether ``ref`` may be in the fan-in of ``target``: found within ``budget`` cells of it, or not ruled
    out by then."""
    n_in, level = fab.n_inputs, fab.level
    lv = level[ref]
    stack, seen = [target], set()
    while stack:
        x = stack.pop()
        if x == ref:
            return True
        if x < n_in or x in seen or level[x] <= lv:
            continue
        seen.add(x)
        if len(seen) > budget:
            return True
        c = x - n_in
        stack.extend(int(v) for v in fab.cell_inputs[c, :fab.cell_k[c]].tolist())
    return False


class LutNetwork(wiring.Component):
    """A LUT netlist as an Amaranth component, bit-exact with
    :func:`lut2rtl.evaluate.evaluate`.

    Parameters
    ----------
    net:
        The netlist (already optimized, if wanted).
    target:
        ``ice40``, ``ecp5``, ``xilinx``, ``gowin`` (LUT primitives as
        ``Instance``) or ``generic`` (plain logic).
    pipeline:
        Register stages (the latency in cycles); 0 is combinational.
    clock_mhz:
        Instead of ``pipeline``: place the fewest stages that meet this clock
        by the family's delay model.
    device:
        With ``clock_mhz``: the part (e.g. ``up5k``), whose speed scales the
        family's delay model.
    out_bits:
        With a GroupSum, also expose the raw output bits as ``out_bits``.
    fabric:
        ``amaranth`` builds every LUT in Amaranth; ``verilog`` writes the LUTs
        and the registers between them as one structural Verilog module (see
        :meth:`verilog_modules`, which must be added to the Verilog the
        design is converted to) and instantiates it; ``auto`` picks
        ``verilog`` above :data:`AUTO_VERILOG_CELLS` cells.
    clock_ports:
        Add ``clk``/``rst`` ports that drive the component's own ``sync``
        domain (for a stand-alone top module).
    module_prefix:
        Name prefix of the Verilog fabric module (``<prefix>__fabric``).
    input_port:
        Name of the data input: ``in_bits``, or ``in_features`` when the
        netlist's inputs are feature bits (:func:`lut2rtl.encoder.lower_encoder`).
    """

    def __init__(self, net: Netlist, target: str | Family = DEFAULT_FAMILY, pipeline: int = 0, *,
                 out_bits: bool = False, fabric: str = "auto", clock_ports: bool = False,
                 module_prefix: str = "lut2rtl", plan: NetworkPlan | None = None,
                 clock_mhz: float | None = None, input_port: str = "in_bits", device: str | None = None) -> None:
        self.plan = plan if plan is not None else plan_network(net, target, pipeline, fabric=fabric,
                                                                 out_bits=out_bits, clock_mhz=clock_mhz,
                                                                 device=device)
        p = self.plan
        self.clock_ports = clock_ports
        self.module_prefix = module_prefix
        gs = p.groupsum
        self.has_out_bits = gs is None or out_bits
        members: dict[str, Any] = {}
        if clock_ports:
            members["clk"] = In(1)
            members["rst"] = In(1)
        members["in_valid"] = In(1)
        if input_port not in ("in_bits", "in_features"):
            raise ValueError(f"input_port must be 'in_bits' or 'in_features', got {input_port!r}")
        self.input_port = input_port
        members[input_port] = In(net.n_inputs)
        members["out_valid"] = Out(1)
        if gs is not None:
            members["out_class"] = Out(gs.class_width)
            members["out_counts"] = Out(gs.classes * gs.count_width)
        if self.has_out_bits:
            members["out_bits"] = Out(self.n_outputs)
        super().__init__(wiring.Signature(members))

    @property
    def head_const_bits(self) -> dict[int, int]:
        """The GroupSum head's input bits that the fabric makes constant (position -> 0 or 1): the head reads
        them as constants and registers none of them (:func:`lut2rtl.rtl.groupsum.build_groupsum`)."""
        p = self.plan
        if p.groupsum is None:
            return {}
        refs = np.asarray(p.fabric.outputs)[:p.groupsum.width].tolist()
        return {i: int(r == CONST1) for i, r in enumerate(refs) if r in (CONST0, CONST1)}

    @property
    def ff_estimate(self) -> int:
        """Flip-flops: fabric and GroupSum stages (none for constant head inputs), raw bits beside the
        GroupSum, output registers, valid."""
        p = self.plan
        outs = sum(Shape.cast(mb.shape).width for n, mb in self.signature.members.items()
                   if mb.flow == Out and n != "out_valid")
        gs_ffs = 0 if p.groupsum is None else (p.groupsum.ffs - p.groupsum.input_registers(self.head_const_bits)
                                               + self.has_out_bits * self.n_outputs * p.groupsum.stages)
        return p.stages.fabric_ffs + gs_ffs + p.stages.output_registers * outs + p.latency

    @property
    def latency(self) -> int:
        return self.plan.latency

    @property
    def n_outputs(self) -> int:
        """Output bits of the network (before its GroupSum)."""
        p = self.plan
        return p.net.n_outputs if p.groupsum is None else p.groupsum.n_outputs

    @property
    def fabric_module_name(self) -> str:
        return f"{self.module_prefix}__fabric"

    def verilog_modules(self, progress: Callable[[str], None] | None = None) -> str:
        """Verilog text of the fabric module (empty for ``fabric="amaranth"``):
        it must be added to the Verilog the component is converted to."""
        p = self.plan
        if p.fabric_mode != "verilog":
            return ""
        return write_fabric_verilog(self.fabric_module_name, p.fabric, list(p.segments), p.target, p.inits,
                                    progress, feeds=p.feeds)

    def to_verilog(self, name: str, progress: Callable[[str], None] | None = None) -> str:
        """All Verilog of this component as a top module ``name`` (Amaranth's
        output plus the fabric module); needs ``clock_ports=True``."""
        from amaranth.back import verilog

        if not self.clock_ports:
            raise ValueError("to_verilog() needs a component built with clock_ports=True")
        text = verilog.convert(self, name=name, emit_src=False, strip_internal_attrs=True)
        fabric_text = self.verilog_modules(progress=progress)
        if fabric_text:
            text = text.rstrip("\n") + "\n\n" + fabric_text
        return text

    def elaborate(self, platform: Any) -> Module:
        p = self.plan
        m = Module()
        if self.clock_ports:
            m.domains.sync = cd = ClockDomain("sync")
            m.d.comb += [cd.clk.eq(self.clk), cd.rst.eq(self.rst)]
        if p.fabric_mode == "verilog":
            fabric_out = self._verilog_fabric(m)
        else:
            fabric_out = self._amaranth_fabric(m)
        stages = p.stages.fabric_stages
        outs: dict[str, Any] = {}
        if p.groupsum is not None:
            gsm = Module()
            head = Signal(p.groupsum.width, name="head_in")  # one wire: slicing a long Cat is quadratic
            m.d.comb += head.eq(fabric_out[:p.groupsum.width])
            gs = _gs.build_groupsum(gsm, head, p.groupsum, const_bits=self.head_const_bits)
            m.submodules.groupsum = gsm
            outs["out_counts"] = Cat(*gs.counts)
            outs["out_class"] = gs.cls
            gs_stages = gs.stages
            if self.has_out_bits:
                outs["out_bits"] = _delay(m, fabric_out[p.groupsum.width:], gs_stages, "bits_gs")
        else:
            gs_stages = 0
            outs["out_bits"] = fabric_out
        # registers the plan put on the outputs, plus any the GroupSum did not build
        extra = p.stages.output_registers + len(p.stages.groupsum_cuts) - gs_stages
        if stages + gs_stages + extra != p.latency:
            raise CompileError(f"internal error: pipeline has {stages + gs_stages + extra} stages, "
                               f"expected {p.latency}")
        for name, v in outs.items():
            m.d.comb += getattr(self, name).eq(_delay(m, v, extra, name + "_q"))
        m.d.comb += self.out_valid.eq(_delay(m, self.in_valid, p.latency, "valid_q", reset=True))
        return m

    def _verilog_fabric(self, m: Module) -> Any:
        p = self.plan
        data_in = getattr(self, self.input_port)
        pieces = [data_in[lo:lo + CHUNK] for lo in range(0, len(data_in), CHUNK)]
        out = [Signal(w, name=f"fabric_o{c}") for c, w in enumerate(chunks(p.net.n_outputs))]
        ports: dict[str, Any] = {f"i_i{c}": v for c, v in enumerate(pieces)}
        ports.update({f"o_o{c}": v for c, v in enumerate(out)})
        if p.stages.fabric_stages:
            ports["i_clk"] = ClockSignal("sync")
        m.submodules.fabric = Instance(self.fabric_module_name, **ports)
        return out[0] if len(out) == 1 else Cat(*out)

    def _amaranth_fabric(self, m: Module) -> Any:
        p = self.plan
        # a vector as CHUNK-bit pieces (Amaranth's limit on one value is 65535 bits)
        data_in = getattr(self, self.input_port)
        cur: list[Any] = [data_in[lo:lo + CHUNK] for lo in range(0, len(data_in), CHUNK)]
        out: list[Any] = []
        for seg in p.segments:
            # every segment output is a named Signal: slicing a long Cat() later
            # costs Amaranth time proportional to the whole Cat per slice
            out = [Signal(w, name=f"seg{seg.index}_o{c}") for c, w in enumerate(chunks(seg.out_refs.size))]
            if seg.cells.size == 0:
                if np.array_equal(seg.out_refs, seg.in_ids):
                    out = cur
                else:
                    _assign_chunks(m, out, self._wiring(seg, _Pieces(cur)))
            else:
                sub = Module()
                _assign_chunks(sub, out, build_segment(sub, p.fabric, seg, p.target, p.inits, _Pieces(cur),
                                                       p.feeds if seg is p.segments[-1] else None))
                m.submodules[f"seg{seg.index}"] = sub
            if seg.index < p.stages.fabric_stages:
                regs = [Signal(len(v), name=f"stage{seg.index + 1}_{c}", reset_less=True) for c, v in enumerate(out)]
                for r, v in zip(regs, out):
                    m.d.sync += r.eq(v)
                cur = regs
        return out[0] if len(out) == 1 else Cat(*out)

    def _wiring(self, seg: Segment, cur: Any) -> Any:
        pos = {int(q): i for i, q in enumerate(seg.in_ids.tolist())}
        bits = []
        for r in seg.out_refs.tolist():
            bits.append(Const(1 if r == CONST1 else 0, 1) if r < 0 else cur[pos[r]])
        return Cat(*bits)


class _Pieces:
    """Bit ``q`` of a vector held as CHUNK-bit pieces."""

    def __init__(self, pieces: list[Any]) -> None:
        self.pieces = pieces

    def __getitem__(self, q: int) -> Any:
        return self.pieces[q // CHUNK][q % CHUNK]


def _assign_chunks(m: Module, dst: list[Any], value: Any) -> None:
    lo = 0
    for d in dst:
        m.d.comb += d.eq(value[lo:lo + len(d)])
        lo += len(d)


def _delay(m: Module, v: Any, n: int, name: str, *, reset: bool = False) -> Any:
    for i in range(n):
        r = Signal(len(v), name=f"{name}{i}", reset_less=not reset)
        m.d.sync += r.eq(v)
        v = r
    return v

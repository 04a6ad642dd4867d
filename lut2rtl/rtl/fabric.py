"""The LUT fabric of one pipeline segment, built two ways.

A *segment* is the combinational logic between two register boundaries: it
reads a vector ``i`` (the input bits, or the signals registered at the
previous boundary), computes its cells, and drives a vector ``o`` (the
signals registered at the next boundary, or the netlist outputs). Both
constructions produce the same structure:

* :func:`build_segment` elaborates it into an Amaranth module (one
  ``Instance`` per LUT primitive, or plain logic for ``generic``);
* :func:`write_fabric_verilog` writes all segments and the registers
  between them as one structural Verilog module directly (fast enough for
  millions of LUTs), which the Amaranth design instantiates with ``Instance``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..families import Family
from ..netlist import CONST0, CONST1, table_to_init
from .exprs import amaranth_expr, verilog_template
from .lutcarry import feed, feed_init, feed_verilog
from .mapping import MappedFabric
from .pipeline import StagePlan

# names[] key of the feed cell's carry-out for output position q: _FEED_BASE - q (below every reference)
_FEED_BASE = -(1 << 40)

__all__ = ["CHUNK", "Feed", "Segment", "chunks", "segments", "build_segment", "write_fabric_verilog", "cell_inits"]

# Amaranth's netlist limits one value to 65535 bits: wide vectors between
# segments travel as several ports/registers of at most CHUNK bits each
CHUNK = 1 << 15


def chunks(width: int) -> list[int]:
    """Widths of the pieces a vector of ``width`` bits is split into (none for 0)."""
    return [min(CHUNK, width - lo) for lo in range(0, width, CHUNK)]


class Feed(NamedTuple):
    """A LUT moved into a feed cell (:func:`lut2rtl.rtl.lutcarry.feed`): the fabric output ``position``
    whose bit its carry gives, as ``maj(bit, partner, carry_in)`` (``partner`` a reference)."""

    position: int
    partner: int
    carry_in: int


@dataclass(frozen=True, eq=False)
class Segment:
    index: int
    in_ids: np.ndarray  # physical ids, in the order of the bits of ``i``
    cells: np.ndarray  # cell indices (topological order)
    out_refs: np.ndarray  # references driving the bits of ``o``


def segments(fab: MappedFabric, plan: StagePlan) -> list[Segment]:
    """The ``fabric_stages + 1`` segments of a plan."""
    out: list[Segment] = []
    m_f = plan.fabric_stages
    for j in range(m_f + 1):
        in_ids = np.arange(fab.n_inputs, dtype=np.int64) if j == 0 else plan.boundaries[j - 1]
        cells = np.flatnonzero(plan.cell_stage == j)
        out_refs = plan.boundaries[j] if j < m_f else fab.outputs
        out.append(Segment(j, in_ids, cells, out_refs))
    return out


def cell_inits(fab: MappedFabric, target: Family) -> np.ndarray:
    """INIT value of every cell for the target's primitive (uint64 [C])."""
    inits = np.zeros(fab.n_cells, dtype=np.uint64)
    for k in range(1, fab.lut_size + 1):
        sel = fab.cell_k == k
        if not sel.any():
            continue
        init = table_to_init(fab.cell_tables[sel], k)
        if not target.per_k and k < target.lut_size:
            # unused primitive inputs are tied to 0; repeat the pattern so the
            # result does not depend on them at all
            rep = 0
            for r in range(1 << (target.lut_size - k)):
                rep |= 1 << (r << k)
            init = init * np.uint64(rep)
        inits[sel] = init
    return inits


def _cell_lines(fab: MappedFabric, cells_arr: np.ndarray, target: Family, inits: np.ndarray | None,
                names: dict[int, str], feeds: dict[int, Feed]) -> list[str]:
    """One line per cell: a primitive instance or an ``assign`` (generic); a cell of ``feeds`` as its feed
    cell, whose carry-out is then named in ``names`` under ``_FEED_BASE - position``."""
    n_in = fab.n_inputs
    cells = cells_arr.tolist()
    lines = []
    for lo in range(0, len(cells), 16):
        lines.append("  wire " + ", ".join(f"n{n_in + c}" for c in cells[lo:lo + 16]) + ";")
    ks = fab.cell_k[cells_arr].tolist()
    ins = fab.cell_inputs[cells_arr].tolist()
    if target.primitive is None:
        tables = fab.cell_tables[cells_arr].tolist()
        for c, k, row, t in zip(cells, ks, ins, tables):
            expr = verilog_template(t, k).format(*(names[p] for p in row[:k]))
            lines.append(f"  assign n{n_in + c} = {expr};")
        return lines
    assert inits is not None
    ivals = inits[cells_arr].tolist()
    ports, L = target.input_ports, target.lut_size
    par, outp = target.init_param, target.output_port
    tie = "1'b0"
    for c, k, row, init in zip(cells, ks, ins, ivals):
        if c in feeds:  # moved into the feed cell of a head carry-in (rtl/lutcarry.py)
            f = feeds[c]
            co, text = feed_verilog(f"l{n_in + c}", names[int(fab.outputs[f.position])], names[f.partner],
                                    f.carry_in, [names[p] for p in row[:k]],
                                    feed_init(target, int(fab.cell_tables[c]), k), f"n{n_in + c}", target)
            lines.append(f"  wire {co};")
            lines += text
            names[_FEED_BASE - f.position] = co
            continue
        if target.per_k:
            width, prim, used = 1 << k, target.primitive_name(k), k
        else:
            width, prim, used = 1 << L, target.primitive, L
        conns = ", ".join(f".{ports[m]}({names[row[m]] if m < k else tie})" for m in range(used))
        lines.append(f"  {prim} #(.{par}({width}'h{init:0{max(1, width // 4)}X})) l{n_in + c} "
                     f"({conns}, .{outp}(n{n_in + c}));")
    return lines


def write_fabric_verilog(module: str, fab: MappedFabric, segs: list[Segment], target: Family,
                         inits: np.ndarray | None, progress: Callable[[str], None] | None = None,
                         feeds: dict[int, Feed] | None = None) -> str:
    """The whole pipelined fabric as one structural Verilog module.

    Ports: ``clk`` (only when there are fabric registers), inputs ``i0, i1,
    ...`` (the input bits in :data:`CHUNK`-bit pieces), outputs ``o0, o1, ...``
    (the netlist outputs). Boundary ``b`` is held in registers ``r<b>_<c>``
    (no reset, initial value 0, like Amaranth's ``reset_less`` signals).
    Amaranth limits an ``Instance``'s outputs to 65535 bits in all, so the
    wide vectors between segments stay inside this module. ``feeds`` (the
    last segment's cells moved into feed cells, see
    :func:`lut2rtl.rtl.network.plan_feeds`) drive those outputs from the feed
    cells' carry-outs.
    """
    n_in = fab.n_inputs
    n_out = segs[-1].out_refs.size
    in_w, out_w = chunks(n_in), chunks(n_out)
    clocked = len(segs) > 1
    ports = (["clk"] if clocked else []) + [f"i{c}" for c in range(len(in_w))] + [f"o{c}" for c in range(len(out_w))]
    lines = [f"module {module}({', '.join(ports)});"]
    if clocked:
        lines.append("  input wire clk;")
    lines += [f"  input wire [{w - 1}:0] i{c};" for c, w in enumerate(in_w)]
    lines += [f"  output wire [{w - 1}:0] o{c};" for c, w in enumerate(out_w)]
    for seg in segs:
        if progress is not None:
            progress(f"writing fabric segment {seg.index} ({seg.cells.size} LUT cells)")
        src = "i" if seg.index == 0 else f"r{seg.index}_"
        names: dict[int, str] = {
            int(p): f"{src}{q // CHUNK}[{q % CHUNK}]" for q, p in enumerate(seg.in_ids.tolist())}
        for c in seg.cells.tolist():
            names[n_in + c] = f"n{n_in + c}"
        names[CONST0] = "1'b0"
        names[CONST1] = "1'b1"
        lines.append(f"  // segment {seg.index}")
        last = seg is segs[-1]
        lines += _cell_lines(fab, seg.cells, target, inits, names, (feeds or {}) if last else {})
        refs = seg.out_refs.tolist()
        if last:
            lines += [f"  assign o{q // CHUNK}[{q % CHUNK}] = {names.get(_FEED_BASE - q, names[r])};"
                      for q, r in enumerate(refs)]
            continue
        dst = f"r{seg.index + 1}_"
        for c, w in enumerate(chunks(len(refs))):
            lines.append(f"  reg [{w - 1}:0] {dst}{c} = {w}'h0;")
        if refs:
            lines.append("  always @(posedge clk) begin")
            lines += [f"    {dst}{q // CHUNK}[{q % CHUNK}] <= {names[r]};" for q, r in enumerate(refs)]
            lines.append("  end")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def build_segment(m: Any, fab: MappedFabric, seg: Segment, target: Family, inits: np.ndarray | None,
                  i: Any, feeds: dict[int, Feed] | None = None) -> Any:
    """Elaborate a segment into Amaranth module ``m``; ``i`` is its input value. Returns ``o``, whose bits
    at the positions of ``feeds`` (the last segment's, see :func:`lut2rtl.rtl.network.plan_feeds`) come
    from those cells' feed cells."""
    from amaranth.hdl import C, Cat, Const, Instance, Signal

    n_in = fab.n_inputs
    vals: dict[int, Any] = {int(p): i[q] for q, p in enumerate(seg.in_ids.tolist())}
    vals[CONST0] = C(0, 1)
    vals[CONST1] = C(1, 1)
    cells = seg.cells.tolist()
    ks = fab.cell_k[seg.cells].tolist()
    ins = fab.cell_inputs[seg.cells].tolist()
    if target.primitive is None:
        tables = fab.cell_tables[seg.cells].tolist()
        for c, k, row, t in zip(cells, ks, ins, tables):
            s = Signal(name=f"n{n_in + c}")
            m.d.comb += s.eq(amaranth_expr(t, k, [vals[p] for p in row[:k]]))
            vals[n_in + c] = s
    else:
        assert inits is not None
        ivals = inits[seg.cells].tolist()
        ports, L = target.input_ports, target.lut_size
        feeds = feeds or {}
        fed: dict[int, Any] = {}
        for c, k, row, init in zip(cells, ks, ins, ivals):
            s = Signal(name=f"n{n_in + c}")
            if c in feeds:  # moved into the feed cell of a head carry-in (rtl/lutcarry.py)
                f = feeds[c]
                fed[f.position] = feed(m, f"l{n_in + c}", vals[int(seg.out_refs[f.position])], vals[f.partner],
                                       f.carry_in, [vals[p] for p in row[:k]],
                                       feed_init(target, int(fab.cell_tables[c]), k), s, target)
                vals[n_in + c] = s
                continue
            used = k if target.per_k else L
            kw: dict[str, Any] = {f"i_{ports[m_]}": (vals[row[m_]] if m_ < k else C(0, 1)) for m_ in range(used)}
            kw[f"p_{target.init_param}"] = Const(init, 1 << used)
            kw[f"o_{target.output_port}"] = s
            m.submodules[f"l{n_in + c}"] = Instance(target.primitive_name(k), **kw)
            vals[n_in + c] = s
        return Cat(*(fed[q] if q in fed else vals[r] for q, r in enumerate(seg.out_refs.tolist())))
    return Cat(*(vals[r] for r in seg.out_refs.tolist()))

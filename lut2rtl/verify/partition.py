"""Cutting a design's structural fabric into pieces that are simulated one at a time.

Verilator's memory grows with the primitive instances it sees at once (about
46 KB each: a million-gate network of 2-input gates maps onto some 400,000
SB_LUT4, about 19 GB in one build). Above :data:`PARTITION_LUTS` primitives,
:mod:`.piecewise` simulates the design in pieces instead, and this module
makes them from the emitted Verilog:

- the *rest*: every module of the file but the fabric, with the fabric's one
  instance removed from the top module, its input connections made new top
  output ports ``lut2rtl_fi<c>`` and its output connections driven from new
  top input ports ``lut2rtl_fo<c>`` (the rest of the text is unchanged);
- the fabric's *pieces*: consecutive runs of its lines (the fabric module is
  written by :func:`lut2rtl.rtl.fabric.write_fabric_verilog` in topological
  order), each copied verbatim into a module of its own whose ports are the
  signals it reads from earlier pieces (or the fabric inputs) and the
  signals later pieces (or the fabric outputs) read from it. Every register
  block (the ``always`` of one pipeline boundary) is a piece of its own.

Every line of the fabric module must be one this module recognises, and every
primitive instance lands in exactly one piece; anything else raises
:class:`PartitionError` (the caller then simulates the design whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..rtl.fabric import CHUNK
from ..rtl.lutcarry import FEED_CARRY, FEED_WIRE

__all__ = ["PARTITION_LUTS", "PIECE_LUTS", "CutPort", "Partition", "PartitionError", "Piece", "partition_design",
           "split_modules"]

# designs with more fabric primitives than this are simulated in pieces
PARTITION_LUTS = 60_000
# primitives per piece: Verilator's build of one piece stays under about 3 GB, two of them at once
# under 6 GB
PIECE_LUTS = 50_000

_MODULE = re.compile(r"^module\s+(\\\S+|[A-Za-z_][\w$]*)\s*\(", re.M)
_ENDMODULE = re.compile(r"^endmodule\b.*$", re.M)
# lines of a fabric module (write_fabric_verilog)
_PORT_DECL = re.compile(r"^  (input|output) wire (?:\[(\d+):0\] )?(\w+);$")
_WIRES = re.compile(r"^  wire (n\d+(?:, n\d+)*);$")
_INSTANCE = re.compile(r"^  (\w+) #\(\.\w+\(\d+'h[0-9A-Fa-f]+\)\) l\d+ \((.*)\);$")
# a feed cell's carry (rtl/lutcarry.py feed_verilog) and the wire of its carry-out
_FEED_CARRY = re.compile(rf"^  (\w+) l\d+{re.escape(FEED_CARRY)} \((.*)\);$")
_FEED_WIRE = re.compile(rf"^  wire n\d+{re.escape(FEED_WIRE)};$")
_CONN = re.compile(r"\.(\w+)\(([^()]*)\)")
_ASSIGN = re.compile(r"^  assign (o\d+\[\d+\]) = ([^;]+);$")
_REG = re.compile(r"^  reg \[(\d+):0\] (r\d+_\d+) = \d+'h0;$")
_NONBLOCKING = re.compile(r"^    (r\d+_\d+\[\d+\]) <= ([^;]+);$")
_REF = re.compile(r"^([A-Za-z_]\w*(?:\[\d+\])?|1'b[01])$")  # a net, a bit of a vector, a constant
_ALIAS = re.compile(r"^  wire ([A-Za-z_]\w*) = ([^;]+);$")
_CONST = ("1'b0", "1'b1")


class PartitionError(ValueError):
    """The design cannot be cut into pieces (it is then simulated whole)."""


@dataclass(frozen=True)
class CutPort:
    """A port the rest gains for one fabric port: ``name`` (of the rest's top), ``fabric`` (the fabric
    module's port) and its width."""

    name: str
    fabric: str
    width: int


@dataclass
class Piece:
    """One piece of the fabric: a module ``name`` with text ``verilog``. ``inputs`` and ``outputs`` are the
    signal bits on its ports ``pi<c>``/``po<c>`` (``CHUNK`` bits each, in order), named as in the fabric
    module (``n123``, ``i0[5]``, ``r1_0[7]``, ``o0[3]``)."""

    name: str
    verilog: str = ""
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    clocked: bool = False
    luts: int = 0


@dataclass
class Partition:
    rest: str  # the Verilog of everything but the fabric, the top with the cut ports
    fabric_in: list[CutPort]  # rest's outputs: what the fabric reads
    fabric_out: list[CutPort]  # rest's inputs: what the fabric drives
    pieces: list[Piece]
    luts: int  # primitive instances in the fabric


def split_modules(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The modules of a Verilog text as ``(name, text)`` (verbatim, ``module`` to ``endmodule``) and the
    text between them."""
    mods: list[tuple[str, str]] = []
    between: list[str] = []
    pos = 0
    for m in _MODULE.finditer(text):
        if m.start() < pos:
            continue  # (a "module" line inside a module cannot happen in a well-formed file)
        end = _ENDMODULE.search(text, m.start())
        if end is None:
            raise PartitionError(f"module {m.group(1)} has no endmodule")
        between.append(text[pos:m.start()])
        mods.append((m.group(1), text[m.start():end.end()]))
        pos = end.end()
    between.append(text[pos:])
    return mods, between


@dataclass
class _Item:
    kind: str  # "cell", "alias", "assign", "regs"
    lines: list[str]
    drives: list[str]
    reads: list[str]
    decl: str = ""  # regs: the reg declaration line


def _parse_fabric(text: str) -> tuple[dict[str, tuple[str, int]], list[_Item], int]:
    """Ports (name -> (direction, width)) and the items of a fabric module, and its primitive count."""
    lines = text.splitlines()
    ports: dict[str, tuple[str, int]] = {}
    items: list[_Item] = []
    luts = 0
    regs: dict[str, str] = {}
    block: _Item | None = None
    for ln in lines[1:-1]:
        if block is not None:
            if ln == "  end":
                items.append(block)
                block = None
                continue
            m = _NONBLOCKING.match(ln)
            if m is None or not _REF.match(m.group(2)):
                raise PartitionError(f"unexpected line in a register block: {ln[:80]!r}")
            block.lines.append(ln)
            block.drives.append(m.group(1))
            block.reads.append(m.group(2))
            continue
        if ln.startswith("  // segment") or _WIRES.match(ln) or _FEED_WIRE.match(ln):
            continue
        m = _PORT_DECL.match(ln)
        if m:
            ports[m.group(3)] = (m.group(1), int(m.group(2)) + 1 if m.group(2) is not None else 1)
            continue
        m = _INSTANCE.match(ln) or _FEED_CARRY.match(ln)
        if m:
            conns = _CONN.findall(m.group(2))
            if not conns or any(not _REF.match(v) for _, v in conns) or "[" in conns[-1][1]:
                raise PartitionError(f"unexpected instance: {ln[:80]!r}")
            items.append(_Item("cell", [ln], [conns[-1][1]], [v for _, v in conns[:-1]]))
            luts += 1
            continue
        m = _ALIAS.match(ln)
        if m and _REF.match(m.group(2)):  # another name for a signal (a hand-edited fabric)
            items.append(_Item("alias", [ln], [m.group(1)], [m.group(2)]))
            continue
        m = _ASSIGN.match(ln)
        if m:
            if not _REF.match(m.group(2)):
                raise PartitionError(f"unexpected assignment: {ln[:80]!r}")
            items.append(_Item("assign", [ln], [m.group(1)], [m.group(2)]))
            continue
        m = _REG.match(ln)
        if m:
            regs[m.group(2)] = ln
            continue
        if ln == "  always @(posedge clk) begin":
            block = _Item("regs", [], [], [])
            continue
        raise PartitionError(f"unexpected line in the fabric module: {ln[:80]!r}")
    if block is not None:
        raise PartitionError("unterminated register block")
    for it in items:
        if it.kind == "regs":
            names = sorted({d.split("[")[0] for d in it.drives})
            if any(n not in regs for n in names):
                raise PartitionError("a register block assigns an undeclared register")
            it.decl = "\n".join(regs.pop(n) for n in names)
    if regs:
        raise PartitionError(f"registers never assigned: {', '.join(sorted(regs))[:80]}")
    return ports, items, luts


def _vector(ref: str) -> tuple[str, int] | None:
    """``("i0", 5)`` for ``i0[5]``; None for a scalar net."""
    if "[" not in ref:
        return None
    name, idx = ref[:-1].split("[")
    return name, int(idx)


def _port_decls(direction: str, prefix: str, n: int) -> tuple[list[str], list[str]]:
    names, decls = [], []
    for c, lo in enumerate(range(0, n, CHUNK)):
        w = min(CHUNK, n - lo)
        names.append(f"{prefix}{c}")
        decls.append(f"  {direction} wire [{w - 1}:0] {prefix}{c};")
    return names, decls


def _bit(prefix: str, q: int) -> str:
    return f"{prefix}{q // CHUNK}[{q % CHUNK}]"


def _piece_text(piece: Piece, items: list[_Item], widths: dict[str, int]) -> str:
    in_names, in_decls = _port_decls("input", "pi", len(piece.inputs))
    out_names, out_decls = _port_decls("output", "po", len(piece.outputs))
    ports = (["clk"] if piece.clocked else []) + in_names + out_names
    body = [f"module {piece.name}({', '.join(ports)});"]
    if piece.clocked:
        body.append("  input wire clk;")
    body += in_decls + out_decls
    # vectors (fabric inputs, registers of an earlier boundary, fabric outputs) are declared whole
    vectors = sorted({v[0] for ref in piece.inputs if (v := _vector(ref))}
                     | {v[0] for it in items if it.kind == "assign" for ref in it.drives if (v := _vector(ref))})
    body += [f"  wire [{widths[v] - 1}:0] {v};" for v in vectors]
    for q, ref in enumerate(piece.inputs):
        body.append(f"  assign {ref} = {_bit('pi', q)};" if "[" in ref else f"  wire {ref} = {_bit('pi', q)};")
    cells = [it.drives[0] for it in items if it.kind == "cell"]
    for lo in range(0, len(cells), 16):
        body.append("  wire " + ", ".join(cells[lo:lo + 16]) + ";")
    for it in items:
        if it.kind == "regs":
            body += [it.decl, "  always @(posedge clk) begin", *it.lines, "  end"]
        else:
            body += it.lines
    body += [f"  assign {_bit('po', q)} = {ref};" for q, ref in enumerate(piece.outputs)]
    body.append("endmodule")
    return "\n".join(body) + "\n"


def _cut_fabric(name: str, text: str, piece_luts: int) -> tuple[dict[str, tuple[str, int]], list[Piece], int]:
    ports, items, luts = _parse_fabric(text)
    widths = {p: w for p, (_, w) in ports.items()}
    widths.update({n: int(m.group(1)) + 1 for ln in text.splitlines() if (m := _REG.match(ln)) for n in [m.group(2)]})
    groups: list[list[_Item]] = []
    cur: list[_Item] = []
    count = 0
    for it in items:
        if it.kind == "regs":
            if cur:
                groups.append(cur)
            groups.append([it])
            cur, count = [], 0
            continue
        if it.kind == "cell" and count >= piece_luts:
            groups.append(cur)
            cur, count = [], 0
        cur.append(it)
        count += it.kind == "cell"
    if cur:
        groups.append(cur)
    # who reads what, after which group
    last_reader: dict[str, int] = {}
    for g, grp in enumerate(groups):
        for it in grp:
            for r in it.reads:
                last_reader[r] = g
    driver: dict[str, int] = {}
    pieces: list[Piece] = []
    fabric_outputs = {p for p, (d, _) in ports.items() if d == "output"}
    for g, grp in enumerate(groups):
        own = {d for it in grp for d in it.drives}
        reads = []
        seen: set[str] = set()
        for it in grp:
            for r in it.reads:
                if r in own or r in _CONST or r in seen:
                    continue
                v = _vector(r)
                if r not in driver and not (v is not None and ports.get(v[0], ("", 0))[0] == "input"):
                    raise PartitionError(f"{r} is read before it is driven")
                seen.add(r)
                reads.append(r)
        outs = [d for it in grp for d in it.drives
                if last_reader.get(d, -1) > g or (_vector(d) or ("",))[0] in fabric_outputs]
        for d in own:
            if d in driver:
                raise PartitionError(f"{d} is driven twice")
            driver[d] = g
        piece = Piece(f"lut2rtl_piece{g}", inputs=reads, outputs=outs, clocked=grp[0].kind == "regs",
                      luts=sum(it.kind == "cell" for it in grp))
        piece.verilog = _piece_text(piece, grp, widths)
        pieces.append(piece)
    for p, (d, w) in ports.items():
        if d == "output" and any(f"{p}[{q}]" not in driver for q in range(w)):
            raise PartitionError(f"fabric output {p} is not driven bit for bit")
    return ports, pieces, luts


_INST_BLOCK = r"^  {name} (\w+) \(\n((?:    \.\w+\([^\n]*\),?\n)*)  \);\n"
_INST_CONN = re.compile(r"^    \.(\w+)\((.*)\),?$")


def _rewrite_top(top_text: str, fabric: str, ports: dict[str, tuple[str, int]]
                 ) -> tuple[str, list[CutPort], list[CutPort]]:
    found = list(re.finditer(_INST_BLOCK.format(name=re.escape(fabric)), top_text, re.M))
    if len(found) != 1:
        raise PartitionError(f"the top module instantiates {fabric} {len(found)} times (one expected)")
    m = found[0]
    conns: dict[str, str] = {}
    for ln in m.group(2).splitlines():
        c = _INST_CONN.match(ln)
        assert c is not None
        conns[c.group(1)] = c.group(2).strip()
    if set(conns) != set(ports):
        raise PartitionError(f"the instance of {fabric} does not connect every port")
    if "clk" in ports and conns["clk"] != "clk":
        raise PartitionError(f"{fabric} is clocked by {conns['clk']}, not by the top's clk")
    fin = [CutPort(f"lut2rtl_fi{p[1:]}", p, w) for p, (d, w) in ports.items() if d == "input" and p != "clk"]
    fout = [CutPort(f"lut2rtl_fo{p[1:]}", p, w) for p, (d, w) in ports.items() if d == "output"]
    repl = [f"  assign {c.name} = {conns[c.fabric]};" for c in fin]
    repl += [f"  assign {conns[c.fabric]} = {c.name};" for c in fout]
    text = top_text[:m.start()] + "\n".join(repl) + "\n" + top_text[m.end():]
    head = re.match(r"module\s+(\\\S+|[A-Za-z_][\w$]*)\s*\(([^;]*)\);\n", text)
    if head is None:
        raise PartitionError("cannot read the top module's port list")
    new = [c.name for c in fin + fout]
    decls = [f"  output wire [{c.width - 1}:0] {c.name};" for c in fin]
    decls += [f"  input wire [{c.width - 1}:0] {c.name};" for c in fout]
    text = (text[:head.start(2)] + head.group(2).rstrip() + ", " + ", ".join(new) + ");\n" + "\n".join(decls)
            + "\n" + text[head.end():])
    return text, fin, fout


def partition_design(text: str, top: str, *, piece_luts: int = PIECE_LUTS) -> Partition:
    """Cut ``text`` (a design whose top module is ``top``) into the rest and fabric pieces (see the
    module docstring). Raises :class:`PartitionError` when the design has no structural fabric module
    instantiated once by the top, or any line of it is not one :func:`write_fabric_verilog` writes."""
    mods, between = split_modules(text)
    names = [n for n, _ in mods]
    if top not in names:
        raise PartitionError(f"no module {top}")
    fabric = [n for n, t in mods if "\n  // segment 0\n" in t and n != top]
    if len(fabric) != 1:
        raise PartitionError("the design has no structural fabric module")
    fname = fabric[0]
    ftext = dict(mods)[fname]
    ports, pieces, luts = _cut_fabric(fname, ftext, piece_luts)
    out: list[str] = []
    fin: list[CutPort] = []
    fout: list[CutPort] = []
    for (n, t), gap in zip(mods, between):
        out.append(gap)
        if n == fname:
            continue
        if n == top:
            t, fin, fout = _rewrite_top(t, fname, ports)
        out.append(t)
    out.append(between[-1])
    rest = "".join(out)
    if re.search(rf"^\s*{re.escape(fname)}\s", rest, re.M):
        raise PartitionError(f"{fname} is instantiated outside the top module")
    return Partition(rest=rest, fabric_in=fin, fabric_out=fout, pieces=pieces, luts=luts)

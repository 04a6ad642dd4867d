"""An independent, deliberately simple Verilog writer for a netlist.

It is the *other side* of the formal proof: the compiled design (FPGA
primitives, ``LUT_INIT`` permutations, pipeline registers, popcount trees)
must equal this text for every input. It therefore shares nothing with
:mod:`lut2rtl.rtl` and uses the IR's truth-table encoding directly: row
``j = {x_0, ..., x_{k-1}}`` (``x_0`` the most significant bit) of a LUT is
``table_to_rows(T)[j]``, written as a tree of ``?:`` on the inputs
(``x_0`` outermost) with the rows as its constant leaves. A popcount is a loop
of ``+``; the argmax is a chain of strict ``>`` compares (ties keep the
lower class), or, with a hint that names its matches, a tournament.

The module has the ports of the hardware contract (``clk``, ``rst``,
``in_valid``, ``in_bits``, ``out_valid``, ``out_class``, ``out_counts``,
``out_bits``). ``latency`` > 0 adds that many register stages after the
logic, which makes it a contract-conforming pipelined design for testing the
simulation flow itself.

A :class:`NameHint` only *names* intermediate values for the formal proof
(so that the proof can cut both circuits at the same points): the
group bits, each class's count, and a grouping of each popcount into partial
sums, each written as a plain ``+`` of its parts. Any grouping that uses
every bit of the group exactly once sums to the same count, and the emitter
checks that before using one; a hint therefore cannot change what the
module computes, only how the proof is cut into small steps.

With ``NameHint.winners`` the argmax is a tournament instead of the chain:
each round pairs neighbouring candidates in class order (the last one of an
odd round passes on), the right candidate wins only with a strictly larger
count, and the winner's count is a wire of the name given. It computes the
same class as the chain: by induction every candidate is the lowest-index
maximum of a run of consecutive classes, and of two neighbouring runs the
right one's wins only where its maximum is larger than every count of the
left run. (The chain compares a candidate with all classes before it; over
hundreds of classes, proving it equal to a hardware tournament was the
slowest step of a proof.)

A partial sum may instead be *compressed* like a bit heap (:class:`HeapStage`):
its parts' bits by column (bit ``j`` of a part in column ``j``, a group bit in
column 0), then stages of chains, each chain written here as the ``+`` of the
bits it reads (shifted by their column) minus ``2**L`` times its last
transfer (the ``maj`` of the bits its last position reads, itself put back in
column ``col + L``), kept to ``L + 1`` bits. For the chains a heap can have
(at most three bits per position, a direct bit only where no transfer comes
in; the emitter refuses others) that sum fits ``L + 1`` bits (see
:mod:`lut2rtl.rtl.heap`), so every stage keeps the weighted sum: the count is
the same, only the named stage values differ from a ``+`` of the parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..buildfolder import data_input
from ..encoder import feature_bits_of
from ..netlist import Netlist, table_to_rows

__all__ = ["HeapStage", "NameHint", "SumNode", "emit_reference_verilog", "port_widths"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_ESCAPABLE = re.compile(r"^[!-~]+$")  # printable ASCII, no white space: a Verilog escaped identifier


@dataclass(frozen=True)
class HeapStage:
    """One stage of a compressed partial sum: ``chains`` as ``(col, takes, direct, ci, carry)`` (see
    :class:`lut2rtl.rtl.heap.Chain`); ``name``: the chains' outputs, in order, as one named vector."""

    name: str | None
    chains: tuple[tuple[int, tuple[int, ...], tuple[bool, ...], bool, bool], ...] = ()


@dataclass(frozen=True)
class SumNode:
    """A partial sum of one class's popcount: ``bits`` (indices into the
    class's group) plus earlier ``nodes`` (indices into the class's node list);
    with ``heap``, compressed by those stages instead of added (module docstring)."""

    name: str | None  # None: no name to pair (the emitter names it)
    bits: tuple[int, ...] = ()
    nodes: tuple[int, ...] = ()
    heap: tuple[HeapStage, ...] = ()


@dataclass(frozen=True)
class NameHint:
    """Names for the formal proof (see the module docstring); every field optional."""

    bits: str | None = None  # the GroupSum's input bits (the netlist outputs)
    counts: tuple[str | None, ...] = ()  # per class
    sums: tuple[tuple[SumNode, ...], ...] = ()  # per class, in order; the last node is the count
    # names of LUT outputs (signal id -> name): the wire of that signal gets the name
    signals: dict[int, str] = field(default_factory=dict)
    # the argmax as a tournament (module docstring): per round, the name of each match's winning count
    # (None: unnamed); None: the chain of compares
    winners: tuple[tuple[str | None, ...], ...] | None = None


# names the emitter uses itself
_RESERVED = re.compile(r"^((s|T|cnt|best_cnt|best_idx|better|d|v)\d+|(sum|tc|tg|ti)\d+_\d+|ti_class|hp\d+_.*|o|"
                       r"popcount|i|clk|rst|in_valid|in_bits|in_features|out_valid|out_class|out_counts|out_bits)$")


def _escaped(name: str) -> str:
    if not _ESCAPABLE.match(name) or _RESERVED.match(name):
        raise ValueError(f"hint name {name!r} cannot be a Verilog identifier of its own here")
    return name if _IDENT.match(name) else f"\\{name} "


def _check_sums(nodes: tuple[SumNode, ...], group: int) -> list[int]:
    """Leaf counts per node; raises ValueError unless the nodes partition the group."""
    seen_bits = [0] * group
    used = [0] * len(nodes)
    leaves: list[int] = []
    for j, nd in enumerate(nodes):
        if not nd.bits and not nd.nodes:
            raise ValueError(f"sum node {nd.name} is empty")
        for b in nd.bits:
            if not 0 <= b < group:
                raise ValueError(f"sum node {nd.name} reads bit {b} outside the group")
            seen_bits[b] += 1
        for q in nd.nodes:
            if not 0 <= q < j:
                raise ValueError(f"sum node {nd.name} reads node {q}, not an earlier one")
            used[q] += 1
        leaves.append(len(nd.bits) + sum(leaves[q] for q in nd.nodes))
    if any(c != 1 for c in seen_bits) or any(c != 1 for c in used[:-1]) or (nodes and used[-1]):
        raise ValueError("the sum nodes do not use every bit and every partial sum exactly once")
    return leaves


def _heap(prefix: str, cols: list[list[str]], stages: tuple[HeapStage, ...], width: int) -> list[str]:
    """Lines computing wire ``prefix`` (``width`` bits) from a heap of bit expressions by ``stages``
    (module docstring); raises ValueError for a chain a heap cannot have, or a heap that does not end
    as a number."""
    w: list[str] = []
    for s, st in enumerate(stages):
        rest = [list(col) for col in cols]
        made: list[list[str]] = []
        order: list[str] = []
        assigns: list[str] = []

        def column(cs: list[list[str]], i: int) -> list[str]:
            while len(cs) <= i:
                cs.append([])
            return cs[i]

        for k, (col, takes, direct, ci, carry) in enumerate(st.chains):
            n = len(takes)
            if not n or len(direct) != n or any(not 0 <= t <= 3 for t in takes) or col < 0:
                raise ValueError(f"heap stage {s}: chain {k} has a bad shape")
            if not carry and _chain_max(takes, direct, ci) >= 1 << n:
                raise ValueError(f"heap stage {s}: chain {k} drops a carry-out that can be 1")
            width = n + carry  # bits of sum - 2**n * transfer kept (a dropped carry-out is always 0)
            terms: list[str] = []
            last: list[str] = []
            for p in range(n):
                if direct[p] and p and takes[p - 1] >= 2:
                    raise ValueError(f"heap stage {s}: chain {k} reads a direct bit where a transfer comes in")
                here = column(rest, col + p)
                if len(here) < takes[p] + direct[p]:
                    raise ValueError(f"heap stage {s}: chain {k} reads more bits than column {col + p} has")
                last = [here.pop(0) for _ in range(takes[p])]
                terms += [f"({x} << {p})" for x in last + ([here.pop(0)] if direct[p] else [])]
            if ci:
                if not column(rest, col):
                    raise ValueError(f"heap stage {s}: chain {k} has no bit left for its carry-in")
                terms.append(rest[col].pop(0))
            total = " + ".join(terms) or "0"
            maj = None
            if takes[-1] >= 2:
                a = last + ["1'b0"] * (3 - len(last))
                maj = f"{a[0]} & {a[1]} | {a[0]} & {a[2]} | {a[1]} & {a[2]}"
            if st.name is not None:
                # straight into the stage's named vector (its bits must be no alias of another wire: the
                # proof cuts there); (n + 1)-bit arithmetic is the sum modulo 2**(n + 1)
                lo = len(order)
                val = total if maj is None else f"{total} - (({maj}) << {n})"
                assigns.append(f"    assign {{vec}}[{lo + width - 1}:{lo}] = {val};")
                outs = [(col + p, f"{{vec}}[{lo + p}]") for p in range(width)]
                if maj is not None:
                    assigns.append(f"    assign {{vec}}[{lo + width}] = {maj};")
                    outs.append((col + n, f"{{vec}}[{lo + width}]"))
            else:
                nm = f"{prefix}_{s}_{k}"
                w.append(f"    wire [{n + 1}:0] {nm}_s = {total};")
                if maj is not None:
                    w.append(f"    wire {nm}_t = {maj};")
                    w.append(f"    wire [{n}:0] {nm} = {nm}_s - ({nm}_t << {n});")
                else:
                    w.append(f"    wire [{n}:0] {nm} = {nm}_s;")
                outs = [(col + p, f"{nm}[{p}]") for p in range(width)] + ([(col + n, f"{nm}_t")] if maj else [])
            for i, b in outs:
                column(made, i).append(b)
            order += [b for _, b in outs]
        if st.name is not None and order:
            vec = _escaped(st.name)
            w.append(f"    wire [{len(order) - 1}:0] {vec};")
            w += [a.replace("{vec}", vec) for a in assigns]
            made = [[b.replace("{vec}", vec) for b in col] for col in made]
        cols = [(rest[i] if i < len(rest) else []) + (made[i] if i < len(made) else [])
                for i in range(max(len(rest), len(made)))]
    if any(len(col) > 1 for col in cols):
        raise ValueError("the heap stages do not end in one bit per column")
    bits = [col[0] if col else "1'b0" for col in cols] + ["1'b0"] * width
    w.append(f"    wire [{width - 1}:0] {prefix} = {{{', '.join(reversed(bits[:width]))}}};")
    return w


def _chain_max(takes: tuple[int, ...], direct: tuple[bool, ...], ci: bool) -> int:
    """The most a chain's ``sum - 2**L * transfer`` can be: the larger of all inputs set but the last
    position's (there at most one of its bits, so no transfer) and all inputs set (transfer 1 if that
    position reads two or more bits)."""
    full = ci + sum((t + d) * 2 ** p for p, (t, d) in enumerate(zip(takes, direct)))
    last = len(takes) - 1
    spare = max(0, takes[last] - 1) * 2 ** last  # the bits of the last position beyond one
    return max(full - spare, full - 2 ** len(takes) if takes[last] >= 2 else 0)


def _valid_chain(latency: int) -> list[str]:
    """``out_valid``: ``in_valid`` through ``latency`` registers cleared by ``rst``."""
    w = ["    wire v0 = in_valid;"]
    for st in range(1, latency + 1):
        w.append(f"    reg v{st};")
        w.append(f"    always @(posedge clk) if (rst) v{st} <= 1'b0; else v{st} <= v{st - 1};")
    w.append(f"    assign out_valid = v{latency};")
    return w


def emit_valid_reference(name: str, latency: int) -> str:
    """Module ``name`` (``clk``, ``rst``, ``in_valid`` in, ``out_valid`` out): the
    contract's valid bit alone, as :func:`emit_reference_verilog` writes it."""
    if not _IDENT.match(name):
        raise ValueError(f"module name {name!r} is not a Verilog identifier")
    if latency < 1:
        raise ValueError("latency must be >= 1")
    return "\n".join([f"module {name} (input wire clk, input wire rst, input wire in_valid, output wire out_valid);",
                      *_valid_chain(latency), "endmodule"]) + "\n"


def port_widths(net: Netlist, *, out_bits: bool = False) -> dict[str, int]:
    """Ports of a contract design for ``net`` (name -> width), in port order."""
    # a netlist with its encoder lowered into it takes the feature bits as in_features
    data_in = "in_bits" if feature_bits_of(net) is None else "in_features"
    ports = {"clk": 1, "rst": 1, "in_valid": 1, data_in: net.n_inputs, "out_valid": 1}
    gs = net.group_sum
    if gs is not None:
        group = net.n_outputs // gs.classes
        ports["out_class"] = max(1, (gs.classes - 1).bit_length())
        ports["out_counts"] = gs.classes * group.bit_length()
    if gs is None or out_bits:
        ports["out_bits"] = net.n_outputs
    return ports


def _shannon(rows: list, sel: list[str]) -> str:
    """A LUT as nested ``?:`` on its inputs, ``sel[0]`` (the most significant
    index bit) outermost: ``rows`` split in halves, ``sel[0] ? upper : lower``.
    Equal halves need no mux; all-equal rows are a constant. (Indexing a
    constant with the inputs is as simple, but Yosys turns each such index
    into a wide shifter, which makes a proof of thousands of LUTs slow.)"""
    if all(r == rows[0] for r in rows):
        return "1'b1" if rows[0] else "1'b0"
    half = len(rows) // 2
    lo, hi = rows[:half], rows[half:]
    if lo == hi:
        return _shannon(lo, sel[1:])
    return f"({sel[0]} ? {_shannon(hi, sel[1:])} : {_shannon(lo, sel[1:])})"


def _tournament(winners: tuple[tuple[str | None, ...], ...], classes: int, cw: int, kw: int) -> list[str]:
    """The argmax as a tournament (module docstring), its class in wire ``ti_class``."""
    named = [nm for rnd in winners for nm in rnd if nm is not None]
    if len(set(named)) != len(named):
        raise ValueError("hint gives two tournament matches the same name")
    cands = [(f"cnt{c}", f"{kw}'d{c}") for c in range(classes)]
    w: list[str] = []
    r = 0
    while len(cands) > 1:
        if r >= len(winners) or len(winners[r]) != len(cands) // 2:
            raise ValueError(f"hint's tournament does not fit {classes} classes: round {r} has "
                             f"{len(cands) // 2} matches")
        nxt = []
        for j, nm in enumerate(winners[r]):
            (ca, ia), (cb, ib) = cands[2 * j], cands[2 * j + 1]
            cnt = f"tc{r}_{j}" if nm is None else _escaped(nm)
            w.append(f"    wire tg{r}_{j} = {cb} > {ca};")
            w.append(f"    wire [{cw - 1}:0] {cnt} = tg{r}_{j} ? {cb} : {ca};")
            w.append(f"    wire [{kw - 1}:0] ti{r}_{j} = tg{r}_{j} ? {ib} : {ia};")
            nxt.append((cnt, f"ti{r}_{j}"))
        cands = nxt + cands[len(cands) // 2 * 2:]
        r += 1
    if r != len(winners):
        raise ValueError(f"hint's tournament has {len(winners)} rounds, {classes} classes need {r}")
    w.append(f"    wire [{kw - 1}:0] ti_class = {cands[0][1]};")
    return w


def emit_reference_verilog(net: Netlist, name: str = "reference", *, latency: int = 0,
                           out_bits: bool = False, hint: NameHint | None = None) -> str:
    """Verilog text of module ``name`` computing ``net`` (see the module docstring).

    Raises ValueError for a bad module name, latency or ``hint``."""
    if not _IDENT.match(name):
        raise ValueError(f"module name {name!r} is not a Verilog identifier")
    if latency < 0:
        raise ValueError("latency must be >= 0")
    ports = port_widths(net, out_bits=out_bits)
    n_in, n_sig = net.n_inputs, net.n_signals
    w: list[str] = []
    decl = []
    for p, width in ports.items():
        d = "input" if p in ("clk", "rst", "in_valid", data_input(ports)) else "output"
        decl.append(f"    {d} wire {'' if width == 1 else f'[{width - 1}:0] '}{p}")
    w.append(f"module {name} (")
    w.append(",\n".join(decl))
    w.append(");")
    hint = hint or NameHint()
    wire = [f"s{i}" for i in range(n_sig)]
    for i, nm in hint.signals.items():
        if not n_in <= i < n_sig:
            raise ValueError(f"hint names signal {i}, not a LUT output (ids {n_in}..{n_sig - 1})")
        wire[i] = _escaped(nm)
    if len(set(hint.signals.values())) != len(hint.signals):
        raise ValueError("hint gives two signals the same name")
    # one wire per signal (many part-assignments of one wide vector make Yosys's reader slow)
    for i in range(n_in):
        w.append(f"    wire s{i} = {data_input(ports)}[{i}];")
    for l, layer in enumerate(net.layers):
        rows = table_to_rows(layer.tables, layer.k)  # [n, 2^k]: rows[n, j] = output of row j
        base = net.offsets[l]
        w.append(f"    // layer {l}: {layer.size} LUT(s) of {layer.k} input(s)")
        for n in range(layer.size):
            sel = [wire[int(i)] for i in layer.inputs[n]]
            w.append(f"    wire {wire[base + n]} = {_shannon(rows[n].tolist(), sel)};")
    n_out = net.n_outputs
    cat = ", ".join(wire[int(sig)] for sig in reversed(np.asarray(net.outputs).tolist()))
    w.append(f"    wire [{n_out - 1}:0] o = {{{cat}}};  // o[i] = output i")
    if hint.bits is not None:
        w.append(f"    wire [{n_out - 1}:0] {_escaped(hint.bits)} = o;")
    results: list[tuple[str, int, str]] = []  # (port, width, combinational expression)
    gs = net.group_sum
    if gs is not None:
        c_n = gs.classes
        group = n_out // c_n
        cw = group.bit_length()
        kw = ports["out_class"]
        w.append(f"    function [{cw - 1}:0] popcount(input [{group - 1}:0] v);")
        w.append("        integer i;")
        w.append("        begin")
        w.append("            popcount = 0;")
        w.append(f"            for (i = 0; i < {group}; i = i + 1) popcount = popcount + v[i];")
        w.append("        end")
        w.append("    endfunction")
        if hint.sums and len(hint.sums) != c_n:
            raise ValueError(f"hint has sums for {len(hint.sums)} classes, the netlist has {c_n}")
        if hint.counts and len(hint.counts) != c_n:
            raise ValueError(f"hint has counts for {len(hint.counts)} classes, the netlist has {c_n}")
        for c in range(c_n):
            nodes = hint.sums[c] if hint.sums else ()
            if nodes:
                leaves = _check_sums(nodes, group)
                names = [f"sum{c}_{j}" if nd.name is None else _escaped(nd.name) for j, nd in enumerate(nodes)]
                for j, nd in enumerate(nodes):
                    width = leaves[j].bit_length()
                    if nd.heap:
                        cols: list[list[str]] = [[] for _ in range(width)]
                        for q in nd.nodes:
                            for b in range(leaves[q].bit_length()):
                                cols[b].append(f"{names[q]}[{b}]")
                        cols[0] += [f"o[{c * group + b}]" for b in nd.bits]
                        w += _heap(f"hp{c}_{j}", cols, nd.heap, width)
                        w.append(f"    wire [{width - 1}:0] {names[j]} = hp{c}_{j};")
                        continue
                    parts = [f"o[{c * group + b}]" for b in nd.bits] + [names[q] for q in nd.nodes]
                    w.append(f"    wire [{width - 1}:0] {names[j]} = {' + '.join(parts)};")
                w.append(f"    wire [{cw - 1}:0] cnt{c} = {names[-1]};")
            else:
                w.append(f"    wire [{cw - 1}:0] cnt{c} = popcount(o[{c * group + group - 1}:{c * group}]);")
            if hint.counts and hint.counts[c] is not None:
                w.append(f"    wire [{cw - 1}:0] {_escaped(hint.counts[c])} = cnt{c};")
        if hint.winners is None:
            w.append(f"    wire [{cw - 1}:0] best_cnt0 = cnt0;")
            w.append(f"    wire [{kw - 1}:0] best_idx0 = {kw}'d0;")
            for c in range(1, c_n):
                w.append(f"    wire better{c} = cnt{c} > best_cnt{c - 1};")
                w.append(f"    wire [{cw - 1}:0] best_cnt{c} = better{c} ? cnt{c} : best_cnt{c - 1};")
                w.append(f"    wire [{kw - 1}:0] best_idx{c} = better{c} ? {kw}'d{c} : best_idx{c - 1};")
            results.append(("out_class", kw, f"best_idx{c_n - 1}"))
        else:
            w += _tournament(hint.winners, c_n, cw, kw)
            results.append(("out_class", kw, "ti_class"))
        cat = ", ".join(f"cnt{c}" for c in reversed(range(c_n)))
        results.append(("out_counts", c_n * cw, f"{{{cat}}}"))
    if "out_bits" in ports:
        results.append(("out_bits", n_out, "o"))
    if latency == 0:
        w.append("    assign out_valid = in_valid;")
        for port, _, expr in results:
            w.append(f"    assign {port} = {expr};")
    else:
        total = sum(width for _, width, _ in results)
        cat = ", ".join(expr for _, _, expr in results)
        w.append(f"    wire [{total - 1}:0] d0 = {{{cat}}};")
        for st in range(1, latency + 1):
            w.append(f"    reg [{total - 1}:0] d{st};")
            w.append(f"    always @(posedge clk) d{st} <= d{st - 1};")
        w += _valid_chain(latency)
        hi = total
        for port, width, _ in results:
            w.append(f"    assign {port} = d{latency}[{hi - 1}:{hi - width}];")
            hi -= width
    w.append("endmodule")
    return "\n".join(w) + "\n"

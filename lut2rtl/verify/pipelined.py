"""Formal proof of a pipelined design itself (not of a latency-0 recompile).

Plain bounded model checking (``sat -seq N+1`` over the design and the
reference delayed by N cycles) is the obvious proof, but one SAT problem
then holds N+1 copies of both circuits with no cut points: the 2,000-LUT
digits example at pipeline 4 (2.5 M variables, 6.6 M clauses) did not finish
in 10 minutes. The proof is therefore split into three parts, each a full
proof of one property, which together imply the contract of docs/hardware.md:

1. **Timing (structure).** Yosys reads the design (LUT primitives as
   black boxes, ``rst`` tied low), flattens it and writes its netlist; every
   register must be a plain D flip-flop (no enable, no asynchronous
   set/reset; anything else fails the proof), the register graph must be
   acyclic, and on *every* path from an input bit (``in_bits``,
   ``in_valid``) to an output bit there must be exactly N registers, and on
   every path from any source (a constant, a register's initial value) at
   most N. Each cell is taken to make all its outputs depend on all its
   inputs, an over-approximation: a false path can only make this check
   fail, never pass. A register skipped on one path (that path is one cycle
   early) fails here.
2. **Function (combinational equivalence).** With ``rst`` low, every
   register is replaced by a wire (``Q = D``); the resulting combinational
   circuit is proved equal to the reference written from ``netlist.pt``
   by :func:`lut2rtl.verify.formal.prove_equivalence` (its cut strategy and
   counterexamples included).
3. **Valid and reset (BMC).** ``out_valid`` of the design and of the
   reference with N registers (reset by ``rst``) are compared by bounded model
   checking over N+1 cycles from a free initial state, ``rst`` free in every
   cycle; only the cone of ``out_valid`` is given to SAT. The design is read
   with every module but its top (fabric, popcount) and every LUT primitive
   as a black box whose outputs become free values (``cutpoint -blackbox``),
   and the reference is its valid chain alone: sound, since a property that
   holds for all values of the black boxes' outputs holds for their real
   values (an ``out_valid`` that read them would fail the proof), and the
   proof's size no longer grows with the network.

On designs of :data:`PARALLEL_FROM` LUTs or more, part 2 (by far the
longest) runs in a Yosys process of its own while parts 1 and 3 run, and
the result is reported in the same order.

Why 1 + 2 imply the data contract: with ``rst`` low, each register copies
its input, so an output bit at cycle t is the combinational function of
part 2 applied to the values its paths start from; by part 1 every path
from an input starts at cycle t-N, and every other source has been flushed
after at most N cycles. So for t >= N and ``rst`` low in cycles t-N..t,
``out_*(t) = reference(in_bits(t-N))``; with part 3, ``out_valid(t) =
in_valid(t-N)`` and no reset in cycles t-N..t-1. Outputs while
``out_valid`` is 0, and before the pipeline first filled, are not part of
the contract and not proved.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..buildfolder import data_input
from ..errors import ToolError
from ..families import Family
from ..netlist import Netlist
from ..tools.yosys import run_yosys
from .formal import FormalResult, prove_equivalence, time_left
from .primitives import instantiated_modules, primitive_library
from .reference import emit_valid_reference

log = logging.getLogger(__name__)
# from this many LUTs on, the function proof runs in parallel with the timing and valid checks (a
# 100,000-gate network: about 100 s of timing/valid checks beside a 10-minute function proof)
PARALLEL_FROM = 20_000

__all__ = ["LatencyCheck", "blackbox_submodules", "check_latency", "combinational_wrapper", "prove_pipelined"]

INPUTS = ("in_bits", "in_valid")
DATA_OUTPUTS = ("out_class", "out_counts", "out_bits")
WRAP = "lut2rtl_comb"
BMC = "lut2rtl_bmc"
REF_SEQ = "lut2rtl_ref_seq"
# register cells after `proc` (no opt_dff: it would fold muxes into enables)
_PLAIN_FF = {"$dff"}
_ANY_FF = re.compile(r"^\$(_?)(s?dff|adff|aldff|dffsr|dlatch|sr|ff|_DFF|_SDFF|_DLATCH)", re.I)


@dataclass(frozen=True)
class LatencyCheck:
    """Part 1 of the proof: ``ok``, and what breaks it when not."""

    ok: bool
    detail: str
    registers: int  # register bits in the design


def _ports_decl(ports: dict[str, int]) -> str:
    parts = []
    for p, w in ports.items():
        d = "input" if p in ("clk", "rst", "in_valid", data_input(ports)) else "output"
        parts.append(f"{d} wire {'' if w == 1 else f'[{w - 1}:0] '}{p}")
    return ", ".join(parts)


def combinational_wrapper(top: str, ports: dict[str, int], name: str = WRAP) -> str:
    """A module with the core's ports that instantiates ``top`` with ``rst`` tied low."""
    conns = ", ".join(f".{p}({'1' + chr(39) + 'b0' if p == 'rst' else p})" for p in ports)
    return f"module {name}({_ports_decl(ports)});\n  {top} core ({conns});\nendmodule\n"


def _bmc_wrapper(top: str, ports: dict[str, int]) -> str:
    data_in = data_input(ports)
    n_in = ports[data_in]
    conns = f".clk(clk), .rst(rst), .in_valid(in_valid), .{data_in}({data_in})"
    return "\n".join([
        f"module {BMC}(input wire clk, input wire rst, input wire in_valid, "
        f"input wire [{n_in - 1}:0] {data_in}, output wire trigger);",
        "  wire d_valid, r_valid;",
        f"  {top} d_core ({conns}, .out_valid(d_valid));",
        f"  {REF_SEQ} r_core (.clk(clk), .rst(rst), .in_valid(in_valid), .out_valid(r_valid));",
        "  assign trigger = d_valid != r_valid;",
        "endmodule",
    ]) + "\n"


_MODULE = re.compile(r"^(\(\*.*\*\)\s*)?module\s+(\\\S+|[A-Za-z_][\w$]*)\s*\(", re.M)
_PORT_DECL = re.compile(r"^\s*(input|output|inout)\b[^;]*;\s*$")


def blackbox_submodules(text: str, top: str) -> str:
    """``text`` with every module but ``top`` reduced to its port declarations
    (a black box). For the out_valid proof: a black box's outputs are free, so
    a proof that holds with them holds for any contents (sound); and the
    fabric and popcount modules, most of a large design, are not parsed."""
    out: list[str] = []
    pos = 0
    for m in _MODULE.finditer(text):
        if m.start() < pos:
            continue
        end = text.find("\nendmodule", m.end())
        if end < 0:
            break
        end += len("\nendmodule")
        name = m.group(2)
        block = text[m.start():end]
        out.append(text[pos:m.start()])
        if name == top:
            out.append(block)
        else:
            header_end = block.index(";") + 1
            decls = [ln.strip() for ln in block[header_end:].splitlines() if _PORT_DECL.match(ln)]
            header = block[len(m.group(1) or ""):header_end]  # "module name(ports);"
            out.append("(* blackbox *)\n" + header + "\n" + "\n".join(decls) + "\nendmodule")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def check_latency(netlist_json: dict, top: str, latency: int, *, inputs: tuple[str, ...] = INPUTS
                  ) -> LatencyCheck:
    """Part 1 of the proof on a Yosys JSON netlist of the flattened module ``top``
    (see the module docstring)."""
    mod = netlist_json["modules"][top]
    driver: dict[int, tuple[str, int]] = {}  # bit -> (cell, index of the bit in its output port)
    cells = mod["cells"]
    bad_ff = sorted({c["type"] for c in cells.values() if _ANY_FF.match(c["type"]) and c["type"] not in _PLAIN_FF})
    n_regs = sum(len(c["connections"]["Q"]) for c in cells.values() if c["type"] in _PLAIN_FF)
    if bad_ff:
        return LatencyCheck(False, f"registers other than plain D flip-flops: {', '.join(bad_ff)}", n_regs)
    for name, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            if dirs.get(port) == "output" or (c["type"] in _PLAIN_FF and port == "Q"):
                for i, b in enumerate(bits):
                    if isinstance(b, int):
                        driver[b] = (name, i)
    src: set[int] = set()
    for p in inputs:
        src.update(b for b in mod["ports"][p]["bits"] if isinstance(b, int))
    # value of a bit: (set of register counts on paths from an input, most registers on any path from any source)
    memo_bit: dict[int, tuple[frozenset[int], int]] = {}
    memo_cell: dict[str, tuple[frozenset[int], int]] = {}
    none: tuple[frozenset[int], int] = (frozenset(), 0)
    on_stack: set[object] = set()

    def deps(key: object) -> list[object]:
        if isinstance(key, int):
            if key in src or key not in driver:
                return []
            cell, i = driver[key]
            c = cells[cell]
            if c["type"] in _PLAIN_FF:
                return [c["connections"]["D"][i]]
            return [cell]
        c = cells[key]  # type: ignore[index]
        dirs = c.get("port_directions", {})
        return [b for port, bits in c["connections"].items() if dirs.get(port) == "input" for b in bits]

    def value(key: object) -> tuple[frozenset[int], int]:
        if isinstance(key, str) and key not in cells:
            return none  # a constant bit ("0", "1", "x", "z")
        if isinstance(key, int):
            if key in src:
                return (frozenset({0}), 0)
            if key not in driver:
                return none  # undriven: a free value with no time
            cell, i = driver[key]
            c = cells[cell]
            if c["type"] in _PLAIN_FF:
                d_dist, d_depth = memo_bit[c["connections"]["D"][i]] if isinstance(
                    c["connections"]["D"][i], int) else none
                return (frozenset(x + 1 for x in d_dist), d_depth + 1)
            return memo_cell[cell]
        dist: set[int] = set()
        depth = 0
        for b in deps(key):
            bd, bdep = (memo_bit[b] if isinstance(b, int) else none)
            dist |= bd
            depth = max(depth, bdep)
        return (frozenset(dist), depth)

    def solve(root: int) -> tuple[frozenset[int], int]:
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            key, expanded = stack.pop()
            memo = memo_bit if isinstance(key, int) else memo_cell
            if key in memo:
                continue
            if expanded:
                on_stack.discard(key)
                memo[key] = value(key)  # type: ignore[index]
                continue
            if key in on_stack:
                raise _Cycle(key)
            on_stack.add(key)
            stack.append((key, True))
            for d in deps(key):
                if isinstance(d, int) or (isinstance(d, str) and d in cells):
                    dm = memo_bit if isinstance(d, int) else memo_cell
                    if d not in dm:
                        if d in on_stack:
                            raise _Cycle(d)
                        stack.append((d, False))
        return memo_bit[root] if root in memo_bit else none

    problems: list[str] = []
    try:
        for p in ("out_valid", *DATA_OUTPUTS):
            if p not in mod["ports"]:
                continue
            for i, b in enumerate(mod["ports"][p]["bits"]):
                if not isinstance(b, int):
                    continue  # a constant output bit has no timing
                dist, depth = solve(b)
                if dist and dist != {latency}:
                    problems.append(f"{p}[{i}] is reached from the inputs through "
                                    f"{' or '.join(str(x) for x in sorted(dist))} register(s), not exactly {latency}")
                elif depth > latency:
                    problems.append(f"{p}[{i}] has a path through {depth} registers (> latency {latency})")
                if len(problems) >= 5:
                    break
    except _Cycle as e:
        return LatencyCheck(False, f"a combinational or register loop through {e.args[0]}", n_regs)
    if problems:
        return LatencyCheck(False, "; ".join(problems), n_regs)
    return LatencyCheck(True, f"every input-to-output path crosses exactly {latency} of {n_regs} register bits",
                        n_regs)


class _Cycle(Exception):
    pass


def _yosys_json(top: str, ports: dict[str, int], family: Family | None, work: Path,
                timeout: float | None) -> dict:
    text = (work / "design.v").read_text(errors="replace")
    reads = []
    if family is not None and family.primitive is not None:
        (work / "prims.v").write_text(primitive_library(family, instantiated_modules(text)))
        reads.append("read_verilog -lib -DNO_INCLUDES prims.v")  # black boxes: only their ports matter here
    (work / "wrap.v").write_text(combinational_wrapper(top, ports))
    script = [*reads, "read_verilog design.v", "read_verilog wrap.v", f"hierarchy -check -top {WRAP}", "proc",
              "flatten", "opt_clean", "write_json structure.json"]
    run_yosys("\n".join(script), cwd=work, log_file="structure.log", timeout=timeout)
    return json.loads((work / "structure.json").read_text())


def _prove_valid(top: str, ports: dict[str, int], latency: int, family: Family | None, work: Path,
                 timeout: float | None) -> tuple[bool, str]:
    # out_valid's cone is the top module's valid chain: the submodules (fabric,
    # popcount) and the LUT primitives are black boxes, and the reference is its
    # valid chain alone, so the proof's size does not grow with the network
    text = (work / "design.v").read_text(errors="replace")
    reads = []
    if family is not None and family.primitive is not None:
        (work / "prims.v").write_text(primitive_library(family, instantiated_modules(text)))
        reads.append("read_verilog -lib -DNO_INCLUDES prims.v")
    (work / "design_valid.v").write_text(blackbox_submodules(text, top))
    (work / "ref_seq.v").write_text(emit_valid_reference(REF_SEQ, latency))
    (work / "bmc.v").write_text(_bmc_wrapper(top, ports))
    script = [*reads, "read_verilog design_valid.v", "read_verilog ref_seq.v", "read_verilog bmc.v",
              f"hierarchy -check -top {BMC}", "proc",
              # every black box's outputs become free values (SAT has no model of a black box)
              "cutpoint -blackbox", "flatten", "opt_clean",
              # a free initial state: the proof holds whatever the registers power up with
              "attrmap -remove init",
              "select -set cone w:trigger %ci*",
              f"sat -seq {latency + 1} -prove-skip {latency} -prove trigger 0 -set-def-inputs "
              "-show-inputs -show-outputs -verify @cone"]
    try:
        run_yosys("\n".join(script), cwd=work, log_file="valid.log", timeout=timeout)
    except ToolError as e:
        log_text = (work / "valid.log").read_text(errors="replace") if (work / "valid.log").exists() else ""
        if "SAT proof finished - model found: FAIL!" in log_text:
            return False, "out_valid differs from in_valid delayed by the latency (with reset) for some inputs"
        raise ToolError(f"formal check of {top} (out_valid) could not run: {e}", command=e.command,
                        stderr=e.stderr) from None
    return True, ""


def prove_pipelined(net: Netlist, verilog: str | Path, top: str, *, family: Family | None,
                    ports: dict[str, int], latency: int, out_bits: bool, timeout: float | None = 600.0,
                    keep_dir: Path | None = None, progress: Callable[[str], None] | None = None,
                    groups: Sequence[Sequence[int]] | None = None) -> FormalResult:
    """Prove the registered design ``top`` of ``verilog`` equal to ``net`` delayed by
    ``latency`` cycles (see the module docstring for what exactly is proved).

    ``groups``: the head's bits per class in the design's order (see
    :func:`~lut2rtl.verify.formal.prove_equivalence`). Returns a
    :class:`~lut2rtl.verify.formal.FormalResult` whose ``detail``
    names the part that failed; raises :class:`ToolError` when a tool cannot
    run or the proof does not finish within ``timeout``."""
    if latency < 1:
        raise ValueError("prove_pipelined is for latency >= 1; use prove_equivalence")
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()

    def left() -> float | None:
        return time_left(t0, timeout)

    with tempfile.TemporaryDirectory(prefix="lut2rtl-formal-") as tmp:
        work = Path(tmp) if keep_dir is None else Path(keep_dir)
        work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(verilog, work / "design.v")
        comb = work / "comb"
        comb.mkdir(exist_ok=True)
        (comb / "wrapped.v").write_text((work / "design.v").read_text(errors="replace") + "\n"
                                        + combinational_wrapper(top, ports))

        def function() -> FormalResult:
            return prove_equivalence(net, comb / "wrapped.v", WRAP, family=family, out_bits=out_bits,
                                     timeout=left(), keep_dir=comb, registers_as_wires=True, groups=groups)

        # on a large design the function proof (the long part) runs beside the timing and valid checks,
        # in a Yosys process of its own; a failed check still waits for it (a tool run is not interrupted)
        parallel = net.n_luts >= PARALLEL_FROM
        with ThreadPoolExecutor(max_workers=1) as pool:
            # in the caller's context: the Yosys runs of the function proof report to the caller's
            # tool_progress listener (a pool thread starts with an empty context, and was silent)
            pending = pool.submit(contextvars.copy_context().run, function) if parallel else None
            say("formal: timing (register count on every path)"
                + (", the function proof running beside it" if parallel else ""))
            timing = check_latency(_yosys_json(top, ports, family, work, left()), WRAP, latency,
                                   inputs=(data_input(ports), "in_valid"))
            if not timing.ok:
                return FormalResult(False, time.perf_counter() - t0, "retiming-aware: register count per path",
                                    f"timing: {timing.detail}")
            say("formal: out_valid and reset (BMC)")
            ok, why = _prove_valid(top, ports, latency, family, work, left())
            if not ok:
                return FormalResult(False, time.perf_counter() - t0, "retiming-aware: BMC of out_valid",
                                    f"valid: {why}")
            say("formal: function (registers as wires, rst low)")
            res = pending.result() if pending is not None else function()
    method = f"retiming-aware: timing check + BMC of out_valid ({latency + 1} cycles) + {res.method}"
    detail = (f"timing: {timing.detail}; out_valid: BMC over {latency + 1} cycles from any state; "
              f"function: {res.detail}")
    return FormalResult(res.proved, time.perf_counter() - t0, method,
                        detail if res.proved else f"function (registers as wires): {res.detail}")


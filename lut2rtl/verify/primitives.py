"""Just the primitive models a design uses, cut out of Yosys's ``cells_sim.v``.

Reading a whole model library (RAMs, DSPs, PLLs...) costs Yosys minutes under
WebAssembly; a LUT design needs a handful of small modules. The cut keeps
every line outside a module (``define``, ``ifdef``, ``timescale``; module attributes
are dropped) so macros
and conditionals still balance, and the modules the design instantiates
(transitively).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..families import Family

__all__ = ["instantiated_modules", "primitive_library"]

_MODULE = re.compile(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)", re.M)
_INST = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_$]*)\s*(?:#\s*\(|[A-Za-z_\\][^\s(;]*\s*\()", re.M)
_ATTR = re.compile(r"\(\*(?!\)).*?\*\)", re.S)
_KEYWORDS = {"module", "input", "output", "inout", "wire", "reg", "assign", "always", "initial", "function",
             "task", "if", "else", "case", "for", "begin", "end", "localparam", "parameter", "generate",
             "integer", "genvar", "specify", "endmodule", "return", "while", "repeat"}


def instantiated_modules(verilog_text: str) -> set[str]:
    """Names of the modules a Verilog text instantiates (a conservative regex scan)."""
    return {m.group(1) for m in _INST.finditer(verilog_text) if m.group(1) not in _KEYWORDS}


def _split(text: str) -> tuple[list[str], dict[str, str]]:
    """Lines outside modules (without `include) and the text of each module."""
    # (* lib_whitebox, abc9_box *) and other attributes are dropped: a whitebox
    # would not be flattened into the proof ("(*)" of "@(*)" is no attribute)
    text = _ATTR.sub(" ", text)
    outside: list[str] = []
    modules: dict[str, str] = {}
    current: list[str] | None = None
    name = ""
    for line in text.splitlines():
        if current is None:
            m = _MODULE.match(line)
            if m:
                current, name = [line], m.group(1)
                if re.search(r"\bendmodule\b", line):
                    modules[name], current = line, None
                continue
            if not line.lstrip().startswith("`include"):
                outside.append(line)
        else:
            current.append(line)
            if re.match(r"^\s*endmodule\b", line):
                modules[name] = "\n".join(current)
                current = None
    return outside, modules


def primitive_library(family: Family, used: set[str]) -> str:
    """Verilog text with the models of ``used`` (and what they instantiate) for ``family``."""
    model = family.sim_sources()[0][0]
    files: list[Path] = [model, *sorted(model.parent.glob("*.vh"))]
    preamble: list[str] = []
    models: dict[str, str] = {}
    for f in files:
        outside, mods = _split(f.read_text(errors="replace"))
        if f == model:
            preamble = outside
        for k, v in mods.items():
            models.setdefault(k, v)
    wanted: list[str] = []
    todo = sorted(n for n in used if n in models)
    while todo:
        n = todo.pop()
        if n in wanted:
            continue
        wanted.append(n)
        todo.extend(sorted(m for m in instantiated_modules(models[n]) if m in models and m not in wanted))
    # modules go where they sat in the file order is irrelevant to Verilog; the
    # preamble's conditionals wrap no module text any more, so they stay balanced
    body = "\n\n".join(models[n] for n in sorted(wanted))
    return "\n".join(preamble) + "\n\n" + body + "\n"

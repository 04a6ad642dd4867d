"""Negative controls: wrong designs that every check must reject.

:func:`flip_lut_init_bit` flips one truth-table bit of one LUT primitive in
a design's Verilog text (a wrong LUT the simulation and the proof must
find); :func:`drop_register` bypasses one pipeline register of the LUT
fabric (one path one cycle early) for the check of the pipelined design.
They edit text, so they work on any build folder, whatever compiled it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Flip", "drop_register", "flip_lut_init_bit", "lut_inits"]

@dataclass(frozen=True)
class Flip:
    """Which bit was flipped: LUT instance ``index`` (in text order), INIT bit ``bit``."""

    index: int
    bit: int
    old: int
    new: int


# `.LUT_INIT(16'h6a6a)` (iCE40) or `.INIT(64'h...)` (ECP5, Xilinx, Gowin), on one line or spread over lines
_INIT = re.compile(r"\.(LUT_INIT|INIT)\s*\(\s*(\d+)'h([0-9a-fA-F_]+)\s*\)")


def lut_inits(text: str) -> list[re.Match[str]]:
    """The INIT parameters of the LUT primitives in ``text``, in text order."""
    return list(_INIT.finditer(text))


# the instance's connections, up to its closing `);`, and a constant-0 connection
_CONN = re.compile(r"\.(I\d|[A-D])\s*\(\s*([^()]*?)\s*\)")
_CONST = re.compile(r"^\d+'[bh]0$")


def _reachable_rows(text: str, m: re.Match[str], width: int) -> list[int]:
    """INIT bits a LUT can select: those whose index has 0 on every input tied to constant 0."""
    end = text.find(");", m.end())
    tied = []
    for c in _CONN.finditer(text, m.end(), end if end >= 0 else len(text)):
        port, net = c.group(1), c.group(2)
        if _CONST.match(net.replace(" ", "")):
            tied.append(int(port[1:]) if port.startswith("I") else "ABCD".index(port))
    return [r for r in range(width) if all(not (r >> t) & 1 for t in tied)]


def flip_lut_init_bit(text: str, index: int = 0, row: int | None = None) -> tuple[str, Flip]:
    """``text`` with bit ``row`` of the ``index``-th LUT's INIT flipped.

    ``row=None`` takes the LUT's first reachable INIT bit on which it differs
    from its neighbour in the first non-constant input (so the flip changes
    the LUT's function where it is not constant). Raises ValueError if the
    design has no such LUT."""
    inits = lut_inits(text)
    if not 0 <= index < len(inits):
        raise ValueError(f"the design has {len(inits)} LUT primitive(s); no LUT number {index}")
    m = inits[index]
    width = int(m.group(2))
    value = int(m.group(3).replace("_", ""), 16)
    if row is None:
        rows = _reachable_rows(text, m, width)
        if not rows:
            raise ValueError(f"LUT {index} has no reachable INIT bit")
        row = rows[0]
    if not 0 <= row < width:
        raise ValueError(f"INIT bit {row} is outside the {width}-bit INIT of LUT {index}")
    new = value ^ (1 << row)
    digits = (width + 3) // 4
    repl = f".{m.group(1)}({width}'h{new:0{digits}X})"
    return text[:m.start()] + repl + text[m.end():], Flip(index, row, value, new)


# a register Amaranth writes: `always @(posedge clk)\n    name <= \$12 ;`
_AMARANTH_REG = re.compile(r"always @\(posedge clk\)\s*\n(\s*)([\\\w$.]+\s?)\s*<=\s*([^;]+);")
# one bit of a pipeline register of the structural fabric writer: `r1_0[3] <= n18;`
_REG_BIT = re.compile(r"^(\s*)(r\d+_\d+)\[(\d+)\]\s*<=\s*([^;]+);", re.M)


def drop_register(text: str, index: int = 0) -> tuple[str, str]:
    """``text`` with the ``index``-th data register bypassed: its readers see
    its input in the same cycle (that path is one cycle early). Registers
    are counted in text order, the ``valid`` chain excluded: first those of
    the structural fabric (``rN_M[i] <= ...;``), then single registers as
    Amaranth writes them. Returns the new text and a description; raises
    ValueError if there are not that many."""
    bits = list(_REG_BIT.finditer(text))
    singles = [m for m in _AMARANTH_REG.finditer(text) if "valid" not in m.group(2)]
    if not 0 <= index < len(bits) + len(singles):
        raise ValueError(f"the design has {len(bits) + len(singles)} data register(s); no register number {index}")
    if index >= len(bits):
        m = singles[index - len(bits)]
        name, src = m.group(2).strip(), m.group(3).strip()
        # the reg keeps its name and readers; it just stops being clocked
        # (an escaped name such as `\\$7 ` ends at white space: keep the text as it was)
        repl = f"always @*\n{m.group(1)}{m.group(2).strip()} = {m.group(3)};"
        return text[:m.start()] + repl + text[m.end():], f"register {name} bypassed (its readers see {src})"
    m = bits[index]
    name, bit, src = m.group(2), m.group(3), m.group(4).strip()
    bypass = f"{name}_bypass{bit}"
    # the register stays; its readers (all after its always block: the writer
    # emits stage by stage) get a wire carrying the register's input instead
    reader = re.compile(rf"\b{re.escape(name)}\[{bit}\](?!\s*<=)")
    blk = text.rfind("always", 0, m.start())
    if blk < 0:
        raise ValueError(f"register {name}[{bit}] is not inside an always block")
    head, tail = text[:blk], text[blk:]
    if reader.search(head):
        raise ValueError(f"register {name}[{bit}] is read before its always block; cannot bypass it")
    tail, n = reader.subn(bypass, tail)
    if n == 0:
        raise ValueError(f"register {name}[{bit}] has no reader")
    return head + f"wire {bypass} = {src};\n  " + tail, f"{name}[{bit}] bypassed (its readers see {src})"

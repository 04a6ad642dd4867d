"""Parsers of saved tool reports (Yosys ``stat -json``, nextpnr ``--report``).

They read files, never run tools, so they are tested on small committed
samples. Counts are grouped into LUTs, flip-flops and carry cells with the
cell names of each FPGA family's Yosys techmap.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ToolError

__all__ = ["CellCounts", "PnrReport", "classify_cells", "parse_nextpnr_report", "parse_yosys_stat"]

_LUT = re.compile(r"^(SB_LUT4|LUT[1-6]|LUT6_2|LUT4|TRELLIS_COMB|MUXF[78])$")
_FF = re.compile(r"^(SB_DFF\w*|TRELLIS_FF|FD[CPRSE]\w*|LD\w*|DFF\w*|\$_DFF\w*|\$_SDFF\w*|\$_DFFE\w*|\$_SDFFE\w*)$")
_CARRY = re.compile(r"^(SB_CARRY|CCU2C|CARRY4|CARRY8|ALU)$")


@dataclass(frozen=True)
class CellCounts:
    """Cell counts of a synthesized design, grouped."""

    luts: int
    ffs: int
    carry: int
    other: int
    by_type: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"luts": self.luts, "ffs": self.ffs, "carry": self.carry, "other": self.other,
                "by_type": dict(sorted(self.by_type.items()))}


def classify_cells(by_type: dict[str, int]) -> CellCounts:
    """Group a ``cell type -> count`` map into LUTs, FFs, carry and other.

    Wide-function muxes (Xilinx MUXF7/MUXF8, ECP5 PFUMX/L6MUX21) are not
    LUTs: they are counted as ``other`` so the LUT figure counts LUT
    primitives in every family. A Xilinx ``LUT6_2`` (one LUT6 with its two
    outputs used) is one LUT."""
    luts = ffs = carry = other = 0
    for t, n in by_type.items():
        if t.startswith("$scopeinfo"):  # hierarchy bookkeeping, not hardware
            continue
        if t.startswith("MUXF") or t in ("PFUMX", "L6MUX21"):
            other += n
        elif _LUT.match(t):
            luts += n
        elif _FF.match(t):
            ffs += n
        elif _CARRY.match(t):
            carry += n
        else:
            other += n
    return CellCounts(luts, ffs, carry, other, dict(by_type))


def _load_json(path: str | os.PathLike[str], what: str) -> Any:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ToolError(f"cannot read the {what} {p}: {e.strerror or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ToolError(f"the {what} {p} is not valid JSON (line {e.lineno}): {e.msg}") from None


def parse_yosys_stat(path: str | os.PathLike[str], *, top: str | None = None) -> CellCounts:
    """Cell counts from a Yosys ``stat -json`` file (the whole design, or the
    module ``top`` when given; a flattened design has one module)."""
    data = _load_json(path, "Yosys statistics")
    if not isinstance(data, dict) or "modules" not in data:
        raise ToolError(f"the Yosys statistics {path} have no 'modules' (not the output of 'stat -json'?)")
    if top is not None:
        mods = data["modules"]
        key = top if top in mods else "\\" + top
        if key not in mods:
            raise ToolError(f"the Yosys statistics {path} have no module {top!r} (have: {', '.join(mods)})")
        entry = mods[key]
    else:
        entry = data.get("design")
        if entry is None:  # a one-module design: Yosys omits the 'design' total
            if len(data["modules"]) != 1:
                raise ToolError(f"the Yosys statistics {path} have no 'design' total")
            entry = next(iter(data["modules"].values()))
    by_type = entry.get("num_cells_by_type", {})
    return classify_cells({str(k): int(v) for k, v in by_type.items()})


@dataclass(frozen=True)
class PnrReport:
    """What a nextpnr ``--report`` JSON says."""

    fmax: dict[str, dict[str, float]]  # clock -> {"achieved": MHz, "constraint": MHz}
    utilization: dict[str, dict[str, int]]  # cell type -> {"used", "available"}
    critical_path_ns: dict[str, float]  # "from -> to" -> summed delay of the path

    def fmax_mhz(self) -> float | None:
        """The lowest achieved Fmax over the clocks (None: no clocked path)."""
        vals = [c["achieved"] for c in self.fmax.values() if "achieved" in c]
        return min(vals) if vals else None

    def used(self, cell: str) -> int | None:
        u = self.utilization.get(cell)
        return None if u is None else int(u["used"])

    def available(self, cell: str) -> int | None:
        u = self.utilization.get(cell)
        return None if u is None else int(u["available"])

    def as_dict(self) -> dict[str, Any]:
        return {"fmax": self.fmax, "utilization": self.utilization, "critical_path_ns": self.critical_path_ns}


def parse_nextpnr_report(path: str | os.PathLike[str]) -> PnrReport:
    """Fmax per clock, utilization per cell type and the length of each
    critical path from a nextpnr ``--report`` JSON."""
    data = _load_json(path, "nextpnr report")
    if not isinstance(data, dict) or "utilization" not in data:
        raise ToolError(f"the nextpnr report {path} has no 'utilization' (not written by 'nextpnr --report'?)")
    fmax: dict[str, dict[str, float]] = {}
    for clk, v in (data.get("fmax") or {}).items():
        fmax[str(clk)] = {k: float(v[k]) for k in ("achieved", "constraint") if k in v}
    util = {str(k): {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in data["utilization"].items()}
    paths: dict[str, float] = {}
    for p in data.get("critical_paths") or []:
        key = f"{p.get('from', '?')} -> {p.get('to', '?')}"
        paths[key] = round(sum(float(seg.get("delay", 0.0)) for seg in p.get("path", [])), 3)
    return PnrReport(fmax, util, paths)

"""GroupSum popcount: lut2rtl's compressor/adder trees vs a behavioural sum.

Each design is converted by Amaranth to RTLIL and synthesized by Yosys
(``synth_ice40``, ``synth_ecp5 -nowidelut``, ``synth_xilinx``); the cell
counts come from ``stat -json``. The behavioural baseline (one ``sum()`` per
class, which Yosys turns into its own ``$macc`` compressor) is measured in
the same run. On iCE40 the popcount of one class of ``g`` bits is also packed
by nextpnr (``--pack-only``, HX8K): carry chains fed from logic or read by
logic cost extra cells there (feed-in/feed-out), so placed logic cells are
the honest figure.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from amaranth.back import rtlil
from amaranth.hdl import Module, Signal

from lut2rtl.errors import Lut2RtlError
from lut2rtl.rtl.groupsum import _build_popcount, _plan_popcount, _Stager, build_groupsum
from lut2rtl.tools.reports import parse_yosys_stat
from lut2rtl.tools.yosys import run_yosys

TITLE = "GroupSum popcount: LUTs per input bit after Yosys"

FAMILIES = {"ice40": ("synth_ice40", 4), "ecp5": ("synth_ecp5 -nowidelut", 4), "xilinx": ("synth_xilinx", 6)}


def _behavioural(classes: int, g: int) -> tuple[Module, list[Signal]]:
    m = Module()
    bits = Signal(classes * g, name="bits")
    outs = [Signal(g.bit_length(), name=f"count{c}") for c in range(classes)]
    for c, o in enumerate(outs):
        m.d.comb += o.eq(sum(bits[c * g + i] for i in range(g)))
    return m, [bits, *outs]


def _ours(classes: int, g: int, family: str, lut_size: int, argmax: bool) -> tuple[Module, list[Signal]]:
    m = Module()
    bits = Signal(classes * g, name="bits")
    if argmax:
        hw = build_groupsum(m, bits, classes, lut_size=lut_size, target=family)
        return m, [bits, *hw.counts, hw.cls]
    plan = _plan_popcount(g, lut_size)
    stager = _Stager(m, frozenset(), "sync")
    outs = []
    for c in range(classes):
        root, _ = _build_popcount(m, [bits[c * g + i] for i in range(g)], plan, stager, f"c{c}")
        o = Signal(g.bit_length(), name=f"count{c}")
        m.d.comb += o.eq(root)
        outs.append(o)
    return m, [bits, *outs]


def _synth(m: Module, ports: list[Signal], synth: str, work: Path, tag: str, pack: bool = False) -> dict[str, Any]:
    (work / f"{tag}.il").write_text(rtlil.convert(m, ports=ports, name="top"))
    json_out = f" -json {tag}_net.json" if pack else ""
    t0 = time.monotonic()
    run_yosys(f"read_rtlil {tag}.il; {synth} -top top{json_out}; tee -q -o {tag}.json stat -json", cwd=work)
    cells = parse_yosys_stat(work / f"{tag}.json")
    out: dict[str, Any] = {"luts": cells.luts, "carry": cells.carry, "by_type": cells.by_type,
                           "synth_s": round(time.monotonic() - t0, 1)}
    if pack:
        from lut2rtl.tools._run import run_tool
        from lut2rtl.tools.nextpnr import find_nextpnr
        run_tool([find_nextpnr("ice40"), "--hx8k", "--package", "ct256", "--json", f"{tag}_net.json",
                  "--pack-only", "--report", f"{tag}_rep.json"], cwd=work, what="nextpnr-ice40")
        rep = json.loads((work / f"{tag}_rep.json").read_text())
        out["lc"] = rep["utilization"]["ICESTORM_LC"]["used"]
    return out


def run(quick: bool) -> dict[str, Any]:
    sizes = [(2, 100)] if quick else [(10, 100), (10, 200)]  # 10 x 200: the digits examples' GroupSum
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_popcount_") as tmp:
        work = Path(tmp)
        for family, (synth, lut_size) in FAMILIES.items():
            for classes, g in sizes:
                n = classes * g
                base = None
                for design in ("behavioural", "lut2rtl", "lut2rtl + argmax"):
                    row: dict[str, Any] = {"family": family, "size": f"{classes}x{g}", "design": design}
                    try:
                        if design == "behavioural":
                            m, ports = _behavioural(classes, g)
                        else:
                            m, ports = _ours(classes, g, family, lut_size, design.endswith("argmax"))
                        r = _synth(m, ports, synth, work, f"{family}_{g}_{len(rows)}")
                    except Lut2RtlError as e:  # a missing or failing tool is a result row
                        row["note"] = str(e)
                        rows.append(row)
                        continue
                    row.update(luts=r["luts"], carry=r["carry"], luts_per_bit=round(r["luts"] / n, 3),
                               carry_per_bit=round(r["carry"] / n, 3))
                    if design == "behavioural":
                        base = r["luts"]
                    elif base:
                        row["vs_behavioural"] = round(r["luts"] / base, 3)
                    rows.append(row)
            if family == "ice40" and not quick:
                # placed-cell view of one class (its pins fit an HX8K package)
                g = 100
                for design in ("behavioural", "lut2rtl"):
                    row = {"family": "ice40 (nextpnr LC)", "size": f"1x{g}", "design": design}
                    try:
                        m, ports = _behavioural(1, g) if design == "behavioural" else _ours(1, g, family, 4, False)
                        r = _synth(m, ports, synth, work, f"pack_{design}", pack=True)
                        row.update(luts=r["lc"], carry=r["carry"], luts_per_bit=round(r["lc"] / g, 3),
                                   carry_per_bit=round(r["carry"] / g, 3))
                    except Lut2RtlError as e:
                        row["note"] = str(e)
                    rows.append(row)
    return {
        "columns": ["family", "size", "design", "luts", "carry", "luts_per_bit", "carry_per_bit",
                    "vs_behavioural", "note"],
        "rows": rows,
        "notes": ("Post-synthesis cell counts from Yosys `stat` (no place and route), per popcount input bit. "
                  "`luts` counts SB_LUT4 / LUT4 / LUT1-6 (Xilinx MUXF7/8 excluded); `carry` counts SB_CARRY, "
                  "CCU2C (2 bits each, holding 2 LUT4s not included in `luts`) and CARRY4 cells. "
                  "`lut2rtl` is the popcount alone (argmax excluded), as is `behavioural`; `lut2rtl + argmax` "
                  "adds the comparator/mux tournament. ECP5 uses `-nowidelut` (wide-LUT muxes otherwise "
                  "inflate LUT4 counts). The `ice40 (nextpnr LC)` rows report logic cells after "
                  "`nextpnr-ice40 --pack-only` for one class of 100 bits: carry chains fed from or read by "
                  "logic add feed-in/feed-out cells that the Yosys LUT count does not show."),
    }


if __name__ == "__main__":
    res = run("--quick" in sys.argv)
    for row in res["rows"]:
        print(row)

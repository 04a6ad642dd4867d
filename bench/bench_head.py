"""The GroupSum head: popcount per input bit, and the whole core against Yosys.

Popcount (one row per family): the head alone, compiled from a network whose
outputs are its input bits (so the fabric is just the fused leaf counters),
against a behavioural popcount (one ``sum()`` per class, Yosys builds its own
compressor), 10 classes x 100 bits, Yosys ``stat``; on iCE40 also the logic
cells nextpnr packs for one class of 100 bits (carry chains fed from, or read
by, logic cost feed-in/feed-out cells there).

Whole core (fabric + popcount + argmax): ours (``--target <family>``, default
``--opt 3``) against two alternatives built from the same checkpoint in the
same run: "generic" (``--target generic --opt 0``: the same head in plain
logic, Yosys/ABC map everything) and "behavioural" (the fabric as plain logic,
a behavioural ``sum()`` per class and a plain argmax loop: what Yosys makes
from plain logic without lut2rtl's head). Yosys counts on every family;
nextpnr (measurement harness: serial-in shift register, registered outputs)
on iCE40/ECP5 where the core fits the device. Rows at pipeline 0 and at the
clock-driven setting (``--clock-mhz``, the generic build gets the same stage
count as ours).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import progress, working

TITLE = "GroupSum head: popcount per bit and whole core vs Yosys"
ROOT = Path(__file__).resolve().parent.parent
# clock targets of the clock-driven rows (MHz)
CLOCK = {"up5k": 50.0, "hx8k": 200.0, "ecp5-25k": 250.0, "xc7a35t": 300.0}
COLUMNS = ["what", "model", "device", "setting", "design", "luts", "carry", "lut_eq", "ffs", "lc", "luts_per_bit",
           "ratio", "fmax_mhz", "latency_cycles", "latency_ns", "note"]


def _behavioural(net: Any) -> Any:
    """Plain logic: the fabric (generic), a behavioural sum per class and a plain argmax."""
    from amaranth.hdl import Cat, ClockDomain, Module, Signal
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    from lut2rtl.rtl import LutNetwork
    from lut2rtl.rtl.groupsum import class_width, count_width

    classes = net.group_sum.classes
    g = net.n_outputs // classes
    fabric = LutNetwork(net.replace(group_sum=None), "generic", 0, fabric="amaranth")
    cw, clw = count_width(g), class_width(classes)

    class Top(wiring.Component):
        def __init__(self) -> None:
            super().__init__({"clk": In(1), "rst": In(1), "in_valid": In(1), "in_bits": In(net.n_inputs),
                              "out_valid": Out(1), "out_class": Out(clw), "out_counts": Out(classes * cw)})

        def elaborate(self, platform: Any) -> Module:
            m = Module()
            m.domains.sync = cd = ClockDomain("sync")
            m.d.comb += [cd.clk.eq(self.clk), cd.rst.eq(self.rst)]
            m.submodules.fabric = fabric
            bits = Signal(net.n_outputs)
            m.d.comb += [fabric.in_bits.eq(self.in_bits), bits.eq(fabric.out_bits), self.out_valid.eq(self.in_valid)]
            counts = [Signal(cw, name=f"count{c}") for c in range(classes)]
            for c, cnt in enumerate(counts):
                m.d.comb += cnt.eq(sum(bits[c * g + i] for i in range(g)))
            best, idx = counts[0], 0
            for c in range(1, classes):  # ties keep the lower index
                nb, ni = Signal(cw, name=f"best{c}"), Signal(clw, name=f"idx{c}")
                m.d.comb += [nb.eq(best), ni.eq(idx)]
                with m.If(counts[c] > best):
                    m.d.comb += [nb.eq(counts[c]), ni.eq(c)]
                best, idx = nb, ni
            m.d.comb += [self.out_class.eq(idx), self.out_counts.eq(Cat(*counts))]
            return m

    return Top()


def _yosys(folder: Path, top: str, family: str, extra: str = "") -> dict[str, Any]:
    from lut2rtl.families import FAMILIES
    from lut2rtl.tools.reports import parse_yosys_stat
    from lut2rtl.tools.yosys import run_yosys, synth_script

    src = f"{top}.v"
    with working(f"Yosys synth_{family} {extra} on {folder.name}".replace("  ", " ")):
        run_yosys(synth_script(FAMILIES[family], top, [src], stat_out="stat.json", extra=extra), cwd=folder,
                  timeout=3600)
    s = parse_yosys_stat(folder / "stat.json")
    # lut_eq: the LUTs with those inside the carry primitives (ECP5: two LUT4s per CCU2C), what ratios compare
    return {"luts": s.luts, "carry": s.carry, "lut_eq": s.luts + FAMILIES[family].carry_luts * s.carry, "ffs": s.ffs}


def _build(net: Any, work: Path, tag: str, target: str, **kw: Any) -> tuple[Path, dict[str, Any]]:
    from lut2rtl.compile import compile_netlist

    res = compile_netlist(net, work / tag, target=target, name="core", **kw)
    return res.out_dir, res.manifest.to_json()


def _behavioural_build(net: Any, work: Path, tag: str) -> Path:
    """A build folder (manifest + Verilog) around the behavioural design, for Yosys and synth."""
    from amaranth.back import verilog

    folder, _ = _build(net, work, tag + "-shape", "generic", opt=0)  # the same ports, manifest and vectors
    # a class's sum() is a chain as long as its group (1,000 bits in the 50K-gate network): Amaranth checks
    # and converts expressions recursively (minutes for that network)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20 * (net.n_outputs // net.group_sum.classes) + 1000))
    try:
        with working(f"writing the behavioural design ({tag})"):
            text = verilog.convert(_behavioural(net), name="core", emit_src=False)
    finally:
        sys.setrecursionlimit(limit)
    out = work / tag
    folder.rename(out)
    (out / "core.v").write_text(text)
    return out


def _wires(n: int, classes: int) -> Any:
    """A network whose outputs are its inputs (one layer of buffers): the head alone."""
    from lut2rtl.netlist import GroupSum, Layer, Netlist, rows_to_table

    buf = rows_to_table(np.array([[False, True]]))[0]
    return Netlist(n_inputs=n, layers=(Layer(k=1, inputs=np.arange(n)[:, None], tables=np.full(n, buf)),),
                   group_sum=GroupSum(classes=classes))


def _popcount_rows(quick: bool, work: Path) -> list[dict[str, Any]]:
    classes, g = (2, 100) if quick else (10, 100)
    n = classes * g
    net = _wires(n, classes)
    rows = []
    for family, extra in (("ice40", ""), ("ecp5", "-nowidelut"), ("xilinx", "")):
        beh = _behavioural_build(net, work, f"pc-beh-{family}")
        b = _yosys(beh, "core", family, extra)
        ours, _ = _build(net, work, f"pc-{family}", family)
        o = _yosys(ours, "core", family, extra)
        for design, r in (("behavioural", b), ("lut2rtl", o)):
            rows.append({"what": "popcount", "model": f"{classes}x{g} bits", "device": family + (f" {extra}" if extra
                                                                                              else ""),
                         "setting": "p0", "design": design, **r, "luts_per_bit": round(r["lut_eq"] / n, 3),
                         "ratio": round(r["lut_eq"] / b["lut_eq"], 3)})
            progress(f"{rows[-1]}")
    if not quick:  # placed logic cells of one class (its pins fit an HX8K package)
        from lut2rtl.synth import synthesize

        one = _wires(g, 1)
        for design in ("behavioural", "lut2rtl"):
            folder = _behavioural_build(one, work, "pc1-beh") if design == "behavioural" else \
                _build(one, work, "pc1", "ice40")[0]
            rep = synthesize(folder, "hx8k", top="core", out_dir=work / f"pc1-{design}-synth").report
            lc = rep["pnr"]["logic_cells_used"]
            rows.append({"what": "popcount (nextpnr)", "model": f"1x{g} bits", "device": "hx8k", "setting": "p0",
                         "design": design, "lc": lc, "luts": rep["core_luts"], "carry": rep["carry"],
                         "luts_per_bit": round(lc / g, 3), "note": "lc: ICESTORM_LC after nextpnr, core top"})
            progress(f"{rows[-1]}")
    return rows


# `python -m bench.bench_head --only digits,hx8k`: a partial run (model or device names; `core`: no popcount
# rows; `p0` or `clock`: that setting only)
ONLY: set[str] = set()


def _models(quick: bool) -> list[tuple[str, Any]]:
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.netgen import random_netlist

    models = [("examples/digits.pt", load_checkpoint(ROOT / "examples" / "digits.pt"))]
    if not quick:
        models.append(("random 10K gates, 100 classes", random_netlist(1, 256, [5000, 5000], 2, classes=100)))
        models.append(("random 50K gates, 10 classes", random_netlist(2, 256, [10000] * 5, 2, classes=10)))
    return [m for m in models if not ONLY or any(o in m[0] for o in ONLY)]


def _core_rows(quick: bool, work: Path) -> list[dict[str, Any]]:
    from lut2rtl.errors import Lut2RtlError
    from lut2rtl.families import DEVICE_FAMILY, DEVICES
    from lut2rtl.synth import synthesize

    devices = ["hx8k", "xc7a35t"] if quick else ["up5k", "hx8k", "ecp5-25k", "xc7a35t"]
    devices = [d for d in devices if not ONLY or d in ONLY or not any(o in DEVICES for o in ONLY)]
    rows: list[dict[str, Any]] = []
    for mname, net in _models(quick):
        beh = _behavioural_build(net, work, f"beh-{len(rows)}")
        for device in devices:
            fam, dev = DEVICE_FAMILY[device], DEVICES[device]
            extras = ["", "-nowidelut"] if fam.name == "ecp5" else [""]
            for setting in ("p0", f"{CLOCK[device]:g} MHz"):
                if ONLY & {"p0", "clock"} and ("p0" if setting == "p0" else "clock") not in ONLY:
                    continue
                t0 = time.perf_counter()
                clock = None if setting == "p0" else CLOCK[device]
                # the device picks the delay model's calibration (an up5k is ~2.6x slower than an hx8k)
                progress(f"{mname}, {device}, {setting}: compiling ours and the generic build ...")
                ours, man = _build(net, work, f"o-{len(rows)}", fam.name, clock_mhz=clock,
                                   device=None if clock is None else device)
                stages = man["pipeline"]
                gen, _ = _build(net, work, f"g-{len(rows)}", "generic", opt=0, pipeline=stages)
                designs = [("lut2rtl", ours), ("generic", gen)] + ([("behavioural", beh)] if stages == 0 else [])
                for extra in extras:
                    base = None
                    for design, folder in designs:
                        row: dict[str, Any] = {"what": "whole core", "model": mname, "device": device + (
                            f" {extra}" if extra else ""), "setting": setting, "design": design,
                            "latency_cycles": stages}
                        try:
                            row.update(_yosys(folder, "core", fam.name, extra))
                            if design == "lut2rtl":
                                base = row["lut_eq"]
                            elif base:
                                row["ratio"] = round(base / row["lut_eq"], 3)  # ours / this alternative
                            fits = row["lut_eq"] <= dev.luts * 0.9 and row.get("ffs", 0) <= dev.ffs
                            if dev.nextpnr_args and not extra and fits:
                                with working(f"nextpnr {device} on {folder.name}"):
                                    rep = synthesize(folder, device, top="harness", freq_mhz=clock,
                                                     out_dir=work / f"s-{len(rows)}-{design}").report
                                row.update(fmax_mhz=rep["fmax_mhz"], lc=rep["pnr"]["logic_cells_used"],
                                           latency_ns=rep["latency_ns"])
                            elif dev.nextpnr_args and not extra:
                                row["note"] = "does not fit the device: Yosys counts only"
                        except Lut2RtlError as e:
                            row["note"] = str(e)[:200]
                        row["seconds"] = round(time.perf_counter() - t0, 1)
                        rows.append(row)
                        progress(f"{row}")
    return rows


def run(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_head_") as tmp:
        work = Path(tmp)
        rows = ([] if "core" in ONLY else _popcount_rows(quick, work)) + _core_rows(quick, work)
    return {
        "columns": COLUMNS,
        "rows": rows,
        "notes": ("`luts`: SB_LUT4 / LUT4 / LUT1-6 after Yosys `synth_<family>` (`stat`); `carry`: SB_CARRY, CCU2C "
                  "(2 bits, its 2 LUT4s not in `luts`), CARRY4; `lut_eq`: `luts` plus the LUTs inside the carry "
                  "primitives (ECP5: 2 per CCU2C; iCE40 and Xilinx: none), what `ratio` and `luts_per_bit` use; "
                  "`lc`: nextpnr logic cells (ICESTORM_LC, "
                  "TRELLIS_COMB) of the harness top (core + shift register + output registers). `ratio`: for "
                  "popcount rows this design's LUTs / the behavioural popcount's; for whole-core rows ours / "
                  "this alternative (below 1: ours is smaller). The generic build gets the same register stages "
                  "as ours; the behavioural design has none (p0 rows only). Fmax from nextpnr, one seed."),
    }


if __name__ == "__main__":
    if "--only" in sys.argv:
        ONLY.update(sys.argv[sys.argv.index("--only") + 1].split(","))
    res = run("--quick" in sys.argv)
    for row in res["rows"]:
        print(row)

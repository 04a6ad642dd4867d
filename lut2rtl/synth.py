"""Synthesis and place-and-route of a compiled build folder (`lut2rtl synth`).

Flow: read the build folder's manifest and Verilog; pick the top (the core
itself, the measurement harness of :mod:`lut2rtl.rtl.harness`, the same
harness around the AXI4-Stream wrapper of :mod:`lut2rtl.rtl.axis`, or the
UART board top of :mod:`lut2rtl.rtl.uart`); Yosys ``synth_<family>`` gives
cell counts (of the top, of the core alone and, for ``axis``, of the
wrapped core alone); nextpnr (iCE40, ECP5) gives placement, utilization and Fmax, over one
or more seeds. Xilinx parts have no open place-and-route: Yosys
``synth_xilinx`` gives LUT/FF counts, and a Vivado TCL script and XDC are
written for users who have Vivado.

Everything lands in one report folder (written atomically): the Verilog read,
the Yosys script and log, the tools' raw reports, ``report.json`` and
``report.md``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .buildfolder import Manifest, read_build_folder
from .errors import CompileError, OptionError, OutputError, ToolNotFound
from .families import DEVICE_FAMILY, DEVICES, Device, Family
from .fileio import atomic_output_dir
from .rtl.harness import AXIS_HARNESS_NAME, HARNESS_NAME, axis_interface, harness_verilog
from .rtl.uart import UART_NAME, request_bytes, uart_top_verilog
from .tools._run import find_tool, run_tool
from .tools.nextpnr import find_nextpnr, run_nextpnr
from .tools.reports import CellCounts, classify_cells, parse_nextpnr_report, parse_yosys_stat
from .tools.yosys import run_yosys, synth_script

log = logging.getLogger(__name__)

__all__ = ["BOARDS", "DEVICES", "Board", "SynthResult", "choose_top", "render_markdown", "synthesize"]

CONSTRAINTS_DIR = Path(__file__).resolve().parent.parent / "constraints"


@dataclass(frozen=True)
class Board:
    """A development board: its FPGA(s), clock, UART pins file and package."""

    name: str
    devices: tuple[str, ...]
    clk_hz: float
    constraints: str  # file name under constraints/
    package: str | None = None  # overrides the device's default package


BOARDS: dict[str, Board] = {b.name: b for b in (
    Board("icebreaker", ("up5k",), 12e6, "icebreaker.pcf"),
    Board("ulx3s", ("ecp5-25k", "ecp5-85k"), 25e6, "ulx3s.lpf", package="CABGA381"),
    Board("arty", ("xc7a35t",), 100e6, "arty_a7.xdc"),
)}

TOPS = ("core", "harness", "axis", "uart")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SynthResult:
    """The report (also written as ``report.json``) and the report folder."""

    out_dir: Path
    report: dict[str, Any]


def core_pin_count(manifest: Manifest) -> int:
    return sum(w for _, w in manifest.ports.values())


def choose_top(manifest: Manifest, device: Device, top: str | None, board: str | None) -> str:
    """The top to synthesize: ``uart`` with a board; else the core when its
    ports fit the package's pins, else the harness."""
    if top is None:
        if board is not None:
            return "uart"
        return "core" if core_pin_count(manifest) <= device.pins else "harness"
    if top not in TOPS:
        raise OptionError("top", f"must be one of {', '.join(TOPS)}, not {top!r}")
    if top == "core" and device.nextpnr_args and core_pin_count(manifest) > device.pins:
        raise CompileError(f"the core has {core_pin_count(manifest)} port bits, the {device.name} package "
                           f"{device.package} has {device.pins} pins: use --top harness")
    if board is not None and top != "uart":
        raise OptionError("board", "applies to the uart top only")
    if top == "axis":
        axis_interface(manifest)  # or its error
    return top


def _board_for(device: Device, board: str | None) -> Board:
    if board is None:
        for b in BOARDS.values():
            if device.name in b.devices:
                return b
        raise CompileError(f"no board known with a {device.name}: --top uart needs --board "
                           f"({', '.join(BOARDS)})")
    if board not in BOARDS:
        raise CompileError(f"unknown board {board!r} (known: {', '.join(BOARDS)})")
    b = BOARDS[board]
    if device.name not in b.devices:
        raise CompileError(f"the {b.name} board carries {' or '.join(b.devices)}, not {device.name}")
    return b


def _includes(manifest: Manifest, top: str) -> list[str]:
    ports = manifest.ports
    inc = [f"core: LUT layers ({manifest.family.name} target, opt {manifest.opt}, pipeline {manifest.pipeline})"]
    if "out_counts" in ports:
        inc.append(f"popcount of {manifest.classes} classes")
    if "out_class" in ports:
        inc.append("argmax")
    n_in = ports[manifest.input_port][1]
    if top == "harness":
        inc.append(f"harness: {n_in}-bit input shift register, output registers, XOR of "
                   f"{sum(w for n, (d, w) in ports.items() if d == 'out' and n not in ('out_valid', 'out_class'))}"
                   " output bits")
    elif top == "axis":
        ax = manifest.interface
        assert ax is not None
        inc.append(f"AXI4-Stream wrapper: {ax['fifo_depth']}-entry output FIFO, credit counter")
        inc.append(f"harness: {n_in}-bit input shift register, registered handshakes, XOR of "
                   f"{ax['ports']['m_axis_tdata']['width']}-bit m_axis_tdata")
    elif top == "uart":
        inc.append(f"UART board top: receiver, {8 * request_bytes(n_in)}-bit request buffer, "
                   "transmitter, power-on reset")
    return inc


def synthesize(
    build_dir: str | os.PathLike[str],
    device: str | None = None,
    *,
    top: str | None = None,
    board: str | None = None,
    freq_mhz: float | None = None,
    seeds: int = 1,
    out_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    baud: int = 115200,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> SynthResult:
    """Synthesize (and, for iCE40/ECP5, place and route) a build folder.

    Returns the report; writes it (``report.json``, ``report.md``) with every
    intermediate file into ``out_dir`` (default: ``<build_dir>-synth-<device>``
    beside the build folder, which stays untouched). ``device`` defaults to
    the one the folder was compiled for (``compile --device``)."""
    if device is None:
        device = read_build_folder(build_dir).manifest.options.get("device")
        if device is None:
            raise OptionError("device", "is needed: the build folder was compiled without --device "
                                        f"(one of {', '.join(DEVICES)})")
    if device not in DEVICES:
        raise CompileError(f"unknown device {device!r} (known: {', '.join(DEVICES)})")
    if seeds < 1:
        raise OptionError("seeds", f"must be >= 1, not {seeds}")
    if freq_mhz is not None and not freq_mhz > 0:
        raise OptionError("freq", f"must be a positive frequency in MHz, not {freq_mhz}")
    dev, fam = DEVICES[device], DEVICE_FAMILY[device]
    build = read_build_folder(build_dir)
    manifest, core_v = build.manifest, build.verilog
    prims = manifest.primitives
    if prims not in (None, fam):
        raise CompileError(f"the build folder was compiled with {prims.name} primitives; it cannot be synthesized "
                           f"for {dev.name} ({fam.name}): recompile with --target {fam.name} or generic")
    top_kind = choose_top(manifest, dev, top, board)
    axis = manifest.interface if top_kind == "axis" else None
    the_board = _board_for(dev, board) if top_kind == "uart" else None
    say = progress or (lambda _msg: None)
    dest = Path(out_dir) if out_dir is not None else Path(f"{Path(build_dir)}-synth-{dev.name}")
    if dest.resolve() == Path(build_dir).resolve():
        raise OutputError("the report folder cannot be the build folder itself")

    with atomic_output_dir(dest, force=force) as work:
        shutil.copyfile(core_v, work / core_v.name)
        sources = [core_v.name]
        if top_kind == "core":
            top_module = manifest.top
        elif top_kind in ("harness", "axis"):
            top_module = AXIS_HARNESS_NAME if top_kind == "axis" else HARNESS_NAME
            (work / f"{top_module}.v").write_text(harness_verilog(manifest, axis=top_kind == "axis"))
            sources.append(f"{top_module}.v")
        else:
            assert the_board is not None
            top_module = UART_NAME
            (work / f"{UART_NAME}.v").write_text(uart_top_verilog(manifest, clk_hz=the_board.clk_hz, baud=baud))
            sources.append(f"{UART_NAME}.v")

        say(f"yosys: synthesizing {top_module} for {fam.name}")
        script = synth_script(fam, top_module, sources,
                              json_out="synth.json" if dev.nextpnr_args else None, stat_out="stat.json")
        if top_kind != "core":
            # the core alone as well: what it costs without the wrapper
            script += "\ndesign -reset\n" + synth_script(fam, manifest.top, [core_v.name],
                                                         stat_out="core_stat.json")
        if axis is not None:
            # and the wrapped core (wrapper + core, no harness): what a user's design instantiates
            script += "\ndesign -reset\n" + synth_script(fam, axis["top"], [core_v.name],
                                                         stat_out="wrapper_stat.json")
        (work / "synth.ys").write_text(script + "\n")
        run_yosys("script synth.ys", cwd=work, log_file="yosys.log", timeout=timeout, progress=progress)
        total = parse_yosys_stat(work / "stat.json")
        core = parse_yosys_stat(work / "core_stat.json") if top_kind != "core" else total
        wrapped = parse_yosys_stat(work / "wrapper_stat.json") if axis is not None else None

        report: dict[str, Any] = {
            "lut2rtl_version": __version__,
            "build": {k: manifest.to_json()[k] for k in ("name", "top", "target", "pipeline", "latency", "opt",
                                                         "n_inputs", "n_outputs", "classes", "checkpoint_sha256")},
            "device": dev.name, "family": fam.name, "part": dev.part,
            "package": the_board.package if the_board and the_board.package else dev.package,
            "top": top_kind, "top_module": top_module, "board": the_board.name if the_board else None,
            "includes": _includes(manifest, top_kind),
            "yosys": {"total": total.as_dict(), "core": core.as_dict(),
                      **({"wrapper": wrapped.as_dict()} if wrapped else {})},
            "luts": total.luts, "ffs": total.ffs, "carry": total.carry,
            "core_luts": core.luts, "core_ffs": core.ffs,
            "wrapper_luts": wrapped.luts if wrapped else None, "wrapper_ffs": wrapped.ffs if wrapped else None,
            # cells that are neither LUT, FF nor carry (block RAM for a wide FIFO)
            "wrapper_other": _other_cells(wrapped) if wrapped else None,
            "lut_capacity": dev.luts,
            # the wrapper's: s_axis handshake to m_axis handshake
            "latency_cycles": manifest.latency if axis is None else axis["latency"],
            "fmax_mhz": None, "latency_ns": None, "latency_note": None, "pnr": None,
            "utilization_pct": round(100.0 * total.luts / dev.luts, 2),
            "utilization_of": "LUTs (Yosys count) / device LUTs",
        }
        clock = manifest.options.get("clock_mhz")  # the clock the build's stages were placed for
        report["clock_mhz"] = clock
        if dev.nextpnr_args:
            target = freq_mhz if freq_mhz is not None or the_board else clock
            report["pnr"] = _place_and_route(work, dev, fam, the_board, target, seeds, timeout, say)
            fmax = report["pnr"]["fmax_mhz"]
            report["clock_met"] = None if clock is None or fmax is None else fmax >= clock
            _fill_timing(report)
        if fam.vivado:
            _write_vivado(work, dev, the_board, top_module, sources, freq_mhz or (the_board.clk_hz / 1e6
                                                                                  if the_board else 100.0))
            report["vivado"] = {"script": "vivado.tcl", "xdc": f"{top_module}.xdc",
                                "run": "vivado -mode batch -source vivado.tcl"}
        (work / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        (work / "report.md").write_text(render_markdown(report))
    return SynthResult(dest, report)


def _other_cells(counts: CellCounts) -> dict[str, int]:
    return {t: n for t, n in sorted(counts.by_type.items()) if classify_cells({t: n}).other}


def _package_args(dev: Device, board: Board | None) -> tuple[str, ...]:
    args = list(dev.nextpnr_args)
    if board is not None and board.package is not None:
        args[args.index("--package") + 1] = board.package
    return tuple(args)


def _place_and_route(work: Path, dev: Device, fam: Family, board: Board | None, freq_mhz: float | None, seeds: int,
                     timeout: float | None, say: Progress) -> dict[str, Any]:
    freq = freq_mhz if freq_mhz is not None else (board.clk_hz / 1e6 if board else dev.default_freq_mhz)
    constraints = None
    if board is not None:
        src = CONSTRAINTS_DIR / board.constraints
        if not src.is_file():
            raise CompileError(f"the constraints file {src} is missing")
        shutil.copyfile(src, work / board.constraints)
        constraints = board.constraints
    find_nextpnr(fam)
    runs = []
    for seed in range(1, seeds + 1):
        say(f"nextpnr-{fam.nextpnr}: {dev.name}, seed {seed}/{seeds}, target {freq:g} MHz")
        rep = f"nextpnr_seed{seed}.json"
        bit = None
        if board is not None:
            bit = f"seed{seed}{fam.bitstream_suffix}"
        run_nextpnr(fam, _package_args(dev, board), "synth.json", cwd=work, report=rep,
                    log_file=f"nextpnr_seed{seed}.log", timeout=timeout, freq_mhz=freq, seed=seed,
                    constraints=constraints, bitstream=bit, progress=say)
        pr = parse_nextpnr_report(work / rep)
        runs.append({"seed": seed, "fmax_mhz": _round(pr.fmax_mhz()), "report": rep, "parsed": pr.as_dict(),
                     "bitstream": bit})
    best = max(runs, key=lambda r: -1.0 if r["fmax_mhz"] is None else r["fmax_mhz"])
    parsed = best["parsed"]
    lc = fam.logic_cell
    util = parsed["utilization"]
    out = {
        "target_mhz": freq, "seeds": [{k: r[k] for k in ("seed", "fmax_mhz")} for r in runs],
        "best_seed": best["seed"], "fmax_mhz": best["fmax_mhz"], "fmax": parsed["fmax"],
        "critical_path_ns": parsed["critical_path_ns"], "utilization": util,
        "logic_cell": lc, "logic_cells_used": util.get(lc, {}).get("used"),
        "logic_cells_available": util.get(lc, {}).get("available"),
        "ff_cell": fam.ff_cell or None, "ffs_used": util.get(fam.ff_cell, {}).get("used") if fam.ff_cell else None,
        "ffs_available": util.get(fam.ff_cell, {}).get("available") if fam.ff_cell else None,
        "met_target": best["fmax_mhz"] is not None and best["fmax_mhz"] >= freq,
    }
    if board is not None and best["bitstream"]:
        out["bitstream"] = _pack(work, fam, best["bitstream"], timeout)
    return out


def _pack(work: Path, fam: Family, placed: str, timeout: float | None) -> str | None:
    # the bitstream of the best seed; a missing packer is not an error of the flow
    name, tool = fam.packer
    try:
        exe = find_tool(tool)
    except ToolNotFound as e:
        log.warning("no bitstream: %s", e)
        return None
    run_tool([exe, placed, name], cwd=work, timeout=timeout, what=tool)
    return name


def _round(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(float(x), nd)


def _fill_timing(report: dict[str, Any]) -> None:
    pnr = report["pnr"]
    fmax = pnr["fmax_mhz"]
    cycles = report["latency_cycles"]
    report["fmax_mhz"] = fmax
    if pnr.get("logic_cells_available"):
        report["utilization_pct"] = round(100.0 * pnr["logic_cells_used"] / pnr["logic_cells_available"], 2)
        report["utilization_of"] = f"{pnr['logic_cell']} used / available (nextpnr)"
    if pnr.get("ffs_available"):  # where flip-flops are a resource of their own, they may fill first
        report["ff_utilization_pct"] = round(100.0 * pnr["ffs_used"] / pnr["ffs_available"], 2)
    if fmax is None:
        # no clocked path (a pipeline-0 core alone): the longest pin-to-pin path
        async_paths = [v for k, v in pnr["critical_path_ns"].items() if k.startswith("<async>")
                       and k.endswith("<async>")]
        if async_paths:
            report["latency_ns"] = max(async_paths)
            report["latency_note"] = "combinational pin-to-pin path (includes I/O buffers)"
        return
    period = 1000.0 / fmax
    if cycles == 0:
        report["latency_ns"] = round(period, 2)
        report["latency_note"] = ("combinational path delay: register-to-register period through the core "
                                  "(includes one clock-to-out and one setup time of the wrapper's registers)")
    else:
        report["latency_ns"] = round(cycles * period, 2)
        report["latency_note"] = f"{cycles} cycles at Fmax"


def _write_vivado(work: Path, dev: Device, board: Board | None, top_module: str, sources: list[str],
                  freq_mhz: float) -> None:
    period = 1000.0 / freq_mhz
    xdc = f"{top_module}.xdc"
    if board is not None:
        src = CONSTRAINTS_DIR / board.constraints
        if not src.is_file():
            raise CompileError(f"the constraints file {src} is missing")
        (work / xdc).write_text(src.read_text())
        mode = ""
    else:
        (work / xdc).write_text(f"# out-of-context clock for {top_module} (lut2rtl synth)\n"
                                f"create_clock -period {period:.3f} -name clk [get_ports clk]\n")
        mode = " -mode out_of_context"
    tcl = [
        f"# Vivado batch flow for {top_module} on {dev.part} (written by lut2rtl synth)",
        "# run: vivado -mode batch -source vivado.tcl",
        f"read_verilog {{{' '.join(sources)}}}",
        f"read_xdc{' -mode out_of_context' if mode else ''} {xdc}",
        f"synth_design -top {top_module} -part {dev.part}{mode}",
        "report_utilization -file post_synth_utilization.rpt",
        "opt_design",
        "place_design",
        "route_design",
        "report_utilization -file utilization.rpt",
        "report_timing_summary -file timing.rpt",
    ]
    if board is not None:
        tcl.append(f"write_bitstream -force {top_module}.bit")
    (work / "vivado.tcl").write_text("\n".join(tcl) + "\n")


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.2f}{unit}"
    return f"{v}{unit}"


def render_markdown(report: Mapping[str, Any]) -> str:
    """A short markdown summary of a synthesis report."""
    b = report["build"]
    rows = [
        ("design", f"{b.get('name')} ({b.get('target')} target, opt {b.get('opt')}, pipeline {b.get('pipeline')})"),
        ("device", f"{report['device']} ({report['part']}, {report['package']})"),
        ("top", f"{report['top']} (`{report['top_module']}`)" + (f", board {report['board']}" if report['board']
                                                                   else "")),
        ("LUTs", f"{report['luts']} (core alone: {report['core_luts']})"),
        ("FFs", f"{report['ffs']} (core alone: {report['core_ffs']})"),
        *([("AXI4-Stream core", f"{report['wrapper_luts']} LUTs, {report['wrapper_ffs']} FFs"
                                + "".join(f", {n} {t}" for t, n in (report.get("wrapper_other") or {}).items())
                                + " (wrapper and core, no harness)")] if report.get("wrapper_luts") is not None
          else []),
        ("carry cells", _fmt(report["carry"])),
        ("utilization", f"{_fmt(report['utilization_pct'], ' %')} ({report['utilization_of']})"
                        + (f"; flip-flops {_fmt(report['ff_utilization_pct'], ' %')} ({report['pnr']['ff_cell']})"
                           if report.get("ff_utilization_pct") is not None else "")),
        ("Fmax", _fmt(report["fmax_mhz"], " MHz")),
        ("latency", f"{report['latency_cycles']} cycles, {_fmt(report['latency_ns'], ' ns')}"
                    + (f" ({report['latency_note']})" if report["latency_note"] else "")),
    ]
    pnr = report.get("pnr")
    if pnr:
        seeds = ", ".join(f"{s['seed']}: {_fmt(s['fmax_mhz'])}" for s in pnr["seeds"])
        met = "no register-to-register path" if pnr["fmax_mhz"] is None else \
            ("met" if pnr["met_target"] else "missed")
        rows.append(("nextpnr", f"target {pnr['target_mhz']:g} MHz ({met}), Fmax by seed {seeds}"))
    if report.get("clock_mhz"):
        met = {True: "met", False: "MISSED", None: "not timed"}[report.get("clock_met")]
        rows.append(("compile clock", f"{report['clock_mhz']:g} MHz (--clock-mhz): {met}"))
    if report.get("vivado"):
        rows.append(("Vivado", f"`{report['vivado']['run']}` (no open place-and-route for {report['family']})"))
    lines = [f"# lut2rtl synth: {b.get('name')} on {report['device']}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "Counted: " + "; ".join(report["includes"]) + "."]
    if report["top"] == "core" and report["fmax_mhz"] is not None:
        lines += ["", "Fmax of the core alone covers only paths between its own registers (its inputs and "
                      "outputs are pins); `--top harness` times every path through the core."]
    lines.append("")
    return "\n".join(lines)

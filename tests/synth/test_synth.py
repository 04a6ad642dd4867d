from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lut2rtl.buildfolder import Manifest, read_build_folder
from lut2rtl.cli.main import main
from lut2rtl.errors import BuildFolderError, CompileError, OutputError
from lut2rtl.netgen import random_netlist
from lut2rtl.rtl.harness import HARNESS_NAME, harness_verilog
from lut2rtl.rtl.uart import request_bytes, uart_top_verilog
from lut2rtl.synth import DEVICES, choose_top, synthesize
from lut2rtl.tools.reports import parse_nextpnr_report, parse_yosys_stat

from .standin import make_build


@pytest.fixture(scope="module")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = random_netlist(7, 24, [48, 32, 20], 2, classes=4)
    return make_build(net, tmp_path_factory.mktemp("b") / "small", name="small", pipeline=0, target="ice40")


def _manifest_json(n_in: int, **extra_out: int) -> dict:
    ports = {"clk": {"dir": "in", "width": 1}, "rst": {"dir": "in", "width": 1},
             "in_valid": {"dir": "in", "width": 1}, "in_bits": {"dir": "in", "width": n_in},
             "out_valid": {"dir": "out", "width": 1}}
    ports.update({k: {"dir": "out", "width": w} for k, w in extra_out.items()})
    return {"top": "core", "target": "ice40", "pipeline": 0, "latency": 0, "n_inputs": n_in, "n_outputs": 8,
            "classes": None, "out_bits": False, "files": {"verilog": "core.v"}, "ports": ports}


def _manifest(n_in: int, **extra_out: int) -> Manifest:
    return Manifest.from_json(_manifest_json(n_in, **extra_out), Path("core.json"))


def test_choose_top() -> None:
    small, big = _manifest(8, out_class=2, out_counts=8), _manifest(300, out_class=4, out_counts=50)
    up5k, ecp5 = DEVICES["up5k"], DEVICES["ecp5-25k"]
    assert choose_top(small, up5k, None, None) == "core"
    assert choose_top(big, up5k, None, None) == "harness"
    assert choose_top(big, ecp5, None, None) == "harness"
    assert choose_top(big, up5k, None, "icebreaker") == "uart"
    with pytest.raises(CompileError, match=r"^the core has 358 port bits, the up5k package sg48 has 39 pins: "
                                           r"use --top harness$"):
        choose_top(big, up5k, "core", None)
    with pytest.raises(CompileError, match=r"^board applies to the uart top only$"):
        choose_top(small, up5k, "harness", "icebreaker")


def test_harness_verilog_instantiates_the_core_by_manifest() -> None:
    v = harness_verilog(_manifest(10, out_class=2, out_counts=6, out_bits=5))
    assert re.search(rf"module {HARNESS_NAME}\(", v)
    assert re.search(r"^\s*core core \(", v, re.M)
    for port in ("clk", "rst", "in_valid", "in_bits", "out_valid", "out_class", "out_counts", "out_bits"):
        assert f".{port}(" in v
    # every other output bit is registered, then XORed down in registered stages
    assert "{ core_out_counts, core_out_bits }" in v or "{ core_out_bits, core_out_counts }" in v
    assert v.count("^") >= 3
    header = v[v.index(f"module {HARNESS_NAME}("):].split(";")[0]
    assert sorted(header[header.index("(") + 1:].rstrip(")").replace(" ", "").split(",")) == \
        ["clk", "out_class", "out_valid", "out_xor", "rst", "ser_in", "ser_valid"]


def test_wrapper_errors() -> None:
    with pytest.raises(BuildFolderError, match=r"port 'out_valid' is missing"):
        m = _manifest_json(4)
        del m["ports"]["out_valid"]
        Manifest.from_json(m, Path("core.json"))
    with pytest.raises(CompileError, match=r"cannot make 115200 baud within 3%"):
        uart_top_verilog(_manifest(8, out_class=2), clk_hz=1e6)
    with pytest.raises(CompileError, match=r"neither out_class nor out_bits"):
        uart_top_verilog(_manifest(8), clk_hz=12e6)
    assert request_bytes(192) == 24 and request_bytes(193) == 25 and request_bytes(1) == 1


def test_bad_build_folders(tmp_path: Path, small_build: Path) -> None:
    with pytest.raises(BuildFolderError, match=r"no such build folder"):
        synthesize(tmp_path / "nope", "up5k")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildFolderError, match=r"no manifest"):
        synthesize(tmp_path / "empty", "up5k")
    with pytest.raises(CompileError, match=r"^unknown device 'zynq'"):
        synthesize(small_build, "zynq")
    with pytest.raises(CompileError, match=r"^the ulx3s board carries ecp5-25k or ecp5-85k, not up5k$"):
        synthesize(small_build, "up5k", top="uart", board="ulx3s", out_dir=tmp_path / "r")
    if read_build_folder(small_build).manifest.primitives:
        with pytest.raises(CompileError, match=r"compiled with ice40 primitives; .* recompile with --target ecp5"):
            synthesize(small_build, "ecp5-25k", out_dir=tmp_path / "r")
    exists = tmp_path / "exists"
    exists.mkdir()
    with pytest.raises(OutputError, match=r"already exists"):
        synthesize(small_build, "up5k", out_dir=exists)
    assert not (tmp_path / "r").exists()


def test_cli_error_exit(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["synth", str(tmp_path / "nope"), "--device", "up5k"])
    assert r.exit_code == 1
    assert re.fullmatch(r"error: .*nope: no such build folder \(compile one with `lut2rtl compile`\)\n", r.stderr)


@pytest.mark.yosys
def test_device_from_the_build_folder(tmp_path: Path, small_build: Path) -> None:
    # without --device: the part the folder was compiled for; a folder compiled without one needs it
    r = CliRunner().invoke(main, ["synth", str(small_build)])
    assert r.exit_code == 1
    assert re.fullmatch(r"error: --device is needed: the build folder was compiled without --device \(one of .*\)\n",
                        r.stderr)
    from lut2rtl.compile import compile_netlist

    net = random_netlist(7, 24, [48, 32, 20], 2, classes=4)
    out = compile_netlist(net, tmp_path / "xc", target="xilinx", opt=1, device="xc7a35t").out_dir
    assert read_build_folder(out).manifest.options["device"] == "xc7a35t"
    # no --device: the folder's part (Yosys counts for xc7a35t; no place and route)
    rep = synthesize(out, out_dir=tmp_path / "r").report
    assert rep["device"] == "xc7a35t" and rep["luts"] > 0


@pytest.mark.yosys
@pytest.mark.nextpnr
def test_flow_ice40_harness_via_cli(tmp_path: Path, small_build: Path) -> None:
    out = tmp_path / "rep"
    r = CliRunner().invoke(main, ["synth", str(small_build), "--device", "up5k", "--top", "harness", "--seeds", "2",
                                  "--freq", "30", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep == json.loads((out / "report.json").read_text())
    # the figures are the saved tool reports, parsed independently
    total = parse_yosys_stat(out / "stat.json")
    core = parse_yosys_stat(out / "core_stat.json")
    assert (rep["luts"], rep["ffs"], rep["core_luts"]) == (total.luts, total.ffs, core.luts)
    assert rep["core_luts"] > 0 and rep["ffs"] >= 24 + 2  # the 24-bit shift register and output registers
    assert rep["luts"] >= rep["core_luts"]  # the harness keeps every output live: nothing optimized away
    assert [s["seed"] for s in rep["pnr"]["seeds"]] == [1, 2]
    best = parse_nextpnr_report(out / f"nextpnr_seed{rep['pnr']['best_seed']}.json")
    assert rep["fmax_mhz"] == pytest.approx(best.fmax_mhz(), abs=0.01)
    assert rep["fmax_mhz"] == max(s["fmax_mhz"] for s in rep["pnr"]["seeds"])
    assert rep["latency_cycles"] == 0 and rep["latency_ns"] == pytest.approx(1000 / rep["fmax_mhz"], abs=0.01)
    lc = best.used("ICESTORM_LC")
    assert rep["utilization_pct"] == pytest.approx(100 * lc / 5280, abs=0.01)
    assert any(s.startswith("harness: 24-bit input shift register") for s in rep["includes"])
    md = (out / "report.md").read_text()
    assert f"| Fmax | {rep['fmax_mhz']:.2f} MHz |" in md


@pytest.mark.yosys
def test_flow_xilinx_writes_vivado_files(tmp_path: Path) -> None:
    net = random_netlist(8, 16, [24, 12], 2, classes=3)
    build = make_build(net, tmp_path / "generic", name="gen", pipeline=1, target="generic")
    res = synthesize(build, "xc7a35t", top="harness", out_dir=tmp_path / "x", freq_mhz=200)
    rep = res.report
    assert rep["pnr"] is None and rep["fmax_mhz"] is None and rep["luts"] > 0
    tcl = (res.out_dir / "vivado.tcl").read_text()
    assert f"synth_design -top {HARNESS_NAME} -part xc7a35ticsg324-1L -mode out_of_context" in tcl
    assert "report_timing_summary" in tcl and "route_design" in tcl
    assert "create_clock -period 5.000 -name clk [get_ports clk]" in (res.out_dir / f"{HARNESS_NAME}.xdc").read_text()


def test_uart_request_encoding_is_lsb_first() -> None:
    import numpy as np

    from lut2rtl.rtl.uart import decode_response, encode_request

    bits = np.zeros(11, dtype=np.uint8)
    bits[[0, 3, 8, 10]] = 1
    assert encode_request(bits) == bytes([0b0000_1001, 0b0000_0101])
    rng = np.random.default_rng(1)
    for n in (1, 7, 8, 9, 192):
        b = rng.integers(0, 2, n).astype(bool)
        enc = encode_request(b)
        assert len(enc) == request_bytes(n)
        np.testing.assert_array_equal(decode_response(enc, n), b)
    with pytest.raises(ValueError, match="come as 2 bytes, got 1"):
        decode_response(b"\x00", 9)


@pytest.mark.slow
@pytest.mark.yosys
@pytest.mark.nextpnr
@pytest.mark.parametrize("device", ["up5k", "ecp5-25k"])
def test_pipelining_raises_fmax(tmp_path: Path, device: str) -> None:
    """The done-when check: the digits example, pipeline 0 vs 4, on iCE40 and ECP5."""
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.families import DEVICE_FAMILY

    root = Path(__file__).resolve().parents[2] / "examples"
    ckpt = root / "digits.pt" if (root / "digits.pt").exists() else root / "random_digits.pt"
    net = load_checkpoint(ckpt)
    target = DEVICE_FAMILY[device].name
    fmax = {}
    for p in (0, 4):
        build = make_build(net, tmp_path / f"b{p}", name="digits", pipeline=p, target=target)
        rep = synthesize(build, device, out_dir=tmp_path / f"r{p}", freq_mhz=100 if target == "ice40" else 200).report
        assert rep["top"] == "harness" and rep["latency_cycles"] == p
        fmax[p] = rep["fmax_mhz"]
    assert fmax[4] > fmax[0] * 1.5, fmax


@pytest.mark.parametrize("cycles", [0, 4])
def test_timing_from_saved_nextpnr_reports(cycles: int) -> None:
    """Latency and Fmax come from a saved nextpnr report (no tool run)."""
    from lut2rtl.synth import _fill_timing, render_markdown

    data = Path(__file__).parents[1] / "tools" / "data"
    for name, fmax in (("nextpnr_ice40_harness.json", True), ("nextpnr_ice40_noclk.json", False)):
        pr = parse_nextpnr_report(data / name)
        rep = {"latency_cycles": cycles, "utilization_pct": 0.0, "utilization_of": "", "latency_ns": None,
               "latency_note": None, "fmax_mhz": None,
               "pnr": {"fmax_mhz": pr.fmax_mhz(), "critical_path_ns": pr.critical_path_ns, "logic_cell": "ICESTORM_LC",
                       "logic_cells_used": pr.used("ICESTORM_LC"), "logic_cells_available": 5280,
                       "target_mhz": 48.0, "met_target": False, "seeds": [{"seed": 1, "fmax_mhz": pr.fmax_mhz()}]}}
        _fill_timing(rep)
        assert rep["utilization_pct"] == pytest.approx(100 * pr.used("ICESTORM_LC") / 5280, abs=0.01)
        if fmax:
            period = 1000 / pr.fmax_mhz()
            assert rep["latency_ns"] == pytest.approx(period * max(cycles, 1), abs=0.01)
        else:  # registers only at the pins: no Fmax, and no pin-to-pin path in this sample
            assert rep["fmax_mhz"] is None and rep["latency_ns"] is None
            assert "<async> -> <async>" not in pr.critical_path_ns
        rep.update({"build": {"name": "x", "target": "ice40", "opt": 2, "pipeline": cycles}, "device": "up5k",
                    "part": "p", "package": "sg48", "top": "harness", "top_module": "h", "board": None, "luts": 1,
                    "core_luts": 1, "ffs": 1, "core_ffs": 0, "carry": 0, "includes": ["core"], "family": "ice40"})
        md = render_markdown(rep)
        assert f"| latency | {cycles} cycles, " in md


def test_flip_flop_fill_where_flip_flops_are_their_own_resource() -> None:
    """ECP5's TRELLIS_FF fills apart from its logic cells: the report gives both (a design can run out of
    flip-flops first); iCE40's flip-flops sit in the logic cells, so it gives one figure."""
    from lut2rtl.families import get_family
    from lut2rtl.synth import _fill_timing, render_markdown

    data = Path(__file__).parents[1] / "tools" / "data"
    for name, family in (("nextpnr_ecp5_harness.json", "ecp5"), ("nextpnr_ice40_harness.json", "ice40")):
        fam = get_family(family)
        pr = parse_nextpnr_report(data / name)
        ff = fam.ff_cell
        rep: dict = {"latency_cycles": 4, "utilization_pct": 0.0, "utilization_of": "", "latency_ns": None,
                     "latency_note": None, "fmax_mhz": None,
                     "pnr": {"fmax_mhz": pr.fmax_mhz(), "critical_path_ns": pr.critical_path_ns,
                             "logic_cell": fam.logic_cell, "logic_cells_used": pr.used(fam.logic_cell),
                             "logic_cells_available": pr.available(fam.logic_cell), "ff_cell": ff or None,
                             "ffs_used": pr.used(ff) if ff else None, "ffs_available": pr.available(ff) if ff else None,
                             "target_mhz": 100.0, "met_target": True,
                             "seeds": [{"seed": 1, "fmax_mhz": pr.fmax_mhz()}]}}
        _fill_timing(rep)
        rep.update({"build": {"name": "x", "target": family, "opt": 3, "pipeline": 4}, "device": "d", "part": "p",
                    "package": "k", "top": "harness", "top_module": "h", "board": None, "luts": 1, "core_luts": 1,
                    "ffs": 1, "core_ffs": 0, "carry": 0, "includes": ["core"], "family": family})
        md = render_markdown(rep)
        if family == "ecp5":
            assert rep["ff_utilization_pct"] == pytest.approx(100 * 1021 / 24288, abs=0.01)
            assert "; flip-flops 4.20 % (TRELLIS_FF)" in md
        else:
            assert "ff_utilization_pct" not in rep and "flip-flops" not in md

"""`lut2rtl synth --top axis`: the measurement harness around the AXI4-Stream wrapper."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.cli.main import main
from lut2rtl.compile import compile_netlist
from lut2rtl.errors import CompileError
from lut2rtl.netgen import random_netlist
from lut2rtl.rtl.harness import AXIS_HARNESS_NAME, harness_verilog
from lut2rtl.synth import DEVICES, choose_top, synthesize
from lut2rtl.tools.reports import parse_nextpnr_report, parse_yosys_stat


def _build(tmp: Path, target: str, pipeline: int, *, interface: str = "axis") -> Path:
    net = random_netlist(7, 22, [48, 32, 20], 2, classes=4)
    return compile_netlist(net, tmp / f"{target}_p{pipeline}_{interface}", target=target, pipeline=pipeline,
                           name="small", interface=interface, axis_counts=interface == "axis").out_dir


@pytest.fixture(scope="module")
def axis_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("b"), "ice40", 2)


def test_axis_harness_ports(axis_build: Path) -> None:
    man = read_build_folder(axis_build).manifest
    v = harness_verilog(man, axis=True)
    assert re.search(rf"^module {AXIS_HARNESS_NAME}\(", v, re.M)
    assert re.search(r"^\s*small_axis axis \(", v, re.M)
    for port in ("s_axis_tdata", "s_axis_tvalid", "s_axis_tready", "m_axis_tdata", "m_axis_tvalid",
                 "m_axis_tready", "m_axis_tlast"):
        assert f".{port}(" in v
    # the 22-bit shift register, zero-padded to the 24-bit s_axis_tdata
    assert re.search(r"\.s_axis_tdata\(\{ 2'h0, \w+ \}\)", v), v
    header = v[v.index(f"module {AXIS_HARNESS_NAME}("):].split(";")[0]
    assert sorted(header[header.index("(") + 1:].rstrip(")").replace(" ", "").split(",")) == \
        ["clk", "in_ready", "out_class", "out_ready", "out_valid", "out_xor", "rst", "ser_in", "ser_valid"]


def test_axis_top_needs_the_wrapper(tmp_path: Path) -> None:
    plain = read_build_folder(_build(tmp_path, "generic", 0, interface="none")).manifest
    with pytest.raises(CompileError, match=r"^small: the build folder has no AXI4-Stream wrapper "
                                           r"\(compile it with --interface axis\)$"):
        choose_top(plain, DEVICES["hx8k"], "axis", None)
    with pytest.raises(CompileError, match=r"no AXI4-Stream wrapper"):
        harness_verilog(plain, axis=True)
    r = CliRunner().invoke(main, ["synth", str(tmp_path / "generic_p0_none"), "--device", "xc7a35t", "--top", "axis"])
    assert r.exit_code == 1
    assert re.fullmatch(r"error: small: the build folder has no AXI4-Stream wrapper \(compile it with "
                        r"--interface axis\)\n", r.stderr)


@pytest.mark.yosys
@pytest.mark.nextpnr
def test_flow_ice40_axis_via_cli(tmp_path: Path, axis_build: Path) -> None:
    out = tmp_path / "rep"
    r = CliRunner().invoke(main, ["synth", str(axis_build), "--device", "up5k", "--top", "axis", "--freq", "30",
                                  "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    man = read_build_folder(axis_build).manifest
    assert man.interface is not None
    assert rep["top"] == "axis" and rep["top_module"] == AXIS_HARNESS_NAME
    total, core, wrapped = (parse_yosys_stat(out / f) for f in ("stat.json", "core_stat.json", "wrapper_stat.json"))
    assert (rep["luts"], rep["core_luts"], rep["wrapper_luts"]) == (total.luts, core.luts, wrapped.luts)
    assert (rep["ffs"], rep["core_ffs"], rep["wrapper_ffs"]) == (total.ffs, core.ffs, wrapped.ffs)
    # wrapper = core + FIFO (depth x payload bits at least in its output register) + credit counter
    assert rep["core_luts"] > 0 and rep["wrapper_luts"] > rep["core_luts"]
    assert rep["wrapper_other"] == {t: n for t, n in wrapped.by_type.items() if "RAM" in t}
    assert rep["wrapper_ffs"] >= rep["core_ffs"] + 2 + 3 * 4  # output register: class + 4 counts of 3 bits
    assert rep["luts"] >= rep["wrapper_luts"] and rep["ffs"] >= rep["wrapper_ffs"] + 22  # + the shift register
    assert rep["latency_cycles"] == man.interface["latency"] == 4
    best = parse_nextpnr_report(out / f"nextpnr_seed{rep['pnr']['best_seed']}.json")
    assert rep["fmax_mhz"] == pytest.approx(best.fmax_mhz(), abs=0.01) and rep["fmax_mhz"] > 0
    assert rep["latency_ns"] == pytest.approx(4 * 1000 / rep["fmax_mhz"], abs=0.01)
    assert any(s.startswith("AXI4-Stream wrapper: 5-entry output FIFO") for s in rep["includes"])
    md = (out / "report.md").read_text()
    assert f"| AXI4-Stream core | {rep['wrapper_luts']} LUTs, {rep['wrapper_ffs']} FFs" in md


@pytest.mark.yosys
def test_flow_xilinx_axis_counts(tmp_path: Path) -> None:
    build = _build(tmp_path, "xilinx", 0)
    res = synthesize(build, "xc7a35t", top="axis", out_dir=tmp_path / "x")
    rep = res.report
    assert rep["pnr"] is None and rep["wrapper_luts"] > rep["core_luts"] > 0
    assert rep["latency_cycles"] == 2
    assert f"synth_design -top {AXIS_HARNESS_NAME} " in (res.out_dir / "vivado.tcl").read_text()

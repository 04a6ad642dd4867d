"""``pytest sim/ --checkpoint``/``--build`` on a model outside examples/: it passes, and it fails, naming
the first mismatching sample, when the build folder's Verilog has one LUT bit flipped.

Runs pytest in a subprocess on sim/test_user_model.py (about a minute each); ``slow``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.compile import compile_checkpoint
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.mutate import flip_lut_init_bit

SIM = Path(__file__).resolve().parent
pytestmark = [pytest.mark.slow, pytest.mark.verilator, pytest.mark.yosys]


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
                           str(SIM / "test_user_model.py"), *args], capture_output=True, text=True,
                          cwd=SIM.parent)


def test_checkpoint_option_passes_and_flipped_build_fails(tmp_path: Path) -> None:
    ckpt = tmp_path / "mine.pt"
    save_checkpoint(random_netlist(5, 64, [300, 200, 100], 2, classes=5), ckpt)
    ok = _pytest("--checkpoint", str(ckpt), "--target", "ice40", "--pipeline", "2", "--user-vectors", "500")
    assert ok.returncode == 0, ok.stdout[-3000:]
    assert "2 passed" in ok.stdout

    build = tmp_path / "mine-build"
    compile_checkpoint(ckpt, build, target="ice40", pipeline=2)
    v = build / "mine.v"
    v.write_text(flip_lut_init_bit(v.read_text(), 7)[0])
    bad = _pytest("--build", str(build), "--user-vectors", "500")
    assert bad.returncode == 1, bad.stdout[-3000:]
    assert "2 failed" in bad.stdout
    assert "first mismatching sample: vector" in bad.stdout and "in_bits[63:0] = " in bad.stdout

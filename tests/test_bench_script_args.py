"""The bench's experiment scripts answer --help with their usage, and refuse an unknown option in one
error line without creating their output folder (they used to take ``--help`` for OUT and start a run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("script", ["head_order.py", "ice40_cin_gates.py"])
def test_help_and_unknown_options(script: str, tmp_path: Path) -> None:
    path = ROOT / "bench" / script
    ok = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("usage: python bench/" + script)
    assert list(tmp_path.iterdir()) == []  # --help is not an output folder
    bad = subprocess.run([sys.executable, str(path), str(tmp_path / "out"), "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        bad.stderr.strip()] and bad.stderr.startswith("error: unknown option '--bogus'")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()

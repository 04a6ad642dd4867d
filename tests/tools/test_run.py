"""run_tool and the Verilator build runner end a tool together with the processes it started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lut2rtl.errors import ToolError
from lut2rtl.tools._run import run_tool
from lut2rtl.verify.harness import run_logged

# a tool that starts a helper (as Yosys starts ABC, make a compiler), writes the helper's pid, and waits
_SPAWN = [sys.executable, "-c",
          "import subprocess, sys, time; h = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
          "open(sys.argv[1], 'w').write(str(h.pid)); time.sleep(60)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (killed, not yet reaped by its parent) is gone as far as the CPU is concerned
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _helper(pidfile: Path) -> int:
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text():
            return int(pidfile.read_text())
        time.sleep(0.05)
    raise AssertionError("the helper did not start")


def _gone(pid: int) -> bool:
    for _ in range(50):
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_timeout_ends_the_tools_helpers(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(ToolError, match="timed out"):
        run_tool([*_SPAWN, str(pidfile)], timeout=2)
    assert _gone(_helper(pidfile))


def test_build_timeout_ends_the_builds_helpers(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(ToolError, match="timed out"):
        run_logged([*_SPAWN, str(pidfile)], cwd=tmp_path, env={}, log_file=tmp_path / "log", what="build",
                   progress=None, timeout=0.5)
    assert _gone(_helper(pidfile))


def test_killing_only_the_tool_leaves_its_helper_running(tmp_path: Path) -> None:
    # negative control: what subprocess.run's own timeout does (it kills the tool alone)
    pidfile = tmp_path / "pid"
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([*_SPAWN, str(pidfile)], timeout=2)
    pid = _helper(pidfile)
    try:
        assert _alive(pid)
    finally:
        os.kill(pid, 9)

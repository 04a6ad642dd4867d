"""run_tool and the Verilator build runner end a tool together with the processes it started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lut2rtl.errors import ToolError
from lut2rtl.tools._run import run_tool, tool_progress
from lut2rtl.tools.nextpnr import nextpnr_phase
from lut2rtl.tools.yosys import yosys_phase
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


# a tool that says what it is doing on stderr now and then, as nextpnr does
_PHASES = [sys.executable, "-c",
           "import sys, time\n"
           "for p in ('placing', 'routing'):\n"
           "    print('Info: ' + p, file=sys.stderr, flush=True); time.sleep(0.8)\n"
           "print('done')"]


def test_a_long_run_reports_its_phase_while_it_runs() -> None:
    said: list[str] = []
    res = run_tool(_PHASES, progress=said.append, every=0.3, what="tool")
    assert res.stdout == "done\n" and res.stderr == "Info: placing\nInfo: routing\n"
    assert said and all(s.startswith("tool: running, ") for s in said)
    assert any(s.endswith("Info: placing") for s in said) and said[-1].endswith("Info: routing")


def test_a_short_run_or_none_asked_reports_nothing() -> None:
    # negative controls: a run shorter than the period, and a long one nobody listens to
    said: list[str] = []
    assert run_tool([sys.executable, "-c", "print('x')"], progress=said.append, every=5.0).stdout == "x\n"
    assert said == []
    assert run_tool(_PHASES, every=0.3).stdout == "done\n"


def test_tool_progress_reaches_calls_deep_inside() -> None:
    said: list[str] = []
    with tool_progress(said.append):
        run_tool(_PHASES, every=0.3, phase=lambda lines: f"{len(lines)} lines")
    assert said and said[-1].endswith(" lines")
    n = len(said)
    run_tool(_PHASES, every=0.3)  # outside the block: nobody listens
    assert len(said) == n


def test_large_output_on_both_pipes_is_kept_whole() -> None:
    big = [sys.executable, "-c",
           "import sys\nfor i in range(20000):\n    print(i, 'x' * 50); print(i, 'y' * 50, file=sys.stderr)"]
    res = run_tool(big, progress=lambda _m: None, every=0.05)
    assert len(res.stdout.splitlines()) == 20000 and len(res.stderr.splitlines()) == 20000
    assert res.stdout.splitlines()[-1] == "19999 " + "x" * 50


def test_a_failing_tool_still_names_its_error_line() -> None:
    fail = [sys.executable, "-c", "import sys; print('Error: no such cell', file=sys.stderr); sys.exit(3)"]
    with pytest.raises(ToolError, match=r"tool failed \(exit 3\): Error: no such cell"):
        run_tool(fail, progress=lambda _m: None, what="tool")


def test_the_error_line_is_the_tools_error_not_its_closing_count() -> None:
    # nextpnr's output ends with a count of its messages; the message names the error itself
    fail = [sys.executable, "-c", "import sys; print('Info: packing', file=sys.stderr); "
            "print('ERROR: Unable to place cell harness.sr, no BELs remaining', file=sys.stderr); "
            "print('0 warnings, 1 error', file=sys.stderr); sys.exit(125)"]
    with pytest.raises(ToolError, match=r"^tool failed \(exit 125\): ERROR: Unable to place cell harness.sr, no BELs "
                                        r"remaining$"):
        run_tool(fail, progress=lambda _m: None, what="tool")


def test_phase_readers() -> None:
    lines = ["Info: Placed 120 cells\n", "Warning: x\n", "Info:      iter  arcs\n", "Info:\n", "\n"]
    assert nextpnr_phase(lines) == "iter arcs"
    assert nextpnr_phase(["Warning: only this\n"]) == ""


def test_yosys_phase_reads_the_log(tmp_path: Path) -> None:
    log = tmp_path / "yosys.log"
    assert yosys_phase(log) == ""  # no log yet
    log.write_text("1. Executing Verilog-2005 frontend: design.v\n\n2.3.1. Executing ABC9 pass.\nABC: + &if\n")
    assert yosys_phase(log) == "ABC9 pass"


def _under_sigterm(tmp_path: Path, guarded: bool) -> tuple[subprocess.Popen, int]:
    """A Python process running a tool with a helper (as `lut2rtl synth` runs Yosys), with or without
    the CLI's SIGTERM handling; returns the process and the helper's pid once both run."""
    pidfile = tmp_path / f"pid{int(guarded)}"
    code = ("import sys\nfrom lut2rtl.cli.main import sigterm_as_interrupt\nfrom lut2rtl.tools._run import run_tool\n"
            f"spawn = {_SPAWN!r}\n"
            + ("with sigterm_as_interrupt():\n    " if guarded else "")
            + f"run_tool([*spawn, {str(pidfile)!r}])\n")
    p = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    return p, _helper(pidfile)


def test_sigterm_ends_the_tool_with_the_cli(tmp_path: Path) -> None:
    p, helper = _under_sigterm(tmp_path, guarded=True)
    p.terminate()
    _, err = p.communicate(timeout=20)
    assert b"Terminated" in err and _gone(helper)


def test_sigterm_without_the_handler_orphans_the_tool(tmp_path: Path) -> None:
    # negative control: Python's default SIGTERM ends the process at once; the tool's own group lives on
    p, helper = _under_sigterm(tmp_path, guarded=False)
    p.terminate()
    p.communicate(timeout=20)
    try:
        assert _alive(helper)
    finally:
        os.kill(helper, 9)

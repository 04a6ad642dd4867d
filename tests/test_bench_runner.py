"""The benchmark runner (``python -m bench``): a child's progress reaches the user while it runs."""

from __future__ import annotations

import sys
import time

from bench.__main__ import run_child


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_progress_lines_are_relayed_while_the_child_runs(tmp_path, monkeypatch):
    # the child goes on only once the parent has shown its progress line; a runner that keeps the child's stderr
    # until it ends (the earlier capture_output) makes it fail
    flag = tmp_path / "shown"

    class Stderr:
        def write(self, text: str) -> None:
            if "step 1 of 2" in text:
                flag.touch()

        def flush(self) -> None:
            pass

    monkeypatch.setattr(sys, "stderr", Stderr())
    code = (f"import pathlib, sys, time\n"
            f"print('step 1 of 2', file=sys.stderr, flush=True)\n"
            f"for _ in range(400):\n"
            f"    if pathlib.Path({str(flag)!r}).exists():\n"
            f"        break\n"
            f"    time.sleep(0.05)\n"
            f"else:\n"
            f"    sys.exit('the parent did not show the progress line while the child ran')\n"
            f"print('{{\"rows\": [1, 2]}}')\n")
    res = run_child(_child(code), timeout=60)
    monkeypatch.undo()
    assert res["status"] == "ok", res
    assert res["rows"] == [1, 2]


def test_a_failed_child_reports_its_last_error_line():
    code = "import sys\nprint('working', file=sys.stderr)\nsys.exit('error: no Yosys on PATH')\n"
    res = run_child(_child(code), timeout=30)
    assert res == {"status": "failed", "error": "error: no Yosys on PATH", "wall_s": res["wall_s"]}


def test_a_child_without_a_result_line_fails():
    res = run_child(_child("print('not json')"), timeout=30)
    assert res["status"] == "failed" and res["error"] == "no JSON result on stdout"


def test_a_child_past_its_time_is_stopped():
    t0 = time.perf_counter()
    res = run_child(_child("import time\ntime.sleep(60)\n"), timeout=1)
    assert res["status"] == "timeout"
    assert time.perf_counter() - t0 < 30

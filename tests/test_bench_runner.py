"""The benchmark runner (``python -m bench``): a child's progress reaches the user while it runs."""

from __future__ import annotations

import json
import sys
import time

import bench.__main__ as runner
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


def _fake_bench(tmp_path, monkeypatch):
    """The runner with ``bench/`` in ``tmp_path``: one benchmark ``x`` whose rows say whether it ran quick."""
    results = tmp_path / "results"
    monkeypatch.setattr(runner, "HERE", tmp_path)
    monkeypatch.setattr(runner, "RESULTS", results)
    monkeypatch.setattr(runner, "QUICK", results / "quick", raising=False)
    monkeypatch.setattr(runner, "discover", lambda: ["x"])
    monkeypatch.setattr(runner, "machine_facts", lambda: {"cores": 2})
    monkeypatch.setattr(runner, "run_one", lambda name, quick, timeout: {
        "status": "ok", "wall_s": 1.0, "columns": ["size"], "rows": [{"size": "small" if quick else "large"}]})
    return results


def test_a_quick_run_leaves_the_full_results_alone(tmp_path, monkeypatch):
    results = _fake_bench(tmp_path, monkeypatch)
    assert runner.main(["--only", "x"]) == 0
    full_json, full_md = (results / "x.json").read_text(), (tmp_path / "RESULTS.md").read_text()
    assert "| large |" in full_md and json.loads(full_json)["quick"] is False
    assert runner.main(["--quick", "--only", "x"]) == 0
    # the full run's record is unchanged; the quick run has its own
    assert (results / "x.json").read_text() == full_json
    assert (tmp_path / "RESULTS.md").read_text() == full_md
    quick_md = (results / "quick" / "RESULTS.md").read_text()
    assert "| small |" in quick_md and "(quick run)" in quick_md.splitlines()[0]
    assert json.loads((results / "quick" / "x.json").read_text())["quick"] is True
    # and rendering the full record again does not read the quick one
    assert runner.main(["--render-only"]) == 0
    assert (tmp_path / "RESULTS.md").read_text() == full_md


def test_a_long_step_keeps_reporting_until_it_ends(capsys):
    from bench import working

    with working("synthesizing", every=0.1):
        time.sleep(0.45)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("synthesizing ...")
    assert sum("synthesizing: still running" in line for line in lines) >= 2, lines
    time.sleep(0.3)  # and it stops with the step
    assert capsys.readouterr().err == ""


def test_an_unknown_benchmark_is_refused_without_leaving_a_folder(tmp_path, monkeypatch, capsys):
    results = _fake_bench(tmp_path, monkeypatch)
    assert runner.main(["--quick", "--only", "nosuch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown benchmark(s) nosuch")
    assert not results.exists()

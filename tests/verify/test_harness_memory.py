"""A Verilator build too big for the machine says so: before it starts (the estimated memory against
what is available) and when it is killed (the error names memory, not just an exit status)."""

from __future__ import annotations

import pytest

from lut2rtl.errors import ToolError
from lut2rtl.verify import harness


def test_estimate_follows_the_measured_points():
    # bench "Verification scaling": Verilator peaked at 2.2 GB for 36,989 SB_LUT4
    assert abs(harness.verilator_memory(36_989) / 1e9 - 2.2) < 0.1
    assert 16e9 < harness.verilator_memory(370_000) < 18e9


def test_note_warns_only_when_the_build_does_not_fit():
    fits = harness.memory_note(36_989, 20e9)
    assert "2.2 GB" in fits and "20.0 GB available" in fits and "out of memory" not in fits
    tight = harness.memory_note(370_000, 8e9)
    assert "17.5 GB" in tight and "may run out of memory" in tight and "--no-sim" in tight
    assert "available" not in harness.memory_note(1000, None)


def test_memory_available_reads_this_machine():
    free = harness.memory_available()
    assert free is None or free > 0


def test_a_killed_build_is_reported_as_out_of_memory(tmp_path):
    with pytest.raises(ToolError, match="killed, probably out of memory"):
        harness.run_logged(["sh", "-c", "echo compiling; kill -9 $$"], cwd=tmp_path, env={},
                            log_file=tmp_path / "build.log", what="Verilator build", progress=None, timeout=30)


def test_negative_control_an_ordinary_failure_is_not_called_memory(tmp_path):
    with pytest.raises(ToolError) as e:
        harness.run_logged(["sh", "-c", "echo '%Error: design.v:3: syntax error'; exit 3"], cwd=tmp_path,
                            env={}, log_file=tmp_path / "build.log", what="Verilator build", progress=None,
                            timeout=30)
    assert "syntax error" in str(e.value) and "memory" not in str(e.value)

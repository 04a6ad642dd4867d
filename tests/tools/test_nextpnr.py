from __future__ import annotations

from pathlib import Path

import pytest

from lut2rtl.errors import ToolError, ToolNotFound
from lut2rtl.families import FAMILIES
from lut2rtl.tools.nextpnr import find_nextpnr, nextpnr_command, run_nextpnr


def test_command_is_data() -> None:
    cmd = nextpnr_command("np", FAMILIES["ice40"], ("--up5k", "--package", "sg48"), "s.json", report="r.json",
                          freq_mhz=48, seed=3, constraints="b.pcf", bitstream="b.asc")
    assert cmd == ["np", "--up5k", "--package", "sg48", "--json", "s.json", "--report", "r.json", "--freq", "48",
                   "--seed", "3", "--timing-allow-fail", "--pcf", "b.pcf", "--asc", "b.asc"]
    ecp5 = nextpnr_command("np", FAMILIES["ecp5"], ("--25k",), "s.json", report="r.json", constraints="b.lpf",
                           bitstream="b.config")
    assert ecp5[-4:] == ["--lpf", "b.lpf", "--textcfg", "b.config"]


def test_find_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path(find_nextpnr(FAMILIES["ice40"])).name.endswith("nextpnr-ice40")
    monkeypatch.setenv("LUT2RTL_NEXTPNR_ECP5", "/no/such/nextpnr")
    with pytest.raises(ToolNotFound, match=r"^LUT2RTL_NEXTPNR_ECP5='/no/such/nextpnr' is not an executable"):
        find_nextpnr(FAMILIES["ecp5"])
    with pytest.raises(ValueError, match="no open flow for family 'xilinx'"):
        find_nextpnr(FAMILIES["xilinx"])


@pytest.mark.nextpnr
def test_failure_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ToolError) as e:
        run_nextpnr(FAMILIES["ice40"], ("--up5k", "--package", "sg48"), "bad.json", cwd=tmp_path, report="r.json")
    assert e.value.command is not None and "--up5k" in e.value.command
    # the message names nextpnr's error line, not its closing count ("0 warnings, 1 error")
    assert str(e.value).startswith("nextpnr-ice40 failed (exit ")
    assert "doesn't look like a netlist" in str(e.value), str(e.value)

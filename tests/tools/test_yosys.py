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

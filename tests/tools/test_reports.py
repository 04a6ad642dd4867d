from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lut2rtl.errors import ToolError
from lut2rtl.tools.reports import classify_cells, parse_nextpnr_report, parse_yosys_stat

DATA = Path(__file__).parent / "data"


def test_yosys_stat_groups_ice40_cells() -> None:
    c = parse_yosys_stat(DATA / "yosys_stat_ice40_noclk.json")
    raw = json.loads((DATA / "yosys_stat_ice40_noclk.json").read_text())["design"]["num_cells_by_type"]
    assert (c.luts, c.ffs, c.carry, c.other) == (raw["SB_LUT4"], raw["SB_DFF"], raw["SB_CARRY"], 0)
    assert c.as_dict()["by_type"] == raw


def test_yosys_stat_module_and_design_total_agree() -> None:
    c_design = parse_yosys_stat(DATA / "yosys_stat_ice40_harness.json")
    c_mod = parse_yosys_stat(DATA / "yosys_stat_ice40_harness.json", top="lut2rtl_harness")
    assert c_design == c_mod
    core = parse_yosys_stat(DATA / "yosys_stat_ice40_core.json")
    assert 0 < core.luts <= c_design.luts and core.ffs < c_design.ffs  # the harness adds registers


def test_classify_across_families() -> None:
    c = classify_cells({"LUT4": 10, "PFUMX": 3, "L6MUX21": 1, "TRELLIS_FF": 7, "CCU2C": 2, "$scopeinfo": 4})
    assert (c.luts, c.ffs, c.carry, c.other) == (10, 7, 2, 4)
    x = classify_cells({"LUT1": 1, "LUT6": 5, "MUXF7": 2, "FDRE": 3, "CARRY4": 1, "IBUF": 9})
    assert (x.luts, x.ffs, x.carry, x.other) == (6, 3, 1, 11)
    assert classify_cells({"LUT6_2": 4, "LUT3": 1}).luts == 5  # a dual-output LUT6 is one LUT


def test_nextpnr_report_with_clock() -> None:
    r = parse_nextpnr_report(DATA / "nextpnr_ice40_harness.json")
    raw = json.loads((DATA / "nextpnr_ice40_harness.json").read_text())
    (clk, f), = raw["fmax"].items()
    assert r.fmax_mhz() == pytest.approx(f["achieved"])
    assert r.fmax[clk]["constraint"] == f["constraint"]
    assert r.used("ICESTORM_LC") == raw["utilization"]["ICESTORM_LC"]["used"]
    assert r.available("ICESTORM_LC") == 5280
    # the clock's own critical path is the period at Fmax
    own = [v for k, v in r.critical_path_ns.items() if not k.startswith("<async>") and not k.endswith("<async>")]
    assert max(own) == pytest.approx(1000.0 / f["achieved"], rel=0.02)


def test_nextpnr_report_without_clocked_paths() -> None:
    r = parse_nextpnr_report(DATA / "nextpnr_ice40_noclk.json")
    assert r.fmax == {} and r.fmax_mhz() is None
    assert r.used("SB_IO") == 28 and r.used("NOPE") is None
    assert all(v > 0 for v in r.critical_path_ns.values())


def test_bad_report_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ToolError, match=r"^the nextpnr report .*bad\.json is not valid JSON \(line 1\)"):
        parse_nextpnr_report(bad)
    bad.write_text("{}")
    with pytest.raises(ToolError, match=r"has no 'utilization'"):
        parse_nextpnr_report(bad)
    with pytest.raises(ToolError, match=r"have no 'modules'"):
        parse_yosys_stat(bad)
    with pytest.raises(ToolError, match=re.escape("cannot read the Yosys statistics")):
        parse_yosys_stat(tmp_path / "missing.json")
    with pytest.raises(ToolError, match=r"no module 'other'"):
        parse_yosys_stat(DATA / "yosys_stat_ice40_core.json", top="other")


def test_ecp5_reports() -> None:
    raw_stat = json.loads((DATA / "yosys_stat_ecp5_harness.json").read_text())
    by_type = next(iter(raw_stat["modules"].values()))["num_cells_by_type"] if "design" not in raw_stat \
        else raw_stat["design"]["num_cells_by_type"]
    c = parse_yosys_stat(DATA / "yosys_stat_ecp5_harness.json")
    assert c.luts == by_type["LUT4"] and c.ffs == by_type["TRELLIS_FF"]
    assert c.carry == by_type.get("CCU2C", 0)
    r = parse_nextpnr_report(DATA / "nextpnr_ecp5_harness.json")
    raw = json.loads((DATA / "nextpnr_ecp5_harness.json").read_text())
    assert r.fmax_mhz() == pytest.approx(min(v["achieved"] for v in raw["fmax"].values()))
    assert r.available("TRELLIS_COMB") == 24288 and r.used("TRELLIS_COMB") > c.luts // 2

"""`lut2rtl info --passes`: the per-pass size report."""

from __future__ import annotations

import json

from click.testing import CliRunner

from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.cli import main
from lut2rtl.netgen import random_netlist
from lut2rtl.report import pass_report


def test_pass_report_rows() -> None:
    net = random_netlist(0, 16, [64, 32, 16], 2, classes=2)
    rows = pass_report(net, 2, lut_size=4)
    assert rows[0]["pass"] == "input" and rows[0]["luts"] == 112
    assert [r["pass"] for r in rows[-4:]] == ["pack4", "unused", "dedupe", "dead"]
    assert rows[-1]["live_luts"] <= rows[0]["live_luts"]
    assert rows[-1]["max_k"] <= 4
    assert [r["pass"] for r in pass_report(net, 1)][-1] == "dead"


def test_info_passes_cli(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "m.pt"
    save_checkpoint(random_netlist(0, 16, [64, 32, 16], 2, classes=2), p)
    r = CliRunner().invoke(main, ["info", str(p), "--passes", "--lut-size", "6"])
    assert r.exit_code == 0, r.output
    assert "passes (--opt 3, LUT size 6)" in r.output and "cover6" in r.output
    r = CliRunner().invoke(main, ["info", str(p), "--passes", "--opt", "2"])
    assert r.exit_code == 0 and "passes (--opt 2, LUT size 4)" in r.output and "pack4" in r.output, r.output
    r = CliRunner().invoke(main, ["info", str(p), "--passes", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["passes"]
    assert rows[0]["pass"] == "input" and rows[-1]["pass"] == "dead"
    r = CliRunner().invoke(main, ["info", str(p), "--passes", "--lut-size", "9"])
    assert r.exit_code != 0

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.cli import main
from lut2rtl.netgen import random_netlist


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    net = random_netlist(0, 16, [24, 20], 2, classes=4)
    p = tmp_path / "small-net.pt"
    save_checkpoint(net, p)
    return p


def test_compile_summary(tmp_path: Path, ckpt: Path) -> None:
    out = tmp_path / "build"
    r = CliRunner().invoke(main, ["compile", str(ckpt), "--target", "ice40", "--pipeline", "2", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "top module small_net" in r.output
    assert "latency 2 cycles" in r.output
    assert "files: netlist.pt, small_net.core, small_net.json, small_net.v, vectors.npz" in r.output
    assert "popcnt" in r.output
    man = json.loads((out / "small_net.json").read_text())
    assert man["latency"] == 2 and man["target"] == "ice40"


def test_compile_json_and_options(tmp_path: Path, ckpt: Path) -> None:
    out = tmp_path / "b"
    r = CliRunner().invoke(main, ["compile", str(ckpt), "--target", "generic", "--opt", "0", "--name", "core",
                                  "--out-bits", "--fabric", "verilog", "--json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    man = json.loads(r.stdout)
    assert man["top"] == "core" and man["out_bits"] is True and man["opt"] == 0
    assert man["options"]["fabric_built"] == "verilog" and "out_bits" in man["ports"]
    assert (out / "core.v").exists()


@pytest.mark.parametrize(("args", "pattern"), [
    (["--target", "vhdl"], r"Invalid value for '--target'"),
    (["--pipeline", "-1"], r"Invalid value for '--pipeline'"),
    (["--name", "9bad"], r"^error: --name '9bad' is not a usable Verilog module name"),
])
def test_compile_bad_options(tmp_path: Path, ckpt: Path, args: list[str], pattern: str) -> None:
    import re

    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["compile", str(ckpt), "-o", str(out), *args])
    assert r.exit_code != 0
    assert re.search(pattern, r.output, re.M), r.output
    assert not out.exists()


def test_compile_existing_folder_and_missing_checkpoint(tmp_path: Path, ckpt: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    r = CliRunner().invoke(main, ["compile", str(ckpt), "-o", str(out)])
    assert r.exit_code == 1
    assert r.output.startswith("error: ") and r.output.rstrip().endswith("already exists (use --force to replace it)")
    r = CliRunner().invoke(main, ["compile", str(tmp_path / "nope.pt"), "-o", str(tmp_path / "p")])
    assert r.exit_code == 1 and r.output.rstrip().endswith("nope.pt: no such file")
    assert "Traceback" not in r.output


def test_compile_help_has_examples() -> None:
    r = CliRunner().invoke(main, ["compile", "--help"])
    assert r.exit_code == 0 and "Examples:" in r.output and "--pipeline" in r.output


def test_compile_subprocess_exit_code(tmp_path: Path, ckpt: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "lut2rtl", "compile", str(ckpt), "--target", "nope", "-o",
                        str(tmp_path / "z")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_compile_default_folder(tmp_path: Path, ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the command users type, verbatim (no -o): the folder is build/<checkpoint stem>
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["compile", str(ckpt), "--target", "ice40", "--pipeline", "4"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "build" / ckpt.stem
    assert f"-> {Path('build') / ckpt.stem}/" in r.output
    # (the module, and so the files, are named by the stem as an identifier: small_net)
    assert (out / "small_net.v").is_file() and json.loads((out / "small_net.json").read_text())["latency"] == 4
    # a second run keeps it (no --force), and says so in one line
    r = CliRunner().invoke(main, ["compile", str(ckpt), "--target", "ice40", "--pipeline", "4"])
    assert r.exit_code == 1 and r.output.startswith("error: ") and r.output.count("\n") == 1


def test_compile_device(tmp_path: Path, ckpt: Path) -> None:
    # --device alone picks its family; with a --target of another family it is refused in one line
    r = CliRunner().invoke(main, ["compile", str(ckpt), "--device", "xc7a35t", "--opt", "1", "-o", str(tmp_path / "a"),
                                  "--json"])
    assert r.exit_code == 0, r.output
    man = json.loads(r.output)
    assert man["target"] == "xilinx" and man["options"]["device"] == "xc7a35t"
    r = CliRunner().invoke(main, ["compile", str(ckpt), "--device", "up5k", "--target", "ecp5", "-o",
                                  str(tmp_path / "b")])
    assert r.exit_code == 1 and r.output == "error: --device 'up5k' is not one of the ecp5 parts (ecp5-25k, ecp5-85k)\n"
    assert not (tmp_path / "b").exists()


def test_compile_reports_how_full_the_device_is(tmp_path: Path, ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import lut2rtl.compile as comp

    def run(tag: str, *extra: str) -> tuple[str, str, dict]:
        out = tmp_path / tag
        r = CliRunner().invoke(main, ["compile", str(ckpt), "--pipeline", "2", "-o", str(out), *extra])
        assert r.exit_code == 0, r.output
        return r.stdout, r.stderr, json.loads((out / "small_net.json").read_text())["estimate"]

    stdout, stderr, est = run("a", "--device", "up5k")
    fill = est["device_fill"]
    assert fill["luts_pct"] == round(100 * est["luts"] / 5280, 1)
    assert fill["ffs_pct"] == round(100 * est["ffs"] / 5280, 1) and fill["status"] == "fits"
    assert f"device up5k: the estimate fills {fill['luts_pct']:g} % of its 5280 LUTs" in stdout
    assert "warning" not in stderr
    # negative control: without --device nothing is said
    stdout, stderr, est = run("b")
    assert "device_fill" not in est and "the estimate fills" not in stdout and "warning" not in stderr
    # a nearly full part, and one too small
    monkeypatch.setattr(comp, "NEARLY_FULL_PCT", 0.0)
    assert "warning: the part is nearly full" in run("c", "--device", "up5k")[1]
    monkeypatch.setitem(comp.DEVICES, "up5k", dataclasses.replace(comp.DEVICES["up5k"], ffs=10))
    assert "warning: the design does not fit the up5k (estimate)" in run("d", "--device", "up5k")[1]


def test_compile_warns_when_the_design_is_far_larger_than_the_delay_models_fit(
        tmp_path: Path, ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from lut2rtl.families import FAMILIES

    def run(tag: str) -> tuple[str, dict]:
        out = tmp_path / tag
        r = CliRunner().invoke(main, ["compile", str(ckpt), "--target", "ice40", "--clock-mhz", "100", "-o",
                                      str(out)])
        assert r.exit_code == 0, r.output
        return r.stderr, json.loads((out / "small_net.json").read_text())["estimate"]

    # the small test network is far below iCE40's fit (digits, about 2,100 LUTs): no warning
    stderr, est = run("a")
    assert est["timing"]["model_fitted_luts"] == FAMILIES["ice40"].delay_fit_luts > 0
    assert est["timing"]["beyond_fit"] is False and "delay model was fitted" not in stderr
    # a fit 4x smaller than its estimate: more than BEYOND_FIT (3) times it
    small = max(1, est["luts"] // 4)
    monkeypatch.setitem(FAMILIES, "ice40", dataclasses.replace(FAMILIES["ice40"], delay_fit_luts=small))
    stderr, est = run("b")
    assert est["timing"]["beyond_fit"] is True and est["timing"]["model_fitted_luts"] == small
    assert f"warning: the delay model was fitted on a design of about {small} LUTs and this one has " \
           f"{est['luts']}" in stderr
    # a family whose model was not fitted (0) never warns
    monkeypatch.setitem(FAMILIES, "ice40", dataclasses.replace(FAMILIES["ice40"], delay_fit_luts=0))
    stderr, est = run("c")
    assert est["timing"]["beyond_fit"] is False and "delay model was fitted" not in stderr

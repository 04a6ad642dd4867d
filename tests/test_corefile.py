"""The build folder's FuseSoC core (<name>.core), read by the `fusesoc`
package itself: `fusesoc run --setup` resolves the core and writes the EDAM
description an Edalize backend would run, with our files and top module."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.corefile import core_vlnv
from lut2rtl.netgen import random_netlist

yaml = pytest.importorskip("yaml")  # fusesoc depends on PyYAML
pytest.importorskip("fusesoc")


def _setup(cores: Path, vlnv: str, target: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fusesoc.main", "--cores-root", str(cores), "run", "--setup",
                           "--target", target, "--tool", "verilator", vlnv],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def _edam(cwd: Path) -> dict:
    found = sorted(cwd.glob("build/*/*/*.eda.yml"))
    assert len(found) == 1, found
    return yaml.safe_load(found[0].read_text())


@pytest.mark.parametrize("interface", ["none", "axis"])
def test_fusesoc_reads_the_core(tmp_path: Path, interface: str) -> None:
    net = random_netlist(0, 12, [10, 6], 2, classes=2)
    out = compile_netlist(net, tmp_path / "lib" / "b", target="ice40", pipeline=1, opt=1, name="tiny",
                          interface=interface).out_dir
    m = read_build_folder(out).manifest
    assert m.files["core"] == "tiny.core" and (out / "tiny.core").is_file()
    targets = {"default": "tiny"} if interface == "none" else {"default": "tiny", "axis": "tiny_axis"}
    for target, top in targets.items():
        work = tmp_path / f"work_{target}"
        work.mkdir()
        r = _setup(tmp_path / "lib", core_vlnv(m), target, work)
        assert r.returncode == 0, r.stdout + r.stderr
        edam = _edam(work)
        assert edam["toplevel"] == top
        assert [Path(f["name"]).name for f in edam["files"]] == ["tiny.v"]
        assert edam["files"][0]["file_type"] == "verilogSource"


def test_broken_core_is_refused(tmp_path: Path) -> None:
    # negative control: the same check fails on a core whose target names a missing fileset
    net = random_netlist(0, 12, [10, 6], 2, classes=2)
    out = compile_netlist(net, tmp_path / "lib" / "b", target="ice40", opt=1, name="tiny").out_dir
    core = out / "tiny.core"
    core.write_text(core.read_text().replace("filesets: [rtl]", "filesets: [rtl_missing]"))
    work = tmp_path / "work"
    work.mkdir()
    r = _setup(tmp_path / "lib", "lut2rtl:design:tiny:0", "default", work)
    assert r.returncode != 0 or not list(work.glob("build/*/*/*.eda.yml"))
    shutil.rmtree(work)

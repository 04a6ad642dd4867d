"""Formal equivalence of compiled examples with their netlists (``lut2rtl verify --formal``).

The default run proves the main digits example, compiled for iCE40 with a
4-stage pipeline, through the CLI (the proof covers the latency-0 compile of
the same netlist; the registers are covered by simulation). Every example x
every target is under ``slow`` (40 proofs, 24 minutes here; digits_best
and digits_warp6 take one to three minutes each):
``pytest sim/test_formal.py -m slow``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from simlib import example_checkpoints, main_example

from lut2rtl.cli import main
from lut2rtl.compile import compile_checkpoint
from lut2rtl.verify.check import verify_build

TARGETS = ["ice40", "ecp5", "xilinx", "gowin", "generic"]

pytestmark = pytest.mark.yosys


def test_main_example_proves_through_cli(tmp_path: Path) -> None:
    out = tmp_path / "digits"
    compile_checkpoint(main_example(), out, target="ice40", pipeline=4)
    r = CliRunner().invoke(main, ["verify", str(out), "--formal", "--no-sim", "--json"])
    assert r.exit_code == 0, r.output
    formal = json.loads(r.output)["formal"]
    assert formal["proved"] is True
    assert "latency-0" in formal["subject"]


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("ckpt", example_checkpoints(), ids=lambda p: p.stem)
def test_every_example_every_target_proves(ckpt: Path, target: str, tmp_path: Path) -> None:
    out = tmp_path / f"{ckpt.stem}-{target}"
    compile_checkpoint(ckpt, out, target=target, pipeline=0)
    report = verify_build(out, formal=True, simulate=False)
    assert report.formal is not None and report.formal.proved, report.formal

"""`lut2rtl train --arch conv` and `lut2rtl info` on its version-2 checkpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from lut2rtl.checkpoint import load_checkpoint, load_conv_net
from lut2rtl.cli import main
from lut2rtl.cli.cmd_info import dedupe_merged

ARGS = ["train", "--arch", "conv", "--method", "light", "--channels", "4", "--width", "40", "--depth", "1",
        "--steps", "40", "--eval-every", "40", "-q", "--json"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("conv")
    r = CliRunner().invoke(main, [*ARGS, "-o", str(d / "c.pt")])
    assert r.exit_code == 0, r.output
    return d / "c.pt", json.loads(r.output.strip().splitlines()[-1])


def test_train_writes_a_version_2_checkpoint(trained):
    path, summary = trained
    raw = torch.load(path, weights_only=True)
    assert raw["version"] == 2 and [s["kind"] for s in raw["stages"]] == ["conv", "or_pool", "dense"]
    conv = load_conv_net(path)
    assert conv.stages[0].in_shape == (8, 8, 3) and conv.stages[0].out_shape == (8, 8, 4)
    net = load_checkpoint(path)
    assert summary["luts"] == net.n_luts == 64 * 4 * 3 + 4 * 4 * 4 + 40
    # torch's eval forward and the reference evaluator scored the same test split alike
    assert summary["torch_discrete_acc"] == pytest.approx(summary["accuracy"], abs=1e-6)
    r = CliRunner().invoke(main, ["eval", str(path)])
    assert r.exit_code == 0
    assert f"{100 * summary['accuracy']:.2f}%" in r.output


def test_train_conv_is_deterministic(trained, tmp_path):
    path, _ = trained
    r = CliRunner().invoke(main, [*ARGS, "-o", str(tmp_path / "again.pt")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "again.pt").read_bytes() == path.read_bytes()


def test_info_shows_stages_and_dedupe(trained):
    path, _ = trained
    r = CliRunner().invoke(main, ["info", str(path)])
    assert r.exit_code == 0, r.output
    assert re.search(r"^  0: conv \[8, 8, 3\] -> \[8, 8, 4\], kernel 3x3 stride 1 padding 1, trees of k=2 depth 2: "
                     r"12 shared LUTs, 768 after lowering$", r.output, re.M), r.output
    r = CliRunner().invoke(main, ["info", str(path), "--passes", "--opt", "1", "--json"])
    s = json.loads(r.output)
    rows = s["passes"]
    assert s["dedupe_merged"] == dedupe_merged(rows) >= 0
    r = CliRunner().invoke(main, ["info", str(path), "--passes", "--opt", "1"])
    assert re.search(rf"^dedupe merged {s['dedupe_merged']} LUTs", r.output, re.M)


def test_dedupe_merged_counts_only_dedupe_rows():
    rows = [{"pass": "input", "luts": 100}, {"pass": "const", "luts": 90}, {"pass": "dedupe", "luts": 85},
            {"pass": "dead", "luts": 80}, {"pass": "dedupe", "luts": 79}]
    assert dedupe_merged(rows) == 6


def test_bad_conv_options_are_one_line_errors(tmp_path):
    for extra, pattern in [(["--channels", "4,x"], r"--channels '4,x': comma-separated positive integers.*"),
                           (["--channels", "0"], r"--channels \(0,\): positive integers, one per conv block"),
                           (["--method", "mlp"], r"--arch conv: method mlp is a float baseline.*")]:
        r = CliRunner().invoke(main, [*ARGS, *extra, "-o", str(tmp_path / "x.pt")])
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert r.exit_code == 1 and len(lines) == 1 and re.fullmatch("error: " + pattern, lines[0]), r.output
        assert not (tmp_path / "x.pt").exists()


def test_stride_halves_the_image_and_is_recorded(trained, tmp_path):
    out = tmp_path / "s2.pt"
    r = CliRunner().invoke(main, [*ARGS, "--stride", "2", "--pool", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.strip().splitlines()[-1])
    conv = load_conv_net(out)
    stage = conv.stages[0]
    # 8x8 input, 3x3 kernel, padding 1, stride 2: (8 + 2 - 3) // 2 + 1 = 4 positions a side
    assert (stage.stride, stage.padding, stage.out_shape) == (2, 1, (4, 4, 4))
    assert summary["luts"] == load_checkpoint(out).n_luts == 16 * 4 * 3 + 40
    assert summary["torch_discrete_acc"] == pytest.approx(summary["accuracy"], abs=1e-6)
    raw = torch.load(out, weights_only=True)
    assert raw["training"]["config"]["stride"] == 2
    # stride 1 (the default) is left out of the record: those checkpoints keep their bytes
    assert "stride" not in torch.load(trained[0], weights_only=True)["training"]["config"]


def test_stride_must_be_positive(tmp_path):
    r = CliRunner().invoke(main, [*ARGS, "--stride", "0", "-o", str(tmp_path / "x.pt")])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 1 and lines == ["error: --stride 0: must be a positive integer"], r.output
    assert not (tmp_path / "x.pt").exists()

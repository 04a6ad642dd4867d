from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from lut2rtl.checkpoint import load_checkpoint, read_checkpoint_dict
from lut2rtl.cli import main

SMALL = ["--width", "100", "--steps", "30", "--eval-every", "10", "--bits-per-feature", "2"]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_train_json_accuracy_equals_eval(tmp_path):
    out = tmp_path / "m.pt"
    r = CliRunner().invoke(main, ["train", *SMALL, "--method", "light", "--k", "3", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["luts"] == 200 and res["checkpoint"] == str(out) and res["method"] == "light"
    r2 = CliRunner().invoke(main, ["eval", str(out), "--json"])
    assert r2.exit_code == 0, r2.output
    assert json.loads(r2.stdout)["accuracy"] == res["accuracy"]
    net = load_checkpoint(out)
    assert net.metadata["method"] == "light" and net.metadata["k"] == 3 and net.metadata["dataset"] == "digits"
    raw = read_checkpoint_dict(out)
    assert raw["training"]["config"]["method"] == "light" and len(raw["training"]["history"]) == 3


def test_train_progress_on_stderr_and_text_summary(tmp_path):
    r = CliRunner().invoke(main, ["train", *SMALL, "-o", str(tmp_path / "m.pt")])
    assert r.exit_code == 0, r.output
    assert "step     30/30" in r.stderr and "gap" in r.stderr
    assert r.stdout.startswith("dlgn (200 LUTs): digits test accuracy ") and "wrote" in r.stdout


def test_float_baseline_file_is_refused_by_info(tmp_path):
    out = tmp_path / "mlp.pt"
    r = CliRunner().invoke(main, ["train", "--method", "mlp", "--width", "32", "--steps", "50", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = torch.load(out, weights_only=True)
    assert d["kind"] == "float-baseline" and "format" not in d
    r2 = CliRunner().invoke(main, ["info", str(out)])
    assert r2.exit_code == 1
    assert r2.stderr.startswith("error: ") and "float baseline" in r2.stderr and "Traceback" not in r2.output
    build = tmp_path / "build"
    r3 = CliRunner().invoke(main, ["compile", str(out), "-o", str(build)])
    assert r3.exit_code == 1 and "float baseline" in r3.stderr, r3.output
    assert not build.exists()


@pytest.mark.parametrize("args,msg", [
    (["--method", "gumbel", "--k", "3"], r"^error: --k 3: method gumbel has 2-input gates only"),
    (["--width", "55"], r"^error: --width 55: must be a multiple of the 10 classes"),
    (["--steps", "0"], r"^error: --steps 0: must be a positive integer"),
    (["--dataset", "mnist"], r"^error: dataset 'mnist' needs --data-dir"),
    (["--threads", "0"], r"^error: --threads 0: must be a positive integer"),
])
def test_bad_options(tmp_path, args, msg):
    import re

    out = tmp_path / "m.pt"
    r = CliRunner().invoke(main, ["train", *args, "-o", str(out)])
    assert r.exit_code == 1, r.output
    assert re.match(msg, r.stderr), r.stderr
    assert not out.exists()


def test_help_has_examples():
    r = CliRunner().invoke(main, ["train", "--help"])
    assert r.exit_code == 0 and "Examples" in r.output and "--method" in r.output

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


@pytest.mark.parametrize("args", [
    ["--method", "dlgn"],
    ["--method", "gumbel"],
    ["--method", "light", "--k", "2"],
    ["--method", "warp", "--k", "2"],
    ["--method", "warp", "--k", "6", "--noise", "--forward", "hard"],
    ["--method", "warp", "--k", "2", "--noise", "--forward", "hard", "--noise-source", "fresh"],
    ["--method", "warp", "--k", "4", "--depth", "3"],
])
def test_eval_accuracy_equals_the_training_reports_discrete_accuracy(tmp_path, args):
    """No discretization gap between the report and the file: `lut2rtl eval` on the checkpoint prints
    the accuracy `train` reported, and the torch eval-mode (discrete) forward agrees with both."""
    out = tmp_path / "m.pt"
    r = CliRunner().invoke(main, ["train", *SMALL, *args, "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    r2 = CliRunner().invoke(main, ["eval", str(out), "--json"])
    assert r2.exit_code == 0, r2.output
    ev = json.loads(r2.stdout)
    assert ev["accuracy"] == res["accuracy"]
    assert res["torch_discrete_acc"] == round(ev["accuracy"], 6)
    raw = read_checkpoint_dict(out)
    cfg = raw["training"]["config"]
    assert cfg["init"] in ("random", "residual") and cfg["lr"] > 0  # the resolved defaults are recorded
    if "--noise" in args:
        assert cfg["noise"] is True and cfg["hard"] is True
        assert cfg["noise_source"] == ("fresh" if "fresh" in args else "table")
    if "--depth" in args:
        assert cfg["noise"] is False and cfg["hard"] is False  # warp's defaults
        assert cfg["init"] == "residual"  # auto init: residual above 2 layers


def test_negative_control_eval_sees_a_changed_table(tmp_path):
    """The equality above is not vacuous: flipping LUT tables in the file changes what `eval` prints."""
    import dataclasses

    import numpy as np

    from lut2rtl.checkpoint import save_checkpoint

    out = tmp_path / "m.pt"
    r = CliRunner().invoke(main, ["train", *SMALL, "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    acc = json.loads(r.stdout.strip().splitlines()[-1])["accuracy"]
    net = load_checkpoint(out)
    layer = net.layers[-1]
    flipped = dataclasses.replace(layer, tables=(~layer.tables.astype(np.uint64)) & np.uint64(15))  # NOT each LUT
    bad = tmp_path / "bad.pt"
    save_checkpoint(net.replace(layers=[*net.layers[:-1], flipped], outputs=net.outputs), bad)
    r2 = CliRunner().invoke(main, ["eval", str(bad), "--json"])
    assert r2.exit_code == 0, r2.output
    assert json.loads(r2.stdout)["accuracy"] != acc


def test_help_documents_the_per_method_defaults():
    r = CliRunner().invoke(main, ["train", "--help"])
    assert r.exit_code == 0
    for word in ("--noise", "--forward", "auto", "Defaults per method", "gumbel", "warp"):
        assert word in r.output, word


def test_help_lr_table_matches_the_library_defaults():
    """The --help table is written by hand (help must not import torch): it must list DEFAULT_LR."""
    import re

    from lut2rtl.nn.train import DEFAULT_LR

    out = CliRunner().invoke(main, ["train", "--help"]).output
    table = dict(re.findall(r"^\s+(dlgn|gumbel|light|warp|mlp)\s+([0-9.]+)", out, flags=re.M))
    assert table == {m: f"{DEFAULT_LR[m]:g}" for m in ("dlgn", "gumbel", "light", "warp", "mlp")}, table


def test_val_fraction_keep_best_in_json_and_progress(tmp_path):
    out = tmp_path / "m.pt"
    r = CliRunner().invoke(main, ["train", *SMALL, "--method", "light", "--k", "3", "--val-fraction", "0.15",
                                  "--keep-best", "--lr-schedule", "cosine", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert 0.0 <= res["val_acc"] <= 1.0 and res["best_step"] in (10, 20, 30)
    raw = read_checkpoint_dict(out)
    assert raw["training"]["config"]["val_fraction"] == 0.15 and raw["training"]["config"]["keep_best"] is True
    assert all("val_acc" in h for h in raw["training"]["history"])
    r2 = CliRunner().invoke(main, ["train", *SMALL, "--keep-best"])
    assert r2.exit_code != 0 and "--keep-best needs a validation split" in r2.output

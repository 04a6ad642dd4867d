from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lut2rtl import __version__
from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.cli import main
from lut2rtl.datasets import load_digits, thermometer_thresholds
from lut2rtl.netgen import random_netlist


@pytest.fixture
def digits_ckpt(tmp_path):
    d = load_digits()
    enc = thermometer_thresholds(d.x_train, 2, feature_range=d.feature_range)
    net = random_netlist(0, enc.n_bits, [60, 40], 2, classes=10).replace(encoder=enc)
    p = tmp_path / "m.pt"
    save_checkpoint(net, p)
    return p


def test_version_and_help():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and "Examples" in r.output and "compile" in r.output


def test_info_json(digits_ckpt):
    r = CliRunner().invoke(main, ["info", str(digits_ckpt), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["luts"] == 100 and s["classes"] == 10 and s["inputs"] == 128
    assert [layer["k"] for layer in s["layers"]] == [2, 2]
    assert sum(s["layers"][0]["gates"].values()) == 60


def test_eval_json_matches_reference(digits_ckpt):
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.evaluate import evaluate_features

    r = CliRunner().invoke(main, ["eval", str(digits_ckpt), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    d = load_digits()
    pred = evaluate_features(load_checkpoint(digits_ckpt), d.x_test).pred
    assert out["correct"] == int((pred == d.y_test).sum()) and out["samples"] == len(d.y_test)


def test_errors_are_one_line_without_traceback(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"junk")
    # a real process: stderr, exit code and no traceback as a user sees them
    p = subprocess.run([sys.executable, "-m", "lut2rtl", "info", str(tmp_path / "junk.pt")],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1
    assert p.stderr.startswith(f"error: {tmp_path / 'junk.pt'}: not a loadable lut2rtl checkpoint")
    assert "Traceback" not in p.stderr


def test_eval_without_groupsum_is_an_error(tmp_path):
    net = random_netlist(0, 8, [4], 2)
    save_checkpoint(net, tmp_path / "n.pt")
    r = CliRunner().invoke(main, ["eval", str(tmp_path / "n.pt")])
    assert r.exit_code == 1
    assert r.output.strip() == "error: the network has no GroupSum: it predicts no classes to score"


def test_example_checkpoints_load():
    examples = sorted(Path(__file__).resolve().parents[2].joinpath("examples").glob("*.pt"))
    assert examples, "no example checkpoints"
    for p in examples:
        r = CliRunner().invoke(main, ["info", str(p), "--json"])
        assert r.exit_code == 0, (p, r.output)


def test_eval_bits_and_out(tmp_path, digits_ckpt):
    # raw input bits in, the reference evaluator's answers out, in vectors.npz's layout
    import numpy as np

    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.evaluate import evaluate

    net = load_checkpoint(digits_ckpt)
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(300, net.n_inputs), dtype=np.uint8)
    want = evaluate(net, bits.astype(bool))
    labels = want.pred.copy()
    labels[:30] = (labels[:30] + 1) % 10  # 30 wrong labels: accuracy 90 %
    np.savez(tmp_path / "in.npz", in_bits=bits, labels=labels)
    out = tmp_path / "out.npz"
    r = CliRunner().invoke(main, ["eval", str(digits_ckpt), "--bits", str(tmp_path / "in.npz"), "--out", str(out),
                                  "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["samples"] == 300 and d["correct"] == 270 and d["accuracy"] == 0.9
    with np.load(out) as z:
        assert np.array_equal(z["counts"], want.counts) and np.array_equal(z["out_class"], want.pred)
        assert np.array_equal(z["out_bits"], want.out_bits)
    # an existing --out is kept without --force
    r = CliRunner().invoke(main, ["eval", str(digits_ckpt), "--bits", str(tmp_path / "in.npz"), "--out", str(out)])
    assert r.exit_code == 1 and r.output.startswith("error: ") and "--force" in r.output


@pytest.mark.parametrize("arrays,message", [
    ({"x": [[0, 1]]}, r"no 'in_bits' array \(it has: x\)"),
    ({"in_bits": [[0, 1]]}, r"in_bits has shape \(1, 2\), the network reads \(N, 128\)"),
    ({"in_bits": [[2] * 128]}, r"in_bits must hold 0 and 1"),
    ({"in_bits": [[0] * 128], "labels": [0.5]}, r"labels must be integers of shape \(1,\)"),
])
def test_eval_bits_refusals(tmp_path, digits_ckpt, arrays, message):
    import re

    import numpy as np

    np.savez(tmp_path / "bad.npz", **{k: np.array(v) for k, v in arrays.items()})
    r = CliRunner().invoke(main, ["eval", str(digits_ckpt), "--bits", str(tmp_path / "bad.npz"), "--out",
                                  str(tmp_path / "o.npz")])
    assert r.exit_code == 1
    assert re.fullmatch(r"error: .*bad\.npz: " + message + r".*\n", r.output)
    assert not (tmp_path / "o.npz").exists()
    r = CliRunner().invoke(main, ["eval", str(digits_ckpt), "--bits", str(digits_ckpt)])  # a torch file
    assert r.exit_code == 1 and re.fullmatch(r"error: .*m\.pt: no 'in_bits' array.*\n", r.output)

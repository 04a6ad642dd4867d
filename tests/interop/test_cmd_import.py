from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.cli import main
from lut2rtl.evaluate import evaluate

from . import standins as S


@pytest.fixture
def difflogic_files(tmp_path):
    model = S.difflogic_model([40, 20], 16, 4, seed=7)
    sd, idx = tmp_path / "sd.pt", tmp_path / "idx.pt"
    torch.save(model.state_dict(), sd)
    torch.save([m.indices for m in model if isinstance(m, S.LogicLayer)], idx)
    return model, sd, idx


def _run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_import_difflogic_state_dict(tmp_path, difflogic_files):
    model, sd, idx = difflogic_files
    out = tmp_path / "m.pt"
    r = _run("import", "difflogic", sd, "--indices", idx, "--classes", 4, "--tau", 10, "--inputs", 16, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"{out}: 16 input bits -> 2 layers, 60 LUTs (k=2) -> 20 outputs, GroupSum 4 classes")
    net = load_checkpoint(out)
    assert net.metadata["imported_from"] == "difflogic" and net.metadata["source_file"] == "sd.pt"
    bits = np.random.default_rng(0).integers(0, 2, size=(256, 16)).astype(bool)
    want_bits, want_counts, want_pred = S.discrete_forward(model, torch.from_numpy(bits.astype(np.float64)), 4)
    got = evaluate(net, bits)
    assert np.array_equal(got.out_bits, want_bits) and np.array_equal(got.counts, want_counts)
    assert np.array_equal(got.pred, want_pred)


def test_refuses_overwrite_without_force(tmp_path, difflogic_files):
    _, sd, idx = difflogic_files
    out = tmp_path / "m.pt"
    out.write_bytes(b"keep")
    r = _run("import", "difflogic", sd, "--indices", idx, "--classes", 4, "-o", out)
    assert r.exit_code == 1
    assert r.output.strip() == f"error: {out} exists (use --force to overwrite)"
    assert out.read_bytes() == b"keep"
    r = _run("import", "difflogic", sd, "--indices", idx, "--classes", 4, "-o", out, "--force")
    assert r.exit_code == 0, r.output
    assert load_checkpoint(out).n_luts == 60


@pytest.mark.parametrize("args,message", [
    ([], r"^error: \S+sd\.pt: layer '1': no wiring \(difflogic keeps `indices` outside the state dict\); "
         r"pass the model object or --indices FILE$"),
    (["--indices", "{sd}"], r"^error: \S+sd\.pt: layer '1': wiring from --indices has dtype torch\.float32, "
                            r"expected integers$"),
    (["--indices", "{idx}", "--classes", "3"], r"^error: \S+sd\.pt: GroupSum k=3 does not divide the 20 outputs"),
])
def test_errors_are_one_line_and_write_nothing(tmp_path, difflogic_files, args, message):
    import re

    _, sd, idx = difflogic_files
    out = tmp_path / "m.pt"
    args = [a.format(sd=sd, idx=idx) for a in args]
    r = _run("import", "difflogic", sd, "-o", out, *args)
    assert r.exit_code == 1
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert re.match(message, r.output.strip()), r.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx.pt", "sd.pt"]


def test_bad_files(tmp_path):
    out = tmp_path / "m.pt"
    r = _run("import", "torchlogix", tmp_path / "missing.pt", "-o", out)
    assert r.exit_code == 1 and r.output.strip().endswith("missing.pt: no such file")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    r = _run("import", "torchlogix", junk, "-o", out)
    assert r.exit_code == 1 and "not a loadable PyTorch file" in r.output
    r = _run("import", "keras", junk, "-o", out)
    assert r.exit_code == 2 and "difflogic" in r.output
    assert not out.exists()


def test_import_torchlogix_pickled_model_with_dataset(tmp_path):
    model = S.torchlogix_model([48, 24], 8, 2, 4, parametrization="walsh", lut_rank=4, seed=3)
    src = tmp_path / "tl.pt"
    # the stand-in classes live in tests.interop.standins, not in torchlogix, so
    # save a state dict: the CLI then needs the wiring and the parametrization
    torch.save(model.state_dict(), src)
    idx = tmp_path / "idx.pt"
    torch.save({"2": model[2].connections.indices, "3": model[3].connections.indices}, idx)
    out = tmp_path / "m.pt"
    r = _run("import", "torchlogix", src, "--indices", idx, "--parametrization", "warp", "--classes", 4,
             "--dataset", "digits", "-o", out)
    assert r.exit_code == 0, r.output
    assert "thermometer 8x2 -> 16 input bits" in r.output and "(k=4)" in r.output
    net = load_checkpoint(out)
    assert net.metadata["dataset"] == "digits" and net.metadata["parametrization"] == ["walsh"]
    x = np.random.default_rng(1).uniform(0, 16, size=(256, 8)).astype(np.float32)
    want_bits, _, want_pred = S.discrete_forward(model, torch.from_numpy(x), 4)
    from lut2rtl.evaluate import evaluate_features

    got = evaluate_features(net, x)
    assert np.array_equal(got.out_bits, want_bits) and np.array_equal(got.pred, want_pred)

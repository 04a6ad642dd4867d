"""Checkpoint format version 2 (the compact convolutional form): round trip, lowering on
load, version handling (a version-1 reader refuses it), refusals naming the stage."""

from __future__ import annotations

import importlib.util
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from lut2rtl.checkpoint import (
    conv_net_to_dict,
    load_checkpoint,
    load_conv_net,
    netlist_from_dict,
    save_checkpoint,
)
from lut2rtl.cli import main
from lut2rtl.errors import CheckpointError
from lut2rtl.evaluate import evaluate
from lut2rtl.lowering import lower
from lut2rtl.nn.conv import build_conv_net

ROOT = Path(__file__).resolve().parent.parent
V1_COMMIT = "8cfad13"  # the last commit whose loader reads version 1 only


@pytest.fixture(scope="module")
def conv_net():
    torch.manual_seed(0)
    model = build_conv_net("light", (6, 6, 2), [4], [20], classes=5, tau=2.0, seed=0,
                           layer_options={"init": "random"})
    return model.to_conv_net({"dataset": "none", "accuracy": 0.5})


def test_round_trip_is_exact_and_lowers_on_load(tmp_path, conv_net):
    p = tmp_path / "c.pt"
    save_checkpoint(conv_net, p)
    raw = torch.load(p, weights_only=True)
    assert raw["version"] == 2 and [s["kind"] for s in raw["stages"]] == ["conv", "or_pool", "dense"]
    back = load_conv_net(p)
    assert back is not None
    for a, b in zip(conv_net.stages, back.stages):
        assert type(a) is type(b) and a.kind == b.kind
        for name in ("leaves", "inputs", "tables"):
            if hasattr(a, name):
                va, vb = getattr(a, name), getattr(b, name)
                if isinstance(va, tuple):
                    assert all(np.array_equal(x, y) for x, y in zip(va, vb))
                else:
                    assert np.array_equal(va, vb)
    flat = load_checkpoint(p)
    want = lower(conv_net)
    bits = np.random.default_rng(0).integers(0, 2, (200, 72)).astype(bool)
    assert np.array_equal(evaluate(flat, bits).out_bits, evaluate(want, bits).out_bits)
    assert flat.n_luts == want.n_luts and dict(flat.metadata) == {"dataset": "none", "accuracy": 0.5}
    # byte-deterministic
    save_checkpoint(conv_net, tmp_path / "again.pt")
    assert p.read_bytes() == (tmp_path / "again.pt").read_bytes()


def test_version_1_files_still_load():
    flat = load_checkpoint(ROOT / "examples" / "digits.pt")
    assert flat.n_luts == 2000
    assert load_conv_net(ROOT / "examples" / "digits.pt") is None


def test_unknown_version_is_refused(conv_net):
    d = conv_net_to_dict(conv_net)
    d["version"] = 3
    with pytest.raises(CheckpointError, match=r"^c\.pt: checkpoint version 3 is not supported "
                                              r"\(this lut2rtl reads versions 1, 2\)$"):
        netlist_from_dict(d, where="c.pt")


def _v1_reader():
    """The loader of the last version-1-only lut2rtl, from git history (as a user of that version has it)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git history of this checkout")
    r = subprocess.run([git, "show", f"{V1_COMMIT}:lut2rtl/checkpoint.py"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"commit {V1_COMMIT} not in this checkout")
    spec = importlib.util.spec_from_loader("lut2rtl._checkpoint_v1", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "lut2rtl"
    sys.modules[spec.name] = mod
    try:
        exec(compile(r.stdout, "checkpoint_v1.py", "exec"), mod.__dict__)
    finally:
        del sys.modules[spec.name]
    return mod


def test_a_version_1_reader_refuses_version_2(tmp_path, conv_net):
    v1 = _v1_reader()
    assert v1.VERSION == 1 and not hasattr(v1, "VERSIONS")
    p = tmp_path / "c.pt"
    save_checkpoint(conv_net, p)
    with pytest.raises(CheckpointError, match=r"version 2 is not supported \(this lut2rtl reads version 1\)$"):
        v1.load_checkpoint(p)
    # negative control: the same old reader does read a version-1 file
    assert v1.load_checkpoint(ROOT / "examples" / "digits.pt").n_luts == 2000


def _bad(conv_net, edit) -> dict:
    d = conv_net_to_dict(conv_net)
    edit(d)
    return d


def _set(path, value):
    def edit(d):
        cur = d
        for key in path[:-1]:
            cur = cur[key]
        cur[path[-1]] = value
    return edit


MALFORMED = [
    # geometry that does not fit the input
    (_set(["stages", 0, "in_shape"], [6, 5, 2]), r"stages\[0\] \(conv\): in_shape \(6, 5, 2\) holds 60 bits but its "
                                                 r"input has 72"),
    # channel counts that disagree
    (_set(["stages", 1, "in_shape"], [6, 6, 3]), r"stages\[1\] \(or_pool\): in_shape \(6, 6, 3\) \(H, W, C\) "
                                                 r"disagrees with the \(6, 6, 4\) the previous stage produces"),
    # a kernel larger than its input
    (_set(["stages", 0, "kernel"], [9, 3]), r"stages\[0\] \(conv\): kernel 9x3 is larger than its input 6x6 "
                                            r"\(padding 1\)"),
    (_set(["stages", 0, "leaves"], torch.full((4, 4), 18)), r"stages\[0\] \(conv\), kernel 0: leaf 0 reads "
                                                            r"receptive-field bit 18, outside 0\.\.17 \(3x3x2\)"),
    (_set(["stages", 0, "tables"], [torch.zeros(4, 2, dtype=torch.int64)]),
     r"stages\[0\] \(conv\): 1 table levels for a tree of depth 2"),
    (_set(["stages", 0, "kind"], "deconv"), r"stages\[0\]\.kind is 'deconv', expected 'conv', 'or_pool' or 'dense'"),
    (_set(["stages", 0, "stride"], 0), r"stages\[0\] \(conv\): 'stride'=0 outside 1\.\.4096"),
    (_set(["stages", 1, "kernel"], [2]), r"stages\[1\] \(or_pool\): 'kernel' is a list of 1 items, expected a list "
                                         r"of 2 integers"),
    (_set(["stages", 2, "inputs"], torch.full((20, 2), 99)), r"stages\[2\] \(dense\), neuron 0: input 0 is 99, "
                                                             r"outside 0\.\.35"),
]


@pytest.mark.parametrize("edit, pattern", MALFORMED)
def test_malformed_conv_checkpoint_is_refused(conv_net, edit, pattern):
    with pytest.raises(CheckpointError, match=r"^c\.pt: " + pattern + "$"):
        netlist_from_dict(_bad(conv_net, edit), where="c.pt")


def test_the_unedited_dict_loads(conv_net):
    """Negative control of the refusals: the dict they start from is accepted."""
    assert netlist_from_dict(conv_net_to_dict(conv_net), where="c.pt").n_luts == lower(conv_net).n_luts


@pytest.mark.parametrize("cmd", ["info", "eval", "compile"])
def test_cli_refuses_a_malformed_conv_checkpoint_in_one_line(tmp_path, conv_net, cmd):
    p = tmp_path / "bad.pt"
    buf = io.BytesIO()
    torch.save(_bad(conv_net, MALFORMED[2][0]), buf)
    p.write_bytes(buf.getvalue())
    args = [cmd, str(p)] + (["-o", str(tmp_path / "build")] if cmd == "compile" else [])
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.fullmatch(r"error: .*bad\.pt: stages\[0\] \(conv\): kernel 9x3 is larger than its "
                                            r"input 6x6 \(padding 1\)", lines[0]), r.output
    assert not (tmp_path / "build").exists()

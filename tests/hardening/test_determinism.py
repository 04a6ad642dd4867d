"""Same inputs, same bytes: across runs and processes (hash-seed independent)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAVE = """
import sys
from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.netgen import random_netlist
net = random_netlist(5, 16, [12, 8], [2, 4], classes=4, encoder_features=8)
net = net.replace(metadata={"b": 1, "a": {"y": 2, "x": [1, 2]}, "c": "text"})
save_checkpoint(net, sys.argv[1])
"""


def _run(args: list[str], seed: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, check=True)


def test_checkpoint_bytes_and_info_are_hash_seed_independent(tmp_path: Path) -> None:
    outs = []
    for seed in ("1", "2"):
        p = tmp_path / f"m{seed}.pt"
        _run(["-c", SAVE, str(p)], seed)
        info = _run(["-m", "lut2rtl", "info", str(p), "--json"], seed).stdout
        outs.append((p.read_bytes(), info.replace(str(p), "M")))
    assert outs[0][0] == outs[1][0]
    assert outs[0][1] == outs[1][1]


COMPILE_SRC = """
import sys
from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.datasets import load_digits, thermometer_thresholds
from lut2rtl.netgen import random_netlist
d = load_digits()
enc = thermometer_thresholds(d.x_train, 2, feature_range=d.feature_range)
net = random_netlist(11, enc.n_bits, [60, 30], [2, 4], classes=10).replace(encoder=enc)
net = net.replace(metadata={"dataset": "digits", "z": 1, "a": [3, 2]})
save_checkpoint(net, sys.argv[1])
"""


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow  # three fresh processes (torch + amaranth imports): ~1 min on a loaded machine
@pytest.mark.parametrize(("target", "pipeline"), [("ice40", 2), ("generic", 0)])
def test_compile_is_byte_identical_across_processes(tmp_path: Path, target: str, pipeline: int) -> None:
    """Two processes with different hash seeds, different output paths: same bytes in every file."""
    ckpt = tmp_path / "digits_net.pt"
    _run(["-c", COMPILE_SRC, str(ckpt)], "0")
    folders = []
    for seed in ("1", "2"):
        out = tmp_path / f"build{seed}" / "b"
        _run(["-m", "lut2rtl", "compile", str(ckpt), "--target", target, "--pipeline", str(pipeline),
              "-o", str(out)], seed)
        folders.append(_folder_bytes(out))
    assert sorted(folders[0]) == ["digits_net.core", "digits_net.json", "digits_net.v", "netlist.pt", "vectors.npz"]
    for name in folders[0]:
        assert folders[0][name] == folders[1][name], f"{name} differs between runs"
    # the digits test split is part of the vectors (metadata says dataset=digits)
    import numpy as np

    from lut2rtl.datasets import load_digits

    with np.load(tmp_path / "build1" / "b" / "vectors.npz", allow_pickle=False) as z:
        assert z["in_bits"].shape[0] == load_digits().x_test.shape[0] + 256


def test_compile_in_process_twice_and_with_force(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lut2rtl.cli import main

    ckpt = tmp_path / "m.pt"
    _run(["-c", SAVE, str(ckpt)], "3")
    out = tmp_path / "b"
    r1 = CliRunner().invoke(main, ["compile", str(ckpt), "--target", "ecp5", "--pipeline", "1", "-o", str(out)])
    assert r1.exit_code == 0, r1.output
    first = _folder_bytes(out)
    r2 = CliRunner().invoke(main, ["compile", str(ckpt), "--target", "ecp5", "--pipeline", "1", "--force",
                                   "-o", str(out)])
    assert r2.exit_code == 0, r2.output
    assert _folder_bytes(out) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "m.pt"]

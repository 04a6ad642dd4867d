"""Same inputs, same bytes: across runs and processes (hash-seed independent)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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

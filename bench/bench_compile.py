"""Compile time and peak memory of `compile_netlist` on large random networks.

Each measurement runs in a fresh child process (``python -c``), so the peak
resident memory (``ru_maxrss`` of the child) and the wall time include the
imports (torch, Amaranth), the mapping, the Amaranth elaboration and Verilog
conversion, the fabric writer, the test vectors and writing the build folder.

Networks: random 2-input gates that depend on both inputs (``genuine``), 256
input bits, widths shrinking by <= 2x per layer so that every gate is live,
the last layer 1% of the gates, GroupSum with 10 classes; ``opt=0`` (the
passes are measured elsewhere), target ice40 (one ``SB_LUT4`` per gate),
pipeline 0 and 4. ``fabric=verilog`` (the LUT fabric and its pipeline
registers written as one structural Verilog module by lut2rtl's writer) is
what ``auto`` picks above 4000 mapped LUTs; the all-Amaranth fabric (one
``Instance`` per LUT) is shown at 2K and 10K gates for comparison.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import progress

TITLE = "Compile time and memory (checkpoint -> Verilog build folder)"

# layer widths as fractions of the gate count (sum 1.006; every layer >= half the previous)
_SHAPE = [0.24, 0.20, 0.16, 0.13, 0.10, 0.07, 0.05, 0.03, 0.016, 0.01]
ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
t0 = time.monotonic()
from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.compile import compile_checkpoint
res = compile_checkpoint(sys.argv[1], sys.argv[2], target=sys.argv[3], pipeline=int(sys.argv[4]), opt=0,
                         fabric=sys.argv[5], force=True)
wall = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import os
size = sum(os.path.getsize(os.path.join(sys.argv[2], f)) for f in os.listdir(sys.argv[2]))
print(json.dumps({"wall_s": wall, "peak_mb": rss / 1024, "cells": res.manifest.estimate["fabric_luts"],
                  "folder_mb": size / 2**20}))
"""


def widths(gates: int) -> list[int]:
    w = [max(10, int(round(gates * f / 10)) * 10) for f in _SHAPE]
    return w


def make_checkpoint(gates: int, path: Path) -> int:
    from lut2rtl.checkpoint import save_checkpoint
    from lut2rtl.netgen import random_netlist

    net = random_netlist(gates, 256, widths(gates), 2, classes=10, genuine=True)
    save_checkpoint(net, path)
    return net.n_luts


def measure(ckpt: Path, out: Path, target: str, pipeline: int, fabric: str, timeout: float = 1800) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", _CHILD, str(ckpt), str(out), target, str(pipeline), fabric],
                       capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if r.returncode:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict:
    sizes = [10_000, 100_000] if quick else [2_000, 10_000, 100_000, 1_000_000]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for gates in sizes:
            ckpt = Path(tmp) / f"net{gates}.pt"
            n = make_checkpoint(gates, ckpt)
            configs = [("verilog", 4)] if quick else [("verilog", 0), ("verilog", 4)]
            if gates <= 10_000 and not quick:  # where fabric="auto" switches (AUTO_VERILOG_CELLS)
                configs += [("amaranth", 0), ("amaranth", 4)]
            for fabric, pipeline in configs:
                m = measure(ckpt, Path(tmp) / f"b{gates}_{fabric}_{pipeline}", "ice40", pipeline, fabric)
                rows.append({"gates": n, "fabric": fabric, "pipeline": pipeline, **m})
                progress(f"{rows[-1]}")
    series: dict[str, list[list[float]]] = {}
    mem: dict[str, list[list[float]]] = {}
    for r in rows:
        if "wall_s" in r:
            key = f"{r['fabric']} fabric, pipeline {r['pipeline']}"
            series.setdefault(key, []).append([r["gates"], r["wall_s"]])
            mem.setdefault(key, []).append([r["gates"], r["peak_mb"]])
    plots = [
        {"file": "time.png", "title": "Compile wall time vs gates (ice40)", "xlabel": "gates",
         "ylabel": "seconds", "logx": True, "logy": True, "series": series},
        {"file": "memory.png", "title": "Compile peak memory vs gates (ice40)", "xlabel": "gates",
         "ylabel": "peak resident MB", "logx": True, "logy": True, "series": mem},
    ]
    return {
        "columns": ["gates", "fabric", "pipeline", "cells", "wall_s", "peak_mb", "folder_mb", "error"],
        "rows": rows,
        "notes": __doc__,
        "extra": {"plots": plots},
    }


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(json.dumps(run(quick), indent=2))

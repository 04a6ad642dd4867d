"""Verification scaling: `lut2rtl verify` (simulation, C++ harness engine) and
the formal proof as networks grow, from a cold cache.

Each row is a random network (`lut2rtl.netgen.random_netlist`: three layers
of 2-input gates and a GroupSum; five halving layers at 1M gates, where three
equal layers would give the GroupSum more than 65,535 input bits), compiled for iCE40 at pipeline 4 (the
fabric written as structural Verilog above 4,000 LUTs), then checked in a
fresh Python process with an empty Verilator cache: `verify_build` with 1,024
extra random vectors, then (up to `FORMAL_MAX` gates) the formal proof of the
same folder. Peak memory is the largest resident set of that process and
its children (Verilator, g++, the simulator, Yosys) together, sampled every
0.5 s (two piece builds run side by side in a piecewise simulation).

``LUT2RTL_BENCH_VERIFY_SIZES="1000:10,6000:100"`` (gates:classes, or
gates:classes:genuine) runs only those rows (to run the million-gate row in a
process of its own). The generator draws any of the 16 two-input functions by
default, so constants and single-input gates fold away (the million-gate
network maps onto about 105,000 SB_LUT4); ``genuine`` draws only gates that
read both inputs, and the million-gate network keeps about 417,000 SB_LUT4.
Column ``lut4`` gives the mapped size of every row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLE = "Verification scaling: simulation build/run and formal proof vs network size"

REPO = Path(__file__).resolve().parent.parent
FORMAL_MAX = 100_000  # gates; larger networks are simulated only
FORMAL_TIMEOUT = 1200  # the 100,000-gate, 100-class proof takes about 700 s
EXTRA_VECTORS = 1024

# (gates, classes): 1K..1M gates with 10 classes, and the 100- and 2,000-class networks
# (the million-gate row last: its C++ build is the longest)
FULL = [(1_000, 10, False), (6_000, 100, False), (10_000, 10, False), (16_000, 2_000, False), (100_000, 10, False),
        (100_000, 100, False), (1_000_000, 10, False), (1_000_000, 10, True)]
QUICK = [(1_000, 10, False), (6_000, 100, False)]

_CHILD = r"""
import json, os, resource, sys, threading, time
from pathlib import Path

tree_peak = [0]


def _sample():  # the resident set of this process and all its descendants together, every 0.5 s
    me = os.getpid()
    while True:
        parent = {}
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    parent[int(p)] = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        tree, grew = {me}, True
        while grew:
            new = {p for p, q in parent.items() if q in tree} - tree
            tree |= new
            grew = bool(new)
        total = 0
        for p in tree:
            try:
                total += next(int(ln.split()[1]) for ln in open(f"/proc/{p}/status") if ln.startswith("VmRSS:"))
            except (OSError, StopIteration, ValueError):
                pass
        tree_peak[0] = max(tree_peak[0], total)
        time.sleep(0.5)


threading.Thread(target=_sample, daemon=True).start()
from lut2rtl.verify.check import formal_check, verify_build
from lut2rtl.buildfolder import read_build_folder
folder, cache, formal, timeout = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1", float(sys.argv[4])
out = {}
t = time.perf_counter()
r = verify_build(folder, extra_vectors=int(sys.argv[5]), cache_dir=cache)
out["verify_s"] = time.perf_counter() - t
out["sim_ok"] = r.ok
out["build_s"] = r.sim.build_seconds
out["sim_s"] = r.sim.sim_seconds
out["cycles"] = r.sim.cycles
out["pieces"] = r.sim.pieces
out["vectors"] = r.vectors
out["cache_mb"] = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) / 2**20
if formal:
    t = time.perf_counter()
    try:
        res, subject = formal_check(read_build_folder(folder), timeout=timeout)
        out["formal"] = "proved" if res.proved else "FAILED"
        out["formal_method"] = res.method
    except Exception as e:  # noqa: BLE001 (a timeout or tool failure is a result here)
        out["formal"] = "not finished: " + " ".join(str(e).split())[:120]
    out["formal_s"] = time.perf_counter() - t
ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ru_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
out["peak_mb"] = max(ru_self, ru_kids, tree_peak[0]) / 1024
print("BENCH-JSON " + json.dumps(out))
"""


def _widths(gates: int, classes: int) -> list[int]:
    w = gates // 3
    if gates - 2 * w <= 60_000:
        return [w, w, max(classes, (gates - 2 * w) // classes * classes)]
    # a port has at most 65,535 bits (Amaranth): halve the layers (every gate still read, k = 2)
    # down to a last layer that fits, e.g. 1M = 500K + 250K + 125K + 62.5K + 62.5K
    widths = [gates // 2, gates // 4, gates // 8, gates // 16]
    return [*widths, (gates - sum(widths)) // classes * classes]


def _row(gates: int, classes: int, genuine: bool, tmp: Path) -> dict:
    from lut2rtl.compile import compile_netlist
    from lut2rtl.netgen import random_netlist

    net = random_netlist(gates + classes, 256, _widths(gates, classes), 2, classes=classes, genuine=genuine)
    out = tmp / f"net{gates}-{classes}"
    t0 = time.perf_counter()
    compile_netlist(net, out, target="ice40", pipeline=4, fabric="auto", name="net")
    compile_s = time.perf_counter() - t0
    lut4 = (out / "net.v").read_text().count("SB_LUT4 ")
    cache = tmp / f"cache{gates}-{classes}"
    formal = gates <= FORMAL_MAX
    cmd = [sys.executable, "-c", _CHILD, str(out), str(cache), "1" if formal else "0", str(FORMAL_TIMEOUT),
           str(EXTRA_VECTORS)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("BENCH-JSON ")), None)
    row: dict = {"gates": net.n_luts, "classes": classes, "gate_kinds": "genuine" if genuine else "any",
                 "lut4": lut4, "compile_s": round(compile_s, 1)}
    if line is None:
        err = (p.stderr.strip().splitlines() or ["no output"])[-1]
        row.update({"verify_s": round(wall, 1), "sim": f"error: {err[:150]}"})
        return row
    d = json.loads(line[len("BENCH-JSON "):])
    row.update({
        "verify_s": round(d["verify_s"], 1), "sim": "ok" if d["sim_ok"] else "MISMATCH", "pieces": d["pieces"],
        "build_s": round(d["build_s"], 1), "sim_s": round(d["sim_s"], 3),
        "vectors_per_s": round(d["vectors"] / max(d["sim_s"], 1e-9)),
        "peak_mb": round(d["peak_mb"]), "build_folder_mb": round(d["cache_mb"], 1),
        "formal": d.get("formal", f"not attempted (> {FORMAL_MAX:,} gates)"),
        "formal_s": round(d["formal_s"], 1) if "formal_s" in d else None,
    })
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return row


def _sizes(quick: bool) -> list[tuple[int, int, bool]]:
    env = os.environ.get("LUT2RTL_BENCH_VERIFY_SIZES")
    if not env:
        return QUICK if quick else FULL
    out = []
    for item in env.split(","):
        g, c, *kind = item.split(":")
        out.append((int(g), int(c), kind == ["genuine"]))
    return out


def run(quick: bool) -> dict:
    from lut2rtl.errors import Lut2RtlError

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        for gates, classes, genuine in _sizes(quick):
            print(f"bench_verify: {gates} gates, {classes} classes", file=sys.stderr, flush=True)
            try:
                rows.append(_row(gates, classes, genuine, Path(tmp)))
            except Lut2RtlError as e:  # a missing tool or a failed compile is a row, not a crash
                rows.append({"gates": gates, "classes": classes, "sim": f"error: {e}"[:200]})
            print(f"bench_verify: {rows[-1]}", file=sys.stderr, flush=True)
    return {
        "columns": ["gates", "classes", "gate_kinds", "lut4", "compile_s", "verify_s", "sim", "pieces", "build_s",
                    "sim_s", "vectors_per_s", "peak_mb", "build_folder_mb", "formal", "formal_s"],
        "rows": rows,
        "notes": (
            "Random networks (`random_netlist`, 256 inputs, three layers of 2-input gates, GroupSum; "
            "1M gates: layers of 500K, 250K, 125K, 62.5K, 62.5K), "
            "compiled for ice40 at pipeline 4 (`--fabric auto`: structural Verilog above 4,000 LUTs); "
            "`gate_kinds`: any of the 16 two-input functions (constants and single-input gates fold away) or "
            "`genuine` (only gates that read both inputs), `lut4` the SB_LUT4 instances of the compiled design. "
            "`verify_s` is `verify_build` (reference check of vectors.npz, "
            f"{EXTRA_VECTORS} random vectors, Verilator build with the C++ harness engine from an empty "
            "cache, simulation) in a fresh process; `pieces`: the fabric's pieces when it was simulated piecewise "
            "(above 60,000 fabric primitives, pieces of at most 50,000, two built side by side; "
            "0: whole); "
            "`build_s` the Verilator + C++ build (all pieces), `sim_s` the "
            "simulation loop, `vectors_per_s` vectors (with idle cycles) per second of `sim_s`; `peak_mb` "
            "the largest resident set of the process and its children together (sampled every 0.5 s; at least the "
            "largest single one); `build_folder_mb` what stays in the "
            "cache (the executable; object files are deleted). `formal`: `verify --formal` on the same "
            f"folder (the registered design: timing + BMC of out_valid + function), {FORMAL_TIMEOUT} s "
            f"limit, networks up to {FORMAL_MAX:,} gates. 2 shared CPU cores."),
    }


if __name__ == "__main__":
    res = run("--quick" in sys.argv)
    print(json.dumps(res, indent=2))

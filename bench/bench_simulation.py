"""Verification speed: Verilator vectors/s of the digits design, and the time a
formal equivalence proof takes as the network grows."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench import progress

TITLE = "Verification: simulation throughput and formal proof time"

REPO = Path(__file__).resolve().parent.parent
# a proof still running after this is reported as a timeout
LIMIT_S = 120


def _example() -> Path:
    trained = REPO / "examples" / "digits.pt"
    return trained if trained.is_file() else REPO / "examples" / "random_digits.pt"


def _simulation_rows(quick: bool, tmp: Path) -> list[dict]:
    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.compile import compile_checkpoint
    from lut2rtl.verify.simulate import simulate_design
    from lut2rtl.verify.vectors import expected_vectors, random_inputs

    ckpt = _example()
    rows = []
    for target in (["ice40"] if quick else ["ice40", "generic"]):
        out = tmp / f"sim-{target}"
        compile_checkpoint(ckpt, out, target=target, pipeline=4)
        design = read_build_folder(out)
        vec = design.vectors()
        extra = 1000 if quick else 20000
        net = design.netlist
        vec = vec.concat(expected_vectors(net, random_inputs(net.n_inputs, extra, 1)))
        # a fresh cache folder: the build time is a cold build
        res = simulate_design(design, vec, cache_dir=tmp / f"cache-{target}")
        rows.append({
            "what": f"simulate {ckpt.stem} ({net.n_luts} LUTs) {target} pipeline 4",
            "size": vec.n, "ok": res.ok, "build_s": round(res.build_seconds, 1),
            "run_s": round(res.run_seconds, 2),
            "rate": round(res.cycles / max(res.sim_seconds, 1e-9)),
        })
        progress(f"{rows[-1]}")
    return rows


def _formal_rows(quick: bool, tmp: Path) -> list[dict]:
    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.compile import compile_checkpoint, compile_netlist
    from lut2rtl.errors import ToolError
    from lut2rtl.families import FAMILIES
    from lut2rtl.netgen import random_netlist
    from lut2rtl.verify.formal import prove_equivalence

    rows = []
    # the trained example itself, with its GroupSum
    ckpt = _example()
    out = tmp / "formal-example"
    t0 = time.perf_counter()
    compile_checkpoint(ckpt, out, target="ice40", pipeline=0)
    compile_s = time.perf_counter() - t0
    d = read_build_folder(out)
    res = prove_equivalence(d.netlist, d.verilog, d.manifest.top, family=FAMILIES["ice40"], out_bits=False,
                            timeout=LIMIT_S)
    rows.append({"what": f"formal, examples/{ckpt.name} with GroupSum (ice40): {res.method}",
                 "size": d.netlist.n_luts, "ok": res.proved, "build_s": round(compile_s, 1),
                 "run_s": round(res.seconds, 2), "rate": None})
    widths = [100, 1000] if quick else [100, 300, 1000, 3000, 10000, 30000]
    for classes in (None, 10):
        for w in widths:
            # three layers of 2-input gates (+ a GroupSum of 10 classes), like the digits models
            net = random_netlist(w, 192, [w, w, w // 10 * 10], 2, classes=classes)
            out = tmp / f"formal-{w}-{classes}"
            t0 = time.perf_counter()
            compile_netlist(net, out, target="ice40", pipeline=0)
            compile_s = time.perf_counter() - t0
            d = read_build_folder(out)
            what = f"formal, random 3 layers of {w}, {'GroupSum 10' if classes else 'no GroupSum'} (ice40)"
            t0 = time.perf_counter()
            try:
                res = prove_equivalence(net, d.verilog, d.manifest.top, family=FAMILIES["ice40"], out_bits=False,
                                        timeout=LIMIT_S)
            except ToolError as e:
                rows.append({"what": f"{what}: {e}", "size": net.n_luts, "ok": False,
                             "build_s": round(compile_s, 1), "run_s": round(time.perf_counter() - t0, 2),
                             "rate": None})
                break
            rows.append({"what": f"{what}: {res.method}", "size": net.n_luts, "ok": res.proved,
                         "build_s": round(compile_s, 1),
                         "run_s": round(res.seconds, 2), "rate": None})
            progress(f"{rows[-1]}")
            if res.seconds > 60:
                break
    return rows


def run(quick: bool) -> dict:
    """Measure both; a missing tool gives a row saying so."""
    from lut2rtl.errors import ToolError

    columns = ["what", "size", "ok", "build_s", "run_s", "rate"]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="lut2rtl-bench-sim-") as t:
        tmp = Path(t)
        for part in (_simulation_rows, _formal_rows):
            try:
                rows += part(quick, tmp)
            except ToolError as e:
                rows.append({"what": f"{part.__name__}: tool missing or failed: {e}", "size": None, "ok": False,
                             "build_s": None, "run_s": None, "rate": None})
    notes = (
        "Simulation: cocotb + Verilator streaming one vector per clock with ~25% idle cycles; `size` = vectors "
        "(digits test split + 256 random from vectors.npz + extra random); `build_s` = cold Verilator build; "
        "`run_s` = whole simulator process; `rate` = simulated cycles per second inside the streaming loop "
        "(all outputs checked). Formal: `prove_equivalence` of the compiled ice40 Verilog (SB_LUT4 models) "
        "against the independent reference Verilog, for all inputs: first `equiv_make` + `equiv_simple` "
        "(GroupSum wires paired by name, each pair proved by a small SAT call), then, only if a pair is left "
        "unproved, one miter + SAT; the method column says which decided. `size` = LUTs in the netlist; "
        "`build_s` = compile time; `run_s` = proof time (stops after the first size over 60 s). "
        "Machine: shared 2-core CPU."
    )
    return {"columns": columns, "rows": rows, "notes": notes}


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))

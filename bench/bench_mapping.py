"""Technology mapping: lut2rtl's passes + LUT packing vs Yosys's own mapping.

For each network and FPGA family, in the same run:

- ``live``: gates in the fan-in cone of an output (the network as trained);
- ``floor``: a lower bound no mapping can beat: the outputs that are
  distinct functions (different on some of 4,096 random vectors), neither
  constant nor an input bit; each needs a LUT of its own;
- ``packer``: LUTs after ``optimize(net, 2, lut_size=K)`` (K = 4 for iCE40,
  6 for Xilinx), before any tool;
- ``level 3``: LUTs after ``optimize(net, 3, lut_size=K)`` (the compile
  default: the packer's cover or ABC's, whichever is smaller at no more
  depth), and whose cover it kept;
- ``yosys generic``: the design compiled with ``target=generic, opt=0`` (plain
  logic, every gate as written) and synthesized by Yosys (``synth_ice40`` /
  ``synth_xilinx``): what Yosys/ABC reach by themselves;
- ``yosys ours``: the design compiled for the family with ``opt=3``
  (primitive LUT instances from the level-3 netlist), same Yosys script;
- the same two with pipeline registers every 2 LUT levels of the packed
  network (``pipeline = ceil(levels / 2)``), LUTs and FFs.

Networks without GroupSum are compiled as they are; the GroupSum of the
examples is dropped (outputs read as ``out_bits``) so that only the LUT fabric
is counted. LUTs: SB_LUT4 cells (iCE40), LUT1..LUT6 and INV cells (Xilinx;
MUXF7/8 not counted, none appear here). FFs: SB_DFF* / FD* cells. Also: run time of
the level-2 pipeline on a large random network.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import progress

TITLE = "LUT mapping: lut2rtl passes + packing vs Yosys/ABC (LUTs per live gate)"

FAMILIES = {"ice40": 4, "xilinx": 6}
ROOT = Path(__file__).resolve().parents[1]


def _networks(quick: bool) -> list[tuple[str, Any]]:
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.netgen import random_netlist

    nets: list[tuple[str, Any]] = [
        ("random genuine 2-input, 64 in, 6x256", random_netlist(1, 64, [256] * 6, 2, genuine=True)),
    ]
    if not quick:
        nets.append(("random all-16 ops, 64 in, 6x256", random_netlist(1, 64, [256] * 6, 2)))
    if not quick:
        nets.append(("random genuine DAG, 128 in, 8x500", random_netlist(2, 128, [500] * 8, 2, genuine=True, dag=True)))
    examples = sorted((ROOT / "examples").glob("*.pt"))
    if quick:
        examples = [p for p in examples if p.name == "digits.pt"][:1]
    for path in examples:
        net = load_checkpoint(path)
        nets.append((f"examples/{path.name} (fabric only)", net.replace(group_sum=None)))
    return nets


def _yosys_counts(build: Path, name: str, family: str) -> tuple[int, int]:
    from lut2rtl.families import FAMILIES
    from lut2rtl.tools.yosys import run_yosys, synth_script

    run_yosys(synth_script(FAMILIES[family], name, [f"{name}.v"], stat_out="stat.json"), cwd=build, timeout=1200)
    stat = json.loads((build / "stat.json").read_text())
    cells: dict[str, int] = stat["design"]["num_cells_by_type"]
    if family == "ice40":
        luts = cells.get("SB_LUT4", 0)
        ffs = sum(v for c, v in cells.items() if c.startswith("SB_DFF"))
    else:
        # an INV cell is a LUT1 once placed
        luts = sum(v for c, v in cells.items() if c in {"INV", *(f"LUT{i}" for i in range(1, 7))})
        ffs = sum(v for c, v in cells.items() if c.startswith("FD"))
    return int(luts), int(ffs)


def _compile_and_count(
    net: Any, work: Path, tag: str, family: str, target: str, opt: int, pipeline: int,
) -> tuple[int, int]:
    from lut2rtl.compile import compile_netlist

    out = work / tag
    compile_netlist(net, out, target=target, opt=opt, pipeline=pipeline, name="top", force=True)
    return _yosys_counts(out, "top", family)


def _timing(n_gates: int) -> dict[str, Any]:
    from lut2rtl.netgen import random_netlist
    from lut2rtl.passes import run_pipeline

    layers = 8
    net = random_netlist(0, 1024, [n_gates // layers] * layers, 2, genuine=True)
    times: dict[str, float] = {}
    clock = [time.perf_counter()]

    def trace(name: str, _n: Any) -> None:
        now = time.perf_counter()
        if name != "input":
            key = "pack" if name.startswith("pack") else "cleanup"
            times[key] = times.get(key, 0.0) + now - clock[0]
        clock[0] = time.perf_counter()

    t0 = time.perf_counter()
    out = run_pipeline(net, 2, lut_size=4, trace=trace)
    total = time.perf_counter() - t0
    return {"gates": n_gates, "luts": int(out.n_luts), "cleanup_s": round(times.get("cleanup", 0.0), 1),
            "pack_s": round(times.get("pack", 0.0), 1), "total_s": round(total, 1)}


def _layers_plot() -> dict[str, Any]:
    """LUTs per layer of two examples: as trained, and packed into LUT4s / LUT6s (per LUT level)."""
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.passes import optimize

    series: dict[str, list[list[int]]] = {}
    for name in ("digits.pt", "digits_warp6.pt"):
        path = ROOT / "examples" / name
        if not path.exists():
            continue
        net = load_checkpoint(path).replace(group_sum=None)
        live = net.live_mask()
        series[f"{path.stem}: as trained (live)"] = [
            [l, int(live[net.offsets[l]:net.offsets[l + 1]].sum())] for l in range(len(net.layers))]
        for k in (4, 6):
            packed = optimize(net, 2, lut_size=k)
            series[f"{path.stem}: packed LUT{k}"] = [[l, layer.size] for l, layer in enumerate(packed.layers)]
    return {"file": "layers.png", "title": "LUTs per layer / LUT level (GroupSum excluded)",
            "xlabel": "layer (trained) or LUT level (packed)", "ylabel": "LUTs", "logy": True, "series": series}


def _floor(net: Any, vectors: int = 4096) -> int:
    """Lower bound on the LUTs of any mapping: outputs that are distinct,
    non-constant functions other than an input bit (random simulation tells
    functions apart; equal signatures are counted once, so it stays a bound)."""
    import numpy as np

    from lut2rtl.evaluate import evaluate

    x = np.random.default_rng(0).integers(0, 2, (vectors, net.n_inputs)).astype(bool)
    out = evaluate(net, x).out_bits.astype(bool)
    trivial = {np.packbits(x[:, i]).tobytes() for i in range(net.n_inputs)}
    trivial |= {np.packbits(np.zeros(vectors, bool)).tobytes(), np.packbits(np.ones(vectors, bool)).tobytes()}
    sigs = {np.packbits(out[:, j]).tobytes() for j in range(out.shape[1])}
    return len(sigs - trivial)


def run(quick: bool) -> dict[str, Any]:
    from lut2rtl.passes import optimize

    columns = ["network", "family", "live gates", "floor LUTs/gate", "packer LUTs/gate", "level 3 LUTs/gate (cover)",
               "Yosys generic LUTs/gate", "ours+Yosys LUTs/gate", "ours/generic", "depth",
               "pipelined generic LUT/FF per gate", "pipelined ours LUT/FF per gate"]
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"raw": []}
    from lut2rtl.errors import ToolNotFound
    from lut2rtl.tools.yosys import find_yosys

    try:
        find_yosys()
        have_yosys = True
    except ToolNotFound as e:  # a missing tool becomes a row, not a crash
        have_yosys = False
        rows.append({"network": f"Yosys not available: {e}"})
    with tempfile.TemporaryDirectory(prefix="bench_mapping_") as tmp:
        work = Path(tmp)
        for label, net in _networks(quick):
            live = int(net.live_mask()[net.n_inputs:].sum())
            floor = _floor(net)
            for family, k in FAMILIES.items():
                packed = optimize(net, 2, lut_size=k)
                t0 = time.perf_counter()
                best = optimize(net, 3, lut_size=k)
                t3 = time.perf_counter() - t0
                cover = "ABC" if best.n_luts < packed.n_luts else "packer"
                row: dict[str, Any] = {
                    "network": label, "family": family, "live gates": live,
                    "floor LUTs/gate": round(floor / live, 3),
                    "packer LUTs/gate": round(packed.n_luts / live, 3),
                    "level 3 LUTs/gate (cover)": f"{best.n_luts / live:.3f} ({cover})", "depth": best.depth,
                }
                raw: dict[str, Any] = {"network": label, "family": family, "live": live, "floor_luts": floor,
                                       "packer_luts": packed.n_luts, "level3_luts": best.n_luts, "level3_cover": cover,
                                       "level3_s": round(t3, 2), "depth_source": net.depth,
                                       "depth_packed": packed.depth, "depth_level3": best.depth}
                if have_yosys:
                    g_luts, _ = _compile_and_count(net, work, "generic", family, "generic", 0, 0)
                    o_luts, _ = _compile_and_count(net, work, "ours", family, family, 3, 0)
                    row["Yosys generic LUTs/gate"] = round(g_luts / live, 3)
                    row["ours+Yosys LUTs/gate"] = round(o_luts / live, 3)
                    row["ours/generic"] = round(o_luts / max(1, g_luts), 3)
                    raw.update(yosys_generic_luts=g_luts, yosys_ours_luts=o_luts)
                if have_yosys and not quick:  # pipelined builds: full run only
                    stages = max(1, math.ceil(best.depth / 2))
                    gp_luts, gp_ffs = _compile_and_count(net, work, "generic_p", family, "generic", 0, stages)
                    op_luts, op_ffs = _compile_and_count(net, work, "ours_p", family, family, 3, stages)
                    row["pipelined generic LUT/FF per gate"] = f"{gp_luts / live:.3f} / {gp_ffs / live:.3f}"
                    row["pipelined ours LUT/FF per gate"] = f"{op_luts / live:.3f} / {op_ffs / live:.3f}"
                    raw.update(pipeline=stages, generic_pipelined_luts=gp_luts, generic_pipelined_ffs=gp_ffs,
                               ours_pipelined_luts=op_luts, ours_pipelined_ffs=op_ffs)
                rows.append(row)
                extra["raw"].append(raw)
                progress(f"{raw}")
    extra["timing"] = [_timing(20_000 if quick else 1_000_000)]
    extra["plots"] = [_layers_plot()]
    t = extra["timing"][0]
    notes = (
        "LUTs per live gate (gates in an output's fan-in cone of the source network). "
        "`floor`: distinct non-constant output functions other than input bits (random simulation): "
        "a lower bound for any mapping. "
        "`packer`: our count after `optimize(net, 2, lut_size=K)`, before any tool; `level 3`: "
        "`optimize(net, 3, lut_size=K)`, the compile default (the packer's cover or ABC's, whichever "
        "has fewer LUTs at no more depth). "
        "`Yosys generic`: `compile_netlist(target='generic', opt=0)` then `synth_ice40` / `synth_xilinx` "
        "(Yosys/ABC map plain logic themselves; Xilinx LUTs include INV cells). "
        "`ours+Yosys`: `compile_netlist(target=<family>, opt=3)` "
        "(primitive LUTs from the level-3 netlist), same script. `ours/generic` < 1: we use fewer LUTs. "
        "Pipelined: `pipeline = ceil(level-3 depth / 2)` for both, LUTs / FFs per live gate. "
        "Examples are compiled without their GroupSum (fabric only). "
        f"Pass run time, random genuine 2-input network of {t['gates']:,} gates (8 layers), level 2, LUT4: "
        f"clean-ups {t['cleanup_s']} s, packing {t['pack_s']} s, total {t['total_s']} s "
        f"-> {t['luts']:,} LUTs (this machine, shared CPU)."
    )
    return {"columns": columns, "rows": rows, "notes": notes, "extra": extra}


if __name__ == "__main__":
    import sys

    result = run("--quick" in sys.argv)
    print(json.dumps(result, indent=2))

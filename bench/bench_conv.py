"""Convolutional vs dense logic networks on digits: accuracy against mapped LUTs.

Rows: the committed dense examples (``examples/digits*.pt``) and the conv example
(``examples/digits_conv.pt``), then (full run only) conv networks trained here from
the example's recipe at other seeds and channel counts, so the table shows the
spread a seed makes and the accuracy a LUT buys.

Per model: discrete test accuracy (reference evaluator, digits test split, 450
samples: one sample is 0.22 %), LUTs of the checkpoint (for a conv network: after
lowering, one kernel copy per position), the compile estimate of mapped LUTs on
iCE40 (``lut2rtl compile --target ice40 --opt 3``: fabric cells + popcount LUTs, the
manifest's ``estimate.luts``; the GroupSum's leaf counters are fabric), the same on
Xilinx (LUT6), and what the passes recover (``dedupe``: LUTs merged as equal
functions of equal signals; ``const+wires``: LUTs folded away as constants or
wires, the padding borders among them). ``pareto``: no other row has at least
its accuracy with fewer iCE40 LUTs.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

TITLE = "Convolutional vs dense networks: accuracy against mapped LUTs (digits)"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COLUMNS = ["model", "arch", "method", "shape", "accuracy", "luts", "ice40_fabric", "ice40_popcount", "ice40_luts",
           "xilinx_luts", "dedupe", "const_wires", "pareto", "seconds"]
DENSE = ["digits", "digits_dlgn", "digits_light", "digits_warp4", "digits_best"]


def estimate(net: Any, target: str) -> dict[str, int]:
    """The compile estimate (fabric cells + popcount LUTs) and what the passes removed, as
    ``lut2rtl compile`` computes it (same functions, same order)."""
    from lut2rtl.families import get_family
    from lut2rtl.passes import run_pipeline
    from lut2rtl.rtl.groupsum import fuse_head
    from lut2rtl.rtl.network import plan_network

    tgt = get_family(target)
    hw = fuse_head(net, tgt, False)
    removed = {"dedupe": 0, "const": 0, "wires": 0}
    last = [hw.n_luts]

    def trace(name: str, n: Any) -> None:
        if name in removed:
            removed[name] += last[0] - n.n_luts
        last[0] = n.n_luts

    opt = run_pipeline(hw, 3, lut_size=tgt.lut_size, trace=trace)
    plan = plan_network(opt, tgt, 0)
    popcount = plan.groupsum.luts if plan.groupsum else 0
    return {"fabric": int(plan.fabric.n_cells), "popcount": int(popcount),
            "luts": int(plan.fabric.n_cells) + int(popcount), "dedupe": removed["dedupe"],
            "const_wires": removed["const"] + removed["wires"]}


def _shape(net: Any, conv: Any) -> str:
    if conv is None:
        return "dense " + "x".join(str(layer.size) for layer in net.layers) + f" k={net.layers[0].k}"
    from lut2rtl.lowering import ConvStage, DenseStage, PoolStage

    parts = []
    for st in conv.stages:
        if isinstance(st, ConvStage):
            parts.append(f"conv{st.channels}({st.kernel[0]}x{st.kernel[1]},k{st.k}d{st.depth})")
        elif isinstance(st, PoolStage):
            parts.append(f"or{st.kernel[0]}")
        elif isinstance(st, DenseStage):
            parts.append(f"dense{st.tables.shape[0]}(k{st.k})")
    return " ".join(parts)


def measure(name: str, net: Any, conv: Any, data: Any, seconds: float = 0.0) -> dict[str, Any]:
    from lut2rtl.evaluate import score_dataset

    t0 = time.perf_counter()
    acc = float(score_dataset(net, data, "test")["accuracy"])
    ice = estimate(net, "ice40")
    xil = estimate(net, "xilinx")
    print(f"  {name}: {100 * acc:.2f}% {ice['luts']} LUT4 ({time.perf_counter() - t0:.0f} s)", file=sys.stderr,
          flush=True)
    return {"model": name, "arch": "dense" if conv is None else "conv", "method": net.metadata.get("method"),
            "shape": _shape(net, conv), "accuracy": round(100 * acc, 2), "luts": int(net.n_luts),
            "ice40_fabric": ice["fabric"], "ice40_popcount": ice["popcount"], "ice40_luts": ice["luts"],
            "xilinx_luts": xil["luts"], "dedupe": ice["dedupe"], "const_wires": ice["const_wires"],
            "seconds": round(seconds, 1) if seconds else None}


def _recipe() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return dict(mod.EXAMPLES["digits_conv"])


def trained_rows(data: Any, quick: bool) -> list[dict[str, Any]]:
    """Conv networks trained here: the example's recipe at other seeds, and fewer / more channels."""
    import torch

    from lut2rtl.nn.train import TrainConfig, train

    torch.set_num_threads(1)
    if quick:
        return []  # the committed examples only
    base = _recipe()
    variants: list[tuple[str, dict[str, Any]]] = [(f"recipe, seed {s}", {"seed": s}) for s in (1, 2)]
    variants += [(f"recipe, {c} channels", {"channels": (c,)}) for c in (16, 64)]
    rows = []
    for label, change in variants:
        opts = {**base, "seed": 0, "device": "cpu", "eval_every": base.get("steps", 1000), "init": "random", **change}
        t0 = time.perf_counter()
        res = train(TrainConfig(**opts), data)
        rows.append(measure(label, res.net, res.compact, data, time.perf_counter() - t0))
    return rows


# The recipes tried while choosing the example (``python -m bench.bench_conv --sweep`` retrains them all and
# writes bench/results/conv_sweep.json): TrainConfig options on top of arch="conv", seed 0, cpu.
SWEEP: list[dict[str, Any]] = [
    dict(method="light", k=2, tree_depth=2, channels=[32], width=1000, depth=1, steps=1500, lr=0.05),
    dict(method="light", k=2, tree_depth=3, channels=[32], width=1000, depth=1, steps=1500, lr=0.05),
    dict(method="light", k=2, tree_depth=2, channels=[64], width=2000, depth=1, steps=1500, lr=0.05),
    dict(method="light", k=2, tree_depth=2, channels=[32, 64], width=1000, depth=1, steps=2000, lr=0.1),
    dict(method="gumbel", k=2, tree_depth=2, channels=[32], width=1000, depth=1, steps=2000),
    dict(method="warp", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=2000, lr=0.05),
    dict(method="warp", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, noise=True),
    dict(method="light", k=6, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05),
    dict(method="light", k=4, tree_depth=2, channels=[16], width=1000, depth=1, steps=1500, lr=0.05),
    dict(method="light", k=4, tree_depth=1, channels=[16], width=1000, depth=1, steps=1500, lr=0.05),
    *[dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05, seed=s)
      for s in (0, 1, 2, 3)],
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05, init="residual"),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05, tau=10.0),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05, kernel_size=5),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05, pool=1),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=2000, lr=0.05, pool=1),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05,
         bits_per_feature=2),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05, batch_size=512),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05,
         weight_decay=0.001),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=1500, lr=0.05,
         weight_decay=0.01),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=2000, lr=0.05, augment=1),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=4000, lr=0.05, augment=1),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=2, steps=1500, lr=0.05),
    dict(method="light", k=4, tree_depth=1, channels=[32, 64], width=1000, depth=1, steps=2000, lr=0.05),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=3000, lr=0.05,
         bits_per_feature=4),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=1000, depth=1, steps=3000, lr=0.01),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=3000, depth=1, steps=1500, lr=0.05),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=3000, depth=1, steps=3000, lr=0.01),
    dict(method="light", k=4, tree_depth=1, channels=[32], width=2000, depth=1, steps=3000, lr=0.01,
         bits_per_feature=4),
    dict(method="light", k=4, tree_depth=1, channels=[64], width=2000, depth=1, steps=2000, lr=0.1),
    dict(method="light", k=4, tree_depth=1, channels=[16], width=2000, depth=2, steps=3000, lr=0.01),
    dict(method="light", k=4, tree_depth=1, channels=[16], width=3000, depth=1, steps=3000, lr=0.01,
         bits_per_feature=4),
]
SWEEP_COLUMNS = ["recipe", "accuracy", "soft_accuracy", "luts", "ice40_fabric", "ice40_popcount", "ice40_luts"]


def recipe_label(opts: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in opts.items())


def sweep() -> dict[str, Any]:
    """Train every :data:`SWEEP` recipe (about an hour on 2 shared cores) and measure it."""
    import torch

    from lut2rtl.datasets import load_digits
    from lut2rtl.nn.train import TrainConfig, train

    torch.set_num_threads(1)
    data = load_digits()
    rows = []
    for opts in SWEEP:
        cfg = {"arch": "conv", "seed": 0, "device": "cpu", "eval_every": 500,
               **{k: tuple(v) if k == "channels" else v for k, v in opts.items()}}
        res = train(TrainConfig(**cfg), data)
        est = estimate(res.net, "ice40")
        rows.append({"recipe": recipe_label(opts), "accuracy": round(100 * res.accuracy, 2),
                     "soft_accuracy": round(100 * res.metrics["soft_acc"], 2), "luts": res.net.n_luts,
                     "ice40_fabric": est["fabric"], "ice40_popcount": est["popcount"], "ice40_luts": est["luts"]})
        print(rows[-1], file=sys.stderr, flush=True)
    return sweep_result(rows)


def sweep_result(rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: (-r["accuracy"], r["ice40_luts"]))
    return {"title": "Conv recipes tried for the digits example (accuracy against iCE40 LUTs)",
            "status": "ok", "columns": SWEEP_COLUMNS, "rows": rows,
            "notes": ("Each row: `lut2rtl train --arch conv` with the options named (seed 0 unless named, "
                      "`--init` random), discrete test accuracy (reference evaluator; 450 samples, one is 0.22 %), "
                      "soft = train-mode test accuracy, LUTs after lowering, compile estimate on iCE40 "
                      "(`--opt 3`: fabric + popcount). Sorted by accuracy. `python -m bench.bench_conv --sweep` "
                      "retrains the grid and rewrites this file.")}


def pareto(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        r["pareto"] = not any(o is not r and o["accuracy"] >= r["accuracy"] and o["ice40_luts"] < r["ice40_luts"]
                              for o in rows)


def run(quick: bool) -> dict[str, Any]:
    from lut2rtl.checkpoint import load_checkpoint, load_conv_net
    from lut2rtl.datasets import load_digits

    data = load_digits()
    rows = []
    for name in DENSE + ["digits_conv"]:
        path = EXAMPLES / f"{name}.pt"
        if path.exists():
            rows.append(measure(f"examples/{name}.pt", load_checkpoint(path), load_conv_net(path), data))
    rows += trained_rows(data, quick)
    pareto(rows)
    best = next((r for r in rows if r["model"] == "examples/digits_best.pt"), None)
    conv = next((r for r in rows if r["model"] == "examples/digits_conv.pt"), None)
    verdict = ""
    if best and conv:
        verdict = (f" **Pareto check:** the conv example reaches {conv['accuracy']:.2f} % with {conv['ice40_luts']:,} "
                   f"iCE40 LUTs (fabric + popcount) against digits_best's {best['accuracy']:.2f} % with "
                   f"{best['ice40_luts']:,}: {'fewer' if conv['ice40_luts'] < best['ice40_luts'] else 'more'} LUTs "
                   f"({conv['ice40_luts'] / best['ice40_luts']:.2f}x), accuracy "
                   f"{'at or above' if conv['accuracy'] >= 98.0 else 'below'} the 98.0 % target.")
    return {
        "columns": COLUMNS,
        "rows": rows,
        "notes": ("`accuracy`: discrete test accuracy (reference evaluator, 450 digits test samples). `luts`: LUTs "
                  "of the checkpoint (conv: after lowering). `ice40_*`: the compile estimate (`--opt 3`), fabric "
                  "cells + popcount LUTs (LUT4); `xilinx_luts` the same for LUT6. `dedupe`, `const_wires`: LUTs the "
                  "iCE40 pass pipeline merged as duplicates, and folded as constants or wires (in conv networks "
                  "the padding borders), summed over its rounds. Trained rows use the conv example's recipe "
                  "(examples/make_examples.py) with the change named." + verdict),
    }


def write_sweep(result: dict[str, Any]) -> Path:
    import datetime
    import json

    from bench.__main__ import RESULTS, machine_facts

    result = {**result, "machine": machine_facts(), "quick": False, "date": datetime.date.today().isoformat()}
    path = RESULTS / "conv_sweep.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return path


if __name__ == "__main__":
    if "--sweep" in sys.argv:
        print(write_sweep(sweep()))
    else:
        out = run("--quick" in sys.argv)
        for row in out["rows"]:
            print(row)

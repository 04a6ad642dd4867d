"""Training: the four logic methods at equal width and depth on digits, and the
float baselines.

Every method trains the same shape (thermometer 3 bits/feature -> ``depth``
layers of ``width`` LUTs -> GroupSum of 10 classes), the same seed, batch 128,
Adam lr 0.05, random init, in one process on one torch thread, in the same run.
Discrete test accuracy is measured every ``M`` steps on the eval-mode (exactly
discretized) network; the final accuracy is the reference evaluator's on the
exported netlist.
"""

from __future__ import annotations

import sys
from typing import Any

TITLE = "Training: DLGN vs Gumbel vs Light vs WARP on digits (equal width/depth)"

METHODS: list[tuple[str, str, int]] = [
    ("dlgn", "dlgn", 2),
    ("gumbel", "gumbel", 2),
    ("light", "light", 2),
    ("warp k=2", "warp", 2),
    ("warp k=4", "warp", 4),
    ("warp k=6", "warp", 6),
]
BASELINES = ["mlp", "dlgn-halfspace"]


def run(quick: bool) -> dict[str, Any]:
    import torch

    from lut2rtl.datasets import load_digits
    from lut2rtl.nn.train import TrainConfig, train

    torch.set_num_threads(1)
    width, depth = (300, 2) if quick else (1000, 2)
    steps, every = (200, 25) if quick else (1000, 50)
    data = load_digits()
    rows: list[dict[str, Any]] = []
    curves: dict[str, list[list[float]]] = {}
    for label, method, k in METHODS:
        cfg = TrainConfig(method=method, k=k, width=width, depth=depth, steps=steps, eval_every=every, lr=0.05,
                          device="cpu", seed=0)
        res = train(cfg, data)
        assert res.net is not None
        hist = res.history
        reach = next((h["step"] for h in hist if h["test_acc"] >= 0.90), None)
        # the torch eval-mode accuracy and the reference evaluator's must agree (bit-exact export)
        assert abs(res.metrics["torch_discrete_acc"] - round(res.accuracy, 6)) < 1e-9
        rows.append({
            "method": label,
            "k": k,
            "LUTs": res.net.n_luts,
            "params": res.metrics["params"],
            "step ms": res.metrics["step_ms"],
            "steps to 90%": reach if reach is not None else f">{steps}",
            "discrete acc %": round(100 * res.accuracy, 2),
            "soft acc %": round(100 * res.metrics["soft_acc"], 2),
            "gap (pts)": round(100 * res.metrics["gap"], 2),
            "best discrete %": round(100 * max(h["test_acc"] for h in hist), 2),
        })
        curves[label] = [[h["step"], h["test_acc"], h["soft_acc"]] for h in hist]
    for method in BASELINES:
        b_width = 256
        cfg = TrainConfig(method=method, width=b_width, depth=depth, steps=steps, eval_every=every, lr=0.005,
                          device="cpu", seed=0)
        res = train(cfg, data)
        rows.append({
            "method": f"{method} (float, width {b_width})",
            "k": None, "LUTs": None, "params": res.metrics["params"], "step ms": res.metrics["step_ms"],
            "steps to 90%": next((h["step"] for h in res.history if h["test_acc"] >= 0.90), f">{steps}"),
            "discrete acc %": None, "soft acc %": round(100 * res.accuracy, 2), "gap (pts)": None,
            "best discrete %": None,
        })
    columns = ["method", "k", "LUTs", "params", "step ms", "steps to 90%", "discrete acc %", "soft acc %",
               "gap (pts)", "best discrete %"]
    notes = (
        f"digits (1347 train / 450 test), thermometer 3 bits/feature (192 input bits), {depth} layers x "
        f"{width} LUTs, GroupSum 10 classes (tau = sqrt(width/10)/3), batch 128, Adam lr 0.05, {steps} steps, "
        f"seed 0, random init, one torch thread, CPU. *step ms*: mean wall time of one optimizer step "
        f"(forward+backward+update; periodic evaluations excluded). *steps to 90%*: first evaluation (every "
        f"{every} steps) whose discrete (eval-mode) test accuracy is >= 90%. *discrete acc*: final network, "
        f"reference evaluator on the exported netlist. *soft acc*: train-mode forward on the test set "
        f"(relaxation for dlgn/light; sampled hard gates for gumbel; noisy straight-through for warp). "
        f"*gap* = soft - discrete (negative: the discrete net is better than the noisy training forward). "
        f"Float baselines read the raw features scaled to [0, 1] (lr 0.005); their accuracy is in *soft acc*. "
        f"Step times on a shared machine vary run to run; compare rows of the same run only."
    )
    plots = [
        {"file": "curves.png", "title": f"Discrete test accuracy while training ({depth} x {width}, digits)",
         "xlabel": "step", "ylabel": "discrete test accuracy",
         "series": {label: [[s, a] for s, a, _ in pts] for label, pts in curves.items()}},
        {"file": "accuracy_vs_luts.png", "title": "Final discrete accuracy vs live LUTs (same run)",
         "xlabel": "LUTs in the exported netlist", "ylabel": "discrete test accuracy %", "linestyle": "none",
         "series": {r["method"]: [[r["LUTs"], r["discrete acc %"]]] for r in rows if r["LUTs"] is not None}},
    ]
    return {"columns": columns, "rows": rows, "notes": notes, "extra": {"curves": curves, "plots": plots}}


if __name__ == "__main__":
    import json

    out = run("--quick" in sys.argv[1:])
    for r in out["rows"]:
        print(json.dumps(r))

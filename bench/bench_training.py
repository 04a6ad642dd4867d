"""Training: speed of the layers (today's vs the pre-issue-18 implementation, same
run) and convergence of the four methods in the regime of their papers' claims.

Part 1, speed: one optimizer step (forward + backward + Adam) of a 2 x 1000
network on digits, one torch thread, for every method; the old layers
(``tests/nn/reference_layers.py``, the formulas before the rewrite) and the
library's, on the same weights, wiring and batches, interleaved
(old, new, old, new; the faster of each pair of repetitions is kept).

Part 2, convergence: depths 2, 6 and 12 at one width, 3 seeds, each method at
its own default learning rate (``lut2rtl.nn.train.DEFAULT_LR``, tuned on
digits), both inits; discrete test accuracy every 10 steps on a forked RNG (the
evaluation does not change the trained model, and its time is not counted).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from bench import progress

TITLE = "Training: layer speed (old vs new, same run) and convergence of DLGN / Gumbel / Light / WARP on digits"

SPEED_CASES: list[tuple[str, str, int, int]] = [  # label, method, k, steps per repetition
    ("dlgn", "dlgn", 2, 60),
    ("gumbel", "gumbel", 2, 60),
    ("light", "light", 2, 60),
    ("warp k=2", "warp", 2, 60),
    ("warp k=4", "warp", 4, 20),
    ("warp k=6", "warp", 6, 8),
    ("warp k=2, no noise, soft", "warp", 2, 60),
    ("warp k=2, fresh noise", "warp", 2, 60),
]
# label, method, k, extra TrainConfig options (warp's default is noise-free with the soft forward)
CONVERGENCE_METHODS: list[tuple[str, str, int, dict[str, Any]]] = [
    ("dlgn", "dlgn", 2, {}), ("gumbel", "gumbel", 2, {}), ("light", "light", 2, {}), ("warp", "warp", 2, {}),
    ("warp noise+hard", "warp", 2, {"noise": True, "hard": True}),
    ("warp noise+hard, fresh noise", "warp", 2, {"noise": True, "hard": True, "noise_source": "fresh"}),
]
TARGET = 0.90


# --------------------------------------------------------------------------
# Part 1: step time, old layers vs new


def _speed(quick: bool) -> tuple[list[dict[str, Any]], dict[str, float]]:
    import torch

    from lut2rtl.datasets import load_digits, thermometer_thresholds
    from lut2rtl.nn.model import LogicNet, build_logic_net
    from tests.nn import reference_layers as ref

    data = load_digits()
    thr = thermometer_thresholds(data.x_train, 3, mode="uniform", feature_range=data.feature_range)
    width = 300 if quick else 1000

    def make(method: str, k: int, old: bool, label: str = "") -> LogicNet:
        torch.manual_seed(0)
        # the layers' own defaults (warp: noise and hard forward, the old layers' only mode) unless the label
        # names warp's noise-free soft mode
        opts: dict[str, Any] = {"init": "random"}
        if "no noise" in label:
            opts.update(noise=False, hard=False)
        if "fresh noise" in label and not old:
            opts.update(noise_table=False)
        net = build_logic_net(method, thr.n_bits, [width, width], k, classes=10, tau=3.33,
                              thresholds=thr.thresholds, seed=0, layer_options=opts)
        if old:
            layers = []
            for layer in net.layers:
                o = ref.make_layer(method, layer.idx.numpy(), init="random",
                                   **({"hard": False} if "no noise" in label else {}))
                with torch.no_grad():
                    o.weight.copy_(layer.weight)
                layers.append(o)
            net = LogicNet(net.n_inputs, layers, classes=10, tau=3.33, thresholds=thr.thresholds)  # type: ignore[arg-type]
        return net

    bits = make("dlgn", 2, False).encode(torch.from_numpy(data.x_train))
    labels = torch.from_numpy(data.y_train)

    def step_ms(net: LogicNet, steps: int) -> float:
        opt = torch.optim.Adam(net.parameters(), lr=0.05)
        gen = torch.Generator().manual_seed(0)
        net.train()
        torch.manual_seed(1)
        t0 = 0.0
        for i in range(steps + 3):  # 3 warm-up steps
            if i == 3:
                t0 = time.perf_counter()
            b = torch.randint(0, bits.shape[0], (128,), generator=gen)
            loss = torch.nn.functional.cross_entropy(net.forward_bits(bits[b]), labels[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return 1e3 * (time.perf_counter() - t0) / steps

    rows: list[dict[str, Any]] = []
    ms: dict[str, float] = {}
    for label, method, k, steps in SPEED_CASES:
        steps = max(4, steps // 3) if quick else steps
        old_net, new_net = make(method, k, True, label), make(method, k, False, label)
        times = {True: [], False: []}  # type: dict[bool, list[float]]
        for _ in range(2):
            for old in (True, False):
                times[old].append(step_ms(old_net if old else new_net, steps))
        o, n = min(times[True]), min(times[False])
        ms[f"{label} old"], ms[f"{label} new"] = o, n
        rows.append({"method": label, "k": k, "old ms/step": round(o, 2), "new ms/step": round(n, 2),
                     "new / old": round(n / o, 3)})
        progress(f"{rows[-1]}")
    targets = {"dlgn": ("new / old", 0.65), "light": ("new / old", 0.65), "gumbel": ("new / old", 0.65),
               "warp k=6": ("new / old", 0.5)}
    for r in rows:
        if r["method"] in targets:
            col, lim = targets[r["method"]]
            r["target"] = f"{col} <= {lim}"
            r["met"] = bool(r[col] <= lim)
        elif r["method"] == "warp k=2":
            ratio = ms["warp k=2 new"] / ms["dlgn new"]
            r["target"] = f"new <= 1.3 x dlgn new (is {ratio:.2f} x)"
            r["met"] = bool(ratio <= 1.3)
        elif r["method"].startswith(("warp k=2, no noise", "warp k=2, fresh noise")):
            r["target"] = f"(is {ms[r['method'] + ' new'] / ms['dlgn new']:.2f} x dlgn new)"
    return rows, ms


# --------------------------------------------------------------------------
# Part 2: convergence


def _dead_fraction(net: Any) -> float:
    """LUTs outside every output's fan-in cone, or constant (depending on no input)."""

    from lut2rtl.netlist import table_depends_on

    live = net.live_mask()
    dead = 0
    for l, layer in enumerate(net.layers):
        lo = net.offsets[l]
        const = ~table_depends_on(layer.tables, layer.k).any(axis=1)
        dead += int((~live[lo:lo + layer.size] | const).sum())
    return dead / max(1, net.n_luts)


def _convergence(quick: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    import torch

    from lut2rtl.datasets import load_digits
    from lut2rtl.nn.train import DEFAULT_LR, TrainConfig, train

    data = load_digits()
    width = 300 if quick else 1000
    depths = [2, 4] if quick else [2, 6, 12]
    seeds = [0] if quick else [0, 1, 2]
    steps = 100 if quick else 400
    runs: list[dict[str, Any]] = []
    curves: dict[str, list[list[float]]] = {}
    for depth in depths:
        for label, method, k, opts in CONVERGENCE_METHODS:
            for init in ("random", "residual"):
                for seed in seeds:
                    torch.set_num_threads(1)
                    cfg = TrainConfig(method=method, k=k, width=width, depth=depth, steps=steps, eval_every=10,
                                      init=init, device="cpu", seed=seed, **opts)
                    res = train(cfg, data)
                    assert res.net is not None
                    # the torch eval-mode accuracy and the reference evaluator's agree (bit-exact export)
                    assert res.metrics["torch_discrete_acc"] == round(res.accuracy, 6)
                    reach = next((h["step"] for h in res.history if h["test_acc"] >= TARGET), None)
                    runs.append({
                        "method": label, "depth": depth, "init": init, "seed": seed, "lr": res.config.lr,
                        "step_ms": res.metrics["step_ms"], "steps_to_target": reach,
                        "seconds_to_target": None if reach is None else reach * res.metrics["step_ms"] / 1000,
                        "final": res.accuracy, "gap": res.metrics["gap"], "dead": _dead_fraction(res.net),
                    })
                    progress(f"{runs[-1]}")
                    if seed == 0:
                        curves[f"{label} d{depth} {init}"] = [[h["step"], h["test_acc"]] for h in res.history]
    rows = []
    for depth in depths:
        for label, _, _, _ in CONVERGENCE_METHODS:
            for init in ("random", "residual"):
                rs = [r for r in runs if r["method"] == label and r["depth"] == depth and r["init"] == init]
                reached = [r["steps_to_target"] for r in rs if r["steps_to_target"] is not None]
                secs = [r["seconds_to_target"] for r in rs if r["seconds_to_target"] is not None]
                finals = [r["final"] for r in rs]
                rows.append({
                    "depth": depth, "method": label, "init": init, "lr": rs[0]["lr"],
                    "ms/step": round(statistics.median(r["step_ms"] for r in rs), 2),
                    f"reached {TARGET:.0%}": f"{len(reached)}/{len(rs)}",
                    "median steps to target": statistics.median(reached) if len(reached) == len(rs) else None,
                    "median s to target": round(statistics.median(secs), 3) if len(secs) == len(rs) else None,
                    "final discrete acc %": round(100 * statistics.mean(finals), 2),
                    "± (sd)": round(100 * statistics.stdev(finals), 2) if len(finals) > 1 else None,
                    "gap (pts)": round(100 * statistics.mean(r["gap"] for r in rs), 2),
                    "dead %": round(100 * statistics.mean(r["dead"] for r in rs), 1),
                })
    return rows, runs, {"curves": curves, "width": width, "depths": depths, "seeds": seeds, "steps": steps,
                        "lr": dict(DEFAULT_LR)}


def _best(rows: list[dict[str, Any]], depth: int, method: str, key: str) -> float | None:
    vals = [r[key] for r in rows if r["depth"] == depth and r["method"] == method and r[key] is not None]
    return min(vals) if vals else None


def _claims(rows: list[dict[str, Any]], depths: list[int]) -> str:
    """One verdict per seed claim, from this run's figures (each method at its better init)."""
    parts = []

    def ratios(a: str, b: str, key: str) -> dict[int, float | None]:
        out: dict[int, float | None] = {}
        for d in depths:
            x, y = _best(rows, d, a, key), _best(rows, d, b, key)
            out[d] = None if x is None or y is None else x / y
        return out

    def fmt(rs: dict[int, float | None]) -> str:
        return ", ".join(f"depth {d}: {'–' if v is None else f'{v:.2f}x'}" for d, v in rs.items())

    g = ratios("dlgn", "gumbel", "median s to target")
    gv = [v for v in g.values() if v is not None]
    verdict = ("reproduced" if gv and min(gv) >= 3.0 else "not reproduced" if gv else "not testable here")
    parts.append(
        f"**Gumbel reaches the target 4.5x faster (wall clock) than DLGN: {verdict}.** DLGN time / Gumbel time "
        f"to {TARGET:.0%}: {fmt(g)} (rule: reproduced if at least 3x at every depth). Gumbel's step costs more "
        f"than DLGN's here (sampling), and with both at a tuned lr DLGN reaches 90 % on digits in a few dozen "
        f"steps, so there is little to win; whether the speed-up appears on the paper's larger datasets and "
        f"networks (GPU) is not testable here.")
    li = ratios("dlgn", "light", "median steps to target")
    lv = [v for v in li.values() if v is not None]
    verdict = ("reproduced" if lv and min(lv) >= 5.0 else "not reproduced" if lv else "not testable here")
    parts.append(
        f"**Light DLGN uses 8.5x fewer steps than DLGN: {verdict}.** DLGN steps / Light steps to {TARGET:.0%}: "
        f"{fmt(li)} (rule: reproduced if at least 5x at every depth). Both run at their own tuned lr; against "
        f"DLGN at a low lr (0.02, the sweep's bottom row) the step ratio would look much larger, so the claim "
        f"depends on how DLGN is tuned.")
    w = ratios("dlgn", "warp", "median steps to target")
    wn = ratios("dlgn", "warp noise+hard", "median steps to target")
    wv = [v for v in w.values() if v is not None] + [v for v in wn.values() if v is not None]
    verdict = ("reproduced" if wv and min(wv) > 1.0 else "not reproduced" if wv else "not testable here")
    parts.append(
        f"**WARP converges faster than DLGN: {verdict}.** DLGN steps / WARP steps to {TARGET:.0%} (k = 2, same "
        f"LUT count): noise-free soft {fmt(w)}; noise+hard {fmt(wn)} (rule: reproduced if above 1 at every depth "
        f"for either mode; – where WARP or DLGN missed the target on some seed).")
    parts.append(_noise_source_verdict(rows, depths))
    return "\n\n".join(parts)


def _noise_source_verdict(rows: list[dict[str, Any]], depths: list[int]) -> str:
    """The noise table against fresh draws in the papers' mode, cell by cell (depth x init), 3 seeds. Too few to
    decide at depth 12 (a seed's accuracy varies by up to 6 points there): the decision rests on the paired
    20-seed comparison, :func:`noise_sources`."""
    cells, diffs = [], []
    for d in depths:
        for init in ("random", "residual"):
            t = next((r for r in rows if r["depth"] == d and r["init"] == init and r["method"] == "warp noise+hard"),
                     None)
            f = next((r for r in rows if r["depth"] == d and r["init"] == init
                      and r["method"] == "warp noise+hard, fresh noise"), None)
            if t is None or f is None:
                continue
            diffs.append(t["final discrete acc %"] - f["final discrete acc %"])
            cells.append(f"depth {d} {init}: {t['final discrete acc %']:.2f} vs {f['final discrete acc %']:.2f} "
                         f"({t['median steps to target'] or '–'} vs {f['median steps to target'] or '–'} steps)")
    if not diffs:
        return ""
    return (f"**WARP's noise from a table vs fresh draws (papers' mode), {len(diffs)} cells of 3 seeds.** Final "
            f"discrete accuracy % with the table vs fresh draws (median steps to {TARGET:.0%}): " + "; ".join(cells)
            + f". Mean difference {sum(diffs) / len(diffs):+.2f} points. Same seeds, init, wiring and batches; only "
            f"the noise differs. Three seeds are too few to decide at depth 12, where the papers' mode does not "
            f"train and one seed's accuracy varies by up to 6 points; the decision rests on the paired 20-seed "
            f"comparison (`python -m bench.bench_training --noise-sources`, its own section).")


def run(quick: bool) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    speed_rows, _ = _speed(quick)
    t_speed = time.perf_counter() - t0
    rows, runs, extra = _convergence(quick)
    claims = _claims(rows, extra["depths"])
    columns = ["depth", "method", "init", "lr", "ms/step", f"reached {TARGET:.0%}", "median steps to target",
               "median s to target", "final discrete acc %", "± (sd)", "gap (pts)", "dead %"]
    lr_text = ", ".join(f"{m} {extra['lr'][m]:g}" for m in ("dlgn", "gumbel", "light", "warp"))
    notes = (
        f"**Speed** (first table, {t_speed:.0f} s): one optimizer step (forward + backward + Adam, batch 128) of "
        f"a 2 x {1000 if not quick else 300} network on digits, one torch thread; *old* is the implementation before "
        f"issue 18 (`tests/nn/reference_layers.py`, same weights, wiring and batches), *new* the library's; the two "
        f"are interleaved and the faster of two repetitions kept. The machine is shared (2 cores, a background job "
        f"compiling designs): absolute times vary between runs, compare within a run.\n\n"
        f"**Convergence** (second table): digits (1347 train / 450 test), thermometer 3 bits/feature, "
        f"width {extra['width']} (not 4000: the whole benchmark must fit in about 25 minutes on one core), depths "
        f"{', '.join(map(str, extra['depths']))}, seeds {', '.join(map(str, extra['seeds']))}, {extra['steps']} "
        f"steps, batch 128, Adam at each method's default lr ({lr_text}), GroupSum tau = sqrt(width/10)/3 = "
        f"{max(1.0, (extra['width'] / 10) ** 0.5 / 3):.2f}; *warp* is the default noise-free soft forward, *warp "
        f"noise+hard* the papers' mode (logistic noise, hard threshold with straight-through), both at lr "
        f"{extra['lr']['warp']:g} (tuned in the noisy mode). "
        f"Discrete (eval-mode) test accuracy every 10 steps, on a forked RNG and outside the timed steps. "
        f"*steps / s to target*: first evaluation at >= {TARGET:.0%}, median over the seeds (– unless every seed "
        f"got there); s = steps x mean ms/step. *final*: reference evaluator on the exported netlist (equal to the "
        f"torch eval-mode forward, asserted). *gap* = train-mode (soft) minus discrete test accuracy at the end. "
        f"*dead*: LUTs outside every output's fan-in cone or constant.\n\n" + claims
    )
    plots = [
        {"file": "curves.png", "title": f"Discrete test accuracy (width {extra['width']}, seed 0)",
         "xlabel": "step", "ylabel": "discrete test accuracy", "marker": "",
         "series": {k: v for k, v in extra["curves"].items() if k.endswith(" random" if "d2" in k else " residual")}},
    ]
    return {
        "columns": ["method", "k", "old ms/step", "new ms/step", "new / old", "target", "met"],
        "rows": speed_rows, "notes": notes,
        "tables": [{"title": f"Convergence to {TARGET:.0%} discrete test accuracy (mean/median over seeds)",
                    "columns": columns, "rows": rows}],
        "extra": {"runs": runs, "plots": plots, **extra},
    }


SWEEP_TAUS = [1.0, 3.0, 6.67, 10.0, 15.0, 30.0]
SWEEP_LRS = {"dlgn": [0.02, 0.05, 0.1, 0.2], "gumbel": [0.1, 0.2, 0.3, 0.5], "light": [0.02, 0.05, 0.1, 0.2],
             "warp": [0.02, 0.05, 0.1, 0.2]}


def sweep() -> dict[str, Any]:
    """The learning-rate sweep behind ``DEFAULT_LR`` (about 20 minutes on one loaded core): width 1000,
    depths 2 and 6, both inits, seed 0, 300 steps, evaluation every 10 steps; writes
    ``bench/results/training_lr_sweep.json``."""
    import json
    from pathlib import Path

    import torch

    from lut2rtl.datasets import load_digits
    from lut2rtl.nn.train import TrainConfig, train

    torch.set_num_threads(1)
    data = load_digits()
    t0 = time.perf_counter()
    runs = []
    for depth in (2, 6):
        for method, lrs in SWEEP_LRS.items():
            for init in ("random", "residual"):
                for lr in lrs:
                    cfg = TrainConfig(method=method, k=2, width=1000, depth=depth, steps=300, eval_every=10, lr=lr,
                                      init=init, device="cpu", seed=0)
                    res = train(cfg, data)
                    runs.append({"method": method, "depth": depth, "init": init, "lr": lr,
                                 "reach": next((h["step"] for h in res.history if h["test_acc"] >= TARGET), None),
                                 "final": res.accuracy, "best": max(h["test_acc"] for h in res.history),
                                 "step_ms": res.metrics["step_ms"]})
    tau_runs = []
    for width in (1000, 4000):
        for method in SWEEP_LRS:
            for tau in SWEEP_TAUS:
                cfg = TrainConfig(method=method, k=2, width=width, depth=2, steps=200, eval_every=10, tau=tau,
                                  device="cpu", seed=0)
                res = train(cfg, data)
                tau_runs.append({"method": method, "width": width, "tau": tau,
                                 "reach": next((h["step"] for h in res.history if h["test_acc"] >= TARGET), None),
                                 "final": res.accuracy, "gap": res.metrics["gap"]})
    out = sweep_result(runs, tau_runs)
    out["wall_s"] = time.perf_counter() - t0
    Path(__file__).with_name("results").joinpath("training_lr_sweep.json").write_text(
        json.dumps(out, indent=2, sort_keys=True) + "\n")
    return out


def sweep_result(runs: list[dict[str, Any]], tau_runs: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
    """The sweep as a ``bench`` result (rendered as its own section of RESULTS.md): one row per method and
    lr, the chosen lr marked by the rule in the notes."""
    import datetime

    from bench.__main__ import machine_facts

    rows = []
    for method, lrs in SWEEP_LRS.items():
        agg = []
        for lr in lrs:
            rs = [r for r in runs if r["method"] == method and r["lr"] == lr]
            total = sum(400 if r["reach"] is None else r["reach"] for r in rs)
            agg.append({"method": method, "lr": lr, "runs": len(rs),
                        "steps to 90% (sum, 400 if never)": total,
                        "mean final discrete acc %": round(100 * statistics.mean(r["final"] for r in rs), 2),
                        **{f"d{r['depth']} {r['init']}": r["reach"] for r in rs}})
        fewest = min(a["steps to 90% (sum, 400 if never)"] for a in agg)
        close = [a for a in agg if a["steps to 90% (sum, 400 if never)"] <= 1.15 * fewest]
        chosen = max(close, key=lambda a: a["mean final discrete acc %"])
        for a in agg:
            a["chosen"] = a is chosen
        rows.extend(agg)
    return {
        "title": "Training: learning-rate sweep behind the per-method defaults (digits, width 1000)",
        "columns": ["method", "lr", "d2 random", "d2 residual", "d6 random", "d6 residual",
                    "steps to 90% (sum, 400 if never)", "mean final discrete acc %", "chosen"],
        "rows": rows,
        "notes": ("`python -m bench.bench_training --sweep`: width 1000, depths 2 and 6, random and residual init, "
                  "seed 0, 300 steps, discrete test accuracy every 10 steps; the d* columns are the steps to 90 % "
                  "(– never). Rule: per method the lr with the fewest steps summed over the four runs; among those "
                  "within 15 % of it, the better mean final accuracy. These are `DEFAULT_LR` in "
                  "`lut2rtl/nn/train.py`. Three of four methods chose the largest lr of their grid: the optimum may "
                  "lie higher. Second table: GroupSum tau at 100 and 400 outputs per class (`default_tau` = "
                  "sqrt(outputs per class)/3 = 3.33 and 6.67); tau matters (tau 30 at width 1000 costs 6-8.5 points) "
                  "and the best tau grows with the outputs per class; the same rule serves every method. "
                  + note).strip(),
        "tables": [{
            "title": "GroupSum tau: final discrete accuracy % (steps to 90 %), depth 2, seed 0, 200 steps, default lr",
            "columns": ["method", "width", *[f"tau {t:g}" for t in SWEEP_TAUS]],
            "rows": [{"method": m, "width": w, **{
                f"tau {r['tau']:g}": f"{100 * r['final']:.1f} ({r['reach'] if r['reach'] is not None else '–'})"
                for r in tau_runs if r["method"] == m and r["width"] == w}}
                for w in (1000, 4000) for m in SWEEP_LRS],
        }],
        "status": "ok", "quick": False, "date": datetime.date.today().isoformat(), "machine": machine_facts(),
        "runs": runs, "tau_runs": tau_runs,
    }


NOISE_SEEDS = range(20)
NOISE_DEPTHS = (2, 6, 12)


def _noise_run(job: tuple[int, str, int, str]) -> dict[str, Any]:
    import torch

    from lut2rtl.datasets import load_digits
    from lut2rtl.nn.train import TrainConfig, train

    depth, init, seed, source = job
    torch.set_num_threads(1)
    cfg = TrainConfig(method="warp", k=2, width=1000, depth=depth, steps=400, eval_every=400, init=init,
                      device="cpu", seed=seed, noise=True, hard=True, noise_source=source)
    res = train(cfg, load_digits())
    return {"depth": depth, "init": init, "seed": seed, "source": source, "final": res.accuracy,
            "step_ms": res.metrics["step_ms"]}


def noise_sources(workers: int = 2) -> dict[str, Any]:
    """WARP's noise from the table against fresh draws, paired (same seed: same init, wiring and batches):
    the papers' mode (noise, hard forward) at width 1000, depths 2, 6 and 12, both inits, seeds 0-19, 400
    steps, lr 0.1, the final discrete test accuracy. The rule, fixed before this ran: the table stays
    warp's default noise source only if the mean paired difference (table - fresh) over all 120 pairs is at
    least -0.5 points. Writes ``bench/results/training_noise_source.json``."""
    import datetime
    import json
    import multiprocessing
    from pathlib import Path

    from bench.__main__ import machine_facts

    t0 = time.perf_counter()
    jobs = [(d, i, s, src) for d in NOISE_DEPTHS for i in ("random", "residual") for s in NOISE_SEEDS
            for src in ("table", "fresh")]
    runs = []
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for n, r in enumerate(pool.imap_unordered(_noise_run, jobs), 1):
            runs.append(r)
            print(f"[{n}/{len(jobs)}] {json.dumps(r)}", flush=True)
    by = {(r["depth"], r["init"], r["seed"], r["source"]): r for r in runs}
    rows, diffs_all = [], []
    for d in NOISE_DEPTHS:
        for i in ("random", "residual"):
            diffs = [100 * (by[d, i, s, "table"]["final"] - by[d, i, s, "fresh"]["final"]) for s in NOISE_SEEDS]
            diffs_all += diffs
            rows.append({
                "depth": d, "init": i, "seeds": len(diffs),
                "table acc %": round(100 * statistics.mean(by[d, i, s, "table"]["final"] for s in NOISE_SEEDS), 2),
                "fresh acc %": round(100 * statistics.mean(by[d, i, s, "fresh"]["final"] for s in NOISE_SEEDS), 2),
                "table - fresh (pts)": round(statistics.mean(diffs), 2),
                "± (se)": round(statistics.stdev(diffs) / len(diffs) ** 0.5, 2),
                "table ms/step": round(statistics.median(by[d, i, s, "table"]["step_ms"] for s in NOISE_SEEDS), 2),
                "fresh ms/step": round(statistics.median(by[d, i, s, "fresh"]["step_ms"] for s in NOISE_SEEDS), 2),
            })
    mean = statistics.mean(diffs_all)
    se = statistics.stdev(diffs_all) / len(diffs_all) ** 0.5
    keep = mean >= -0.5
    rows.append({"depth": "all", "init": "both", "seeds": len(diffs_all), "table - fresh (pts)": round(mean, 2),
                 "± (se)": round(se, 2)})
    out = {
        "title": "Training: WARP's noise from a table vs fresh draws (papers' mode, digits, width 1000, 20 seeds)",
        "columns": ["depth", "init", "seeds", "table acc %", "fresh acc %", "table - fresh (pts)", "± (se)",
                    "table ms/step", "fresh ms/step"],
        "rows": rows,
        "notes": (f"`python -m bench.bench_training --noise-sources`: WARP k = 2 in the papers' mode (logistic "
                  f"noise, hard forward with straight-through), width 1000, 400 steps, lr 0.1, batch 128, seeds "
                  f"0-19, final discrete test accuracy (450 digits); each pair has the same seed, so the same "
                  f"init, wiring and batches, and differs only in where the noise comes from: windows of a fixed "
                  f"table of 4M logistic values at a random offset and sign (`--noise-source table`, "
                  f"lut2rtl/nn/layers.py:logistic_noise) or fresh draws every step (`fresh`). *± (se)*: standard "
                  f"error of the mean paired difference. Rule, fixed before the run: the table stays the default "
                  f"if the mean over all {len(diffs_all)} pairs is at least -0.5 points. Result: {mean:+.2f} "
                  f"± {se:.2f} points, so the table "
                  + ("stays the default." if keep else "is not the default (fresh draws are).")
                  + " ms/step: median over the seeds, two runs side by side on the 2 cores. A first rule, on "
                  "the training bench's 3 seeds per cell (the mean over its 6 cells at least -0.5), gave -0.74 "
                  "there, decided by the depth-12 cells where one seed's accuracy varies by up to 6 points; this "
                  "paired run, with its rule written before it ran, replaced it."),
        "status": "ok", "quick": False, "date": datetime.date.today().isoformat(), "machine": machine_facts(),
        "runs": runs, "wall_s": round(time.perf_counter() - t0, 1),
        "summary": {"mean_diff_pts": mean, "se_pts": se, "table_is_default": keep},
    }
    Path(__file__).with_name("results").joinpath("training_noise_source.json").write_text(
        json.dumps(out, indent=1, sort_keys=True) + "\n")
    return out


if __name__ == "__main__":
    import json

    if "--sweep" in sys.argv[1:]:
        sweep()
        raise SystemExit(0)
    if "--noise-sources" in sys.argv[1:]:
        noise_sources()
        raise SystemExit(0)
    out = run("--quick" in sys.argv[1:])
    for r in out["rows"] + out["tables"][0]["rows"]:
        print(json.dumps(r))

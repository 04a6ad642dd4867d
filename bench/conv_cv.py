"""Five-fold cross-validation of conv recipes for the digits example, on the training split only.

``python bench/conv_cv.py OUT WORKERS RECIPE[,RECIPE...]`` trains each recipe of ``RECIPES`` (changes to
``BASE``, the example's recipe with a cosine schedule) on four fifths of the 1,347 training rows and
scores it on the fifth left out, for each of the five folds (stratified by class, fixed seed; the
training seed is the fold number), in ``WORKERS`` processes of one thread each. Every row of the
training split is scored exactly once per recipe, so a recipe's total is out of 1,347 rows instead of
the 201 of ``--val-fraction 0.15`` (``bench/conv_search.py``). The test split is never read. Each run
appends one line to ``OUT/results.jsonl``; ``python bench/conv_cv.py --summary OUT`` prints the totals
and each recipe's difference from ``ref`` on the same folds. docs/conv.md gives the results.

Two recipes add input noise to the training batches, an experiment that is not a ``lut2rtl train``
option: ``flip`` inverts each input bit with probability p, ``pixdrop`` clears all bits of a pixel with
probability p. They reach the training loop through its augmentation hook: the run sets ``--augment 1``
and replaces ``lut2rtl.nn.train.shift_images`` (the shift augmentation) with the noise.

Two recipes train the last part of the run straight-through, also not a ``lut2rtl train`` option: from
step ``f * steps`` on (``st0.67``, ``st0.9``), every light LUT's training forward is its discrete table on
the thresholded inputs (``LogicLayer.hard``), and the gradient is still the soft forward's.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import multiprocessing as mp
import os
import queue
import sys
import time
import traceback

import numpy as np

BASE = dict(arch="conv", method="light", k=4, tree_depth=1, channels=(32,), width=3000, depth=1, steps=3000,
            lr=0.01, lr_schedule="cosine", eval_every=500)
# name: (TrainConfig changes, input noise or None)
RECIPES: dict[str, tuple[dict, tuple[str, float] | None]] = {
    "ref": ({}, None),
    "5bits": ({"bits_per_feature": 5}, None),
    "flip0.02": ({"augment": 1}, ("flip", 0.02)),
    "flip0.05": ({"augment": 1}, ("flip", 0.05)),
    "pixdrop0.1": ({"augment": 1}, ("pixdrop", 0.1)),
    "wd1e-4": ({"weight_decay": 1e-4}, None),
    "nopool": ({"pool": 1}, None),
    "nopool5b": ({"pool": 1, "bits_per_feature": 5}, None),
    "k4d2ch8": ({"tree_depth": 2, "channels": (8,)}, None),
    "6000": ({"steps": 6000}, None),
    "shift1x6000": ({"augment": 1, "steps": 6000}, None),
    "ls0.05": ({"label_smoothing": 0.05}, None),
    "ls0.1": ({"label_smoothing": 0.1}, None),
    "st0.67": ({}, ("st", 2 / 3)),
    "st0.9": ({}, ("st", 0.9)),
    "nopool5b6000": ({"pool": 1, "bits_per_feature": 5, "steps": 6000}, None),
}
FOLDS = 5


def folds(y: np.ndarray, k: int = FOLDS, seed: int = 123) -> np.ndarray:
    """Fold number of every row: each class's rows shuffled, then dealt round-robin."""
    rng = np.random.default_rng(seed)
    f = np.zeros(len(y), dtype=int)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        f[idx] = np.arange(len(idx)) % k
    return f


def _noise(kind: str, p: float):  # type: ignore[no-untyped-def]
    import torch

    def apply(x, shape, _max_shift, gen):  # type: ignore[no-untyped-def]
        if kind == "flip":
            return torch.where(torch.rand(x.shape, generator=gen) < p, 1 - x, x)
        h, w, c = shape  # pixdrop
        drop = torch.rand((x.shape[0], h * w, 1), generator=gen) < p
        return x.view(x.shape[0], h * w, c).masked_fill(drop, 0).reshape(x.shape[0], -1)
    return apply


# straight-through phase ("st", f): from step f * steps on, every LUT's training forward is its discrete
# table on the thresholded inputs (LogicLayer.hard), the gradient still the soft one's
_ST = {"from": None, "step": 0}


def _straight_through() -> None:
    import torch

    from lut2rtl.nn.layers import LightLayer
    soft, ce = LightLayer.soft, torch.nn.functional.cross_entropy

    def st_soft(self, xs):  # type: ignore[no-untyped-def]
        s = soft(self, xs)
        if _ST["from"] is None or _ST["step"] < _ST["from"]:
            return s
        return s + (self.hard(xs) - s).detach()

    def counting_ce(*a, **kw):  # type: ignore[no-untyped-def]
        _ST["step"] += 1  # one training loss per optimizer step
        return ce(*a, **kw)
    LightLayer.soft = st_soft
    torch.nn.functional.cross_entropy = counting_ce


def work(tasks, out: str) -> None:  # type: ignore[no-untyped-def]
    import torch
    torch.set_num_threads(1)
    _straight_through()
    from lut2rtl.datasets import load_digits
    from lut2rtl.nn.train import TrainConfig, train
    train_module = sys.modules["lut2rtl.nn.train"]  # the package exports a function of the same name
    shift = train_module.shift_images
    full = load_digits()
    fold_of = folds(full.y_train)
    while True:
        try:
            name, fold = tasks.get_nowait()
        except queue.Empty:
            return
        changes, noise = RECIPES[name]
        st = noise is not None and noise[0] == "st"
        train_module.shift_images = _noise(*noise) if noise and not st else shift
        steps = {**BASE, **changes}["steps"]
        _ST.update({"from": round(noise[1] * steps) if st else None, "step": 0})
        held = fold_of == fold
        data = dataclasses.replace(full, x_train=full.x_train[~held], y_train=full.y_train[~held],
                                   x_test=full.x_train[held], y_test=full.y_train[held])
        t0 = time.time()
        rec: dict = {"name": name, "fold": fold, "n": int(held.sum())}
        try:
            res = train(TrainConfig(**{**BASE, **changes, "seed": fold}), data)
            n = rec["n"]
            # "test" is the held-out fold here
            rec.update(correct=round(res.metrics["accuracy"] * n), soft=round(res.metrics["soft_acc"] * n),
                       hist=[(h["step"], round(h["test_acc"] * n)) for h in res.history],
                       step_ms=res.metrics.get("step_ms"))
        except Exception:  # noqa: BLE001 (a failed run is recorded; the others go on)
            rec["error"] = traceback.format_exc()[-800:]
        rec["wall_s"] = round(time.time() - t0, 1)
        with open(f"{out}/results.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(name, fold, rec.get("correct"), rec["n"], rec["wall_s"], flush=True)


def summary(out: str) -> None:
    by: dict[str, dict[int, tuple[int, int]]] = collections.defaultdict(dict)
    for line in open(f"{out}/results.jsonl"):
        r = json.loads(line)
        if "correct" in r:
            by[r["name"]][r["fold"]] = (r["correct"], r["n"])
    ref = by.get("ref", {})
    print("| recipe | folds | correct | % | vs ref, same folds | per fold |")
    print("|---|---|---|---|---|---|")
    for name, d in by.items():
        fs = sorted(d)
        c, n = sum(d[f][0] for f in fs), sum(d[f][1] for f in fs)
        diff = sum(d[f][0] - ref[f][0] for f in fs if f in ref)
        print(f"| {name} | {len(fs)} | {c} / {n} | {100 * c / n:.2f} | {diff:+d} | "
              f"{', '.join(str(d[f][0]) for f in fs)} |")


if __name__ == "__main__":
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
        sys.exit()
    out, n_workers, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    os.makedirs(out, exist_ok=True)
    ctx = mp.get_context("spawn")
    tasks = ctx.Queue()
    for fold in range(FOLDS):
        for name in names:
            tasks.put((name, fold))
    procs = [ctx.Process(target=work, args=(tasks, out)) for _ in range(n_workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()

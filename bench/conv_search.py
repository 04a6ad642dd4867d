"""Recipe search for the digits conv example on a validation split (the test accuracy is not recorded).

``python bench/conv_search.py OUT SECONDS N_GPU N_CPU`` trains every recipe of ``CONFIGS`` (changes to
``BASE``, the example's recipe with a cosine schedule) for every seed of ``SEEDS`` with 15 % of each
class's training rows held out (``--val-fraction 0.15``: 201 rows), in ``N_GPU`` worker processes on
CUDA and ``N_CPU`` on the CPU (one thread each), seed by seed, starting no run after ``SECONDS``.
Each run appends its validation rows correct (final and every 100 steps) to ``OUT/results.jsonl``
and writes its checkpoint to ``OUT/ck/``. ``CS_STEPS=20`` shortens every run (a smoke test).
docs/conv.md gives the results of one run on a GPU machine.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import sys
import time
import traceback

BASE = dict(arch="conv", method="light", k=4, tree_depth=1, channels=(32,), width=3000, depth=1, steps=3000,
            lr=0.01, lr_schedule="cosine", val_fraction=0.15, eval_every=100)
CONFIGS = {
    "A ref": {},
    "A 6000 steps": {"steps": 6000},
    "A 5 bits": {"bits_per_feature": 5},
    "A lr 0.02": {"lr": 0.02},
    "A batch 256": {"batch_size": 256},
    "warp k4 lr0.01": {"method": "warp"},
    "warp k4 lr0.03": {"method": "warp", "lr": 0.03},
    "dlgn k2 d2 ch16 lr0.05": {"method": "dlgn", "k": 2, "tree_depth": 2, "channels": (16,), "lr": 0.05},
    "light k2 d2 ch16": {"k": 2, "tree_depth": 2, "channels": (16,)},
    "ch48 w2000": {"channels": (48,), "width": 2000},
    "ch24 w4000": {"channels": (24,), "width": 4000},
    "ch16,32": {"channels": (16, 32)},
    "ch32,64": {"channels": (32, 64)},
    "w2000 x2": {"width": 2000, "depth": 2},
}
SEEDS = [0, 1, 2, 3, 4]
HIDE = ("test_acc", "accuracy", "torch_discrete_acc", "soft_acc", "gap")


def work(wid, dev, tasks, out, deadline):
    import torch
    torch.set_num_threads(1)
    from lut2rtl.datasets import load_digits
    from lut2rtl.nn.train import TrainConfig, train
    data = load_digits()
    while True:
        try:
            name, seed = tasks.get_nowait()
        except queue.Empty:
            return
        if time.time() > deadline:
            return
        t0 = time.time()
        rec = {"name": name, "seed": seed, "device": dev}
        try:
            over = {"steps": int(os.environ["CS_STEPS"])} if os.environ.get("CS_STEPS") else {}
            cfg = TrainConfig(**{**BASE, **CONFIGS[name], "seed": seed, "device": dev, **over})
            res = train(cfg, data)
            rec["val_final"] = round(res.metrics["val_acc"] * 201)
            rec["val_hist"] = [(h["step"], round(h["val_acc"] * 201)) for h in res.history]
            rec["step_ms"] = res.metrics["step_ms"]
            fn = f"{out}/ck/{name.replace(' ', '_').replace(',', '-')}_s{seed}.pt"
            res.save(fn)
        except Exception as e:  # noqa: BLE001 (a failed run is recorded; the others go on)
            rec["error"] = repr(e)[:300] + traceback.format_exc()[-600:]
        rec["wall_s"] = round(time.time() - t0, 1)
        with open(f"{out}/results.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(wid, dev, rec.get("name"), rec.get("seed"), rec.get("val_final"), rec.get("step_ms"), rec["wall_s"],
              rec.get("error", "")[:200], flush=True)


if __name__ == "__main__":
    out, budget, n_gpu, n_cpu = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(f"{out}/ck", exist_ok=True)
    ctx = mp.get_context("spawn")
    tasks = ctx.Queue()
    for s in SEEDS:
        for name in CONFIGS:
            tasks.put((name, s))
    deadline = time.time() + budget
    procs = [ctx.Process(target=work, args=(i, "cuda" if i < n_gpu else "cpu", tasks, out, deadline))
             for i in range(n_gpu + n_cpu)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()

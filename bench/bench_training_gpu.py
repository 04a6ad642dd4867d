"""Training on a GPU: milliseconds per optimizer step of a 4 x 65,530 network, every method.

Runs only where CUDA is present (``python -m bench --only training_gpu`` on a GPU
machine); elsewhere it reports that it was skipped, and the runner keeps the
result of the last GPU run.

The step is the training loop's (``lut2rtl.nn.train``): a batch gathered from the
encoded digits held on the device as bytes, the forward, cross-entropy, backward
and Adam at the method's default learning rate and init (``TrainConfig.resolved``
for depth 4). Each case runs 3 warm-up steps, then ``STEPS`` steps with no host
read of the loss between them (the loop's own behaviour: it reads the loss every
``LOSS_READ_EVERY`` steps); a second timing reads the loss on the host after every
step (what a ``float(loss)`` per step costs). Both are timed with a device
synchronisation at the ends only.
"""

from __future__ import annotations

import sys
import time
from typing import Any

TITLE = "Training on a GPU: ms per step at 4 x 65,530, every method"

WIDTH = 65530  # 64K, a multiple of the 10 classes
DEPTH = 4
STEPS = 20
# label, method, k, layer options beyond the defaults
CASES: list[tuple[str, str, int, dict[str, Any]]] = [
    ("dlgn", "dlgn", 2, {}),
    ("gumbel", "gumbel", 2, {}),
    ("light", "light", 2, {}),
    ("warp k=2", "warp", 2, {}),
    ("warp k=2 noise+hard", "warp", 2, {"noise": True, "hard": True}),
    ("warp k=4", "warp", 4, {}),
    ("warp k=6", "warp", 6, {}),
]
BATCHES = [128, 1024]


def _case(label: str, method: str, k: int, extra: dict[str, Any], batch: int, width: int, steps: int,
          bits: Any, labels: Any, n_bits: int) -> dict[str, Any]:
    import torch

    from lut2rtl.nn.model import build_logic_net
    from lut2rtl.nn.train import TrainConfig, default_tau

    cfg = TrainConfig(method=method, depth=DEPTH, width=width, k=k).resolved()
    dev = bits.device
    row: dict[str, Any] = {"method": label, "k": k, "batch": batch, "lr": cfg.lr, "init": cfg.init}
    try:
        torch.manual_seed(0)
        net = build_logic_net(method, n_bits, [width] * DEPTH, k, classes=10, tau=default_tau(width, 10), seed=0,
                              layer_options={"init": cfg.init, **extra}).to(dev)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        net.train()
        torch.cuda.reset_peak_memory_stats(dev)

        def run(n: int, read_every_step: bool) -> float:
            torch.cuda.synchronize(dev)
            t0 = time.perf_counter()
            for _ in range(n):
                b = torch.randint(0, bits.shape[0], (batch,), device=dev)
                loss = torch.nn.functional.cross_entropy(net.forward_bits(bits[b].float()), labels[b])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if read_every_step:
                    float(loss.detach())
            torch.cuda.synchronize(dev)
            return 1e3 * (time.perf_counter() - t0) / n

        run(3, False)
        ms = min(run(steps, False), run(steps, False))
        ms_sync = run(steps, True)
        peak = torch.cuda.max_memory_allocated(dev) / 2**30
        row.update({"ms/step": round(ms, 2), "ms/step, host read every step": round(ms_sync, 2),
                    "samples/s": round(1e3 * batch / ms), "peak GiB": round(peak, 1),
                    "params (M)": round(sum(p.numel() for p in net.parameters()) / 1e6, 1)})
    except torch.cuda.OutOfMemoryError:
        row["ms/step"] = "out of memory"
    torch.cuda.empty_cache()
    return row


def run(quick: bool) -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device here", "columns": [], "rows": []}
    from lut2rtl.datasets import load_digits, thermometer_thresholds
    from lut2rtl.nn.model import build_logic_net

    dev = torch.device("cuda")
    data = load_digits()
    thr = thermometer_thresholds(data.x_train, 3, mode="uniform", feature_range=data.feature_range)
    enc = build_logic_net("dlgn", thr.n_bits, [10], 2, classes=10, tau=1.0, thresholds=thr.thresholds)
    with torch.no_grad():
        bits = enc.encode(torch.from_numpy(data.x_train)).to(torch.uint8).to(dev)
    labels = torch.from_numpy(data.y_train).to(dev)
    width = 4090 if quick else WIDTH
    steps = 5 if quick else STEPS
    rows = []
    t0 = time.perf_counter()
    for batch in BATCHES:
        for label, method, k, extra in CASES:
            rows.append(_case(label, method, k, extra, batch, width, steps, bits, labels, thr.n_bits))
            print(rows[-1], flush=True, file=sys.stderr)
    name = torch.cuda.get_device_name(dev)
    notes = (f"{name}, torch {torch.__version__}, {time.perf_counter() - t0:.0f} s. A {DEPTH} x {width:,} network "
             f"on digits ({thr.n_bits} input bits), 10 classes, float32; each method at its default lr and init "
             f"for depth {DEPTH}; *warp* is the default noise-free soft forward, *noise+hard* the papers' mode. "
             f"*ms/step*: the faster of two runs of {steps} steps with no host read between steps (the training "
             f"loop's behaviour); *host read every step*: the same with `float(loss)` after each step.")
    return {"columns": ["method", "k", "batch", "lr", "init", "ms/step", "ms/step, host read every step", "samples/s",
                        "peak GiB", "params (M)"],
            "rows": rows, "notes": notes, "extra": {"device": name, "torch": torch.__version__, "width": width,
                                                    "depth": DEPTH, "steps": steps}}

"""Train and write the committed example checkpoints (examples/digits*.pt).

    python examples/make_examples.py            # all examples
    python examples/make_examples.py digits     # only examples/digits.pt

Every example is trained on the bundled digits dataset with a fixed seed, so
rerunning this script reproduces the files bit for bit (on the same torch
version and CPU; checked for digits.pt and digits_warp4.pt with torch 2.13).
The whole script took about 17 minutes of wall time on a heavily shared 2-core
machine (digits.pt alone about 1 minute). The accuracy stored in each
checkpoint's metadata is the discrete test accuracy of the reference evaluator.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from lut2rtl.datasets import load_digits
from lut2rtl.nn.train import TrainConfig, train

HERE = Path(__file__).resolve().parent

# name -> training options. digits.pt is the main example (<= 2000 LUTs: it must
# fit the iCEBreaker UP5K beside the UART demo); the others show each method.
EXAMPLES: dict[str, dict[str, object]] = {
    "digits": dict(method="dlgn", k=2, width=1000, depth=2, steps=3000, lr=0.01, bits_per_feature=3),
    "digits_dlgn": dict(method="dlgn", k=2, width=2000, depth=2, steps=2000, lr=0.05, bits_per_feature=3),
    "digits_gumbel": dict(method="gumbel", k=2, width=2000, depth=2, steps=3000, lr=0.05, bits_per_feature=3),
    "digits_light": dict(method="light", k=2, width=2000, depth=2, steps=2000, lr=0.05, bits_per_feature=3),
    "digits_warp4": dict(method="warp", k=4, width=1000, depth=2, steps=600, lr=0.05, bits_per_feature=3),
    "digits_warp6": dict(method="warp", k=6, width=1000, depth=2, steps=800, lr=0.05, bits_per_feature=3),
    "digits_best": dict(method="light", k=4, width=3000, depth=2, steps=600, lr=0.05, bits_per_feature=4),
    # the conv example (checkpoint version 2): 32 channels of one LUT4 over 5x5x5 bits (5 thresholds per pixel),
    # no pooling, one dense layer of 3000 LUT4s, cosine schedule: the recipe that leads the five-fold
    # cross-validation on the training split (docs/conv.md), chosen there and not by the test split
    "digits_conv": dict(arch="conv", method="light", k=4, tree_depth=1, channels=(32,), kernel_size=5, pool=1,
                        width=3000, depth=1, steps=3000, lr=0.01, lr_schedule="cosine", bits_per_feature=5),
}


def make(name: str) -> float:
    """Train one example and write ``examples/<name>.pt``; returns its accuracy."""
    options = {"seed": 0, "device": "cpu", "eval_every": 100, "init": "random", **EXAMPLES[name]}
    res = train(TrainConfig(**options), load_digits())  # type: ignore[arg-type]
    assert res.net is not None
    res.save(HERE / f"{name}.pt")  # format version 1, or 2 for a conv network (its compact form)
    return res.accuracy


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)  # the examples are small; one thread is fastest on a shared machine
    names = argv or list(EXAMPLES)
    for name in names:
        if name not in EXAMPLES:
            raise SystemExit(f"unknown example {name!r} (choose from {', '.join(EXAMPLES)})")
        t0 = time.perf_counter()
        acc = make(name)
        print(f"{name}.pt: test accuracy {100 * acc:.2f}% ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])

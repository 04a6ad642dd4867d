"""The committed example checkpoints (written by examples/make_examples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.datasets import load_digits
from lut2rtl.evaluate import score_dataset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# name -> (LUT budget, minimum accuracy the example promises)
BUDGETS = {
    "digits": (2000, 0.90),
    "digits_dlgn": (6000, 0.90),
    "digits_gumbel": (6000, 0.90),
    "digits_light": (6000, 0.90),
    "digits_warp4": (6000, 0.90),
    "digits_warp6": (6000, 0.90),
    "digits_best": (20000, 0.95),
}


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_example_checkpoint(name):
    path = EXAMPLES / f"{name}.pt"
    if not path.exists():
        pytest.fail(f"{path} is missing: run python examples/make_examples.py {name}")
    assert path.stat().st_size < 1 << 20
    net = load_checkpoint(path)
    budget, min_acc = BUDGETS[name]
    assert net.n_luts <= budget
    meta = net.metadata
    for key in ("method", "dataset", "accuracy", "seed", "k", "width", "depth", "steps"):
        assert key in meta, key
    assert meta["dataset"] == "digits" and net.n_luts == meta["width"] * meta["depth"]
    assert all(layer.k == meta["k"] for layer in net.layers)
    acc = score_dataset(net, load_digits(), "test")["accuracy"]
    assert acc == pytest.approx(meta["accuracy"], abs=1e-6)  # the stored accuracy is the evaluator's
    assert acc >= min_acc

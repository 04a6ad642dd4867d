"""The committed conv example (examples/digits_conv.pt, written by examples/make_examples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lut2rtl.checkpoint import load_checkpoint, load_conv_net
from lut2rtl.datasets import load_digits
from lut2rtl.evaluate import score_dataset
from lut2rtl.lowering import ConvStage

PATH = Path(__file__).resolve().parents[2] / "examples" / "digits_conv.pt"
MIN_ACCURACY = 0.97  # what the example promises (measured 97.33 %; the 98.0 % target is not reached)


def test_conv_example():
    if not PATH.exists():
        pytest.fail(f"{PATH} is missing: run python examples/make_examples.py digits_conv")
    assert PATH.stat().st_size < 1 << 20
    raw = torch.load(PATH, weights_only=True)
    assert raw["version"] == 2
    conv = load_conv_net(PATH)
    assert isinstance(conv.stages[0], ConvStage) and conv.stages[0].in_shape == (8, 8, 5)
    net = load_checkpoint(PATH)
    meta = net.metadata
    assert meta["arch"] == "conv" and meta["dataset"] == "digits"
    acc = score_dataset(net, load_digits(), "test")["accuracy"]
    assert acc == pytest.approx(meta["accuracy"], abs=1e-6)  # the stored accuracy is the evaluator's
    # torch's eval forward scored the test split exactly as the evaluator did when the file was written
    assert raw["training"]["metrics"]["torch_discrete_acc"] == pytest.approx(acc, abs=1e-6)
    assert acc >= MIN_ACCURACY


@pytest.mark.slow
def test_conv_example_is_smaller_than_digits_best():
    """The Pareto claim: fewer mapped LUTs (compile estimate, iCE40, fabric + popcount) than digits_best."""
    from bench.bench_conv import estimate

    if not PATH.exists():
        pytest.fail(f"{PATH} is missing")
    conv = estimate(load_checkpoint(PATH), "ice40")["luts"]
    best = estimate(load_checkpoint(PATH.parent / "digits_best.pt"), "ice40")["luts"]
    assert conv < best

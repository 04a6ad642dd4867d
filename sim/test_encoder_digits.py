"""The digits example with its encoder in hardware (`--encoder hw`): the raw
pixel values of the test split (integers 0..16, 5-bit features) go into the
Verilator model, and every output bit equals the software path's (float64
thermometer encoder, then the network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.compile import compile_checkpoint
from lut2rtl.datasets import load_digits
from lut2rtl.evaluate import evaluate_features
from lut2rtl.verify.check import verify_build

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits.pt"


@pytest.mark.verilator
def test_digits_encoder_hw_test_split(tmp_path: Path, sim_cache: Path) -> None:
    out = compile_checkpoint(EXAMPLE, tmp_path / "digits_hw", target="ice40", pipeline=4, encoder="hw",
                             feature_bits=5).out_dir
    with np.load(out / "vectors.npz") as z:
        feats, out_class, counts = z["in_features"], z["out_class"], z["counts"]
    x_test = load_digits().x_test
    n = x_test.shape[0]
    # the vectors start with the whole test split, as raw integers
    assert np.array_equal(feats[:n], x_test.astype(np.int64))
    soft = evaluate_features(load_checkpoint(EXAMPLE), x_test)
    assert np.array_equal(out_class[:n], soft.pred) and np.array_equal(counts[:n], soft.counts)
    report = verify_build(out, cache_dir=sim_cache)
    assert report.sim is not None and report.sim.ok, "\n".join(report.lines)
    assert report.vectors == feats.shape[0] and report.sim.comparison.mismatched_vectors == 0

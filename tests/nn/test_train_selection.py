"""Model selection without the test split: --val-fraction, --keep-best; and --lr-schedule, --label-smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from lut2rtl.datasets import load_digits
from lut2rtl.nn.train import TrainConfig, TrainingError, split_validation, train


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _small(**kw) -> TrainConfig:
    base = dict(method="light", k=3, width=100, depth=2, steps=40, batch_size=64, eval_every=10, device="cpu",
                bits_per_feature=2, lr=0.05)
    base.update(kw)
    return TrainConfig(**base)


def test_split_validation_is_per_class_fixed_and_leaves_test_alone(digits):
    tr, xv, yv = split_validation(digits, 0.15)
    assert tr.x_train.shape[0] + xv.shape[0] == digits.x_train.shape[0]
    assert np.array_equal(tr.x_test, digits.x_test) and np.array_equal(tr.y_test, digits.y_test)
    # per class: about 15 % of that class's training rows
    for c in range(10):
        n = int((digits.y_train == c).sum())
        assert int((yv == c).sum()) == round(0.15 * n)
    # a partition: the two parts together are the training rows (as a multiset), with their labels
    def rows(x, y):
        return sorted(r.tobytes() + bytes([int(c)]) for r, c in zip(x, y))
    assert rows(np.concatenate([tr.x_train, xv]), np.concatenate([tr.y_train, yv])) == rows(
        digits.x_train, digits.y_train)
    tr2, xv2, _ = split_validation(digits, 0.15)
    assert np.array_equal(xv, xv2) and np.array_equal(tr.x_train, tr2.x_train)


def test_val_fraction_trains_on_fewer_rows_and_reports_val_acc(digits):
    events = []
    res = train(_small(val_fraction=0.15), digits, events.append)
    evals = [e for e in events if e["event"] == "eval"]
    assert len(evals) == 4 and all(0.0 <= e["val_acc"] <= 1.0 for e in evals)
    assert res.metrics["val_acc"] == evals[-1]["val_acc"]
    # the seed's training stream differs from a run on every row (fewer rows to permute)
    full = train(_small(), digits)
    assert "val_acc" not in full.history[-1] and "val_acc" not in full.metrics


def test_keep_best_restores_the_best_validation_evaluation(digits):
    res = train(_small(val_fraction=0.15, keep_best=True, steps=60, lr=0.2), digits)
    vals = [h["val_acc"] for h in res.history]
    best = int(np.argmax(vals))  # first of the maxima
    assert res.metrics["best_step"] == res.history[best]["step"]
    assert res.metrics["val_acc"] == max(vals)
    # the saved model is the one of that evaluation: its discrete test accuracy is that evaluation's
    assert res.metrics["torch_discrete_acc"] == res.history[best]["test_acc"] == round(res.accuracy, 6)


def test_defaults_leave_the_training_record_unchanged(digits):
    rec = train(_small(steps=5), digits).training_record()["config"]
    for key in ("val_fraction", "lr_schedule", "keep_best", "label_smoothing"):
        assert key not in rec
    rec = train(_small(steps=5, val_fraction=0.1, lr_schedule="cosine", label_smoothing=0.1), digits)
    config = rec.training_record()["config"]
    assert config["val_fraction"] == 0.1 and config["lr_schedule"] == "cosine" and config["label_smoothing"] == 0.1


def test_cosine_schedule_and_label_smoothing_change_training(digits):
    base = train(_small(steps=30), digits)
    cos = train(_small(steps=30, lr_schedule="cosine"), digits)
    ls = train(_small(steps=30, label_smoothing=0.1), digits)
    tables = [np.concatenate([la.tables for la in r.net.layers]) for r in (base, cos, ls)]
    assert not np.array_equal(tables[0], tables[1]) or base.history != cos.history
    assert base.history[-1]["loss"] != ls.history[-1]["loss"]


@pytest.mark.parametrize("opts,msg", [
    (dict(val_fraction=1.0), r"^--val-fraction 1.0: a share of the training rows in \[0, 1\)$"),
    (dict(val_fraction=-0.1), r"^--val-fraction -0.1"),
    (dict(keep_best=True), r"^--keep-best needs a validation split \(--val-fraction > 0\)$"),
    (dict(lr_schedule="step"), r"^--lr-schedule 'step': constant or cosine$"),
    (dict(label_smoothing=1.0), r"^--label-smoothing 1.0: must be in \[0, 1\)$"),
])
def test_selection_option_errors(opts, msg, digits):
    with pytest.raises(TrainingError, match=msg):
        train(_small(**opts), digits)

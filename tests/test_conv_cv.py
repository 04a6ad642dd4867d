"""``bench/conv_cv.py --seeds-summary OUT --write``: the seeds table grows recipe by recipe."""

from __future__ import annotations

import json
import time

import numpy as np

from bench.conv_cv import folds, overlap, seeds_summary


def _runs(out, name: str, correct: list[int]) -> None:
    with open(out / "results.jsonl", "a") as f:
        for seed, c in enumerate(correct):
            f.write(json.dumps({"name": name, "fold": None, "seed": seed, "n": 450, "correct": c,
                                "wall_s": 10.0}) + "\n")
        # a cross-validation row of the same recipe is not a seeds row
        f.write(json.dumps({"name": name, "fold": 0, "seed": 0, "n": 274, "correct": 1, "wall_s": 99.0}) + "\n")


def test_write_keeps_other_recipes_and_replaces_a_rerun(tmp_path, capsys):
    table = tmp_path / "conv_seeds.json"
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _runs(first, "dense_best", [442, 440])
    _runs(first, "conv_example", [439, 434])
    seeds_summary(str(first), write=True, path=table)
    earlier = json.loads(table.read_text())
    for r in earlier["rows"]:
        r["run"] = "2000-01-01"  # as if written on another day
    table.write_text(json.dumps(earlier))
    _runs(second, "conv_example", [441, 441])  # run again: replaces the earlier row
    _runs(second, "nopool5b_k5", [438, 436])
    seeds_summary(str(second), write=True, path=table)
    capsys.readouterr()
    rows = {r["recipe"]: r for r in json.loads(table.read_text())["rows"]}
    assert sorted(rows) == ["conv_example", "dense_best", "nopool5b_k5"]
    assert rows["dense_best"]["test_correct"] == "442, 440"  # kept from the first write
    assert rows["conv_example"]["test_correct"] == "441, 441"  # the rerun, not the first rows
    assert rows["nopool5b_k5"]["mean_pct"] == round(100 * 437 / 450, 2)
    assert rows["dense_best"]["run"] == "2000-01-01"  # a kept row keeps its own date
    assert rows["conv_example"]["run"] == rows["nopool5b_k5"]["run"] == time.strftime("%Y-%m-%d")
    result = json.loads(table.read_text())
    assert result["wall_s"] == 6 * 10.0 / 2  # six seeds runs, two at once; the fold rows are not counted
    assert "9,826" not in result["notes"] and "8,964" not in result["notes"]  # no LUT counts of an old head


def _fold_counts(y, wrong: dict[int, int], strength: int = 5) -> list[list[int]]:
    counts = np.zeros((len(y), 10), dtype=int)
    counts[np.arange(len(y)), y] = strength
    for row, cls in wrong.items():
        counts[row, cls] = strength + 1
    return counts.tolist()


def test_overlap_counts_shared_and_summed_errors(tmp_path, capsys):
    from lut2rtl.datasets import load_digits
    y = load_digits().y_train[folds(load_digits().y_train) == 0]
    a = _fold_counts(y, {0: (y[0] + 1) % 10, 1: (y[1] + 1) % 10})
    b = _fold_counts(y, {1: (y[1] + 1) % 10, 2: (y[2] + 1) % 10}, strength=9)
    with open(tmp_path / "results.jsonl", "w") as f:
        for name, counts in (("a", a), ("b", b)):
            f.write(json.dumps({"name": name, "fold": 0, "seed": 0, "n": len(y), "counts": counts}) + "\n")
        f.write(json.dumps({"name": "a", "fold": 1, "seed": 1, "n": 3, "counts": [[0] * 10] * 3}) + "\n")  # b lacks it
    tot = overlap(str(tmp_path), "a", "b")
    capsys.readouterr()
    # row 0: a wrong, b right and stronger; row 2: the other way round; row 1: both wrong alike
    assert tot == {"folds": 1, "rows": len(y), "a": 2, "b": 2, "both": 1, "sum": 1}


def test_affine_copies_identity_and_warps() -> None:
    from bench.conv_cv import affine_copies
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 16, (5, 64)).astype(np.float32)
    assert np.array_equal(affine_copies(x, 8, 2, 0.0, 0.0, 0.0, seed=1), np.concatenate([x, x]))
    warped = affine_copies(x, 8, 1, 90.0, 0.0, 0.0, seed=1)  # rotations drawn from +-90 degrees
    assert warped.shape == x.shape and not np.allclose(warped, x)
    assert (warped >= 0).all() and (warped <= 16).all()  # bilinear weights: no value outside the inputs' range


def test_mixup_mixes_rows_and_weights_both_labels() -> None:
    import pytest
    import torch

    from bench import conv_cv
    conv_cv._MIX.update(rng=np.random.default_rng(0), lam=None, perm=None)
    x, gen = torch.rand(8, 5), torch.Generator().manual_seed(0)
    mixed = conv_cv._noise("mixup", 0.4)(x, (1, 1, 5), 1, gen)
    lam, perm = conv_cv._MIX["lam"], conv_cv._MIX["perm"]
    assert 0 < lam < 1 and sorted(perm.tolist()) == list(range(8)) and perm.tolist() != list(range(8))
    assert torch.allclose(mixed, lam * x + (1 - lam) * x[perm])
    out, y = torch.randn(8, 10), torch.arange(8)
    ce = torch.nn.functional.cross_entropy
    want = lam * ce(out, y) + (1 - lam) * ce(out, y[perm])
    loss = conv_cv.mixed_loss(ce, out, y)
    assert torch.allclose(loss, want) and not torch.allclose(loss, ce(out, y))  # control: the unmixed loss
    with pytest.raises(AssertionError, match="not mixed"):  # one loss per mix
        conv_cv.mixed_loss(ce, out, y)


def test_splits_rows_compare_with_dense_on_the_same_split(tmp_path, capsys):
    from bench.conv_cv import seeds_rows, splits_rows
    rows = [("dense_best", 1, 440), ("dense_best", 2, 441), ("conv_example", 1, 443), ("conv_example", 2, 439),
            ("conv_example", 3, 445)]  # split 3 has no dense run: no difference for it
    with open(tmp_path / "results.jsonl", "w") as f:
        for name, split, c in rows:
            f.write(json.dumps({"name": name, "fold": None, "seed": 0, "split": split, "n": 450, "correct": c,
                                "wall_s": 1.0}) + "\n")
        # a --seeds run (split 0) is not a split row, and a split row is not a seeds row
        f.write(json.dumps({"name": "conv_example", "fold": None, "seed": 0, "n": 450, "correct": 1,
                            "wall_s": 1.0}) + "\n")
    got = {r["recipe"]: r for r in splits_rows(str(tmp_path))}
    assert got["conv_example"]["test_correct"] == "443, 439, 445"
    assert got["conv_example"]["vs_dense_best"] == "+3, -2"
    assert got["conv_example"]["at_least_98"] == 2  # 443 and 445 of 450 are >= 98.0 %, 439 is not
    assert got["dense_best"]["vs_dense_best"] == "–"
    assert [r["test_correct"] for r in seeds_rows(str(tmp_path))] == ["1"]

"""Fixed random wiring of a logic layer: which previous-layer outputs each LUT reads.

The wiring is drawn once from a numpy ``Generator`` (deterministic for a seed)
and then stored in the model as a buffer, so it travels with the checkpoint and
is never regenerated.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["WIRINGS", "make_wiring"]

WIRINGS = ("random", "unique")


def make_wiring(rng: np.random.Generator, in_width: int, n: int, k: int, mode: str = "random") -> np.ndarray:
    """Local input indices ``int64 [n, k]`` into a previous layer of ``in_width`` signals.

    ``random``: balanced fan-out, every source is read ``floor`` or ``ceil`` of
    ``n*k / in_width`` times (concatenated random permutations), and no LUT
    reads the same source twice. ``unique``: the same, and additionally no two
    LUTs of the layer read the same *set* of sources.
    """
    if mode not in WIRINGS:
        raise ValueError(f"unknown wiring {mode!r} (choose from {', '.join(WIRINGS)})")
    if k < 1 or n < 1:
        raise ValueError(f"a layer needs n >= 1 and k >= 1, got n={n}, k={k}")
    if k > in_width:
        raise ValueError(f"fan-in k={k} exceeds the {in_width} signals of the previous layer")
    if mode == "unique" and math.comb(in_width, k) < n:
        raise ValueError(
            f"unique wiring impossible: only {math.comb(in_width, k)} distinct {k}-sets of {in_width} signals "
            f"for {n} LUTs"
        )
    slots = n * k
    reps = -(-slots // in_width)
    flat = np.concatenate([rng.permutation(in_width) for _ in range(reps)])[:slots]
    idx = flat.reshape(n, k).astype(np.int64)
    _fix_repeats(rng, idx)
    if mode == "unique":
        _fix_duplicate_sets(rng, idx, in_width)
    return idx


def _fix_repeats(rng: np.random.Generator, idx: np.ndarray) -> None:
    """Swap entries between LUTs until none reads a source twice (keeps fan-out counts)."""
    n, k = idx.shape
    if k == 1:
        return
    for _ in range(100):
        s = np.sort(idx, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if bad.size == 0:
            return
        for r in bad.tolist():
            row = idx[r]
            vals, counts = np.unique(row, return_counts=True)
            for v in vals[counts > 1].tolist():
                pos = int(np.flatnonzero(row == v)[1])
                # swap with a random slot of another LUT when that keeps both rows repeat-free
                for _try in range(50):
                    r2 = int(rng.integers(n))
                    p2 = int(rng.integers(k))
                    w = int(idx[r2, p2])
                    if r2 != r and w not in row and v not in idx[r2]:
                        idx[r, pos], idx[r2, p2] = w, v
                        break
    raise ValueError("could not draw a wiring without repeated inputs (previous layer too narrow)")


def _fix_duplicate_sets(rng: np.random.Generator, idx: np.ndarray, in_width: int) -> None:
    """Redraw LUTs whose input set repeats an earlier LUT's (slightly unbalances fan-out)."""
    seen: set[tuple[int, ...]] = set()
    k = idx.shape[1]
    for r in range(idx.shape[0]):
        key = tuple(sorted(idx[r].tolist()))
        tries = 0
        while key in seen:
            tries += 1
            if tries > 10_000:
                raise ValueError("could not draw a unique wiring")
            idx[r] = rng.choice(in_width, size=k, replace=False)
            key = tuple(sorted(idx[r].tolist()))
        seen.add(key)

"""Random netlists, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .netlist import GroupSum, Layer, Netlist, Thermometer, table_mask

__all__ = ["random_netlist"]


def random_netlist(
    rng: np.random.Generator | int,
    n_inputs: int,
    widths: Sequence[int],
    ks: Sequence[int] | int = 2,
    *,
    classes: int | None = None,
    dag: bool = False,
    genuine: bool = False,
    encoder_features: int | None = None,
) -> Netlist:
    """A random network.

    ``widths[l]`` LUTs of fan-in ``ks[l]`` per layer. Layered by default (each
    layer reads the previous one, with every source used about equally often,
    like trained networks); ``dag=True`` lets a LUT read any earlier signal and
    picks random outputs. ``genuine=True`` draws only 2-input gates that depend
    on both inputs (k = 2). ``classes`` adds a GroupSum (the last width must be
    a multiple). ``encoder_features`` adds a thermometer encoder whose bit
    count equals ``n_inputs``.
    """
    if isinstance(rng, (int, np.integer)):
        rng = np.random.default_rng(int(rng))
    if isinstance(ks, (int, np.integer)):
        ks = [int(ks)] * len(widths)
    layers: list[Layer] = []
    offset_prev, width_prev, total = 0, n_inputs, n_inputs
    for width, k in zip(widths, ks):
        if dag:
            inputs = rng.integers(0, total, size=(width, k))
        else:
            # balanced fan-out: a shuffled repeat of every source
            reps = -(-width * k // width_prev)
            pool = np.tile(np.arange(width_prev), reps)
            rng.shuffle(pool)
            inputs = pool[: width * k].reshape(width, k) + offset_prev
        if genuine:
            if k != 2:
                raise ValueError("genuine=True needs k=2")
            tables = rng.choice(np.array([1, 2, 4, 6, 7, 8, 9, 11, 13, 14]), size=width)
        elif k == 6:
            tables = rng.integers(0, 1 << 63, size=width, dtype=np.uint64) * np.uint64(2) + rng.integers(
                0, 2, size=width, dtype=np.uint64
            )
        else:
            tables = rng.integers(0, int(table_mask(k)) + 1, size=width, dtype=np.uint64)
        layers.append(Layer(k=int(k), inputs=inputs, tables=tables))
        offset_prev, width_prev = total, width
        total += width
    outputs = None
    if dag:
        n_out = widths[-1]
        outputs = rng.integers(n_inputs, total, size=n_out)
    encoder = None
    if encoder_features is not None:
        if n_inputs % encoder_features:
            raise ValueError("encoder_features must divide n_inputs")
        m = n_inputs // encoder_features
        encoder = Thermometer(np.sort(rng.normal(size=(encoder_features, m)), axis=1))
    return Netlist(
        n_inputs=n_inputs,
        layers=tuple(layers),
        outputs=outputs,
        group_sum=GroupSum(classes=classes, tau=1.0) if classes else None,
        encoder=encoder,
        metadata={"method": "random"},
    )

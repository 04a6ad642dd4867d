from __future__ import annotations

import numpy as np
import pytest

from lut2rtl.netlist import Netlist


def slow_eval(net: Netlist, bits: np.ndarray) -> np.ndarray:
    """An obvious per-sample, per-LUT evaluation with Python ints (test oracle
    for the oracle): returns the output bits ``[N, n_out]``."""
    out = []
    for sample in np.asarray(bits, dtype=bool):
        sig = [int(b) for b in sample]
        for layer in net.layers:
            vals = []
            for idx, table in zip(layer.inputs.tolist(), layer.tables.tolist()):
                row = 0
                for m in range(layer.k):
                    row = 2 * row + sig[idx[m]]
                vals.append((int(table) >> ((1 << layer.k) - 1 - row)) & 1)
            sig.extend(vals)
        out.append([sig[o] for o in net.outputs.tolist()])
    return np.array(out, dtype=bool).reshape(len(out), net.n_outputs)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)

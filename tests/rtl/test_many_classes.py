"""2,000 classes: the argmax tournament has log2(classes) rounds and breaks ties to the lowest class."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lut2rtl.evaluate import evaluate
from lut2rtl.netlist import GroupSum, Netlist
from lut2rtl.rtl import LutNetwork
from lut2rtl.rtl.groupsum import plan_groupsum

from .simhelp import simulate, split_counts

CLASSES, G = 2000, 2


def _vectors(rng: np.random.Generator) -> np.ndarray:
    n = CLASSES * G
    rows = [np.zeros(n), np.ones(n)]  # every class tied (at 0, at 2): class 0 wins
    for winners in ([1999], [5, 1500], [1998, 1999], [0, 1999], [1023, 1024]):
        row = (rng.random(n) < 0.25).astype(float)
        row.reshape(CLASSES, G)[:, 1] = 0  # every class at most 1
        for w in winners:  # these reach 2: tied among themselves, the lowest must win
            row[w * G: (w + 1) * G] = 1
        rows.append(row)
    rows += list((rng.random((4, n)) < 0.5).astype(float))
    return np.array(rows, dtype=bool)


@pytest.mark.filterwarnings("ignore::amaranth.hdl._ir.UnusedElaboratable")
def test_two_thousand_classes_bit_exact_with_ties(rng: np.random.Generator) -> None:
    # Amaranth's simulator compiles a 4,000-bit Cat into one deeply nested Python expression
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        _check(rng)
    finally:
        sys.setrecursionlimit(limit)


def _check(rng: np.random.Generator) -> None:
    # the network's outputs are its inputs, so the vectors set every class count directly
    net = Netlist(n_inputs=CLASSES * G, layers=(), outputs=np.arange(CLASSES * G),
                  group_sum=GroupSum(classes=CLASSES))
    plan = plan_groupsum(CLASSES * G, CLASSES, LutNetwork(net, "generic").plan.target)
    assert plan.levels - 2 * 11 <= 2  # 11 = ceil(log2(2000)) compare/mux rounds after the adders
    bits = _vectors(rng)
    ref = evaluate(net, bits)
    assert ref.pred[:7].tolist() == [0, 0, 1999, 5, 1998, 0, 1023]  # the ties the vectors set up
    dut = LutNetwork(net, "generic", 3, fabric="amaranth")
    got = simulate(dut, bits)
    assert got["out_class"] == ref.pred.tolist()
    assert np.array_equal(split_counts(got["out_counts"], CLASSES, dut.plan.groupsum.count_width), ref.counts)

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lut2rtl.errors import ShapeError
from lut2rtl.evaluate import evaluate, evaluate_features, pack_bits, unpack_bits
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import GroupSum, Netlist

from .conftest import slow_eval


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_pack_roundtrip(n, rng):
    b = rng.integers(0, 2, size=(n, 5)).astype(bool)
    w = pack_bits(b)
    assert w.shape == (5, (n + 63) // 64) and w.dtype == np.uint64
    assert np.array_equal(unpack_bits(w, n), b)
    # sample s is bit s % 64 of word s // 64
    s = n - 1
    assert bool((int(w[2, s // 64]) >> (s % 64)) & 1) == b[s, 2]


def test_reference_evaluator_matches_slow_on_200_random_netlists():
    rng = np.random.default_rng(2026)
    checked = 0
    for trial in range(200):
        n_in = int(rng.integers(2, 9))
        depth = int(rng.integers(1, 4))
        widths = [int(rng.integers(1, 12)) for _ in range(depth)]
        ks = [int(rng.integers(2, 7)) for _ in range(depth)]
        classes = None
        if trial % 2:
            classes = int(rng.integers(1, 4))
            widths[-1] = classes * int(rng.integers(1, 4))
        net = random_netlist(rng, n_in, widths, ks, classes=classes, dag=trial % 3 == 0)
        if n_in <= 8:  # exhaustive over every input pattern
            bits = np.array(list(itertools.product([0, 1], repeat=n_in)), dtype=bool)
        else:
            bits = rng.integers(0, 2, size=(300, n_in)).astype(bool)
        r = evaluate(net, bits)
        expect = slow_eval(net, bits)
        assert np.array_equal(r.out_bits, expect), f"trial {trial}"
        if classes:
            g = net.n_outputs // classes
            counts = expect.reshape(len(bits), classes, g).sum(axis=2)
            assert np.array_equal(r.counts, counts)
            assert np.array_equal(r.pred, np.argmax(counts, axis=1))
        checked += 1
    assert checked == 200


def test_ties_go_to_lowest_class():
    # 4 outputs in 2 classes; constant gates: class 0 gets 1, class 1 gets 1
    net = Netlist.layered(1, [(np.zeros((4, 2), int), np.array([15, 0, 0, 15]))], group_sum=GroupSum(2))
    r = evaluate(net, np.zeros((3, 1), bool))
    assert r.counts.tolist() == [[1, 1]] * 3
    assert r.pred.tolist() == [0, 0, 0]


def test_large_batch_matches_small_batches(rng):
    net = random_netlist(rng, 16, [64, 64, 30], [2, 4, 6], classes=10)
    bits = rng.integers(0, 2, size=(1000, 16)).astype(bool)
    whole = evaluate(net, bits)
    parts = np.concatenate([evaluate(net, bits[i:i + 37]).out_bits for i in range(0, 1000, 37)])
    assert np.array_equal(whole.out_bits, parts)


def test_shape_errors(rng):
    net = random_netlist(rng, 8, [4], 2)
    with pytest.raises(ShapeError, match=r"shape \(N, 8\), got \(3, 7\)"):
        evaluate(net, np.zeros((3, 7), bool))
    with pytest.raises(ShapeError, match="no input encoder"):
        evaluate_features(net, np.zeros((3, 2)))
    with pytest.raises(ShapeError, match="boolean or 0/1"):
        evaluate(net, np.full((3, 8), 2))


def test_evaluate_features_uses_encoder(rng):
    net = random_netlist(rng, 12, [8], 2, classes=2, encoder_features=4)
    x = rng.normal(size=(50, 4))
    bits = net.encoder.encode(x)
    assert bits.shape == (50, 12)
    assert np.array_equal(evaluate_features(net, x).out_bits, evaluate(net, bits).out_bits)

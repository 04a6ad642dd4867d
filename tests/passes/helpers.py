"""Shared checks for the pass tests: equivalence with the reference evaluator
and hypothesis strategies for random netlists."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from lut2rtl.evaluate import evaluate
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Netlist, check_netlist

# exhaustive up to this many inputs, random vectors above
EXHAUSTIVE_MAX = 10


def input_vectors(n_inputs: int, seed: int = 0, n_random: int = 1024) -> np.ndarray:
    if n_inputs <= EXHAUSTIVE_MAX:
        return np.array(list(itertools.product([False, True], repeat=n_inputs)), dtype=bool)
    return np.random.default_rng(seed).integers(0, 2, size=(n_random, n_inputs)).astype(bool)


def assert_equivalent(before: Netlist, after: Netlist, seed: int = 0) -> None:
    """Same outputs (and counts/classes with a GroupSum) on exhaustive or random inputs."""
    check_netlist(after)
    assert after.n_inputs == before.n_inputs
    assert after.n_outputs == before.n_outputs
    assert (after.group_sum is None) == (before.group_sum is None)
    assert after.encoder is before.encoder
    assert dict(after.metadata) == dict(before.metadata)
    x = input_vectors(before.n_inputs, seed)
    a, b = evaluate(before, x), evaluate(after, x)
    np.testing.assert_array_equal(a.out_bits, b.out_bits)
    if a.counts is not None:
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.pred, b.pred)


def live_luts(net: Netlist) -> int:
    return int(net.live_mask()[net.n_inputs:].sum())


@st.composite
def netlists(draw: st.DrawFn, max_k: int = 6, max_inputs: int = 14) -> Netlist:
    """Random layered or DAG netlists, k = 1..max_k per layer, with or without GroupSum."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_inputs = draw(st.integers(1, max_inputs))
    depth = draw(st.integers(1, 5))
    widths = [draw(st.integers(1, 24)) for _ in range(depth)]
    ks = [draw(st.integers(1, max_k)) for _ in range(depth)]
    dag = draw(st.booleans())
    classes = draw(st.sampled_from([None, 1, 2, 3]))
    if classes is not None:
        widths[-1] = classes * max(1, widths[-1] // classes)
    return random_netlist(seed, n_inputs, widths, ks, classes=classes, dag=dag)


@st.composite
def gate_netlists(draw: st.DrawFn) -> Netlist:
    """Random 2-input gate networks (all 16 ops, or only genuine ones)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_inputs = draw(st.integers(2, 12))
    depth = draw(st.integers(1, 6))
    widths = [draw(st.integers(2, 32)) for _ in range(depth)]
    genuine = draw(st.booleans())
    dag = draw(st.booleans())
    classes = draw(st.sampled_from([None, 2]))
    if classes is not None:
        widths[-1] = classes * max(1, widths[-1] // classes)
    return random_netlist(seed, n_inputs, widths, 2, classes=classes, dag=dag, genuine=genuine)

"""The passes' working form: table operations against brute force, and the
Netlist <-> Flat round trip."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lut2rtl.passes._flat import VAR, compose, depends, from_netlist, permute_vars, to_netlist, widen

from .helpers import assert_equivalent, netlists

tables = st.integers(0, 2**64 - 1).map(np.uint64)


def _bit(t: np.uint64, p: int) -> int:
    return int(t) >> p & 1


def test_var_tables() -> None:
    for m in range(6):
        for p in range(64):
            assert _bit(VAR[m], p) == (p >> m & 1)


@settings(max_examples=100, deadline=None)
@given(tables, st.lists(tables, min_size=6, max_size=6))
def test_compose_is_substitution(t: np.uint64, g: list[np.uint64]) -> None:
    out = compose(np.array([t]), np.array([g], dtype=np.uint64))[0]
    for p in range(64):
        x = sum(_bit(g[m], p) << m for m in range(6))
        assert _bit(out, p) == _bit(t, x)


@settings(max_examples=100, deadline=None)
@given(tables, st.permutations(range(6)))
def test_permute_vars(t: np.uint64, perm: list[int]) -> None:
    src = np.array([perm])
    out = permute_vars(np.array([t]), src)[0]
    for p in range(64):
        q = sum((p >> m & 1) << perm[m] for m in range(6))
        assert _bit(out, p) == _bit(t, q)


@settings(max_examples=100, deadline=None)
@given(tables)
def test_depends(t: np.uint64) -> None:
    dep = depends(np.array([t]))[0]
    for m in range(6):
        flips = any(_bit(t, p) != _bit(t, p ^ (1 << m)) for p in range(64))
        assert dep[m] == flips


def test_widen_ignores_new_variables() -> None:
    t = widen(np.array([0b0110], dtype=np.uint64), 2)[0]
    assert not depends(np.array([t]))[0][2:].any()
    assert int(t) & 0xF == 0b0110


@settings(max_examples=50, deadline=None)
@given(netlists())
def test_round_trip(net) -> None:  # type: ignore[no-untyped-def]
    assert_equivalent(net, to_netlist(from_netlist(net), net))

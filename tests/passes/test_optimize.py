from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.datasets import load_digits
from lut2rtl.evaluate import evaluate_features
from lut2rtl.netlist import Netlist
from lut2rtl.passes import OPT_LEVELS, optimize, pipeline, run_pipeline

from .helpers import assert_equivalent, live_luts, netlists

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.pt"))


def test_level0_is_identity() -> None:
    from lut2rtl.netgen import random_netlist

    net = random_netlist(0, 8, [8, 4], 2)
    assert optimize(net, 0) is net


def test_bad_level_and_lut_size() -> None:
    from lut2rtl.netgen import random_netlist

    net = random_netlist(0, 8, [8, 4], 2)
    with pytest.raises(ValueError, match="level"):
        optimize(net, 4)
    with pytest.raises(ValueError, match="lut_size"):
        optimize(net, 2, lut_size=7)


def test_pipeline_names() -> None:
    assert pipeline(0) == []
    assert [n for n, _ in pipeline(1)] == ["const", "wires", "unused", "dedupe", "dead"]
    names = [n for n, _ in pipeline(2, lut_size=6)]
    assert names[0] == "split6" and names[1:6] == ["const", "wires", "unused", "dedupe", "dead"]
    assert names[-4:] == ["pack6", "unused", "dedupe", "dead"]
    names = [n for n, _ in pipeline(3, lut_size=4)]
    assert names[-4:] == ["cover4", "unused", "dedupe", "dead"] and "pack4" not in names
    assert OPT_LEVELS == (0, 1, 2, 3)


def test_trace_reports_every_pass() -> None:
    from lut2rtl.netgen import random_netlist

    net = random_netlist(0, 8, [16, 8], 2)
    seen: list[str] = []
    run_pipeline(net, 2, trace=lambda name, n: seen.append(name))
    assert seen[0] == "input" and seen[-4:] == ["pack4", "unused", "dedupe", "dead"] and "dedupe" in seen


@settings(max_examples=40, deadline=None)
@given(netlists(), st.sampled_from([1, 2]), st.sampled_from([4, 6]))
def test_optimize_is_equivalent(net: Netlist, level: int, lut_size: int) -> None:
    out = optimize(net, level, lut_size=lut_size)
    assert_equivalent(net, out)
    assert live_luts(out) <= max(1, live_luts(net)) or level == 2
    if level == 2:
        assert max(layer.k for layer in out.layers) <= lut_size
        assert out.n_luts == live_luts(out) or out.n_luts == 1


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.parametrize("lut_size", [4, 6])
def test_examples(path: Path, lut_size: int) -> None:
    net = load_checkpoint(path)
    out = optimize(net, 2, lut_size=lut_size)
    assert_equivalent(net, out, seed=1)
    assert max(layer.k for layer in out.layers) <= lut_size
    if max(layer.k for layer in net.layers) <= lut_size:
        # (a LUT6 network mapped to LUT4 grows: each LUT6 is split)
        assert out.n_luts <= live_luts(net)
    if net.encoder is not None and net.group_sum is not None and net.encoder.features == 64:
        data = load_digits()
        a, b = evaluate_features(net, data.x_test), evaluate_features(out, data.x_test)
        np.testing.assert_array_equal(a.counts, b.counts)


@pytest.mark.slow
@pytest.mark.parametrize("lut_size", [4, 6])
def test_large_network(lut_size: int) -> None:
    from lut2rtl.netgen import random_netlist

    net = random_netlist(7, 512, [25_000] * 8, 2, classes=10)
    out = optimize(net, 2, lut_size=lut_size)
    assert_equivalent(net, out, seed=3)
    assert max(layer.k for layer in out.layers) <= lut_size
    assert out.n_luts < live_luts(net) * 0.6


@pytest.mark.parametrize("level", [1, 2])
def test_outputs_may_read_inputs_and_repeat(level: int) -> None:
    from lut2rtl.netgen import random_netlist

    net = random_netlist(3, 6, [8, 4], 2).replace(outputs=np.array([0, 7, 7, 12, 2]))
    for lut_size in (3, 4, 6):
        assert_equivalent(net, optimize(net, level, lut_size=lut_size))
    only_inputs = net.replace(outputs=np.array([0, 1]))
    out = optimize(only_inputs, level)
    assert_equivalent(only_inputs, out)
    assert out.n_luts == 1  # the IR needs a layer: one unused constant LUT


def test_deterministic() -> None:
    from lut2rtl.netgen import random_netlist

    net = random_netlist(5, 32, [200, 100, 60], [2, 3, 6], classes=3)
    a, b = optimize(net, 2), optimize(net, 2)
    assert len(a.layers) == len(b.layers)
    for x, y in zip(a.layers, b.layers):
        np.testing.assert_array_equal(x.inputs, y.inputs)
        np.testing.assert_array_equal(x.tables, y.tables)
    np.testing.assert_array_equal(a.outputs, b.outputs)

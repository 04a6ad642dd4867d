from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Netlist
from lut2rtl.passes.pack import pack_luts, split_wide

from .helpers import assert_equivalent, gate_netlists, live_luts, netlists

AND, XOR, OR = 1, 6, 7


def _tree(n_leaves: int, ops: list[int]) -> Netlist:
    """A balanced tree of 2-input gates over ``n_leaves`` inputs (a power of two)."""
    layers = []
    width = n_leaves
    i = 0
    while width > 1:
        idx = np.arange(width).reshape(-1, 2)
        layers.append((idx, np.array(ops[i:i + width // 2])))
        i += width // 2
        width //= 2
    return Netlist.layered(n_leaves, layers)


def test_three_gate_tree_is_one_lut4() -> None:
    net = _tree(4, [AND, XOR, OR])
    out = pack_luts(net, 4)
    assert_equivalent(net, out)
    assert out.n_luts == 1 and out.layers[0].k == 4


def test_seven_gate_tree_is_three_lut4_or_lut6_pair() -> None:
    net = _tree(8, [AND, XOR, OR, AND, XOR, OR, XOR])
    out4 = pack_luts(net, 4)
    assert_equivalent(net, out4)
    assert out4.n_luts == 3 and out4.depth == 2
    out6 = pack_luts(net, 6)
    assert_equivalent(net, out6)
    assert out6.n_luts <= 3 and out6.depth == 2


def test_five_gate_chain_is_one_lut6() -> None:
    # ((((x0 & x1) ^ x2) | x3) & x4) ^ x5
    layers = [(np.array([[0, 1]]), np.array([AND]))]
    for l, op in enumerate([XOR, OR, AND, XOR]):
        # read the previous gate and input x_{l+2} (a DAG)
        layers.append((np.array([[6 + l, l + 2]]), np.array([op])))
    net = Netlist(n_inputs=6, layers=tuple(
        __import__("lut2rtl.netlist", fromlist=["Layer"]).Layer(2, i, t) for i, t in layers))
    out = pack_luts(net, 6)
    assert_equivalent(net, out)
    assert out.n_luts == 1 and out.layers[0].k == 6
    out4 = pack_luts(net, 4)
    assert_equivalent(net, out4)
    assert out4.n_luts == 2


@pytest.mark.parametrize("lut_size", [3, 4, 5])
def test_wide_luts_are_split(lut_size: int) -> None:
    net = random_netlist(3, 8, [10, 6], [6, 5])
    split = split_wide(net, lut_size)
    assert_equivalent(net, split)
    assert max(layer.k for layer in split.layers) <= lut_size
    out = pack_luts(net, lut_size)
    assert_equivalent(net, out)
    assert max(layer.k for layer in out.layers) <= lut_size


def test_genuine_gates_pack_below_yosys_anchor() -> None:
    # anchors.md: Yosys reaches 0.58-0.63 LUT4 per live gate on such networks
    net = random_netlist(1, 64, [256] * 6, 2, genuine=True)
    out = pack_luts(net, 4)
    assert_equivalent(net, out)
    assert out.n_luts / live_luts(net) < 0.55
    assert out.depth == 3  # two gate levels per LUT4 level: the least possible


@settings(max_examples=50, deadline=None)
@given(netlists(), st.sampled_from([3, 4, 6]))
def test_pack_is_equivalent_and_fits(net: Netlist, lut_size: int) -> None:
    out = pack_luts(net, lut_size)
    assert_equivalent(net, out)
    assert max(layer.k for layer in out.layers) <= lut_size


@settings(max_examples=50, deadline=None)
@given(gate_netlists(), st.sampled_from([4, 6]))
def test_pack_never_exceeds_one_lut_per_gate(net: Netlist, lut_size: int) -> None:
    out = pack_luts(net, lut_size)
    assert_equivalent(net, out)
    assert out.n_luts <= max(1, live_luts(net))
    assert out.depth <= net.depth


def test_pack_ignores_inputs_a_table_ignores() -> None:
    # found by hypothesis: an output LUT with a constant table (and one that reads only one of its two
    # inputs) pulled its whole structural cone into the cover: 5 LUTs for 4 live gates
    from lut2rtl.netlist import Layer

    l0 = [[2, 0], [4, 2], [4, 3], [4, 2], [3, 0], [2, 1], [4, 5], [0, 2], [3, 0], [3, 4], [5, 0], [5, 1], [3, 0],
          [4, 1], [1, 5], [2, 4], [1, 0], [1, 5], [5, 2], [5, 3], [3, 1]]
    t0 = [11, 11, 6, 14, 2, 9, 11, 13, 8, 6, 4, 6, 7, 11, 14, 1, 14, 8, 5, 10, 9]
    l1 = [[26, 24], [18, 22], [8, 13], [14, 26], [16, 6], [15, 11], [12, 18], [6, 6], [23, 12], [9, 23], [16, 6],
          [19, 20], [11, 16], [13, 13], [17, 14], [26, 21], [7, 18], [8, 18], [17, 22], [21, 9], [13, 8], [22, 25],
          [23, 21], [10, 26], [15, 19], [16, 12], [14, 17], [10, 7], [20, 14], [25, 8], [15, 11], [7, 7]]
    t1 = [2, 8, 15, 5, 14, 6, 13, 3, 7, 5, 3, 14, 12, 2, 14, 15, 4, 6, 8, 10, 7, 2, 14, 11, 0, 13, 11, 2, 9, 8, 0, 14]
    layers = [Layer(2, np.array(ins), np.array(t, dtype=np.uint64)) for ins, t in ((l0, t0), (l1, t1),
                                                                                   ([[36, 51], [48, 43]], [12, 0]))]
    net = Netlist(n_inputs=6, layers=tuple(layers), outputs=np.array([59, 60]))
    out = pack_luts(net, 4)
    assert_equivalent(net, out)
    assert live_luts(net) == 4 and out.n_luts <= 4

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from lut2rtl.netlist import Netlist, rows_to_table, table_depends_on, truth_table_rows
from lut2rtl.passes import drop_unused_inputs

from .helpers import assert_equivalent, netlists


def test_ignored_inputs_are_dropped() -> None:
    rows = truth_table_rows(3)
    # three 3-input LUTs that ignore x_2: AND, XOR, OR of x_0, x_1
    tables = rows_to_table(np.stack([rows[:, 0] & rows[:, 1], rows[:, 0] ^ rows[:, 1], rows[:, 0] | rows[:, 1]]))
    net = Netlist.layered(4, [(np.array([[0, 1, 2], [1, 2, 3], [3, 0, 1]]), tables)])
    out = drop_unused_inputs(net)
    assert_equivalent(net, out)
    assert [layer.k for layer in out.layers] == [2]
    assert out.n_luts == 3


def test_repeated_input_is_read_once() -> None:
    # XOR(x0, x0) = 0 (no input left), AND(x1, x1) = x1 (one input)
    net = Netlist.layered(2, [(np.array([[0, 0], [1, 1]]), np.array([6, 1]))])
    out = drop_unused_inputs(net)
    assert_equivalent(net, out)
    layer = out.layers[0]
    assert layer.k == 1
    dep = table_depends_on(layer.tables, layer.k).sum(axis=1)
    assert sorted(dep.tolist()) == [0, 1]


@settings(max_examples=60, deadline=None)
@given(netlists())
def test_drop_unused_inputs_is_equivalent(net: Netlist) -> None:
    out = drop_unused_inputs(net)
    assert_equivalent(net, out)
    # every LUT of the widest level depends on all its inputs... at least one does
    for layer in out.layers:
        if layer.k > 1:
            assert table_depends_on(layer.tables, layer.k).all(axis=1).any()

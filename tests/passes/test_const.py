from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from lut2rtl.netlist import GroupSum, Netlist, table_depends_on
from lut2rtl.passes import fold_constants

from .helpers import assert_equivalent, netlists

AND, XOR, OR, FALSE, TRUE = 1, 6, 7, 0, 15


def test_constants_fold_into_consumers_and_output_constant_stays() -> None:
    # L0: a=AND(x0,x1) f=FALSE t=TRUE d=XOR(x0,x2)
    # L1: OR(a,f)=a  AND(t,d)=d  AND(f,d)=0  XOR(a,d)
    net = Netlist.layered(3, [
        (np.array([[0, 1], [0, 1], [1, 2], [0, 2]]), np.array([AND, FALSE, TRUE, XOR])),
        (np.array([[0, 1], [2, 3], [1, 3], [0, 3]]), np.array([OR, AND, AND, XOR])),
    ], group_sum=GroupSum(2))
    out = fold_constants(net)
    assert_equivalent(net, out)
    # f and t gone, AND(f,d) became a constant output: one constant LUT stands for it
    assert out.n_luts == 8 - 3 + 1
    tables = [(int(t), layer.k) for layer in out.layers for t in layer.tables]
    n_dep = np.concatenate([table_depends_on(layer.tables, layer.k).sum(axis=1) for layer in out.layers])
    assert int((n_dep == 0).sum()) == 1
    const_out = int(out.outputs[2])
    assert out.layer_of(const_out) >= 0
    assert len(tables) == out.n_luts
    # the outputs OR(a,f) and AND(t,d) now read one signal
    assert int((n_dep == 1).sum()) == 2


def test_all_constant_network_keeps_counted_outputs() -> None:
    net = Netlist.layered(2, [(np.array([[0, 1], [1, 0]]), np.array([TRUE, FALSE]))], group_sum=GroupSum(1))
    out = fold_constants(net)
    assert_equivalent(net, out)
    assert out.n_outputs == 2 and out.n_luts == 2


@settings(max_examples=60, deadline=None)
@given(netlists())
def test_fold_constants_is_equivalent(net: Netlist) -> None:
    assert_equivalent(net, fold_constants(net))

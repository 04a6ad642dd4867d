from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from lut2rtl.netlist import Netlist
from lut2rtl.passes import merge_duplicates

from .helpers import assert_equivalent, netlists


def test_duplicates_merge_including_permuted_inputs() -> None:
    # L0: AND(x0,x1) AND(x1,x0) A&~B(x0,x1) ~A&B(x1,x0) OR(x0,x1)
    # L1: XOR(L0[0], L0[2])  XOR(L0[1], L0[3])  -> the same after merging
    net = Netlist.layered(2, [
        (np.array([[0, 1], [1, 0], [0, 1], [1, 0], [0, 1]]), np.array([1, 1, 2, 4, 7])),
        (np.array([[0, 2], [1, 3]]), np.array([6, 6])),
    ])
    out = merge_duplicates(net)
    assert_equivalent(net, out)
    assert out.n_luts == net.n_luts - 3
    assert int(out.outputs[0]) == int(out.outputs[1])


@settings(max_examples=60, deadline=None)
@given(netlists())
def test_merge_duplicates_is_equivalent(net: Netlist) -> None:
    out = merge_duplicates(net)
    assert_equivalent(net, out)
    assert out.n_luts <= max(1, net.n_luts)

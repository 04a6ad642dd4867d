from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from lut2rtl.netlist import Netlist, table_depends_on
from lut2rtl.passes import absorb_wires

from .helpers import assert_equivalent, netlists

AND, A, XOR, OR, NOT_B, NOT_A = 1, 3, 6, 7, 10, 12


def _wire_net() -> Netlist:
    # L0: a=AND(x0,x1) b=XOR(x1,x2)
    # L1: w=A(a,b) (buffer of a)  i=~B(a,b) (inverter of b)  c=AND(a,b)
    # L2: OR(w,i)  AND(c,w)  ~A(i,c) (= b: output buffer)  ~A(c,a) (output inverter)
    return Netlist.layered(3, [
        (np.array([[0, 1], [1, 2]]), np.array([AND, XOR])),
        (np.array([[0, 1], [0, 1], [0, 1]]), np.array([A, NOT_B, AND])),
        (np.array([[0, 1], [2, 0], [1, 2], [2, 0]]), np.array([OR, AND, NOT_A, NOT_A])),
    ])


def test_buffers_and_inverters_are_absorbed() -> None:
    net = _wire_net()
    out = absorb_wires(net)
    assert_equivalent(net, out)
    # w, i and the output buffer are gone; the output inverter stays
    assert out.n_luts == net.n_luts - 3
    b = 3 + 1  # signal id of b in L0 (layer 0 stays first)
    assert int(out.outputs[2]) == b
    inv = int(out.outputs[3])
    layer = out.layers[out.layer_of(inv)]
    row = inv - out.offsets[out.layer_of(inv)]
    assert table_depends_on(layer.tables[row], layer.k).sum() == 1


def test_no_wires_no_change() -> None:
    net = Netlist.layered(2, [(np.array([[0, 1]]), np.array([XOR]))])
    out = absorb_wires(net)
    assert out.n_luts == 1
    assert_equivalent(net, out)


@settings(max_examples=60, deadline=None)
@given(netlists())
def test_absorb_wires_is_equivalent(net: Netlist) -> None:
    assert_equivalent(net, absorb_wires(net))

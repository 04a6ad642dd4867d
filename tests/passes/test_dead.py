from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from lut2rtl.netlist import Netlist
from lut2rtl.passes import remove_dead

from .helpers import assert_equivalent, live_luts, netlists


def test_dead_gates_are_removed_exactly() -> None:
    # L0: a=AND(x0,x1) b=XOR(x1,x2) c=OR(x0,x2); L1: A(a,c) (ignores c), XOR(b,a) dead
    base = Netlist.layered(3, [
        (np.array([[0, 1], [1, 2], [0, 2]]), np.array([1, 6, 7])),
        (np.array([[0, 2], [1, 0]]), np.array([3, 6])),
    ])
    net = base.replace(outputs=np.array([6, 6, 3]))  # A(a,c) twice, and a
    out = remove_dead(net)
    assert_equivalent(net, out)
    # b, c (read only through an ignored input) and XOR(b,a) are dead
    assert out.n_luts == 2
    assert int(out.outputs[0]) == int(out.outputs[1])


@settings(max_examples=60, deadline=None)
@given(netlists())
def test_remove_dead_keeps_exactly_the_live_gates(net: Netlist) -> None:
    out = remove_dead(net)
    assert_equivalent(net, out)
    assert out.n_luts == max(1, live_luts(net))
    assert live_luts(out) == live_luts(net)

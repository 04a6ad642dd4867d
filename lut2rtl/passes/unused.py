"""Removal of unused LUT inputs: inputs a table ignores are dropped (the LUT's
fan-in ``k`` shrinks), and an input read twice by the same LUT is read once
(the table restricted to both copies being equal)."""

from __future__ import annotations

import numpy as np

from ..netlist import Netlist
from ._flat import KMAX, VAR, compose, depends, drop_slots, from_netlist, to_netlist, used_slots, with_nodes

__all__ = ["drop_unused_inputs"]


def drop_unused_inputs(net: Netlist) -> Netlist:
    """Drop ignored and repeated LUT inputs; see the module docstring."""
    flat = from_netlist(net)
    used = used_slots(flat.k)
    fanin = np.where(used, flat.fanin, -1)
    # slot j repeating an earlier slot i: x_j := x_i (the first copy)
    g = np.broadcast_to(VAR, (flat.n, KMAX)).copy()
    repeat = np.zeros_like(used)
    for j in range(1, KMAX):
        for i in range(j - 1, -1, -1):  # the last assignment wins: the smallest i
            same = used[:, j] & (fanin[:, j] == fanin[:, i])
            g[same, j] = VAR[i]
            repeat[same, j] = True
    tt = flat.tt.copy()
    rows = np.flatnonzero(repeat.any(axis=1))
    if rows.size:
        tt[rows] = compose(tt[rows], g[rows])
    keep = used & depends(tt)
    f2, t2, k2 = drop_slots(fanin, tt, keep)
    return to_netlist(with_nodes(flat, fanin=f2, tt=t2, k=k2), net)

"""Constant propagation: LUTs whose output is constant disappear into their
consumers' tables (each consumer's table restricted to the cofactor of the
constant), repeatedly through the network. An output that becomes constant
stays a signal: a constant LUT (the GroupSum counts it)."""

from __future__ import annotations

import numpy as np

from ..netlist import Netlist
from ._flat import (
    CONST0,
    CONST1,
    KMAX,
    ONES,
    VAR,
    ZERO,
    compose,
    drop_slots,
    from_netlist,
    to_netlist,
    used_slots,
    with_nodes,
)

__all__ = ["fold_constants"]


def fold_constants(net: Netlist) -> Netlist:
    """Fold constant LUTs into their consumers; see the module docstring."""
    flat = from_netlist(net)
    n_in = flat.n_inputs
    fanin, tt, k = flat.fanin.copy(), flat.tt.copy(), flat.k.copy()
    value = np.full(n_in + flat.n, -1, dtype=np.int8)  # -1: not constant
    for sl in flat.group_slices():
        used = used_slots(k[sl])
        v = np.where(used, value[np.maximum(fanin[sl], 0)], -1)
        is_const = v >= 0
        rows = np.flatnonzero(is_const.any(axis=1))
        if rows.size:
            g = np.broadcast_to(VAR, (rows.size, KMAX)).copy()
            vr = v[rows]
            g[vr == 0] = ZERO
            g[vr == 1] = ONES
            at = sl.start + rows
            t = compose(tt[at], g)
            f2, t2, k2 = drop_slots(fanin[at], t, used[rows] & ~is_const[rows])
            fanin[at], tt[at], k[at] = f2, t2, k2
        t = tt[sl]
        ids = n_in + np.arange(sl.start, sl.stop)
        value[ids[t == ZERO]] = 0
        value[ids[t == ONES]] = 1
    node_value = value[n_in:]
    outs = flat.outputs.copy()
    sig = outs >= n_in
    ov = np.full(outs.shape, -1, dtype=np.int8)
    ov[sig] = node_value[outs[sig] - n_in]
    outs[ov == 0] = CONST0
    outs[ov == 1] = CONST1
    alive = flat.alive & (node_value < 0)
    return to_netlist(with_nodes(flat, fanin=fanin, tt=tt, k=k, outputs=outs, alive=alive), net)

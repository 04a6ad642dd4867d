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

__all__ = ["constant_outputs", "fold_constants"]


def _propagate(flat):  # type: ignore[no-untyped-def]
    """Constant propagation over ``flat`` (see the module docstring): the folded fan-ins, tables and
    fan-in counts, and every signal's value (0, 1, or -1 where it is not constant)."""
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
    return fanin, tt, k, value


def _output_values(flat, value):  # type: ignore[no-untyped-def]
    """Per output: its constant value, or -1."""
    outs = flat.outputs
    sig = outs >= flat.n_inputs
    ov = np.full(outs.shape, -1, dtype=np.int8)
    ov[sig] = value[flat.n_inputs:][outs[sig] - flat.n_inputs]
    return ov


def fold_constants(net: Netlist) -> Netlist:
    """Fold constant LUTs into their consumers; see the module docstring."""
    flat = from_netlist(net)
    fanin, tt, k, value = _propagate(flat)
    ov = _output_values(flat, value)
    outs = flat.outputs.copy()
    outs[ov == 0] = CONST0
    outs[ov == 1] = CONST1
    alive = flat.alive & (value[flat.n_inputs:] < 0)
    return to_netlist(with_nodes(flat, fanin=fanin, tt=tt, k=k, outputs=outs, alive=alive), net)


def constant_outputs(net: Netlist) -> dict[int, int]:
    """The outputs that constant propagation proves constant: output position -> 0 or 1."""
    flat = from_netlist(net)
    ov = _output_values(flat, _propagate(flat)[3])
    return {int(i): int(ov[i]) for i in np.flatnonzero(ov >= 0)}

"""Wire and inverter absorption: a LUT that only passes one signal through
(or inverts it) disappears; its consumers read the source directly, with the
inversion folded into their tables. Output buffers point at their source;
an output inverter is kept (the output must be a signal), reading the
source directly."""

from __future__ import annotations

import numpy as np

from ..netlist import Netlist
from ._flat import VAR, compose, depends, from_netlist, to_netlist, used_slots, with_nodes

__all__ = ["absorb_wires"]


def absorb_wires(net: Netlist) -> Netlist:
    """Absorb buffers and inverters into their consumers; see the module docstring."""
    flat = from_netlist(net)
    n_in = flat.n_inputs
    fanin, tt = flat.fanin.copy(), flat.tt.copy()
    # every signal resolves to (source, inverted); wires resolve past themselves
    source = np.arange(n_in + flat.n, dtype=np.int64)
    inverted = np.zeros(n_in + flat.n, dtype=bool)
    is_wire = np.zeros(flat.n, dtype=bool)
    for sl in flat.group_slices():
        used = used_slots(flat.k[sl])
        f = np.where(used, fanin[sl], 0)
        src = np.where(used, source[f], -1)
        inv = used & inverted[f]
        moved = used & (src != f)
        rows = np.flatnonzero(moved.any(axis=1))
        if rows.size:
            at = sl.start + rows
            inv_r = inv[rows]
            if inv_r.any():
                g = np.where(inv_r, ~VAR[None, :], VAR[None, :])
                tt[at] = compose(tt[at], g)
            fanin[at] = np.where(used[rows], src[rows], fanin[at])
        t = tt[sl]
        dep = depends(t) & used
        one = dep.sum(axis=1) == 1
        m = np.argmax(dep, axis=1)
        buf = one & (t == VAR[m])
        inv_node = one & (t == ~VAR[m])
        wire = buf | inv_node
        ids = n_in + np.arange(sl.start, sl.stop)
        rows_w = np.flatnonzero(wire)
        source[ids[rows_w]] = fanin[sl.start + rows_w, m[rows_w]]
        inverted[ids[rows_w]] = inv_node[rows_w]
        is_wire[sl] = wire
    outs = flat.outputs.copy()
    sig = outs >= 0
    o = outs[sig]
    # buffers: the output reads the source; inverters: the node itself, which
    # now reads the source directly
    outs[sig] = np.where(inverted[o], o, source[o])
    keep_wire = np.zeros(flat.n, dtype=bool)
    out_nodes = outs[outs >= n_in] - n_in
    keep_wire[out_nodes] = True
    alive = flat.alive & (~is_wire | keep_wire)
    return to_netlist(with_nodes(flat, fanin=fanin, tt=tt, outputs=outs, alive=alive), net)

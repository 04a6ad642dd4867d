"""Structural deduplication: LUTs computing the same function of the same
signals (in any input order) are merged into one. Each LUT is put in a
canonical form first: inputs sorted by signal id, table permuted to match."""

from __future__ import annotations

import numpy as np

from ..netlist import Netlist
from ._flat import KMAX, NO_INPUT, from_netlist, permute_vars, to_netlist, used_slots, with_nodes

__all__ = ["merge_duplicates"]

_MIX = np.uint64(0x9E37_79B9_7F4A_7C15)


def merge_duplicates(net: Netlist) -> Netlist:
    """Merge LUTs with equal canonical (inputs, table); see the module docstring."""
    flat = from_netlist(net)
    n_in = flat.n_inputs
    fanin, tt = flat.fanin.copy(), flat.tt.copy()
    rep = np.arange(n_in + flat.n, dtype=np.int64)  # representative of each signal
    big = np.iinfo(np.int64).max
    # representatives seen so far: key hashes (sorted) and their signal ids
    seen_hash = np.zeros(0, dtype=np.uint64)
    seen_id = np.zeros(0, dtype=np.int64)
    keys_of = np.zeros((flat.n, KMAX + 2), dtype=np.int64)  # canonical key of each node
    for sl in flat.group_slices():
        used = used_slots(flat.k[sl])
        f = np.where(used, rep[np.maximum(fanin[sl], 0)], NO_INPUT)
        # canonical order: used slots by signal id, unused ones last
        order = np.argsort(np.where(used, f, big), axis=1, kind="stable")
        t = tt[sl]
        moved = np.any(order != np.arange(KMAX)[None, :], axis=1)
        if moved.any():
            t = t.copy()
            t[moved] = permute_vars(t[moved], order[moved])
        f = np.take_along_axis(f, order, axis=1)
        fanin[sl], tt[sl] = f, t
        keys = np.concatenate([flat.k[sl, None], f, t.view(np.int64)[:, None]], axis=1)
        keys_of[sl] = keys
        h = np.zeros(keys.shape[0], dtype=np.uint64)
        for j in range(keys.shape[1]):
            h = (h ^ keys[:, j].view(np.uint64)) * _MIX
            h ^= h >> np.uint64(29)
        ids = n_in + np.arange(sl.start, sl.stop)
        # 1. an equal LUT of an earlier group (hash hit, then the keys compared)
        at = np.minimum(np.searchsorted(seen_hash, h), max(0, seen_hash.size - 1))
        r = ids.copy()
        if seen_hash.size:
            hit = seen_hash[at] == h
            cand = seen_id[at]
            same = hit & np.all(keys_of[np.where(hit, cand, ids) - n_in] == keys, axis=1)
            r[same] = cand[same]
        # 2. equal LUTs within the group: the first of each run of equal keys
        new = r == ids
        nidx = np.flatnonzero(new)
        o = nidx[np.lexsort((nidx, h[nidx]))]
        eq = np.zeros(o.shape[0], dtype=bool)
        eq[1:] = (h[o[1:]] == h[o[:-1]]) & np.all(keys[o[1:]] == keys[o[:-1]], axis=1)
        run_start = np.maximum.accumulate(np.where(eq, 0, np.arange(o.shape[0])))
        r[o] = ids[o[run_start]]
        rep[ids] = r
        # new representatives join the table (a colliding hash keeps the first)
        fresh = o[~eq]
        if fresh.size:
            all_h = np.concatenate([seen_hash, h[fresh]])
            all_id = np.concatenate([seen_id, ids[fresh]])
            srt = np.argsort(all_h, kind="stable")
            seen_hash, seen_id = all_h[srt], all_id[srt]
    alive = flat.alive & (rep[n_in:] == np.arange(n_in, n_in + flat.n))
    outs = flat.outputs.copy()
    sig = outs >= 0
    outs[sig] = rep[outs[sig]]
    return to_netlist(with_nodes(flat, fanin=fanin, tt=tt, outputs=outs, alive=alive), net)

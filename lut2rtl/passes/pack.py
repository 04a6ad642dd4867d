"""LUT packing: cover the network with ``K``-input cones (technology mapping).

Cut-based and depth-aware, in the style of ABC's ``if`` mapper with priority
cuts:

1. LUTs wider than ``K`` are split first (Shannon expansion on their last
   input: two cofactor LUTs and a 3-input multiplexer, repeated).
2. Enumeration, one topological group (a layer: no LUT reads another of its
   group) at a time, vectorized: the cuts of a LUT are the unions of one cut
   of each fanin (a fanin's cuts are itself and its own stored cuts) with at
   most ``K`` leaves; each LUT keeps its ``C`` best by (depth, area flow,
   size). The best depth of a LUT is its arrival time.
3. Cover selection, outputs first: every LUT needed by the cover takes, among
   its cuts that meet its required time, the one of least area flow; its
   leaves are then needed, with a required time one less. The depth of the
   result is the least depth the cut sets allow. Area recovery: the area
   flows are recomputed with the fan-out of the last cover and the selection
   repeated; the smallest cover is kept. Then, for covers of up to
   ``EXACT_AREA_MAX`` LUTs, exact local area recovery (ABC's reference
   counting of each LUT's fan-out-free cone) within the same required times.
4. The table of each chosen LUT is computed by simulating its cone with the
   leaves as variables.

The result has one layer per LUT level, every LUT at most ``K`` inputs.
"""

from __future__ import annotations

import numpy as np

from ..netlist import Layer, Netlist, init_to_table, table_mask
from ._flat import (
    KMAX,
    NO_INPUT,
    VAR,
    Flat,
    cofactors,
    compose,
    from_netlist,
    to_netlist,
    used_slots,
    with_nodes,
)
from .unused import drop_unused_inputs

__all__ = ["pack_luts", "split_wide"]

# Priority cuts kept per LUT (ABC's `if` keeps 8; 6 maps random gate networks
# as well, measured, in 40% less time).
DEFAULT_CUTS = 6
# Area-recovery rounds after the depth-oriented cover.
AREA_ROUNDS = 3
# Exact-area rounds (ABC's local MFFC-based recovery, a sequential loop in
# Python): only for covers up to EXACT_AREA_MAX LUTs, to bound run time.
EXACT_AREA_ROUNDS = 2
EXACT_AREA_MAX = 50_000
_ENUM_CHUNK = 1 << 14
_INF = np.iinfo(np.int32).max // 2
# multiplexer x0 ? x2 : x1 (position encoding), for splitting wide LUTs
_MUX = (~VAR[0] & VAR[1]) | (VAR[0] & VAR[2])


def split_wide(net: Netlist, lut_size: int) -> Netlist:
    """Split every LUT with more than ``lut_size`` inputs (Shannon expansion on
    its last input, repeated) so that all LUTs fit; other LUTs are unchanged."""
    if not 3 <= lut_size <= KMAX:
        raise ValueError(f"lut_size={lut_size!r} outside 3..{KMAX}")
    if all(layer.k <= lut_size for layer in net.layers):
        return net
    flat = from_netlist(net)
    n_in = net.n_inputs
    new_of_old = np.arange(n_in + flat.n, dtype=np.int64)
    layers: list[Layer] = []
    total = n_in

    def emit(k: int, inputs: np.ndarray, tt: np.ndarray) -> np.ndarray:
        nonlocal total
        init = tt & table_mask(k) if k < 6 else tt
        layers.append(Layer(k=k, inputs=inputs, tables=init_to_table(init, k)))
        ids = np.arange(total, total + inputs.shape[0], dtype=np.int64)
        total += inputs.shape[0]
        return ids

    def expand(tt: np.ndarray, f: np.ndarray, k: int) -> np.ndarray:
        if k <= lut_size:
            return emit(k, f[:, :k], tt)
        c0, c1 = cofactors(tt, k - 1)
        id0 = expand(c0, f, k - 1)
        id1 = expand(c1, f, k - 1)
        sel = np.stack([f[:, k - 1], id0, id1], axis=1)
        return emit(3, sel, np.full(tt.shape, _MUX, dtype=np.uint64))

    for l, layer in enumerate(net.layers):
        a, b = net.offsets[l] - n_in, net.offsets[l + 1] - n_in
        f = new_of_old[flat.fanin[a:b, : layer.k]]
        new_of_old[n_in + a:n_in + b] = expand(flat.tt[a:b], f, layer.k)
    return Netlist(
        n_inputs=n_in, layers=tuple(layers), outputs=new_of_old[net.outputs],
        group_sum=net.group_sum, encoder=net.encoder, metadata=net.metadata,
    )


def pack_luts(net: Netlist, lut_size: int = 4, *, cuts: int = DEFAULT_CUTS) -> Netlist:
    """Cover ``net`` with LUTs of at most ``lut_size`` inputs; see the module
    docstring. The result computes the same outputs (bit-exact)."""
    if not 3 <= lut_size <= KMAX:
        raise ValueError(f"lut_size={lut_size!r} outside 3..{KMAX}")
    if cuts < 1:
        raise ValueError(f"cuts={cuts!r} must be at least 1")
    # cones are enumerated on the wiring: an input a table ignores (a constant
    # or wire-like LUT) would pull its whole cone in; in the optimize pipeline
    # the clean-up passes have already dropped such inputs (then this is a no-op)
    net = drop_unused_inputs(split_wide(net, lut_size))
    flat = from_netlist(net)
    if flat.n == 0:
        return net
    K = lut_size
    n_in, n = flat.n_inputs, flat.n
    n_sig = n_in + n
    pad = n_sig  # leaf sentinel: sorts after every signal id
    idt = np.int32 if n_sig < np.iinfo(np.int32).max - 1 else np.int64
    used = used_slots(flat.k)
    fanin = np.where(used, flat.fanin, pad)
    # fan-out of each signal (number of LUT inputs reading it), for area flow
    fanout = np.bincount(fanin[used], minlength=n_sig + 1).astype(np.float64)
    fanout[flat.outputs[flat.outputs >= 0]] += 1

    leaves = np.full((n_sig + 1, cuts, K), pad, dtype=idt)
    n_cuts = np.zeros(n_sig + 1, dtype=np.int64)
    arrival = np.zeros(n_sig + 1, dtype=np.int64)
    aflow = np.zeros(n_sig + 1, dtype=np.float64)  # area flow per fan-out
    for group in flat.group_slices():
        # the LUTs of a group are independent: chunks bound the temporaries
        for lo in range(group.start, group.stop, _ENUM_CHUNK):
            sl = slice(lo, min(group.stop, lo + _ENUM_CHUNK))
            _enumerate(sl, n_in, fanin[sl], flat.k[sl], leaves, n_cuts, arrival, aflow, fanout, K, cuts, pad)

    out_sig = flat.outputs[flat.outputs >= n_in]
    best: tuple[int, np.ndarray, np.ndarray] | None = None
    for _ in range(AREA_ROUNDS + 1):
        choice, mapped = _select(flat, leaves, n_cuts, arrival, aflow, out_sig, pad)
        size = int(mapped[n_in:n_sig].sum())
        if best is None or size < best[0]:
            best = (size, choice, mapped)
        # area flow again, with the fan-outs of this cover
        refs = _cover_refs(choice, mapped, leaves, n_in, n_sig, out_sig)
        est = np.maximum(1.0, 0.5 * (refs + fanout))
        aflow = _area_flow(flat, leaves, n_cuts, est, n_in, pad)
        fanout = est
    assert best is not None
    _, choice, mapped = best
    if int(mapped.sum()) <= EXACT_AREA_MAX:
        for _ in range(EXACT_AREA_ROUNDS):
            choice, mapped = _exact_area(flat, leaves, n_cuts, choice, mapped, out_sig, pad)
    return _build(flat, net, leaves, choice, mapped, K, pad)


def _enumerate(
    sl: slice, n_in: int, fanin: np.ndarray, k: np.ndarray, leaves: np.ndarray, n_cuts: np.ndarray,
    arrival: np.ndarray, aflow: np.ndarray, fanout: np.ndarray, K: int, C: int, pad: int,
) -> None:
    m = fanin.shape[0]
    kmax = int(k.max())
    # candidate cuts of each fanin: the trivial cut {u}, then u's stored cuts
    cand = None
    valid = None
    for i in range(kmax):
        u = fanin[:, i]
        ci = np.full((m, C + 1, K), pad, dtype=leaves.dtype)
        vi = np.zeros((m, C + 1), dtype=bool)
        real = u != pad
        ci[real, 0, 0] = u[real]
        ci[:, 1:] = leaves[u]
        vi[:, 0] = True  # an absent fanin contributes the empty cut
        vi[:, 1:] = np.arange(C)[None, :] < n_cuts[u][:, None]
        if cand is None:
            cand, valid = ci, vi
            continue
        # all pairs (cut of the first fanins, cut of this one), valid ones only
        node, s1, s2 = np.nonzero(valid[:, :, None] & vi[:, None, :])
        merged = np.concatenate([cand[node, s1], ci[node, s2]], axis=1)
        merged.sort(axis=1)
        fresh = (merged[:, 1:] != merged[:, :-1]) & (merged[:, 1:] != pad)
        distinct = (merged[:, 0] != pad).astype(np.int64) + fresh.sum(axis=1)
        fits = distinct <= K
        node, merged, fresh = node[fits], merged[fits], fresh[fits]
        # repeated leaves -> pad, then the distinct ones to the front
        merged[:, 1:][~fresh] = pad
        merged.sort(axis=1)
        slot = np.where(s1[fits] + s2[fits] == 0, 0, 1)
        keep = 4 * C if i < kmax - 1 else C
        cand, valid = _prune(node, slot, merged[:, :K], m, arrival, aflow, keep, pad, keep_first=i < kmax - 1)
    if kmax == 1:
        node, slot = np.nonzero(valid)
        cand, valid = _prune(node, slot, cand[node, slot], m, arrival, aflow, C, pad)
    assert cand is not None and valid is not None
    ids = n_in + np.arange(sl.start, sl.stop)
    leaves[ids] = cand
    n_cuts[ids] = valid.sum(axis=1)
    lv = cand[:, 0, :].astype(np.int64)
    arrival[ids] = 1 + arrival[lv].max(axis=1)
    aflow[ids] = (1.0 + aflow[lv].sum(axis=1)) / np.maximum(fanout[ids], 1.0)


def _prune(
    node: np.ndarray, slot: np.ndarray, cuts: np.ndarray, m: int, arrival: np.ndarray, aflow: np.ndarray,
    keep: int, pad: int, *, keep_first: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``keep`` best distinct cuts of each of ``m`` nodes (candidate rows
    ``cuts[r]`` of node ``node[r]``), by (depth, area flow, size), as
    ``[m, keep, K]`` leaves and a validity mask. ``keep_first`` keeps the
    candidates with ``slot == 0`` (the fanins themselves, always feasible) in
    front, so that a later merge still has a feasible cut."""
    K = cuts.shape[1]
    dtype = cuts.dtype
    lv = cuts.astype(np.int64)  # [r, K]
    depth = arrival[lv].max(axis=1)
    af = aflow[lv].sum(axis=1)
    size = (lv != pad).sum(axis=1)
    # a hash of the leaf set makes equal sets adjacent after the sort
    h = np.zeros(lv.shape[0], dtype=np.uint64)
    for j in range(K):
        h = (h ^ lv[:, j].astype(np.uint64)) * np.uint64(0x9E37_79B9_7F4A_7C15)
    first = (slot == 0) if keep_first else np.zeros(slot.shape, dtype=bool)
    order = np.lexsort((h, size, af, depth, ~first, node))
    node, lv = node[order], lv[order]
    same = np.zeros(order.shape[0], dtype=bool)
    same[1:] = (node[1:] == node[:-1]) & np.all(lv[1:] == lv[:-1], axis=1)
    node, lv = node[~same], lv[~same]
    start = np.searchsorted(node, np.arange(m))
    rank = np.arange(node.shape[0]) - start[node]
    sel = rank < keep
    out = np.full((m, keep, K), pad, dtype=dtype)
    out_valid = np.zeros((m, keep), dtype=bool)
    out[node[sel], rank[sel]] = lv[sel]
    out_valid[node[sel], rank[sel]] = True
    return out, out_valid


def _select(
    flat: Flat, leaves: np.ndarray, n_cuts: np.ndarray, arrival: np.ndarray, aflow: np.ndarray,
    out_sig: np.ndarray, pad: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose a cut for every LUT the cover needs, outputs first."""
    n_in = flat.n_inputs
    n_sig = n_in + flat.n
    C = leaves.shape[1]
    mapped = np.zeros(n_sig + 1, dtype=bool)
    required = np.full(n_sig + 1, _INF, dtype=np.int64)
    mapped[out_sig] = True
    depth = int(arrival[out_sig].max(initial=0))
    required[out_sig] = depth
    choice = np.full(n_sig + 1, -1, dtype=np.int64)
    for sl in reversed(flat.group_slices()):
        ids = n_in + np.arange(sl.start, sl.stop)
        ids = ids[mapped[ids]]
        if ids.size == 0:
            continue
        lv = leaves[ids].astype(np.int64)  # [m, C, K]
        d = 1 + arrival[lv].max(axis=2)
        af = aflow[lv].sum(axis=2)
        ok = (np.arange(C)[None, :] < n_cuts[ids][:, None]) & (d <= required[ids][:, None])
        # least area flow among cuts in time; the depth-best cut (rank 0) always is
        ok[:, 0] = True
        cost = np.where(ok, af, np.inf)
        c = np.argmin(cost + 1e-9 * d, axis=1)
        choice[ids] = c
        chosen = lv[np.arange(ids.size), c]  # [m, K]
        req_leaf = np.broadcast_to((required[ids] - 1)[:, None], chosen.shape)
        flat_leaves = chosen.ravel()
        real = flat_leaves != pad
        mapped[flat_leaves[real]] = True
        np.minimum.at(required, flat_leaves[real], req_leaf.ravel()[real])
    mapped[:n_in] = False
    mapped[pad] = False
    return choice, mapped


def _cover_refs(
    choice: np.ndarray, mapped: np.ndarray, leaves: np.ndarray, n_in: int, n_sig: int, out_sig: np.ndarray,
) -> np.ndarray:
    ids = np.flatnonzero(mapped[:n_sig])
    lv = leaves[ids, choice[ids]].astype(np.int64).ravel()
    refs = np.bincount(lv, minlength=n_sig + 1).astype(np.float64)
    refs[out_sig] += 1
    return refs


def _area_flow(
    flat: Flat, leaves: np.ndarray, n_cuts: np.ndarray, fanout: np.ndarray, n_in: int, pad: int,
) -> np.ndarray:
    C = leaves.shape[1]
    aflow = np.zeros(leaves.shape[0], dtype=np.float64)
    for sl in flat.group_slices():
        ids = n_in + np.arange(sl.start, sl.stop)
        lv = leaves[ids].astype(np.int64)
        af = aflow[lv].sum(axis=2)
        ok = np.arange(C)[None, :] < n_cuts[ids][:, None]
        aflow[ids] = (1.0 + np.where(ok, af, np.inf).min(axis=1)) / np.maximum(fanout[ids], 1.0)
    aflow[pad] = 0.0
    return aflow


def _build(
    flat: Flat, net: Netlist, leaves: np.ndarray, choice: np.ndarray, mapped: np.ndarray, K: int, pad: int,
) -> Netlist:
    """The covered netlist: each mapped LUT reads its cut's leaves, with the
    table of its cone (simulated with the leaves as variables)."""
    n_in = flat.n_inputs
    n_sig = n_in + flat.n
    roots = np.flatnonzero(mapped[:n_sig])
    cut = leaves[roots, choice[roots]].astype(np.int64)  # [r, K], sorted, pad last
    r = roots.shape[0]
    # (root, signal) pairs of each cone, found from the roots down to the leaves
    used = used_slots(flat.k)
    fanin = np.where(used, flat.fanin, pad)
    pair_root = np.arange(r)
    pair_sig = roots.copy()
    all_root = [pair_root]
    all_sig = [pair_sig]
    while pair_root.size:
        is_leaf = np.any(cut[pair_root] == pair_sig[:, None], axis=1)
        inner = ~is_leaf
        pr, ps = pair_root[inner], pair_sig[inner]
        assert np.all(ps >= n_in), "a cone reaches an input that is not a leaf"
        f = fanin[ps - n_in]  # [p, 6]
        pr2 = np.broadcast_to(pr[:, None], f.shape).ravel()
        ps2 = f.ravel()
        real = ps2 != pad
        pr2, ps2 = pr2[real], ps2[real]
        # reconvergent paths repeat pairs: drop repeats within the frontier
        key = _sorted_unique(pr2 * np.int64(n_sig + 1) + ps2)
        pair_root, pair_sig = key // (n_sig + 1), key % (n_sig + 1)
        all_root.append(pair_root)
        all_sig.append(pair_sig)
    key = _sorted_unique(np.concatenate(all_root) * np.int64(n_sig + 1) + np.concatenate(all_sig))
    p_root, p_sig = key // (n_sig + 1), key % (n_sig + 1)
    value = np.zeros(key.shape[0], dtype=np.uint64)
    # leaves: the variable of their position in the cut
    pos = np.argmax(cut[p_root] == p_sig[:, None], axis=1)
    is_leaf = np.any(cut[p_root] == p_sig[:, None], axis=1)
    value[is_leaf] = VAR[pos[is_leaf]]
    inner = np.flatnonzero(~is_leaf)
    # inner nodes in topological order of their signal: a group at a time
    grp = flat.group[p_sig[inner] - n_in]
    order = np.argsort(grp, kind="stable")
    inner, grp = inner[order], grp[order]
    bounds = np.flatnonzero(np.diff(grp)) + 1
    for part in np.split(inner, bounds):
        if part.size == 0:
            continue
        node = p_sig[part] - n_in
        f = fanin[node]
        real = f != pad
        fkey = p_root[part][:, None] * np.int64(n_sig + 1) + np.where(real, f, 0)
        at = np.searchsorted(key, fkey)
        g = np.where(real, value[np.minimum(at, key.shape[0] - 1)], np.uint64(0))
        value[part] = compose(flat.tt[node], g)
    root_at = np.searchsorted(key, np.arange(r) * np.int64(n_sig + 1) + roots)
    tt = flat.tt.copy()
    fan = flat.fanin.copy()
    k = flat.k.copy()
    idx = roots - n_in
    size = (cut != pad).sum(axis=1)
    tt[idx] = value[root_at]
    fan[idx] = NO_INPUT
    fan[idx, :K] = np.where(cut != pad, cut, NO_INPUT)
    k[idx] = size
    alive = np.zeros(flat.n, dtype=bool)
    alive[idx] = True
    return to_netlist(with_nodes(flat, fanin=fan, tt=tt, k=k, alive=alive), net)


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    a = np.sort(a)
    keep = np.ones(a.shape[0], dtype=bool)
    keep[1:] = a[1:] != a[:-1]
    return a[keep]


def _exact_area(
    flat: Flat, leaves: np.ndarray, n_cuts: np.ndarray, choice: np.ndarray, mapped: np.ndarray,
    out_sig: np.ndarray, pad: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One round of exact local area recovery: in topological order, each LUT
    of the cover takes the cut that adds the fewest LUTs to the cover (its
    maximum fan-out-free cone counted by reference counts), among the cuts
    that keep it within its required time. Depth never grows."""
    n_in = flat.n_inputs
    n_sig = n_in + flat.n
    cuts_of: dict[int, list[list[int]]] = {}

    def cuts(v: int) -> list[list[int]]:
        c = cuts_of.get(v)
        if c is None:
            rows = leaves[v, : int(n_cuts[v])].tolist()
            c = [[x for x in row if x != pad] for row in rows]
            cuts_of[v] = c
        return c

    cur = np.where(choice[:n_sig] >= 0, choice[:n_sig], 0).tolist()
    # arrival of every LUT with its current cut; required times of the cover
    arrival = [0] * n_sig
    for v in range(n_in, n_sig):
        arrival[v] = 1 + max((arrival[x] for x in cuts(v)[cur[v]]), default=0)
    required = [_INF] * n_sig
    depth = max((arrival[int(o)] for o in out_sig), default=0)
    for o in out_sig.tolist():
        required[o] = depth
    refs = [0] * n_sig
    for o in out_sig.tolist():
        refs[o] += 1
    is_mapped = mapped[:n_sig].tolist()
    for v in range(n_sig - 1, n_in - 1, -1):
        if is_mapped[v]:
            r = required[v] - 1
            for x in cuts(v)[cur[v]]:
                refs[x] += 1
                if r < required[x]:
                    required[x] = r

    def ref(v: int, d: int = 1) -> int:
        # reference (d = 1) or dereference (d = -1) the cone of v's cut; its area
        area, stack = 0, [v]
        while stack:
            u = stack.pop()
            area += 1
            for x in cuts(u)[cur[u]]:
                refs[x] += d
                if refs[x] == (d > 0) and x >= n_in:
                    stack.append(x)
        return area

    def deref(v: int) -> int:
        return ref(v, -1)

    for v in range(n_in, n_sig):
        if refs[v] == 0:
            continue
        deref(v)
        best, best_key = cur[v], None
        for c, cut in enumerate(cuts(v)):
            arr = 1 + max((arrival[x] for x in cut), default=0)
            if arr > required[v]:
                continue
            cur[v] = c
            key = (ref(v), arr)
            deref(v)
            if best_key is None or key < best_key:
                best, best_key = c, key
        cur[v] = best
        ref(v)
        arrival[v] = 1 + max((arrival[x] for x in cuts(v)[best]), default=0)
    new_choice = np.full(choice.shape, -1, dtype=np.int64)
    new_mapped = np.zeros(mapped.shape, dtype=bool)
    live = np.array(refs, dtype=np.int64) > 0
    live[:n_in] = False
    new_mapped[:n_sig] = live
    ids = np.flatnonzero(live)
    new_choice[ids] = np.array(cur, dtype=np.int64)[ids]
    return new_choice, new_mapped

"""The working form the passes share: a flat array view of a netlist.

A :class:`Netlist` stores LUTs per layer with the MSB-first truth-table
encoding of :mod:`lut2rtl.netlist`. The passes need per-LUT operations
(cofactors, input permutations, composition), which are simplest on the
*position* encoding of FPGA ``LUT_INIT``: bit ``p`` of a table is the output
when input ``x_m`` equals bit ``m`` of ``p``. Every LUT is widened to six
variables (inputs ``x_k .. x_5`` are don't-cares, their slots hold ``-1``),
so one ``uint64`` holds any table and bit-parallel word operations work on
all LUTs at once.

Node ``i`` is signal ``n_inputs + i`` (ids stay those of the source netlist
until :func:`to_netlist` compacts them). ``group[i]`` is a topological
antichain index: a node reads only signals of inputs or of nodes in smaller
groups (the source layers at first). Passes that only rewire a LUT to
signals that were already ancestors keep that property, so each group can
be processed as one vectorized step.

Constant signals appear as the ids :data:`CONST0` and :data:`CONST1` in
``outputs`` only (a LUT never reads a constant: constants are folded into
tables); :func:`to_netlist` turns an output constant into a constant LUT,
because the GroupSum counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..netlist import CONST0, CONST1, MAX_K, Layer, Netlist, init_to_table, table_mask, table_to_init

KMAX = MAX_K
NO_INPUT = -1
ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
ZERO = np.uint64(0)

# VAR[m]: the table of the function x_m (bit p set iff bit m of p is set).
VAR = np.array(
    [
        0xAAAA_AAAA_AAAA_AAAA,
        0xCCCC_CCCC_CCCC_CCCC,
        0xF0F0_F0F0_F0F0_F0F0,
        0xFF00_FF00_FF00_FF00,
        0xFFFF_0000_FFFF_0000,
        0xFFFF_FFFF_0000_0000,
    ],
    dtype=np.uint64,
)

# LUTs per step of compose() (bounds its [chunk, 64] word temporaries).
_CHUNK = 1 << 15


@dataclass(frozen=True, eq=False)
class Flat:
    """Array view of a netlist's LUTs (see the module docstring)."""

    n_inputs: int
    k: np.ndarray  # int64 [n]: used input slots (0 for a constant)
    fanin: np.ndarray  # int64 [n, 6]: signal ids, NO_INPUT beyond k
    tt: np.ndarray  # uint64 [n]: position-encoded 6-variable tables
    group: np.ndarray  # int64 [n]: topological antichain index, nondecreasing
    outputs: np.ndarray  # int64 [n_out]: signal ids or CONST0 / CONST1
    alive: np.ndarray  # bool [n]: nodes to keep when rebuilding

    @property
    def n(self) -> int:
        return int(self.tt.shape[0])

    def group_slices(self) -> list[slice]:
        """Node index ranges of the groups, in topological order."""
        if self.n == 0:
            return []
        cuts = np.flatnonzero(np.diff(self.group)) + 1
        bounds = [0, *cuts.tolist(), self.n]
        return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


# --------------------------------------------------------------------------
# Table operations (vectorized over LUTs)
# --------------------------------------------------------------------------

def widen(init: np.ndarray, k: int) -> np.ndarray:
    """A ``2**k``-bit position table -> the 64-bit table with ``x_k..x_5`` ignored."""
    t = np.asarray(init, dtype=np.uint64) & table_mask(k) if k < 6 else np.asarray(init, dtype=np.uint64)
    for s in range(k, 6):
        t = t | (t << np.uint64(1 << s))
    return t


def cofactors(tt: np.ndarray, m: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Negative and positive cofactors w.r.t. ``x_m`` (as 6-variable tables)."""
    mask = VAR[m]
    sh = (np.uint64(1) << np.asarray(m, dtype=np.uint64))
    hi = tt & mask
    lo = tt & ~mask
    return lo | (lo << sh), hi | (hi >> sh)


def depends(tt: np.ndarray) -> np.ndarray:
    """Bool ``[n, 6]``: does each table depend on each variable."""
    out = np.empty(tt.shape + (KMAX,), dtype=bool)
    for m in range(KMAX):
        c0, c1 = cofactors(tt, m)
        out[..., m] = c0 != c1
    return out


def compose(tt: np.ndarray, g: np.ndarray, nvars: int = KMAX) -> np.ndarray:
    """Substitute ``x_m := g[:, m]`` into tables ``tt`` (``g``: uint64 ``[n, >=nvars]``
    tables over new variables). Only ``x_0 .. x_{nvars-1}`` may matter in ``tt``."""
    n = tt.shape[0]
    out = np.empty(n, dtype=np.uint64)
    rows = 1 << nvars
    pos = np.arange(rows, dtype=np.uint64)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        # v[:, p]: all-ones word where the table's bit p is set
        v = (np.uint64(0) - ((tt[lo:hi, None] >> pos) & np.uint64(1))).astype(np.uint64)
        for m in range(nvars - 1, -1, -1):
            half = 1 << m
            a, b = v[:, :half], v[:, half:]
            v = a ^ ((a ^ b) & g[lo:hi, m, None])
        out[lo:hi] = v[:, 0]
    return out


def permute_vars(tt: np.ndarray, src: np.ndarray, nvars: int = KMAX) -> np.ndarray:
    """Tables whose new variable ``m`` is old variable ``src[:, m]``
    (``src``: int ``[n, nvars]``; the old table's variable ``src[:, m]`` becomes ``x_m``)."""
    n = tt.shape[0]
    g = np.zeros((n, KMAX), dtype=np.uint64)
    # old variable src[:, m] is driven by new variable m
    rows = np.arange(n)[:, None]
    g[rows, src[:, :nvars]] = VAR[np.arange(nvars)][None, :]
    return compose(tt, g, nvars)


# --------------------------------------------------------------------------
# Netlist <-> Flat
# --------------------------------------------------------------------------

def from_netlist(net: Netlist) -> Flat:
    """The flat view of a netlist (groups = its layers)."""
    n = net.n_luts
    k = np.empty(n, dtype=np.int64)
    fanin = np.full((n, KMAX), NO_INPUT, dtype=np.int64)
    tt = np.empty(n, dtype=np.uint64)
    group = np.empty(n, dtype=np.int64)
    for l, layer in enumerate(net.layers):
        a, b = net.offsets[l] - net.n_inputs, net.offsets[l + 1] - net.n_inputs
        k[a:b] = layer.k
        fanin[a:b, : layer.k] = layer.inputs
        tt[a:b] = widen(table_to_init(layer.tables, layer.k), layer.k)
        group[a:b] = l
    return Flat(
        n_inputs=int(net.n_inputs), k=k, fanin=fanin, tt=tt, group=group,
        outputs=np.asarray(net.outputs, dtype=np.int64).copy(), alive=np.ones(n, dtype=bool),
    )


def levels(flat: Flat) -> np.ndarray:
    """ASAP LUT level of every node (a node reading only input bits is level 1)."""
    n_in = flat.n_inputs
    level = np.zeros(n_in + flat.n, dtype=np.int64)
    slot = np.arange(KMAX)[None, :]
    for sl in flat.group_slices():
        f = flat.fanin[sl]
        used = slot < flat.k[sl, None]
        src = np.where(used, f, 0)
        lv = np.where(used, level[src], 0).max(axis=1, initial=0)
        # a removed node reads as level 0 (only ignored slots may still name it)
        level[n_in + sl.start:n_in + sl.stop] = np.where(flat.alive[sl], lv + 1, 0)
    return level[n_in:]


def to_netlist(flat: Flat, template: Netlist) -> Netlist:
    """Rebuild a netlist from the live nodes of ``flat``: one layer per ASAP
    level, whose ``k`` is the widest LUT of the level (narrower LUTs repeat an
    input they already read in the extra slots, which their table ignores).
    GroupSum, encoder and metadata come from ``template``."""
    n_in = flat.n_inputs
    outs = flat.outputs
    keep = flat.alive.copy()
    # constant outputs become constant LUTs (the GroupSum counts them)
    const_ids: dict[int, int] = {}
    need = [c for c in (CONST0, CONST1) if np.any(outs == c)]
    if not need and not keep.any():
        need = [CONST0]  # the IR needs a layer: keep one (unused) constant LUT
    k = flat.k[keep]
    fanin = flat.fanin[keep]
    tt = flat.tt[keep]
    old_ids = np.flatnonzero(keep) + n_in
    # levels of the kept nodes (they only read kept nodes or inputs)
    sub = Flat(n_in, flat.k, flat.fanin, flat.tt, flat.group, outs, keep)
    level_all = levels(sub)
    level = level_all[keep]
    if need:
        extra = len(need)
        k = np.concatenate([k, np.zeros(extra, dtype=np.int64)])
        fanin = np.concatenate([fanin, np.full((extra, KMAX), NO_INPUT, dtype=np.int64)])
        tt = np.concatenate([tt, np.array([ZERO if c == CONST0 else ONES for c in need], dtype=np.uint64)])
        level = np.concatenate([level, np.ones(extra, dtype=np.int64)])
        for i, c in enumerate(need):
            const_ids[c] = -(10 + i)  # placeholder old ids, mapped below
        old_ids = np.concatenate([old_ids, np.array([const_ids[c] for c in need], dtype=np.int64)])
    order = np.lexsort((np.arange(level.shape[0]), level))
    k, fanin, tt, level, old_ids = k[order], fanin[order], tt[order], level[order], old_ids[order]
    # old id -> new id
    new_of_old = np.full(n_in + flat.n, -1, dtype=np.int64)
    new_of_old[:n_in] = np.arange(n_in)
    real = old_ids >= 0
    new_of_old[old_ids[real]] = n_in + np.flatnonzero(real)
    new_ids_of_const = {c: n_in + int(np.flatnonzero(old_ids == const_ids[c])[0]) for c in need}
    # a slot whose table ignores it may read a removed node: read input 0 instead
    used_all = used_slots(k)
    src = np.where(used_all, new_of_old[np.maximum(fanin, 0)], 0)
    gone = used_all & (src < 0)
    if gone.any():
        rows = np.flatnonzero(gone.any(axis=1))
        assert not np.any(depends(tt[rows]) & gone[rows]), "a LUT depends on a node that is not kept"
        src[gone] = 0
    layers: list[Layer] = []
    bounds = np.flatnonzero(np.diff(level)) + 1
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), level.shape[0]]
    for a, b in zip(starts, ends):
        kk = k[a:b]
        width = max(1, int(kk.max()))
        slot = np.arange(width)[None, :]
        used = slot < kk[:, None]
        mapped = src[a:b, :width]
        # pad with the LUT's first input (signal 0 for a constant LUT)
        first = np.where(kk > 0, mapped[:, 0], 0)
        f = np.where(used, mapped, first[:, None])
        assert np.all(f >= 0), "a LUT reads a node that is not kept"
        init = tt[a:b] & table_mask(width) if width < 6 else tt[a:b]
        layers.append(Layer(k=width, inputs=f, tables=init_to_table(init, width)))
    out_new = np.empty_like(outs)
    for c in need:
        out_new[outs == c] = new_ids_of_const[c]
    sig = outs >= 0
    out_new[sig] = new_of_old[outs[sig]]
    assert np.all(out_new >= 0), "an output reads a node that is not kept"
    return Netlist(
        n_inputs=n_in, layers=tuple(layers), outputs=out_new, group_sum=template.group_sum,
        encoder=template.encoder, metadata=template.metadata,
    )


def drop_slots(fanin: np.ndarray, tt: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove the input slots not in ``keep`` (bool ``[n, 6]``; the tables must
    not depend on them): kept slots move to the front in their order.
    Returns ``(fanin, tt, k)``."""
    n = fanin.shape[0]
    # stable: kept slots first, in order; dropped ones after (don't-cares)
    src = np.argsort(~keep, axis=1, kind="stable")
    moved = np.any(src != np.arange(KMAX)[None, :], axis=1)
    tt = tt.copy()
    if moved.any():
        tt[moved] = permute_vars(tt[moved], src[moved])
    k = keep.sum(axis=1).astype(np.int64)
    rows = np.arange(n)[:, None]
    f = fanin[rows, src]
    f = np.where(np.arange(KMAX)[None, :] < k[:, None], f, NO_INPUT)
    return f, tt, k


def used_slots(k: np.ndarray) -> np.ndarray:
    """Bool ``[n, 6]``: slot ``m`` is one of the first ``k`` of its LUT."""
    return np.arange(KMAX)[None, :] < np.asarray(k)[:, None]


def with_nodes(flat: Flat, **changes: np.ndarray) -> Flat:
    """A copy of ``flat`` with some arrays replaced."""
    fields = dict(
        n_inputs=flat.n_inputs, k=flat.k, fanin=flat.fanin, tt=flat.tt, group=flat.group,
        outputs=flat.outputs, alive=flat.alive,
    )
    fields.update(changes)
    return Flat(**fields)  # type: ignore[arg-type]

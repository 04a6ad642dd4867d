"""Technology mapping: a Netlist -> physical cells that fit a target's LUT.

The logic work is the passes': LUTs wider than the target's primitive are
split (:func:`lut2rtl.passes.pack.split_wide`), constants folded, unused and
repeated inputs dropped and dead LUTs removed. What is left is a 1:1 layout:
each LUT becomes one cell reading only the inputs its table depends on; a
constant LUT becomes a constant, a buffer a wire. Only cells in the fan-in
cone of an output exist (the passes removed the rest).

Physical signals: ids ``0 .. n_inputs-1`` are the input bits, cell ``c`` drives
id ``n_inputs + c``; cells are in topological order. A *reference* is a
physical signal id or one of :data:`~lut2rtl.netlist.CONST0` /
:data:`~lut2rtl.netlist.CONST1`. Cell tables use the netlist's truth-table
encoding over the cell's own ``k`` inputs. Everything is vectorized per
batch of cells (a million LUTs map in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..netlist import CONST0, CONST1, Netlist, rows_to_table, table_depends_on, table_to_rows

__all__ = ["MappedFabric", "map_netlist"]


@dataclass(frozen=True, eq=False)
class MappedFabric:
    """Cells of a mapped netlist (see the module docstring)."""

    n_inputs: int
    lut_size: int
    cell_k: np.ndarray  # int64 [C]: inputs used, 1..lut_size
    cell_inputs: np.ndarray  # int64 [C, lut_size]: physical ids (columns >= k unused, 0)
    cell_tables: np.ndarray  # uint64 [C]: truth table over the cell's k inputs
    cell_layer: np.ndarray  # int64 [C]: netlist layer the cell comes from
    level: np.ndarray  # int64 [n_inputs + C]: LUT levels from the inputs (inputs 0)
    outputs: np.ndarray  # int64 [n_out]: references of the netlist outputs
    n_layers: int

    @property
    def n_cells(self) -> int:
        return int(self.cell_k.shape[0])

    @property
    def depth(self) -> int:
        """Logic depth in LUT levels (0 when every output is an input or constant)."""
        return int(self.level.max(initial=0))

    def cells_per_layer(self) -> list[int]:
        return np.bincount(self.cell_layer, minlength=self.n_layers).astype(int).tolist()


def map_netlist(net: Netlist, lut_size: int) -> MappedFabric:
    """Map ``net`` onto cells of at most ``lut_size`` inputs (see the module docstring)."""
    from ..passes import drop_unused_inputs, fold_constants, optimize, remove_dead
    from ..passes.pack import split_wide

    if any(layer.k > lut_size for layer in net.layers):
        # the clean-ups see the cofactors (often equal, constant or a wire)
        net = remove_dead(optimize(split_wide(drop_unused_inputs(fold_constants(net)), lut_size), 1))
    elif not _is_clean(net):  # (a clean netlist keeps its exact form: the passes may reorder LUT inputs)
        net = remove_dead(drop_unused_inputs(fold_constants(net)))
    n_in = net.n_inputs
    sigmap = np.empty(net.n_signals, dtype=np.int64)  # netlist signal -> reference
    sigmap[:n_in] = np.arange(n_in)
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []  # (refs [n, k], tables, layer)
    level = np.zeros(n_in + net.n_luts, dtype=np.int64)
    count = 0
    for l, layer in enumerate(net.layers):
        k, lo = layer.k, net.offsets[l]
        refs = sigmap[layer.inputs]
        rows = table_to_rows(layer.tables, k)
        j = np.arange(1 << k)
        mask = np.zeros(layer.size, dtype=np.int64)  # the inputs each table depends on
        for m in range(k):
            bit = 1 << (k - 1 - m)
            low = j[(j & bit) == 0]
            mask |= np.any(rows[:, low] != rows[:, low | bit], axis=1).astype(np.int64) << m
        out = np.empty(layer.size, dtype=np.int64)
        for mk in np.unique(mask).tolist():
            sel = np.flatnonzero(mask == mk)
            ms = [m for m in range(k) if mk >> m & 1]
            s = len(ms)
            if s == 0:
                out[sel] = np.where(rows[sel, 0], CONST1, CONST0)
                continue
            idx = np.zeros(1 << s, dtype=np.int64)  # the rows of the used inputs
            for t, m in enumerate(ms):
                idx |= ((np.arange(1 << s) >> (s - 1 - t)) & 1) << (k - 1 - m)
            rrows, rrefs = rows[sel][:, idx], refs[sel][:, ms]
            if s == 1:  # a buffer is a wire
                wire = rrows[:, 1] & ~rrows[:, 0]
                out[sel[wire]] = rrefs[wire, 0]
                sel, rrows, rrefs = sel[~wire], rrows[~wire], rrefs[~wire]
            ids = n_in + count + np.arange(sel.size)
            level[ids] = 1 + level[rrefs].max(axis=1, initial=0)
            padded = np.zeros((sel.size, lut_size), dtype=np.int64)
            padded[:, :s] = rrefs
            chunks.append((padded, np.full(sel.size, s, dtype=np.int64), rows_to_table(rrows), l))
            out[sel] = ids
            count += sel.size
        sigmap[lo: lo + layer.size] = out
    chunks.append((np.zeros((0, lut_size), dtype=np.int64), np.zeros(0, dtype=np.int64),
                   np.zeros(0, dtype=np.uint64), 0))  # none at all is a fabric too
    return MappedFabric(
        n_inputs=n_in, lut_size=lut_size, cell_k=np.concatenate([c[1] for c in chunks]),
        cell_inputs=np.concatenate([c[0] for c in chunks]),
        cell_tables=np.concatenate([c[2] for c in chunks]).astype(np.uint64),
        cell_layer=np.concatenate([np.full(c[1].size, c[3], dtype=np.int64) for c in chunks]),
        level=level[:n_in + count], outputs=sigmap[net.outputs], n_layers=len(net.layers),
    )


def _is_clean(net: Netlist) -> bool:
    """No LUT reads a constant LUT or one signal twice, and every LUT is live."""
    const = np.zeros(net.n_signals, dtype=bool)
    deps = []
    for l, layer in enumerate(net.layers):
        dep = table_depends_on(layer.tables, layer.k)
        ins = np.where(dep, layer.inputs, -1 - np.arange(layer.k))  # unread slots never collide
        if const[layer.inputs[dep]].any() or (layer.k > 1 and (np.diff(np.sort(ins, axis=1)) == 0).any()):
            return False
        const[net.offsets[l]: net.offsets[l] + layer.size] = ~dep.any(axis=1)
        deps.append(dep)
    live = np.zeros(net.n_signals, dtype=bool)
    live[net.outputs] = True
    for l in range(len(net.layers) - 1, -1, -1):
        lo, layer = net.offsets[l], net.layers[l]
        here = live[lo: lo + layer.size]
        live[layer.inputs[here][deps[l][here]]] = True
    return bool(live[net.n_inputs:].all())

"""Technology mapping: a Netlist -> physical cells that fit a target's LUT.

Each LUT of the netlist is reduced to the inputs its table depends on
(constant inputs folded in, an input read twice merged); a LUT that is then
constant becomes a constant, a buffer becomes a wire, and one that is wider
than the target's primitive is Shannon-expanded on its first input into two
cofactors plus a 2:1 multiplexer LUT, recursively. Only cells in the fan-in
cone of an output are kept.

Physical signals: ids ``0 .. n_inputs-1`` are the input bits, cell ``c`` drives
id ``n_inputs + c``; cells are in topological order. A *reference* is a
physical signal id or one of :data:`CONST0` / :data:`CONST1`. Cell tables use
the netlist's truth-table encoding over the cell's own ``k`` inputs.
Everything is vectorized per batch of cells (a million LUTs map in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..netlist import Netlist, rows_to_table, table_to_rows

__all__ = ["CONST0", "CONST1", "MappedFabric", "map_netlist"]

CONST0 = -1
CONST1 = -2

# rows of "x0 ? x2 : x1" over inputs (x0, x1, x2) = (select, f0, f1)
_MUX_ROWS = np.array([0, 0, 1, 1, 0, 1, 0, 1], dtype=bool)


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


class _Builder:
    def __init__(self, n_inputs: int, lut_size: int) -> None:
        self.n_inputs = n_inputs
        self.L = lut_size
        self.count = 0
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []  # (k, inputs, tables, layer)
        self.level = np.zeros(n_inputs + 1024, dtype=np.int64)

    def add_cells(self, refs: np.ndarray, tables: np.ndarray, layer: int) -> np.ndarray:
        n, k = refs.shape
        start = self.n_inputs + self.count
        need = start + n
        if need > self.level.shape[0]:
            grown = np.zeros(max(need, 2 * self.level.shape[0]), dtype=np.int64)
            grown[:start] = self.level[:start]
            self.level = grown
        self.level[start:need] = 1 + self.level[refs].max(axis=1)
        padded = np.zeros((n, self.L), dtype=np.int64)
        padded[:, :k] = refs
        self.chunks.append((np.full(n, k, dtype=np.int64), padded, np.asarray(tables, dtype=np.uint64), layer))
        self.count += n
        return np.arange(start, need, dtype=np.int64)

    def lower(self, refs: np.ndarray, rows: np.ndarray, layer: int) -> np.ndarray:
        """Cells computing ``rows`` (bool [n, 2**k]) of ``refs`` ([n, k]); returns references [n]."""
        n, k = refs.shape
        out = np.empty(n, dtype=np.int64)
        if n == 0:
            return out
        rows = rows.copy()
        j = np.arange(1 << k)
        for m in range(k):  # fold constant inputs into the table
            bit = 1 << (k - 1 - m)
            for code, src in ((CONST0, j & ~bit), (CONST1, j | bit)):
                sel = refs[:, m] == code
                if sel.any():
                    rows[sel] = rows[sel][:, src]
        merged = np.zeros((n, k), dtype=bool)
        for m1 in range(k):  # an input read twice: x_m2 := x_m1 (the table no longer reads x_m2)
            b1 = 1 << (k - 1 - m1)
            for m2 in range(m1 + 1, k):
                b2 = 1 << (k - 1 - m2)
                sel = (refs[:, m1] == refs[:, m2]) & (refs[:, m1] >= 0) & ~merged[:, m1] & ~merged[:, m2]
                if sel.any():
                    rows[sel] = rows[sel][:, np.where(j & b1, j | b2, j & ~b2)]
                    merged[sel, m2] = True
        mask = np.zeros(n, dtype=np.int64)
        for m in range(k):
            bit = 1 << (k - 1 - m)
            lo = j[(j & bit) == 0]
            dep = np.any(rows[:, lo] != rows[:, lo | bit], axis=1)
            mask |= dep.astype(np.int64) << m
        for mk in np.unique(mask).tolist():
            sel = np.flatnonzero(mask == mk)
            ms = [m for m in range(k) if mk >> m & 1]
            s = len(ms)
            if s == 0:
                out[sel] = np.where(rows[sel, 0], CONST1, CONST0)
                continue
            jr = np.arange(1 << s)
            idx = np.zeros(1 << s, dtype=np.int64)
            for t, m in enumerate(ms):
                idx |= ((jr >> (s - 1 - t)) & 1) << (k - 1 - m)
            rrows = rows[sel][:, idx]
            rrefs = refs[sel][:, ms]
            if s == 1:
                wire = rrows[:, 1] & ~rrows[:, 0]
                out[sel[wire]] = rrefs[wire, 0]
                inv = ~wire
                if inv.any():
                    out[sel[inv]] = self.add_cells(rrefs[inv], rows_to_table(rrows[inv]), layer)
            elif s <= self.L:
                out[sel] = self.add_cells(rrefs, rows_to_table(rrows), layer)
            else:
                half = 1 << (s - 1)
                f0 = self.lower(rrefs[:, 1:], rrows[:, :half], layer)
                f1 = self.lower(rrefs[:, 1:], rrows[:, half:], layer)
                mux_refs = np.stack([rrefs[:, 0], f0, f1], axis=1)
                out[sel] = self.lower(mux_refs, np.broadcast_to(_MUX_ROWS, (sel.size, 8)), layer)
        return out

    def finish(self, outputs: np.ndarray, n_layers: int) -> MappedFabric:
        L, n_in = self.L, self.n_inputs
        if self.chunks:
            cell_k = np.concatenate([c[0] for c in self.chunks])
            cell_inputs = np.concatenate([c[1] for c in self.chunks])
            cell_tables = np.concatenate([c[2] for c in self.chunks])
            cell_layer = np.concatenate([np.full(c[0].shape[0], c[3], dtype=np.int64) for c in self.chunks])
        else:
            cell_k = np.zeros(0, dtype=np.int64)
            cell_inputs = np.zeros((0, L), dtype=np.int64)
            cell_tables = np.zeros(0, dtype=np.uint64)
            cell_layer = np.zeros(0, dtype=np.int64)
        level = self.level[: n_in + self.count]
        # keep only the fan-in cone of the outputs; chunks read only earlier ids,
        # so one backward sweep over the chunks marks every live cell
        n_sig = n_in + self.count
        live = np.zeros(n_sig, dtype=bool)
        live[outputs[outputs >= 0]] = True
        end = n_sig
        col = np.arange(L)[None, :]
        for ck, cin, _t, _l in reversed(self.chunks):
            start = end - ck.shape[0]
            sel = live[start:end]
            if sel.any():
                used = cin[sel]
                live[used[col < ck[sel][:, None]]] = True
            end = start
        live[:n_in] = True  # input bits keep their ids
        keep = live[n_in:]
        new_id = np.cumsum(live) - 1  # old physical id -> new id (valid where live)
        cell_inputs = cell_inputs[keep]
        valid = np.arange(L)[None, :] < cell_k[keep][:, None]
        cell_inputs = np.where(valid, new_id[cell_inputs], 0)
        outs = np.where(outputs >= 0, new_id[np.maximum(outputs, 0)], outputs)
        return MappedFabric(
            n_inputs=n_in, lut_size=L, cell_k=cell_k[keep], cell_inputs=cell_inputs,
            cell_tables=cell_tables[keep], cell_layer=cell_layer[keep],
            level=np.concatenate([level[:n_in], level[n_in:][keep]]), outputs=outs, n_layers=n_layers,
        )


def map_netlist(net: Netlist, lut_size: int) -> MappedFabric:
    """Map ``net`` onto cells of at most ``lut_size`` inputs (see the module docstring)."""
    if not 2 <= lut_size <= 6:
        raise ValueError(f"lut_size {lut_size} outside 2..6")
    b = _Builder(net.n_inputs, lut_size)
    sigmap = np.empty(net.n_signals, dtype=np.int64)
    sigmap[: net.n_inputs] = np.arange(net.n_inputs)
    for l, layer in enumerate(net.layers):
        lo = net.offsets[l]
        refs = sigmap[layer.inputs]
        sigmap[lo: lo + layer.size] = b.lower(refs, table_to_rows(layer.tables, layer.k), l)
    return b.finish(sigmap[net.outputs], len(net.layers))

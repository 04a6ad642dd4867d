"""The Netlist IR: one pure-data description of a discretized LUT network.

Encoding (stated once; the evaluator, the training layers, the passes and the
FPGA primitives all derive from it)
==============================================================================

Signals
    A netlist with ``n_inputs`` input bits and layers ``L_0 .. L_{d-1}`` numbers
    its signals globally: ids ``0 .. n_inputs-1`` are the input bits, followed by
    the outputs of ``L_0`` in order, then those of ``L_1``, and so on
    (``Netlist.offsets[l]`` is the id of the first output of ``L_l``). A LUT of
    layer ``l`` may read any signal whose id is smaller than ``offsets[l]``; a
    plain *layered* network (what training produces) reads only the previous
    layer (``L_0`` reads the input bits). The network's outputs are the signal
    ids in ``Netlist.outputs`` (by default the last layer's outputs, in order).

LUTs
    Every LUT of a layer has the same fan-in ``k`` (1 <= k <= 6). ``inputs[n]``
    holds the ``k`` signal ids it reads, ``x_0 .. x_{k-1}``; ``tables[n]`` its
    truth table ``T``, a ``2**k``-bit unsigned integer (``numpy.uint64``).

Truth tables
    Row index ``j = sum_m x_m * 2**(k-1-m)`` (the first input is the most
    significant bit) and ``T = sum_j f(row j) * 2**(2**k - 1 - j)``: read the
    binary digits of ``T`` from the most significant one and you read the
    output column of the truth table from row 0 to row ``2**k - 1``. For
    ``k = 2`` this makes ``T`` the gate id used throughout the field::

        0 FALSE  1 AND   2 A&~B  3 A     4 ~A&B  5 B     6 XOR   7 OR
        8 NOR    9 XNOR 10 ~B   11 A|~B 12 ~A   13 ~A|B 14 NAND 15 TRUE

    An FPGA ``LUT_INIT`` (bit ``i`` = output when primitive input ``I_m`` is bit
    ``m`` of ``i``, with ``x_m`` wired to ``I_m``) is a permutation of ``T``:
    :func:`table_to_init` is the one place that derives it.

GroupSum
    Optional. The ``n_out`` outputs are split into ``classes`` contiguous groups
    of ``n_out // classes``; a class's count is the popcount of its group, its
    score ``(count + beta) / tau``; the predicted class is the argmax of the
    counts, ties resolved to the lowest class index. Constant outputs count.

Encoder
    Optional thermometer encoder: ``thresholds`` is a float64 array of shape
    ``(features, m)``; input bit ``f*m + i`` is ``x[f] > thresholds[f, i]``,
    compared in float64.

Netlists are immutable: arrays are read-only and passes build new netlists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import NetlistError, ShapeError

__all__ = [
    "CONST0",
    "CONST1",
    "FUSED_HEAD",
    "MAX_K",
    "GATE_NAMES",
    "GroupSum",
    "Layer",
    "Netlist",
    "Thermometer",
    "check_netlist",
    "gate_name",
    "init_to_table",
    "rows_to_table",
    "table_depends_on",
    "table_to_init",
    "table_to_rows",
    "truth_table_rows",
]

MAX_K = 6
# metadata key of a network whose outputs are the inputs of its compiled GroupSum head (lut2rtl.rtl.popcount:
# fuse_head; value: the original output count): its outputs are not the class groups, and need not split evenly
FUSED_HEAD = "lut2rtl_fused_head"
# References to constant signals, where a signal id is expected (the passes'
# working form, mapped fabrics): never a valid signal id.
CONST0 = -2
CONST1 = -3

GATE_NAMES: tuple[str, ...] = (
    "FALSE", "AND", "A&~B", "A", "~A&B", "B", "XOR", "OR",
    "NOR", "XNOR", "~B", "A|~B", "~A", "~A|B", "NAND", "TRUE",
)


# --------------------------------------------------------------------------
# Truth tables
# --------------------------------------------------------------------------

def truth_table_rows(k: int) -> np.ndarray:
    """Input values of each truth-table row: bool array ``[2**k, k]``.

    ``rows[j, m]`` is the value of input ``x_m`` in row ``j`` (``x_0`` is the
    most significant bit of ``j``).
    """
    _check_k(k)
    j = np.arange(1 << k)[:, None]
    m = np.arange(k)[None, :]
    return ((j >> (k - 1 - m)) & 1).astype(bool)


def table_to_rows(tables: np.ndarray | int, k: int) -> np.ndarray:
    """Output of each row: bool array ``[..., 2**k]`` for tables ``[...]``."""
    _check_k(k)
    t = np.asarray(tables, dtype=np.uint64)
    shifts = np.arange((1 << k) - 1, -1, -1, dtype=np.uint64)  # row j -> bit 2^k-1-j
    return ((t[..., None] >> shifts) & np.uint64(1)).astype(bool)


def rows_to_table(rows: np.ndarray) -> np.ndarray:
    """Inverse of :func:`table_to_rows`: bool ``[..., 2**k]`` -> uint64 ``[...]``."""
    r = np.asarray(rows, dtype=bool)
    n_rows = r.shape[-1]
    k = n_rows.bit_length() - 1
    if n_rows != 1 << k:
        raise ValueError(f"row count {n_rows} is not a power of two")
    _check_k(k)
    weights = np.uint64(1) << np.arange(n_rows - 1, -1, -1, dtype=np.uint64)
    return np.bitwise_or.reduce(np.where(r, weights, np.uint64(0)), axis=-1).astype(np.uint64)


def table_to_init(tables: np.ndarray | int, k: int) -> np.ndarray:
    """FPGA ``LUT_INIT`` of tables (bit ``i``: output when ``I_m`` = bit ``m`` of ``i``).

    Input ``x_m`` of the LUT is wired to primitive input ``I_m``. Pattern ``i``
    is row ``j = bitreverse_k(i)``, whose output is bit ``2**k-1-j`` of ``T``.
    """
    rows = table_to_rows(tables, k)  # [..., j]
    perm = _init_row_of_pattern(k)  # pattern i -> row j
    bits = rows[..., perm]
    weights = np.uint64(1) << np.arange(1 << k, dtype=np.uint64)
    return np.bitwise_or.reduce(np.where(bits, weights, np.uint64(0)), axis=-1).astype(np.uint64)


def init_to_table(inits: np.ndarray | int, k: int) -> np.ndarray:
    """Inverse of :func:`table_to_init`."""
    init = np.asarray(inits, dtype=np.uint64)
    pattern_bits = ((init[..., None] >> np.arange(1 << k, dtype=np.uint64)) & np.uint64(1)).astype(bool)
    rows = np.empty_like(pattern_bits)
    rows[..., _init_row_of_pattern(k)] = pattern_bits
    return rows_to_table(rows)


def _init_row_of_pattern(k: int) -> np.ndarray:
    i = np.arange(1 << k)
    j = np.zeros_like(i)
    for m in range(k):
        j |= ((i >> m) & 1) << (k - 1 - m)
    return j


def table_depends_on(tables: np.ndarray | int, k: int) -> np.ndarray:
    """Which inputs each table depends on: bool ``[..., k]``."""
    rows = table_to_rows(tables, k)  # [..., 2^k]
    out = np.empty(rows.shape[:-1] + (k,), dtype=bool)
    for m in range(k):
        stride = 1 << (k - 1 - m)  # flipping x_m flips this bit of j
        j = np.arange(1 << k)
        lo = j[(j & stride) == 0]
        out[..., m] = np.any(rows[..., lo] != rows[..., lo | stride], axis=-1)
    return out


def gate_name(table: int, k: int) -> str:
    """Readable name of a table: the gate name for k = 2, else hex."""
    if k == 2:
        return GATE_NAMES[int(table)]
    return f"LUT{k}:{int(table):0{(1 << k) // 4 or 1}x}"


def table_mask(k: int) -> np.uint64:
    """All-ones mask of a ``2**k``-bit table."""
    return np.uint64((1 << (1 << k)) - 1)


def _check_k(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
        raise ValueError(f"LUT fan-in k={k!r} outside 1..{MAX_K}")


# --------------------------------------------------------------------------
# IR classes
# --------------------------------------------------------------------------

def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    if a.flags.writeable:
        a = a.copy() if a.base is not None else a
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer of LUTs of equal fan-in ``k`` (see the module docstring)."""

    k: int
    inputs: np.ndarray  # int64 [n, k], global signal ids
    tables: np.ndarray  # uint64 [n]

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _readonly(np.asarray(self.inputs, dtype=np.int64)))
        object.__setattr__(self, "tables", _readonly(np.asarray(self.tables, dtype=np.uint64)))

    @property
    def size(self) -> int:
        return int(self.tables.shape[0])


@dataclass(frozen=True, eq=False)
class GroupSum:
    """Per-class popcount of contiguous output groups; score = (count + beta) / tau."""

    classes: int
    tau: float = 1.0
    beta: float = 0.0


@dataclass(frozen=True, eq=False)
class Thermometer:
    """Thermometer encoder: bit ``f*m + i`` is ``x[f] > thresholds[f, i]`` (float64)."""

    thresholds: np.ndarray  # float64 [features, m]

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", _readonly(np.asarray(self.thresholds, dtype=np.float64)))

    @property
    def features(self) -> int:
        return int(self.thresholds.shape[0])

    @property
    def n_bits(self) -> int:
        return int(self.thresholds.shape[0] * self.thresholds.shape[1])

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Raw features ``[N, features]`` -> input bits ``[N, features * m]`` (bool)."""
        a = np.asarray(x)
        if a.ndim != 2 or a.shape[1] != self.features:
            raise ShapeError(
                f"encoder expects features of shape (N, {self.features}), got {tuple(a.shape)}"
            )
        if not np.issubdtype(a.dtype, np.number) and a.dtype != bool:
            raise ShapeError(f"encoder expects numeric features, got dtype {a.dtype}")
        a = a.astype(np.float64)
        return (a[:, :, None] > self.thresholds[None, :, :]).reshape(a.shape[0], -1)


@dataclass(frozen=True, eq=False)
class Netlist:
    """A discretized LUT network (see the module docstring for the encoding)."""

    n_inputs: int
    layers: tuple[Layer, ...]
    outputs: np.ndarray | None = None  # int64 [n_out]; None -> last layer's outputs
    group_sum: GroupSum | None = None
    encoder: Thermometer | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        offsets = [int(self.n_inputs)]
        for layer in self.layers:
            offsets.append(offsets[-1] + layer.size)
        object.__setattr__(self, "_offsets", tuple(offsets))
        if self.outputs is None:
            if self.layers:
                outs = np.arange(offsets[-2], offsets[-1], dtype=np.int64)
            else:
                outs = np.arange(0, self.n_inputs, dtype=np.int64)
        else:
            outs = np.asarray(self.outputs, dtype=np.int64)
        object.__setattr__(self, "outputs", _readonly(outs))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    # -- construction -----------------------------------------------------

    @classmethod
    def layered(
        cls,
        n_inputs: int,
        layers: Sequence[tuple[np.ndarray, np.ndarray]],
        *,
        group_sum: GroupSum | None = None,
        encoder: Thermometer | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Netlist:
        """Build a layered netlist from ``(inputs, tables)`` pairs whose input
        indices are *local*: indices into the previous layer's outputs (layer 0:
        the input bits). ``k`` is taken from ``inputs.shape[1]``."""
        built: list[Layer] = []
        offset_prev = 0
        width_prev = int(n_inputs)
        for idx, tables in layers:
            idx = np.asarray(idx, dtype=np.int64)
            if idx.ndim != 2:
                raise ShapeError(f"layer {len(built)}: inputs must be 2-D (n, k), got shape {idx.shape}")
            built.append(Layer(k=int(idx.shape[1]), inputs=idx + offset_prev, tables=tables))
            offset_prev += width_prev
            width_prev = built[-1].size
        return cls(
            n_inputs=int(n_inputs), layers=tuple(built), group_sum=group_sum,
            encoder=encoder, metadata=dict(metadata or {}),
        )

    def replace(self, **changes: Any) -> Netlist:
        """A copy with some fields replaced (``outputs`` defaults are recomputed)."""
        fields = dict(
            n_inputs=self.n_inputs, layers=self.layers, outputs=self.outputs,
            group_sum=self.group_sum, encoder=self.encoder, metadata=self.metadata,
        )
        if "layers" in changes and "outputs" not in changes:
            raise ValueError("replace(layers=...) needs outputs=... as well (ids may have moved)")
        fields.update(changes)
        return Netlist(**fields)

    # -- derived facts ----------------------------------------------------

    @property
    def offsets(self) -> tuple[int, ...]:
        """``offsets[l]``: id of the first output of layer ``l``; the last entry is ``n_signals``."""
        return self._offsets  # type: ignore[attr-defined,no-any-return]

    @property
    def n_signals(self) -> int:
        return self.offsets[-1]

    @property
    def n_luts(self) -> int:
        return self.n_signals - self.n_inputs

    @property
    def n_outputs(self) -> int:
        return int(self.outputs.shape[0])

    @property
    def depth(self) -> int:
        return len(self.layers)

    def is_layered(self) -> bool:
        """True when every layer reads only the previous one and the outputs
        are the last layer's outputs in order."""
        prev_lo = 0
        for l, layer in enumerate(self.layers):
            lo, hi = self.offsets[l], self.offsets[l + 1]
            if layer.size and (layer.inputs.min(initial=lo) < prev_lo or layer.inputs.max(initial=prev_lo) >= lo):
                return False
            prev_lo = lo
            del hi
        if self.layers:
            expect = np.arange(self.offsets[-2], self.offsets[-1])
            return bool(np.array_equal(self.outputs, expect))
        return True

    def layer_of(self, signal: int) -> int:
        """Layer index producing a signal id, ``-1`` for an input bit."""
        if signal < self.n_inputs:
            return -1
        return int(np.searchsorted(self.offsets, signal, side="right")) - 1

    def live_mask(self) -> np.ndarray:
        """Bool ``[n_signals]``: signals in the fan-in cone of an output."""
        live = np.zeros(self.n_signals, dtype=bool)
        live[self.outputs] = True
        for l in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[l]
            lo = self.offsets[l]
            sel = live[lo:lo + layer.size]
            if sel.any():
                used = layer.inputs[sel]
                # inputs a table ignores do not make their source live
                dep = table_depends_on(layer.tables[sel], layer.k)
                live[used[dep]] = True
        return live


# --------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------

# Refuse sizes no real network has, before anything large is allocated.
MAX_INPUTS = 1 << 24
MAX_LUTS = 1 << 26


def check_netlist(net: Netlist, *, where: str = "netlist") -> None:
    """Validate the structure of a netlist; raise :class:`NetlistError` naming
    the offending layer and neuron. ``where`` prefixes messages (a file name)."""
    if not isinstance(net.n_inputs, (int, np.integer)) or net.n_inputs < 1:
        raise NetlistError(f"{where}: n_inputs must be a positive integer, got {net.n_inputs!r}")
    if net.n_inputs > MAX_INPUTS:
        raise NetlistError(f"{where}: n_inputs={net.n_inputs} exceeds the limit of {MAX_INPUTS}")
    if not net.layers:
        raise NetlistError(f"{where}: the network has no layers")
    if net.n_luts > MAX_LUTS:
        raise NetlistError(f"{where}: {net.n_luts} LUTs exceeds the limit of {MAX_LUTS}")
    for l, layer in enumerate(net.layers):
        _check_layer(net, l, layer, where)
    outs = net.outputs
    if outs.ndim != 1 or outs.shape[0] == 0:
        raise NetlistError(f"{where}: outputs must be a non-empty 1-D list of signal ids")
    bad = np.flatnonzero((outs < 0) | (outs >= net.n_signals))
    if bad.size:
        i = int(bad[0])
        raise NetlistError(
            f"{where}: output {i} reads signal {int(outs[i])}, outside 0..{net.n_signals - 1}"
        )
    gs = net.group_sum
    if gs is not None:
        if not isinstance(gs.classes, (int, np.integer)) or gs.classes < 1:
            raise NetlistError(f"{where}: group_sum.classes must be a positive integer, got {gs.classes!r}")
        if net.n_outputs % gs.classes and FUSED_HEAD not in net.metadata:
            raise NetlistError(
                f"{where}: group_sum: {gs.classes} classes do not divide the {net.n_outputs} outputs"
            )
        for name in ("tau", "beta"):
            v = getattr(gs, name)
            if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(float(v)):
                raise NetlistError(f"{where}: group_sum.{name} must be a finite number, got {v!r}")
        if float(gs.tau) <= 0:
            raise NetlistError(f"{where}: group_sum.tau must be positive, got {gs.tau!r}")
    enc = net.encoder
    if enc is not None:
        t = enc.thresholds
        if t.ndim != 2 or t.shape[0] < 1 or t.shape[1] < 1:
            raise NetlistError(f"{where}: encoder thresholds must have shape (features, m), got {t.shape}")
        if not np.all(np.isfinite(t)):
            f, i = np.argwhere(~np.isfinite(t))[0]
            raise NetlistError(f"{where}: encoder threshold [feature {f}, {i}] is {t[f, i]} (must be finite)")
        if enc.n_bits != net.n_inputs:
            raise NetlistError(
                f"{where}: encoder produces {enc.n_bits} bits but the network has {net.n_inputs} inputs"
            )


def _check_layer(net: Netlist, l: int, layer: Layer, where: str) -> None:
    k = layer.k
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
        raise NetlistError(f"{where}: layer {l}: fan-in k={k!r} outside 1..{MAX_K}")
    n = layer.size
    if layer.tables.ndim != 1:
        raise NetlistError(f"{where}: layer {l}: tables must be 1-D, got shape {layer.tables.shape}")
    if n == 0:
        raise NetlistError(f"{where}: layer {l} is empty")
    if layer.inputs.shape != (n, k):
        raise NetlistError(
            f"{where}: layer {l}: inputs have shape {tuple(layer.inputs.shape)}, expected ({n}, {k}) "
            f"(fan-in must equal k for every neuron)"
        )
    hi = net.offsets[l]
    bad = np.argwhere((layer.inputs < 0) | (layer.inputs >= hi))
    if bad.size:
        neuron, m = (int(v) for v in bad[0])
        raise NetlistError(
            f"{where}: layer {l}, neuron {neuron}: input {m} reads signal {int(layer.inputs[neuron, m])}, "
            f"outside 0..{hi - 1}"
        )
    if k < MAX_K:
        over = np.flatnonzero(layer.tables > table_mask(k))
        if over.size:
            neuron = int(over[0])
            raise NetlistError(
                f"{where}: layer {l}, neuron {neuron}: truth table {int(layer.tables[neuron]):#x} "
                f"is wider than 2**{k} = {1 << k} bits"
            )

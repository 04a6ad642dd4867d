"""The compact form of a convolutional logic network, and its lowering to the flat Netlist.

Compact form (what checkpoint format version 2 stores, docs/checkpoint.md)
===========================================================================

A :class:`ConvNet` is a list of *stages* applied in order to the input bits,
followed by the optional GroupSum; encoder and GroupSum are those of
:mod:`lut2rtl.netlist`.

Images
    A stage that sees an image reads it as ``(H, W, C)`` bits laid out
    channel-innermost: bit ``(h * W + w) * C + c``. The thermometer encoder
    of an ``H x W`` image with ``m`` thresholds per pixel produces exactly this
    layout with ``C = m`` (bit ``f * m + i``, ``f = h * W + w``).

:class:`ConvStage`
    ``K`` output channels, each a tree of LUTs of fan-in ``k`` and depth ``d``
    over a ``kh x kw x C`` receptive field, the same tree at every output
    position (weights shared). Leaf ``i`` of kernel ``o`` reads receptive-field
    bit ``leaves[o, i] = (dy * kw + dx) * C + c``; node ``j`` of level 0 reads
    leaves ``j*k .. j*k+k-1`` (in that order: ``x_0`` first); node ``j`` of level
    ``l > 0`` reads nodes ``j*k .. j*k+k-1`` of level ``l - 1``; level ``d - 1``
    has one node, the channel's output. ``tables[l][o, j]`` is the truth table
    (netlist encoding) of node ``j`` of level ``l`` of kernel ``o``. A depth-2
    tree of 2-input gates is LogicTreeNet's kernel; ``d = 1`` is one k-input LUT.
    Output position ``(oh, ow)`` reads input pixel
    ``(oh * stride - padding + dy, ow * stride - padding + dx)``; a pixel outside
    the image is the constant 0. Output size ``(H + 2p - kh) // stride + 1``
    (likewise for W) by ``K`` channels.

:class:`PoolStage`
    OR pooling (max on bits): output ``(oh, ow, c)`` is the OR of the
    ``ph x pw`` window at ``(oh * stride, ow * stride)`` of channel ``c``; no
    padding; the window must hold at most 6 bits (one LUT).

:class:`DenseStage`
    A layer of the flat netlist: ``inputs [n, k]`` index the previous stage's
    outputs (flattened, layout as above), ``tables [n]``.

Lowering
========

:func:`lower` is the one deterministic map from the compact form to a layered
:class:`~lut2rtl.netlist.Netlist`: one copy of every kernel tree per output
position. A conv stage becomes ``d`` layers; level ``l`` holds its nodes in the
order (position ``oh * OW + ow``, kernel ``o``, node ``j``), so its last level's
outputs are the stage's image in the layout above. A leaf that reads padding is
folded into its LUT's table (the table's cofactor at that input = 0) and wired
to signal 0 of the previous layer, which the table then ignores. A pool stage
becomes one layer of ``ph * pw``-input OR LUTs. The lowered network computes,
bit for bit, what the torch model computes in eval mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import NetlistError
from .netlist import MAX_K, GroupSum, Netlist, Thermometer, check_netlist, rows_to_table, table_mask, table_to_rows

__all__ = [
    "ConvNet",
    "ConvStage",
    "DenseStage",
    "PoolStage",
    "Stage",
    "check_conv_net",
    "cofactor_zero",
    "conv_summary",
    "lower",
    "or_table",
    "pool_windows",
]


def _shape3(v: Sequence[int]) -> tuple[int, int, int]:
    return tuple(int(x) for x in v)  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class ConvStage:
    """A logic convolution (see the module docstring)."""

    in_shape: tuple[int, int, int]  # H, W, C
    kernel: tuple[int, int]  # kh, kw
    stride: int
    padding: int
    k: int
    depth: int
    leaves: np.ndarray  # int64 [K, k**depth]: receptive-field bit of each leaf
    tables: tuple[np.ndarray, ...]  # depth arrays uint64 [K, k**(depth-1-l)]

    kind = "conv"

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_shape", _shape3(self.in_shape))
        object.__setattr__(self, "kernel", tuple(int(x) for x in self.kernel))
        object.__setattr__(self, "leaves", np.asarray(self.leaves, dtype=np.int64))
        object.__setattr__(self, "tables", tuple(np.asarray(t, dtype=np.uint64) for t in self.tables))

    @property
    def channels(self) -> int:
        return int(self.leaves.shape[0]) if self.leaves.ndim == 2 else 0

    @property
    def field_bits(self) -> int:
        """Bits of one receptive field: ``kh * kw * C``."""
        return self.kernel[0] * self.kernel[1] * self.in_shape[2]

    @property
    def out_shape(self) -> tuple[int, int, int]:
        h, w, _ = self.in_shape
        (kh, kw), s, p = self.kernel, self.stride, self.padding
        return (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1, self.channels

    @property
    def n_luts(self) -> int:
        oh, ow, _ = self.out_shape
        return oh * ow * sum(int(t.size) for t in self.tables)


@dataclass(frozen=True, eq=False)
class PoolStage:
    """OR pooling over ``ph x pw`` windows (see the module docstring)."""

    in_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    stride: int

    kind = "or_pool"

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_shape", _shape3(self.in_shape))
        object.__setattr__(self, "kernel", tuple(int(x) for x in self.kernel))

    @property
    def out_shape(self) -> tuple[int, int, int]:
        h, w, c = self.in_shape
        (ph, pw), s = self.kernel, self.stride
        return (h - ph) // s + 1, (w - pw) // s + 1, c


@dataclass(frozen=True, eq=False)
class DenseStage:
    """A LUT layer reading the previous stage's outputs (local indices)."""

    k: int
    inputs: np.ndarray  # int64 [n, k]
    tables: np.ndarray  # uint64 [n]

    kind = "dense"

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", np.asarray(self.inputs, dtype=np.int64))
        object.__setattr__(self, "tables", np.asarray(self.tables, dtype=np.uint64))


Stage = ConvStage | PoolStage | DenseStage


@dataclass(frozen=True, eq=False)
class ConvNet:
    """Stages over ``n_inputs`` bits, then the optional GroupSum (compact form)."""

    n_inputs: int
    stages: tuple[Stage, ...]
    group_sum: GroupSum | None = None
    encoder: Thermometer | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))


def _width(shape: Sequence[int]) -> int:
    return int(math.prod(shape))


def check_conv_net(net: ConvNet, *, where: str = "model") -> None:
    """Validate the geometry and shapes of a compact network; raise :class:`NetlistError`
    naming the stage (``stages[i] (conv)``) and what does not fit."""
    if not net.stages:
        raise NetlistError(f"{where}: the network has no stages")
    width = int(net.n_inputs)
    prev_shape: tuple[int, int, int] | None = None
    for i, st in enumerate(net.stages):
        here = f"{where}: stages[{i}] ({st.kind})"
        if isinstance(st, (ConvStage, PoolStage)):
            h, w, c = st.in_shape
            if min(h, w, c) < 1:
                raise NetlistError(f"{here}: in_shape {st.in_shape} must be positive")
            if prev_shape is not None and st.in_shape != prev_shape:
                raise NetlistError(f"{here}: in_shape {st.in_shape} (H, W, C) disagrees with the "
                                   f"{prev_shape} the previous stage produces")
            if _width(st.in_shape) != width:
                raise NetlistError(f"{here}: in_shape {st.in_shape} holds {_width(st.in_shape)} bits but its "
                                   f"input has {width}")
            kh, kw = st.kernel
            if min(kh, kw) < 1 or st.stride < 1:
                raise NetlistError(f"{here}: kernel {kh}x{kw} and stride {st.stride} must be positive")
            pad = st.padding if isinstance(st, ConvStage) else 0
            if pad < 0:
                raise NetlistError(f"{here}: padding {pad} must be >= 0")
            if kh > h + 2 * pad or kw > w + 2 * pad:
                raise NetlistError(f"{here}: kernel {kh}x{kw} is larger than its input {h}x{w} "
                                   f"(padding {pad})")
            if isinstance(st, ConvStage):
                _check_conv_params(st, here)
            elif kh * kw > MAX_K:
                raise NetlistError(f"{here}: a {kh}x{kw} window is {kh * kw} bits, more than one LUT "
                                   f"({MAX_K} inputs) holds")
            prev_shape = st.out_shape
            width = _width(prev_shape)
        elif isinstance(st, DenseStage):
            k, idx, t = st.k, st.inputs, st.tables
            if not 1 <= k <= MAX_K:
                raise NetlistError(f"{here}: fan-in k={k} outside 1..{MAX_K}")
            if t.ndim != 1 or t.shape[0] == 0 or idx.shape != (t.shape[0], k):
                raise NetlistError(f"{here}: inputs {tuple(idx.shape)} and tables {tuple(t.shape)} do not "
                                   f"describe n LUTs of k={k}")
            bad = np.argwhere((idx < 0) | (idx >= width))
            if bad.size:
                n, m = (int(v) for v in bad[0])
                raise NetlistError(f"{here}, neuron {n}: input {m} is {int(idx[n, m])}, outside 0..{width - 1}")
            prev_shape = None
            width = int(t.shape[0])
        else:
            raise NetlistError(f"{here}: unknown stage")


def _check_conv_params(st: ConvStage, here: str) -> None:
    k, d = st.k, st.depth
    if not 1 <= k <= MAX_K or d < 1:
        raise NetlistError(f"{here}: fan-in k={k} must be in 1..{MAX_K} and depth {d} >= 1")
    n_leaves = k ** d
    if st.leaves.ndim != 2 or st.leaves.shape[0] < 1 or st.leaves.shape[1] != n_leaves:
        raise NetlistError(f"{here}: leaves have shape {tuple(st.leaves.shape)}, expected (channels, {n_leaves}) "
                           f"for trees of k={k}, depth {d}")
    bad = np.argwhere((st.leaves < 0) | (st.leaves >= st.field_bits))
    if bad.size:
        o, i = (int(v) for v in bad[0])
        raise NetlistError(f"{here}, kernel {o}: leaf {i} reads receptive-field bit {int(st.leaves[o, i])}, "
                           f"outside 0..{st.field_bits - 1} ({st.kernel[0]}x{st.kernel[1]}x{st.in_shape[2]})")
    if len(st.tables) != d:
        raise NetlistError(f"{here}: {len(st.tables)} table levels for a tree of depth {d}")
    for lv, t in enumerate(st.tables):
        want = (st.channels, k ** (d - 1 - lv))
        if t.shape != want:
            raise NetlistError(f"{here}: tables[{lv}] has shape {tuple(t.shape)}, expected {want}")
        if k < MAX_K and np.any(t > table_mask(k)):
            o, j = (int(v) for v in np.argwhere(t > table_mask(k))[0])
            raise NetlistError(f"{here}, kernel {o}: level {lv} node {j} table {int(t[o, j]):#x} is wider than "
                               f"2**{k} bits")


# --------------------------------------------------------------------------
# Lowering
# --------------------------------------------------------------------------

def cofactor_zero(tables: np.ndarray, k: int, m: int) -> np.ndarray:
    """Tables with input ``x_m`` fixed at 0 (the result ignores ``x_m``)."""
    rows = table_to_rows(tables, k)
    j = np.arange(1 << k)
    return rows_to_table(rows[..., j & ~(1 << (k - 1 - m))])


def or_table(k: int) -> int:
    """The table of a k-input OR."""
    return (1 << ((1 << k) - 1)) - 1  # every row but row 0 (all inputs 0, the most significant bit)


def _conv_layers(st: ConvStage) -> list[tuple[np.ndarray, np.ndarray]]:
    h, w, c = st.in_shape
    kh, kw = st.kernel
    oh_n, ow_n, kk = st.out_shape
    k, d = st.k, st.depth
    oh, ow = np.meshgrid(np.arange(oh_n), np.arange(ow_n), indexing="ij")
    oh, ow = oh.reshape(-1, 1, 1), ow.reshape(-1, 1, 1)  # [P, 1, 1]
    r = st.leaves[None, :, :]  # [1, K, k**d]
    dy, dx, ch = r // (kw * c), (r // c) % kw, r % c
    ih = oh * st.stride - st.padding + dy
    iw = ow * st.stride - st.padding + dx
    inside = (ih >= 0) & (ih < h) & (iw >= 0) & (iw < w)  # [P, K, leaves]
    src = np.where(inside, (ih * w + iw) * c + ch, 0)
    n0 = k ** (d - 1)
    p_n = oh_n * ow_n
    src = src.reshape(p_n, kk, n0, k)
    inside = inside.reshape(p_n, kk, n0, k)
    tab = np.broadcast_to(st.tables[0][None, :, :], (p_n, kk, n0)).copy()
    for m in range(k):
        pad = ~inside[..., m]
        if pad.any():
            tab[pad] = cofactor_zero(tab[pad], k, m)
    layers = [(src.reshape(-1, k), tab.reshape(-1))]
    for lv in range(1, d):
        n_prev, n_l = k ** (d - lv), k ** (d - 1 - lv)
        # node (p, o, j) reads nodes (p, o, j*k + m) of the previous level
        base = (np.arange(p_n * kk) * n_prev)[:, None, None] + (np.arange(n_l) * k)[None, :, None]
        idx = (base + np.arange(k)[None, None, :]).reshape(-1, k)
        layers.append((idx, np.broadcast_to(st.tables[lv][None], (p_n, kk, n_l)).reshape(-1)))
    return layers


def pool_windows(st: PoolStage) -> np.ndarray:
    """Input index of every window bit ``int64 [OH*OW*C, ph*pw]`` (outputs in image layout)."""
    _, w, c = st.in_shape
    ph, pw = st.kernel
    oh_n, ow_n, _ = st.out_shape
    oh, ow, ch = np.meshgrid(np.arange(oh_n), np.arange(ow_n), np.arange(c), indexing="ij")
    dy, dx = np.meshgrid(np.arange(ph), np.arange(pw), indexing="ij")
    ih = oh.reshape(-1, 1) * st.stride + dy.reshape(1, -1)
    iw = ow.reshape(-1, 1) * st.stride + dx.reshape(1, -1)
    return (ih * w + iw) * c + ch.reshape(-1, 1)


def lower(net: ConvNet, *, where: str = "model") -> Netlist:
    """The flat, layered :class:`Netlist` of a compact network (see the module docstring)."""
    check_conv_net(net, where=where)
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    for st in net.stages:
        if isinstance(st, ConvStage):
            layers += _conv_layers(st)
        elif isinstance(st, PoolStage):
            idx = pool_windows(st)
            layers.append((idx, np.full(idx.shape[0], or_table(idx.shape[1]), dtype=np.uint64)))
        else:
            layers.append((st.inputs, st.tables))
    out = Netlist.layered(net.n_inputs, layers, group_sum=net.group_sum, encoder=net.encoder,
                          metadata=dict(net.metadata))
    check_netlist(out, where=where)
    return out


def conv_summary(net: ConvNet) -> list[dict[str, Any]]:
    """One plain-data row per stage (kind, shapes, LUTs after lowering), for reports."""
    rows: list[dict[str, Any]] = []
    for i, st in enumerate(net.stages):
        if isinstance(st, ConvStage):
            rows.append({"stage": i, "kind": st.kind, "in_shape": list(st.in_shape), "out_shape": list(st.out_shape),
                         "kernel": list(st.kernel), "stride": st.stride, "padding": st.padding, "k": st.k,
                         "depth": st.depth, "luts": st.n_luts,
                         "shared_luts": sum(int(t.size) for t in st.tables)})
        elif isinstance(st, PoolStage):
            oh, ow, c = st.out_shape
            rows.append({"stage": i, "kind": st.kind, "in_shape": list(st.in_shape), "out_shape": [oh, ow, c],
                         "kernel": list(st.kernel), "stride": st.stride, "luts": oh * ow * c})
        else:
            rows.append({"stage": i, "kind": st.kind, "k": st.k, "luts": int(st.tables.shape[0])})
    return rows

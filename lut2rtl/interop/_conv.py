"""torchlogix ``LogicConv2d`` and ``OrPooling2d`` read by structure into the compact form
(:mod:`lut2rtl.lowering`).

torchlogix facts (``layers/conv.py``, ``connections.py`` ``FixedConvConnections``, ``layers/pool.py``):

* The input is ``(B, C, H, W)``; the conv pads it with zeros (``padding`` on every side).
* ``connections.indices[0]`` has shape ``(L, K, P, S, 3)`` (``L = lut_rank``, ``K = num_kernels``,
  ``P`` output positions row-major, ``S = L**(tree_depth-1)`` first-level nodes): the ``(h, w, c)``
  coordinates, in the padded input, of input ``m`` of node ``s`` of kernel ``k`` at position ``p``;
  every position is the first one shifted by ``(oh * stride, ow * stride)``.
* Level ``l > 0`` node ``j`` reads nodes ``j*L .. j*L+L-1`` of level ``l - 1`` (``indices[l] =
  arange(L**(d-l)).view(-1, L).T``), input ``m`` the ``m``-th of them.
* ``tree_weights[l]`` has shape ``(L**(d-1-l), K, parameters)``: node ``j`` of kernel ``k``.
* The output is ``(B, K, OH, OW)``; ``OrPooling2d`` max-pools it; ``Flatten`` then reads it
  channel-major (``c * OH * OW + h * OW + w``). lut2rtl's images are channel-innermost
  (``(h * W + w) * C + c``): the importer renumbers what the next dense layer reads, and the
  imported network reads its input bits as ``x.permute(1, 2, 0).flatten()`` of torchlogix's
  ``(C, H, W)`` input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lowering import ConvStage, DenseStage, PoolStage
from . import conventions as conv
from ._load import InteropError

__all__ = ["chw_to_hwc", "conv_stage", "pool_stage"]


def _pair(v: Any, what: str, label: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(x, (int, np.integer)) for x in v):
        return int(v[0]), int(v[1])
    raise InteropError(f"{label}: {what}={v!r} is not an integer or a pair of integers")


def _int(v: Any, what: str, label: str, *, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < lo:
        raise InteropError(f"{label}: {what}={v!r} is not an integer >= {lo}")
    return int(v)


def conv_stage(u: Any, param_name: str, to_np: Any) -> ConvStage:
    """The :class:`ConvStage` of a ``LogicConv2d`` unit (``u``: a :class:`._model.Unit`)."""
    label = u.label
    if u.get("conv_dimension") not in (None, 2):
        raise InteropError(f"{label}: conv_dimension={u.get('conv_dimension')!r}: only 2-D convolutions "
                           f"are supported (LogicConv3d is not)")
    h, w = _pair(u.get("in_dim"), "in_dim", label)
    c = _int(u.get("channels"), "channels", label, lo=1)
    kh, kw = _pair(u.get("receptive_field_size"), "receptive_field_size", label)
    stride = _int(u.get("stride"), "stride", label, lo=1)
    pad = _int(u.get("padding"), "padding", label)
    depth = _int(u.get("tree_depth"), "tree_depth", label, lo=1)
    k = _int(u.get("lut_rank"), "lut_rank", label, lo=1)
    if kh > h + 2 * pad or kw > w + 2 * pad:
        raise InteropError(f"{label}: kernel {kh}x{kw} is larger than its input {h}x{w} (padding {pad})")
    if u.get("connections.weights") is not None:
        raise InteropError(f"{label}: learnable connections are not supported (fixed wiring only)")
    idx_all = u.get("connections.indices")
    if not isinstance(idx_all, (list, tuple)) or not idx_all:
        raise InteropError(f"{label}: no connections.indices (a list of per-level index tensors)")
    idx0 = to_np(idx_all[0], "connections.indices[0]", u, integer=True)
    oh_n, ow_n = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    n0 = k ** (depth - 1)
    n_k = idx0.shape[1] if idx0.ndim == 5 else -1
    if idx0.ndim != 5 or idx0.shape != (k, n_k, oh_n * ow_n, n0, 3):
        raise InteropError(f"{label}: connections.indices[0] has shape {tuple(idx0.shape)}, expected "
                           f"({k}, kernels, {oh_n * ow_n}, {n0}, 3) for lut_rank {k}, tree_depth {depth} and "
                           f"{oh_n}x{ow_n} output positions")
    # every position must be the first one shifted by the stride: a sliding window
    oh, ow = np.meshgrid(np.arange(oh_n), np.arange(ow_n), indexing="ij")
    shift = np.stack([oh.reshape(-1) * stride, ow.reshape(-1) * stride, np.zeros(oh.size, np.int64)], axis=-1)
    base = idx0[:, :, :1]
    if not np.array_equal(idx0, base + shift[None, None, :, None, :]):
        raise InteropError(f"{label}: connections.indices[0] is not one receptive field slid over the "
                           f"positions (stride {stride}); lut2rtl shares each kernel across positions")
    dy, dx, ch = base[:, :, 0, :, 0], base[:, :, 0, :, 1], base[:, :, 0, :, 2]  # [L, K, S]
    if dy.min() < 0 or dy.max() >= kh or dx.min() < 0 or dx.max() >= kw or ch.min() < 0 or ch.max() >= c:
        raise InteropError(f"{label}: connections.indices[0] reads outside the {kh}x{kw}x{c} receptive field")
    rf = (dy * kw + dx) * c + ch
    leaves = rf.transpose(1, 2, 0).reshape(n_k, n0 * k)  # kernel o, node j, input m -> leaf j*k + m
    for lv in range(1, depth):
        want = np.arange(k ** (depth - lv)).reshape(-1, k).T
        if lv >= len(idx_all) or not np.array_equal(to_np(idx_all[lv], f"connections.indices[{lv}]", u,
                                                          integer=True), want):
            raise InteropError(f"{label}: connections.indices[{lv}] is not torchlogix's binary tree "
                               f"(node j reads nodes j*{k} .. j*{k}+{k - 1})")
    tw = u.get("tree_weights")
    if not isinstance(tw, (list, tuple)) and tw is not None and hasattr(tw, "__dict__"):
        mods = tw.__dict__.get("_parameters") or tw.__dict__.get("_modules") or {}
        tw = [mods[key] for key in sorted(mods, key=int)] if mods else None
    if not isinstance(tw, (list, tuple)) or len(tw) != depth:
        raise InteropError(f"{label}: tree_weights must hold {depth} levels (one per tree level)")
    tables = []
    for lv, wl in enumerate(tw):
        a = to_np(wl, f"tree_weights[{lv}]", u, integer=False)
        n_l = k ** (depth - 1 - lv)
        width = 16 if param_name == "raw" else 1 << k
        if a.shape != (n_l, n_k, width):
            raise InteropError(f"{label}: tree_weights[{lv}] has shape {tuple(a.shape)}, expected "
                               f"({n_l}, {n_k}, {width}) for {param_name!r} with lut_rank {k}")
        t = conv.tables_from_parameters(param_name, a.reshape(-1, width), k).reshape(n_l, n_k)
        tables.append(t.T.copy())
    return ConvStage((h, w, c), (kh, kw), stride, pad, k, depth, leaves, tuple(tables))


def pool_stage(u: Any, in_shape: tuple[int, int, int]) -> PoolStage:
    """The :class:`PoolStage` of an ``OrPooling2d`` unit reading ``in_shape`` (H, W, C)."""
    label = u.label
    kernel = _pair(u.get("kernel_size"), "kernel_size", label)
    stride = _pair(u.get("stride") if u.get("stride") is not None else kernel, "stride", label)
    pad = u.get("padding") or 0
    if _pair(pad, "padding", label) != (0, 0):
        raise InteropError(f"{label}: padding={pad!r}: OR pooling with padding is not supported")
    if stride[0] != stride[1]:
        raise InteropError(f"{label}: stride={stride}: only equal strides are supported")
    return PoolStage(in_shape, kernel, stride[0])


def chw_to_hwc(shape: tuple[int, int, int]) -> np.ndarray:
    """``perm[i]``: lut2rtl's index of the bit torchlogix's ``Flatten`` puts at ``i`` (``(C, H, W)`` order)."""
    h, w, c = shape
    i = np.arange(h * w * c)
    ch, rest = i // (h * w), i % (h * w)
    return (rest * c + ch).astype(np.int64)


def reorder_stage(shape: tuple[int, int, int]) -> DenseStage:
    """Wires (k = 1 identity LUTs) putting an image into torchlogix's flattened order, for a GroupSum
    that reads it directly (the wire pass removes them in hardware)."""
    perm = chw_to_hwc(shape)
    return DenseStage(1, perm[:, None], np.full(perm.size, 1, dtype=np.uint64))

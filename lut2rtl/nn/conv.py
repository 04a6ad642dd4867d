"""Convolutional logic layers in torch: a logic convolution (a LUT tree per output
channel, shared across positions), OR pooling, and the network that puts them
in front of the dense layers.

Every tree level of a :class:`LogicConv2d` *is* a dense :class:`~.layers.LogicLayer`
of any method (dlgn, gumbel, light, warp, built by :func:`~.layers.make_layer`):
the output positions are folded into the batch, so each level's parameters are
shared by every position and the four parametrizations need no code of their
own. Image layout, tree order and padding are those of :mod:`lut2rtl.lowering`,
whose :func:`~lut2rtl.lowering.lower` turns :meth:`ConvLogicNet.to_conv_net`
into the flat netlist; in ``eval()`` mode the forward computes exactly that
netlist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..lowering import ConvNet, ConvStage, DenseStage, PoolStage, Stage, check_conv_net, lower, pool_windows
from ..netlist import GroupSum, Netlist, Thermometer
from .layers import LogicLayer, make_layer
from .model import LogicNet, dense_layers, options_for

__all__ = ["ConvLogicNet", "LogicConv2d", "OrPool2d", "build_conv_net", "draw_leaves"]


def _conv_out(n: int, kernel: int, stride: int, padding: int) -> int:
    return (n + 2 * padding - kernel) // stride + 1


def draw_leaves(rng: np.random.Generator, field_bits: int, channels: int, n_leaves: int) -> np.ndarray:
    """Receptive-field bit of every leaf ``int64 [channels, n_leaves]``: distinct bits per kernel
    when the field has enough of them, else every bit about equally often."""
    if n_leaves <= field_bits:
        return np.stack([rng.choice(field_bits, n_leaves, replace=False) for _ in range(channels)]).astype(np.int64)
    reps = -(-n_leaves // field_bits)
    return np.stack([np.concatenate([rng.permutation(field_bits) for _ in range(reps)])[:n_leaves]
                     for _ in range(channels)]).astype(np.int64)


class LogicConv2d(nn.Module):
    """``channels`` LUT trees (fan-in ``k``, ``depth`` levels) over ``kh x kw x C`` receptive fields.

    ``forward`` takes ``[B, H*W*C]`` bits (layout of :mod:`lut2rtl.lowering`) and returns
    ``[B, OH*OW*channels]``. ``leaves [channels, k**depth]`` are receptive-field bit indices
    ``(dy * kw + dx) * C + c``; ``options`` go to each level's layer constructor.
    """

    def __init__(self, method: str, in_shape: Sequence[int], leaves: np.ndarray, *, kernel: int | Sequence[int] = 3,
                 stride: int = 1, padding: int = 0, k: int = 2, depth: int = 2, **options: object) -> None:
        super().__init__()
        self.method = method
        self.in_shape = tuple(int(v) for v in in_shape)
        self.kernel = (int(kernel), int(kernel)) if isinstance(kernel, int) else tuple(int(v) for v in kernel)
        self.stride, self.padding, self.k, self.depth = int(stride), int(padding), int(k), int(depth)
        h, w, c = self.in_shape
        kh, kw = self.kernel
        leaves = np.asarray(leaves, dtype=np.int64)
        self.channels = int(leaves.shape[0])
        self.out_shape = (_conv_out(h, kh, self.stride, self.padding), _conv_out(w, kw, self.stride, self.padding),
                          self.channels)
        # the stage checks the geometry (kernel larger than the input, leaves out of range, ...)
        probe = ConvStage(self.in_shape, self.kernel, self.stride, self.padding, self.k, self.depth, leaves,
                          tuple(np.zeros((self.channels, self.k ** (self.depth - 1 - lv)), np.uint64)
                                for lv in range(self.depth)))
        check_conv_net(ConvNet(h * w * c, (probe,)), where="LogicConv2d")
        n0 = self.k ** (self.depth - 1)
        levels = [leaves.reshape(self.channels * n0, self.k)]
        for lv in range(1, self.depth):
            n_prev, n_l = self.k ** (self.depth - lv), self.k ** (self.depth - 1 - lv)
            base = (np.arange(self.channels) * n_prev)[:, None, None] + (np.arange(n_l) * self.k)[None, :, None]
            levels.append((base + np.arange(self.k)[None, None, :]).reshape(-1, self.k))
        self.levels = nn.ModuleList(make_layer(method, idx, **options) for idx in levels)
        # patch gather: input index of every receptive-field bit at every position; h*w*c is the zero column
        oh, ow = np.meshgrid(np.arange(self.out_shape[0]), np.arange(self.out_shape[1]), indexing="ij")
        dy, dx, ch = np.meshgrid(np.arange(kh), np.arange(kw), np.arange(c), indexing="ij")
        ih = oh.reshape(-1, 1) * self.stride - self.padding + dy.reshape(1, -1)
        iw = ow.reshape(-1, 1) * self.stride - self.padding + dx.reshape(1, -1)
        inside = (ih >= 0) & (ih < h) & (iw >= 0) & (iw < w)
        patch = np.where(inside, (ih * w + iw) * c + ch.reshape(1, -1), h * w * c)
        self.register_buffer("patch_index", torch.from_numpy(patch.astype(np.int64)))

    @property
    def positions(self) -> int:
        return self.out_shape[0] * self.out_shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        xe = torch.cat([x, x.new_zeros(b, 1)], dim=1)
        h = xe[:, self.patch_index].reshape(b * self.positions, -1)  # positions folded into the batch
        for level in self.levels:
            h = level(h)
        return h.reshape(b, self.positions * self.channels)

    def to_stage(self) -> ConvStage:
        """The discretized layer in the compact form."""
        leaves = self.levels[0].idx.cpu().numpy().reshape(self.channels, -1)
        tables = tuple(level.tables().reshape(self.channels, -1) for level in self.levels)
        return ConvStage(self.in_shape, self.kernel, self.stride, self.padding, self.k, self.depth, leaves, tables)

    def extra_repr(self) -> str:
        return (f"{self.method}, in={self.in_shape}, out={self.out_shape}, kernel={self.kernel}, "
                f"stride={self.stride}, padding={self.padding}, k={self.k}, depth={self.depth}")


class OrPool2d(nn.Module):
    """OR pooling (max on bits) over ``kernel`` windows at ``stride``, no padding."""

    method = "or_pool"

    def __init__(self, in_shape: Sequence[int], kernel: int | Sequence[int] = 2, stride: int | None = None) -> None:
        super().__init__()
        self.in_shape = tuple(int(v) for v in in_shape)
        self.kernel = (int(kernel), int(kernel)) if isinstance(kernel, int) else tuple(int(v) for v in kernel)
        self.stride = self.kernel[0] if stride is None else int(stride)
        stage = self.to_stage()
        check_conv_net(ConvNet(int(np.prod(self.in_shape)), (stage,)), where="OrPool2d")
        self.out_shape = stage.out_shape
        self.register_buffer("window_index", torch.from_numpy(pool_windows(stage)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.window_index].amax(dim=-1)

    def to_stage(self) -> PoolStage:
        return PoolStage(self.in_shape, self.kernel, self.stride)

    def extra_repr(self) -> str:
        return f"in={self.in_shape}, kernel={self.kernel}, stride={self.stride}"


class ConvLogicNet(LogicNet):
    """Encoder -> logic convolutions / OR pooling -> dense logic layers -> GroupSum.

    ``forward`` as :class:`~.model.LogicNet`; the discretized network is
    :meth:`to_conv_net` (compact) or :meth:`to_netlist` (lowered, flat).
    """

    def to_conv_net(self, metadata: Mapping[str, Any] | None = None) -> ConvNet:
        stages: list[Stage] = []
        for layer in self.layers:
            if isinstance(layer, (LogicConv2d, OrPool2d)):
                stages.append(layer.to_stage())
            else:
                assert isinstance(layer, LogicLayer)
                stages.append(DenseStage(layer.k, layer.idx.cpu().numpy(), layer.tables()))
        enc = None if self.encoder is None else Thermometer(self.encoder.thresholds.cpu().numpy())
        gs = GroupSum(self.group_sum.classes, self.group_sum.tau, self.group_sum.beta)
        return ConvNet(self.n_inputs, tuple(stages), group_sum=gs, encoder=enc, metadata=dict(metadata or {}))

    def to_netlist(self, metadata: Mapping[str, Any] | None = None) -> Netlist:
        return lower(self.to_conv_net(metadata))


def build_conv_net(
    method: str,
    in_shape: Sequence[int],
    conv_channels: Sequence[int],
    widths: Sequence[int],
    *,
    classes: int,
    tau: float,
    kernel: int = 3,
    padding: int | None = None,
    stride: int = 1,
    k: int = 2,
    depth: int = 2,
    pool: int = 2,
    dense_k: int | None = None,
    seed: int | np.random.Generator = 0,
    thresholds: np.ndarray | None = None,
    layer_options: Mapping[str, Any] | None = None,
    wiring: str = "random",
    beta: float = 0.0,
) -> ConvLogicNet:
    """Conv blocks (a :class:`LogicConv2d` of ``c`` channels, padding ``kernel // 2`` by default, then
    ``pool x pool`` OR pooling while the image is at least ``pool`` wide; ``pool = 1``: none) for each
    ``c`` in ``conv_channels``, then dense layers of ``widths`` (fan-in ``dense_k``, default ``k``).
    Wiring comes from ``numpy.random.default_rng(seed)``; parameters from torch's RNG."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    opts = options_for(method, dict(layer_options or {}))
    pad = kernel // 2 if padding is None else padding
    shape = tuple(int(v) for v in in_shape)
    layers: list[nn.Module] = []
    for c in conv_channels:
        leaves = draw_leaves(rng, kernel * kernel * shape[2], int(c), k ** depth)
        conv = LogicConv2d(method, shape, leaves, kernel=kernel, stride=stride, padding=pad, k=k, depth=depth, **opts)
        layers.append(conv)
        shape = conv.out_shape
        if pool > 1 and min(shape[0], shape[1]) >= pool:
            p = OrPool2d(shape, pool)
            layers.append(p)
            shape = p.out_shape
    prev = int(np.prod(shape))
    if widths and widths[-1] % classes:
        raise ValueError(f"last width {widths[-1]} is not a multiple of the {classes} classes")
    if not widths and prev % classes:
        raise ValueError(f"the last conv stage's {prev} outputs are not a multiple of the {classes} classes")
    layers += dense_layers([method] * len(widths), prev, widths, [dense_k or k] * len(widths), rng, wiring, opts)
    n_inputs = int(np.prod(in_shape))
    return ConvLogicNet(n_inputs, layers, classes=classes, tau=tau, beta=beta,  # type: ignore[arg-type]
                        thresholds=thresholds)

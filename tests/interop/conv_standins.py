"""Stand-ins for torchlogix's ``LogicConv2d`` and ``OrPooling2d`` (attribute names, shapes
and index layout of torchlogix ``layers/conv.py``, ``connections.py`` ``FixedConvConnections``,
``layers/pool.py``), whose forward restates torchlogix's own: zero padding, the level-0
gather ``x[:, c, h, w]`` with ``indices[0]`` of shape ``(L, K, P, S, 3)``, the tree levels
``x[..., indices[l]].movedim(-2, 1)``, the ``(B, K, OH, OW)`` output, ``max_pool2d``."""

from __future__ import annotations

import torch
from torch import nn

from . import standins as S


class FixedConvConnections(nn.Module):
    def __init__(self, in_dim: tuple[int, int], channels: int, num_kernels: int, tree_depth: int,
                 rfs: tuple[int, int], stride: int, padding: int, lut_rank: int, gen: torch.Generator) -> None:
        super().__init__()
        self.lut_rank, self.tree_depth = lut_rank, tree_depth
        s = lut_rank ** (tree_depth - 1)
        # (L, K, S, 3): (h, w, c) inside the receptive field, then slid over the padded input
        coords = torch.stack([torch.randint(0, rfs[0], (lut_rank, num_kernels, s), generator=gen),
                              torch.randint(0, rfs[1], (lut_rank, num_kernels, s), generator=gen),
                              torch.randint(0, channels, (lut_rank, num_kernels, s), generator=gen)], dim=-1)
        padded = [d + 2 * padding for d in in_dim]
        starts = [torch.arange(0, p - r + 1, stride) for p, r in zip(padded, rfs)]
        gh, gw = torch.meshgrid(*starts, indexing="ij")
        off = torch.stack([gh.flatten(), gw.flatten(), torch.zeros_like(gh.flatten())], dim=-1)  # (P, 3)
        first = coords.unsqueeze(2) + off.view(1, 1, -1, 1, 3)  # (L, K, P, S, 3)
        self.indices = [first] + [torch.arange(lut_rank ** (tree_depth - lv)).view(-1, lut_rank).transpose(0, 1)
                                  for lv in range(1, tree_depth)]


class LogicConv2d(nn.Module):
    def __init__(self, in_dim: tuple[int, int], channels: int, num_kernels: int, gen: torch.Generator, *,
                 tree_depth: int = 2, receptive_field_size: int = 3, stride: int = 1, padding: int = 0,
                 lut_rank: int = 2, parametrization: str = "raw", conv_dimension: int = 2) -> None:
        super().__init__()
        self.in_dim, self.channels, self.num_kernels = in_dim, channels, num_kernels
        self.tree_depth, self.receptive_field_size = tree_depth, (receptive_field_size, receptive_field_size)
        self.stride, self.padding, self.lut_rank, self.conv_dimension = stride, padding, lut_rank, conv_dimension
        self.parametrization = S._PARAM[parametrization](lut_rank)
        self.kind = parametrization
        width = 16 if parametrization == "raw" else 1 << lut_rank
        self.tree_weights = nn.ParameterList(
            nn.Parameter(torch.randn(lut_rank ** i, num_kernels, width, generator=gen))
            for i in reversed(range(tree_depth)))
        self.connections = FixedConvConnections(in_dim, channels, num_kernels, tree_depth,
                                                self.receptive_field_size, stride, padding, lut_rank, gen)
        self.kernel_positions = [(d + 2 * padding - r) // stride + 1 for d, r in zip(in_dim, self.receptive_field_size)]

    def _level(self, x: torch.Tensor, level: int) -> torch.Tensor:
        """Every node's discrete LUT: ``x (B, L, K, P, S)`` -> ``(B, K, P, S)``; node ``(s, k)`` has
        weights ``tree_weights[level][s, k]`` and reads ``x[:, m, k, :, s]`` as input ``m``."""
        b, lr, kk, p, s = x.shape
        dense = x.permute(0, 3, 1, 2, 4).reshape(b * p, lr * kk * s)  # features (m, k, s)
        node = torch.arange(kk * s)  # node order (k, s)
        idx = torch.stack([m * kk * s + node for m in range(lr)])
        w = self.tree_weights[level].permute(1, 0, 2).reshape(kk * s, -1)
        y = S._FORWARD[self.kind](dense, idx, w.double())
        return y.reshape(b, p, kk, s).permute(0, 2, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding > 0:
            x = torch.nn.functional.pad(x, (self.padding,) * 4 + (0, 0), mode="constant", value=0)
        i0 = self.connections.indices[0]
        x = x[(slice(None), i0[..., -1], *i0[..., :-1].moveaxis(-1, 0))]  # (B, L, K, P, S)
        x = self._level(x, 0)
        for level in range(1, self.tree_depth):
            x = x[..., self.connections.indices[level]]
            x = x.movedim(-2, 1)
            x = self._level(x, level)
        return x.reshape(x.shape[0], x.shape[1], *self.kernel_positions)


class OrPooling2d(nn.Module):
    def __init__(self, kernel_size: int, stride: int, padding: int = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.max_pool2d(x, kernel_size=self.kernel_size, stride=self.stride,
                                              padding=self.padding)


def conv_model(parametrization: str = "raw", *, seed: int = 0, lut_rank: int = 2, tree_depth: int = 2,
               dense: bool = True) -> nn.Sequential:
    """conv (8x8x2 -> 8x8x6, padding 1) -> OR pool 2 -> conv (4x4x6 -> 2x2x8) -> OR pool 2, stride 1
    -> flatten -> dense (20) -> GroupSum (without the dense layer: GroupSum of the 8 flattened bits)."""
    g = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = [
        LogicConv2d((8, 8), 2, 6, g, tree_depth=tree_depth, padding=1, lut_rank=lut_rank,
                    parametrization=parametrization),
        OrPooling2d(2, 2),
        LogicConv2d((4, 4), 6, 8, g, tree_depth=tree_depth, padding=0, stride=1, lut_rank=lut_rank,
                    parametrization=parametrization),
        OrPooling2d(2, 1),
        nn.Flatten(),
    ]
    if dense:
        layers.append(S.LogicDense(8, 20, g, lut_rank=2, parametrization=parametrization))
    layers.append(S.GroupSum(4 if dense else 2, tau=2.0))
    return nn.Sequential(*layers)


def conv_forward(model: nn.Sequential, x: torch.Tensor, classes: int) -> tuple:
    """Output bits, counts and predicted class: torchlogix's eval forward of the stand-in."""
    y = x.to(torch.float64)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, S.GroupSum):
                continue
            y = layer(y)
    counts, pred = S.group_sum(y, classes)
    return y.numpy().astype(bool), counts.numpy().astype("int64"), pred.numpy()

"""Float baselines for accuracy comparisons (not logic networks; never compiled).

``mlp``            a ReLU multilayer perceptron.
``dlgn-halfspace`` a Deep Linearly Gated Network: a gating network of linear
                   layers *without* nonlinearity whose per-layer signs ``[g > 0]``
                   gate a parallel value network; every hidden feature is active
                   on an intersection of half-spaces of the input.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BASELINES", "DLGNHalfspace", "MLP", "make_baseline"]

BASELINES = ("mlp", "dlgn-halfspace")


class MLP(nn.Module):
    """ReLU MLP with ``depth`` hidden layers of ``width``."""

    def __init__(self, n_in: int, width: int, depth: int, classes: int) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        prev = n_in
        for _ in range(depth):
            mods += [nn.Linear(prev, width), nn.ReLU()]
            prev = width
        mods.append(nn.Linear(prev, classes))
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DLGNHalfspace(nn.Module):
    """Deep Linearly Gated Network.

    Gating path: ``g_l = W_l g_{l-1}`` (linear, no nonlinearity, ``g_0 = x``).
    Value path: ``v_l = (U_l v_{l-1}) * gate(g_l)`` with ``gate = sigmoid(beta g)``
    while training and the hard half-space indicator ``[g > 0]`` in eval mode.
    """

    def __init__(self, n_in: int, width: int, depth: int, classes: int, beta: float = 4.0) -> None:
        super().__init__()
        self.gating = nn.ModuleList(nn.Linear(n_in if i == 0 else width, width) for i in range(depth))
        self.value = nn.ModuleList(nn.Linear(n_in if i == 0 else width, width) for i in range(depth))
        self.head = nn.Linear(width, classes)
        self.beta = float(beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g, v = x, x
        for gl, vl in zip(self.gating, self.value):
            g = gl(g)
            gate = torch.sigmoid(self.beta * g) if self.training else (g > 0).to(g.dtype)
            v = vl(v) * gate
        return self.head(v)


def make_baseline(method: str, n_in: int, width: int, depth: int, classes: int) -> nn.Module:
    """A float baseline model by name."""
    if method == "mlp":
        return MLP(n_in, width, depth, classes)
    if method == "dlgn-halfspace":
        return DLGNHalfspace(n_in, width, depth, classes)
    raise ValueError(f"unknown baseline {method!r} (choose from {', '.join(BASELINES)})")

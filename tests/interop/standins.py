"""Stand-ins for difflogic / torchlogix modules, plus their discrete forward
written out independently of lut2rtl (the 16 gate formulas, the light and
Walsh bases as the tools' sources define them)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# --------------------------------------------------------------------------
# The discrete forward, as the tools compute it in eval mode


def bin_op(a: torch.Tensor, b: torch.Tensor, i: int) -> torch.Tensor:
    """difflogic functional.bin_op (real-valued, exact on 0/1)."""
    return [
        lambda: torch.zeros_like(a), lambda: a * b, lambda: a - a * b, lambda: a,
        lambda: b - a * b, lambda: b, lambda: a + b - 2 * a * b, lambda: a + b - a * b,
        lambda: 1 - (a + b - a * b), lambda: 1 - (a + b - 2 * a * b), lambda: 1 - b,
        lambda: 1 - b + a * b, lambda: 1 - a, lambda: 1 - a + a * b, lambda: 1 - a * b,
        lambda: torch.ones_like(a),
    ][i]()


def raw_forward(x: torch.Tensor, idx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """One-hot(argmax) mixture of the 16 ops; idx [2, n]."""
    a, b = x[:, idx[0]], x[:, idx[1]]
    onehot = torch.nn.functional.one_hot(w.argmax(-1), 16).to(x.dtype)  # [n, 16]
    return sum(onehot[:, i] * bin_op(a, b, i) for i in range(16))


def light_forward(x: torch.Tensor, idx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """sum_j [w_j > 0] * prod_m (x_m if bit k-1-m of j else 1 - x_m)."""
    k = idx.shape[0]
    xs = [x[:, idx[m]] for m in range(k)]
    hard = (w > 0).to(x.dtype)
    out = torch.zeros_like(xs[0])
    for j in range(1 << k):
        term = torch.ones_like(xs[0])
        for m in range(k):
            term = term * (xs[m] if (j >> (k - 1 - m)) & 1 else 1 - xs[m])
        out = out + hard[:, j] * term
    return out


def walsh_forward(x: torch.Tensor, idx: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """x^ = 1 - 2x; z = sum_j c_j prod_{m: bit k-1-m of j} x^_m; out = z < 0."""
    k = idx.shape[0]
    xs = [1 - 2 * x[:, idx[m]] for m in range(k)]
    z = torch.zeros_like(xs[0])
    for j in range(1 << k):
        term = torch.ones_like(xs[0])
        for m in range(k):
            if (j >> (k - 1 - m)) & 1:
                term = term * xs[m]
        z = z + c[:, j] * term
    return (-z > 0).to(x.dtype)


def walsh_legacy_forward(x: torch.Tensor, idx: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """torchlogix 0.1.0: A = 2a - 1, B = 2b - 1, basis [1, A, B, AB], out = z > 0."""
    a, b = x[:, idx[0]], x[:, idx[1]]
    A, B = 2 * a - 1, 2 * b - 1
    basis = torch.stack([torch.ones_like(A), A, B, A * B], dim=-1)
    return ((c * basis).sum(-1) > 0).to(x.dtype)


def group_sum(y: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    counts = y.reshape(y.shape[0], k, -1).sum(-1)
    return counts, counts.argmax(-1)


# --------------------------------------------------------------------------
# difflogic stand-ins (attribute names of difflogic/difflogic.py)


class LogicLayer(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, gen: torch.Generator) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.randn(out_dim, 16, generator=gen))
        c = torch.randint(0, in_dim, (2, out_dim), generator=gen)
        self.indices = (c[0], c[1])  # a plain attribute, not in the state dict
        self.in_dim, self.out_dim = in_dim, out_dim
        self.connections = "random"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return raw_forward(x, torch.stack(self.indices), self.weights)


class GroupSum(nn.Module):
    def __init__(self, k: int, tau: float = 1.0, beta: float | None = None) -> None:
        super().__init__()
        self.k, self.tau = k, tau
        if beta is not None:
            self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x  # the tests read bits and counts themselves


def difflogic_model(widths: list[int], n_in: int, classes: int, seed: int = 0) -> nn.Sequential:
    gen = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    prev = n_in
    for w in widths:
        layers.append(LogicLayer(prev, w, gen))
        prev = w
    layers.append(GroupSum(classes, tau=10.0))
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------
# torchlogix stand-ins (attribute names of torchlogix layers/dense.py,
# connections.py, parametrization.py, layers/binarization.py, groupsum.py)


class RawLUTParametrization:
    def __init__(self, lut_rank: int) -> None:
        self.lut_rank = lut_rank


class LightLUTParametrization(RawLUTParametrization):
    pass


class WalshLUTParametrization(RawLUTParametrization):
    pass


_PARAM = {"raw": RawLUTParametrization, "light": LightLUTParametrization, "walsh": WalshLUTParametrization}
_FORWARD = {"raw": raw_forward, "light": light_forward, "walsh": walsh_forward}


class FixedDenseConnections(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, lut_rank: int, gen: torch.Generator) -> None:
        super().__init__()
        self.in_dim, self.out_dim, self.lut_rank = in_dim, out_dim, lut_rank
        self.indices = torch.randint(0, in_dim, (lut_rank, out_dim), generator=gen)


class LearnableDenseConnections(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, lut_rank: int, gen: torch.Generator) -> None:
        super().__init__()
        self.indices = torch.randint(0, in_dim, (3, lut_rank, out_dim), generator=gen)
        self.weights = nn.Parameter(torch.rand(3, lut_rank, out_dim, generator=gen))


class LogicDense(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, gen: torch.Generator, *, lut_rank: int = 2,
                 parametrization: str = "raw", learnable: bool = False) -> None:
        super().__init__()
        self.in_dim, self.out_dim, self.lut_rank = in_dim, out_dim, lut_rank
        self.parametrization = _PARAM[parametrization](lut_rank)
        self.kind = parametrization
        width = 16 if parametrization == "raw" else 1 << lut_rank
        self.weight = nn.Parameter(torch.randn(out_dim, width, generator=gen))
        cls = LearnableDenseConnections if learnable else FixedDenseConnections
        self.connections = cls(in_dim, out_dim, lut_rank, gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _FORWARD[self.kind](x, self.connections.indices, self.weight.double())


class LegacyLogicDense(nn.Module):
    """torchlogix 0.1.0: string parametrization, indices tuple, k = 2."""

    def __init__(self, in_dim: int, out_dim: int, gen: torch.Generator, parametrization: str) -> None:
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.parametrization = parametrization
        self.weight = nn.Parameter(torch.randn(out_dim, 16 if parametrization == "raw" else 4, generator=gen))
        c = torch.randint(0, in_dim, (2, out_dim), generator=gen)
        self.indices = (c[0], c[1])
        self.connections = "random"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idx = torch.stack(self.indices)
        if self.parametrization == "raw":
            return raw_forward(x, idx, self.weight)
        return walsh_legacy_forward(x, idx, self.weight.double())


class FixedBinarization(nn.Module):
    def __init__(self, thresholds: torch.Tensor, feature_dim: int = -2) -> None:
        super().__init__()
        self.register_buffer("thresholds", thresholds)
        self.feature_dim = feature_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = (x.unsqueeze(-1) > self.thresholds).to(torch.float64)  # [B, F, m]
        return y.reshape(x.shape[0], -1)  # feature-major (merge dim -2 with last)


class LogicConv2d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 16))


def torchlogix_model(widths: list[int], n_features: int, m: int, classes: int, *, parametrization: str = "raw",
                     lut_rank: int = 2, seed: int = 0, global_thresholds: bool = False) -> nn.Sequential:
    gen = torch.Generator().manual_seed(seed)
    if global_thresholds:
        th = torch.sort(torch.rand(m, generator=gen) * 16).values
    else:
        th = torch.sort(torch.rand(n_features, m, generator=gen) * 16, dim=-1).values
    layers: list[nn.Module] = [FixedBinarization(th.float()), nn.Flatten()]
    prev = n_features * m
    for w in widths:
        layers.append(LogicDense(prev, w, gen, lut_rank=lut_rank, parametrization=parametrization))
        prev = w
    layers.append(GroupSum(classes, tau=3.0, beta=0.5))
    return nn.Sequential(*layers)


def discrete_forward(model: nn.Sequential, x: torch.Tensor, classes: int) -> tuple[np.ndarray, ...]:
    """Output bits, counts and predicted class of a stand-in model."""
    y = x.to(torch.float64)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, GroupSum):
                continue
            y = layer(y)
    counts, pred = group_sum(y, classes)
    return y.numpy().astype(bool), counts.numpy().astype(np.int64), pred.numpy()


def discrete_forward_bits(model: nn.Sequential, bits: np.ndarray, classes: int) -> tuple[np.ndarray, ...]:
    """:func:`discrete_forward` from input bits (skipping the thresholding)."""
    y = torch.from_numpy(np.asarray(bits, dtype=np.float64))
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, (GroupSum, FixedBinarization, nn.Flatten)):
                continue
            y = layer(y)
    counts, pred = group_sum(y, classes)
    return y.numpy().astype(bool), counts.numpy().astype(np.int64), pred.numpy()

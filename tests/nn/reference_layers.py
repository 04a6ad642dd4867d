"""The training layers as they were before the speed rewrite (issue 18), kept
verbatim as the reference the fast layers in :mod:`lut2rtl.nn.layers` are
tested against (outputs and gradients, every method and k), and importable by
``bench/bench_training.py`` to time the old implementation in the same run.

Not library code: nothing in ``lut2rtl`` imports it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lut2rtl.netlist import rows_to_table, table_to_rows, truth_table_rows

__all__ = [
    "METHODS",
    "DLGNLayer",
    "GroupSumLayer",
    "GumbelLayer",
    "LightLayer",
    "LogicLayer",
    "ThermometerEncoder",
    "WarpLayer",
    "gate_coefficients",
    "hadamard",
    "make_layer",
    "table_to_walsh",
    "walsh_to_table",
]

METHODS = ("dlgn", "gumbel", "light", "warp")
_GATE_A = 3  # gate id of "first input" (the residual gate) in the netlist encoding


# --------------------------------------------------------------------------
# Encoding-derived constants
# --------------------------------------------------------------------------

def gate_coefficients() -> np.ndarray:
    """``[16, 4]`` float64: the multilinear form ``y = c0 + c1 a + c2 b + c3 ab`` of
    every 2-input gate id, derived from the truth-table encoding."""
    rows = table_to_rows(np.arange(16, dtype=np.uint64), 2).astype(np.float64)  # [16, j]
    r = truth_table_rows(2)  # j -> (a, b)
    j00, j01, j10, j11 = (int(np.flatnonzero((r[:, 0] == a) & (r[:, 1] == b))[0])
                          for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)))
    f00, f01, f10, f11 = rows[:, j00], rows[:, j01], rows[:, j10], rows[:, j11]
    return np.stack([f00, f10 - f00, f01 - f00, f11 - f10 - f01 + f00], axis=1)


def hadamard(k: int) -> np.ndarray:
    """Sylvester-Hadamard matrix ``H [2**k rows j, 2**k subsets s]`` in our bit order:
    ``H[j, s] = prod_{m in S} (1 - 2 x_m(row j))`` where subset ``s`` contains input
    ``m`` when ``truth_table_rows(k)[s, m]`` (``x_0`` is the most significant bit)."""
    r = truth_table_rows(k).astype(np.int64)
    return np.where((r @ r.T) % 2 == 1, -1.0, 1.0)


def walsh_to_table(coeffs: np.ndarray, k: int) -> np.ndarray:
    """Walsh coefficients ``[..., 2**k]`` -> truth tables ``uint64 [...]``: ``t_j = [z(row j) < 0]``."""
    z = np.asarray(coeffs, dtype=np.float64) @ hadamard(k).T
    return rows_to_table(z < 0)


def table_to_walsh(tables: np.ndarray | int, k: int) -> np.ndarray:
    """Truth tables -> Walsh coefficients ``c = H (1 - 2t) / 2**k`` (``z(row j) = 1 - 2 t_j``)."""
    t = table_to_rows(tables, k).astype(np.float64)
    return (1.0 - 2.0 * t) @ hadamard(k) / (1 << k)


def _row_basis(x: torch.Tensor) -> torch.Tensor:
    """``[..., k]`` inputs -> ``[..., 2**k]`` with entry ``j = prod_m (x_m if row j has x_m=1 else 1-x_m)``."""
    p = torch.ones_like(x[..., :1])
    for m in range(x.shape[-1]):
        xm = x[..., m:m + 1]
        # x_0 is the most significant bit of j: split on it first
        p = torch.stack([p * (1 - xm), p * xm], dim=-1).flatten(-2)
    return p


def mobius(k: int) -> np.ndarray:
    """``M [2**k rows j, 2**k subsets s]`` with ``sum_j f_j basis_j(x) = sum_s (f @ M)_s prod_{m in S} x_m``
    (the multilinear coefficients of a truth table; row ``j`` is read as the set of inputs that are 1)."""
    r = truth_table_rows(k).astype(np.int64)
    subset = (r[:, None, :] <= r[None, :, :]).all(-1)  # row j's ones are inside subset s
    sign = (-1.0) ** (r.sum(1)[None, :] - r.sum(1)[:, None])
    return np.where(subset, sign, 0.0)


def _monomial_basis(x: torch.Tensor) -> torch.Tensor:
    """``[..., k]`` -> ``[..., 2**k]`` monomials ``prod_{m in S} x_m`` in subset order ``s``."""
    if x.shape[-1] == 2:
        a, b = x[..., 0:1], x[..., 1:2]
        return torch.cat([torch.ones_like(a), b, a, a * b], dim=-1)
    p = torch.ones_like(x[..., :1])
    # the input appended last becomes the most significant bit of s: go from x_{k-1} to x_0
    for m in range(x.shape[-1] - 1, -1, -1):
        p = torch.cat([p, p * x[..., m:m + 1]], dim=-1)
    return p


def _walsh_basis(xh: torch.Tensor) -> torch.Tensor:
    """``[..., k]`` signs ``1-2x`` -> ``[..., 2**k]`` characters ``chi_S`` in subset order ``s``."""
    return _monomial_basis(xh)


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

class LogicLayer(nn.Module):
    """Base class: fixed wiring buffer ``idx`` and the discrete (eval) forward."""

    method: str = ""

    def __init__(self, idx: np.ndarray) -> None:
        super().__init__()
        idx = np.asarray(idx, dtype=np.int64)
        if idx.ndim != 2:
            raise ValueError(f"wiring must be 2-D (n, k), got shape {idx.shape}")
        self.n, self.k = int(idx.shape[0]), int(idx.shape[1])
        self.register_buffer("idx", torch.from_numpy(idx.copy()))
        self.register_buffer("row_weights", torch.tensor([1 << (self.k - 1 - m) for m in range(self.k)],
                                                         dtype=torch.int64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xin = x[:, self.idx]  # [B, n, k]
        if self.training:
            return self.soft(xin)
        return self.hard(xin)

    def soft(self, xin: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def table_rows(self) -> torch.Tensor:  # pragma: no cover - abstract
        """Discretized truth tables: bool ``[n, 2**k]`` (row ``j`` in the netlist order)."""
        raise NotImplementedError

    def hard(self, xin: torch.Tensor) -> torch.Tensor:
        """Exactly the discretized LUTs on hard inputs (values > 0.5 read as 1)."""
        j = ((xin > 0.5).long() * self.row_weights).sum(-1)  # [B, n]
        rows_t = self.table_rows().t().to(xin.dtype)  # [2^k, n]
        return torch.gather(rows_t, 0, j)

    def tables(self) -> np.ndarray:
        """Discretized truth tables ``uint64 [n]`` in the netlist encoding."""
        with torch.no_grad():
            return rows_to_table(self.table_rows().cpu().numpy())

    def extra_repr(self) -> str:
        return f"n={self.n}, k={self.k}"


class DLGNLayer(LogicLayer):
    """Softmax over the 16 two-input gates (Petersen et al. 2022)."""

    method = "dlgn"

    def __init__(self, idx: np.ndarray, *, init: str = "residual", residual_logit: float = 5.0) -> None:
        super().__init__(idx)
        if self.k != 2:
            raise ValueError(f"{self.method} layers have fan-in 2, got k={self.k}")
        w = torch.zeros(self.n, 16)
        if init == "residual":
            w[:, _GATE_A] = residual_logit
        elif init == "random":
            w.normal_()
        else:
            raise ValueError(f"unknown init {init!r} (residual or random)")
        self.weight = nn.Parameter(w)
        self.register_buffer("coef", torch.from_numpy(gate_coefficients()).float())
        self.register_buffer("gate_rows", torch.from_numpy(table_to_rows(np.arange(16, dtype=np.uint64), 2)))

    def gate_probs(self) -> torch.Tensor:
        return torch.softmax(self.weight, dim=-1)

    def soft(self, xin: torch.Tensor) -> torch.Tensor:
        c = self.gate_probs() @ self.coef  # [n, 4], linear in the gate probabilities
        a, b = xin[..., 0], xin[..., 1]
        return c[:, 0] + c[:, 1] * a + c[:, 2] * b + c[:, 3] * (a * b)

    def table_rows(self) -> torch.Tensor:
        return self.gate_rows[self.weight.detach().argmax(dim=-1)]


class GumbelLayer(DLGNLayer):
    """Gumbel logic gates: hard sampled gate forward, straight-through softmax backward."""

    method = "gumbel"

    def __init__(self, idx: np.ndarray, *, init: str = "residual", residual_logit: float = 5.0,
                 temperature: float = 1.0) -> None:
        super().__init__(idx, init=init, residual_logit=residual_logit)
        self.temperature = float(temperature)

    def gate_probs(self) -> torch.Tensor:
        u = torch.rand_like(self.weight).clamp_(1e-10, 1.0 - 1e-7)
        noisy = self.weight - torch.log(-torch.log(u))
        soft = torch.softmax(noisy / self.temperature, dim=-1)
        hard = torch.nn.functional.one_hot(noisy.argmax(dim=-1), 16).to(soft.dtype)
        return hard - soft.detach() + soft


class LightLayer(LogicLayer):
    """Truth-table logits: ``omega_j = sigmoid(w_j)`` (Light DLGN), any k in 1..6."""

    method = "light"

    def __init__(self, idx: np.ndarray, *, init: str = "residual", residual_logit: float = 3.0) -> None:
        super().__init__(idx)
        rows = torch.from_numpy(truth_table_rows(self.k))  # [2^k, k]
        if init == "residual":
            w = torch.where(rows[:, 0], residual_logit, -residual_logit).float().repeat(self.n, 1)
        elif init == "random":
            w = torch.randn(self.n, 1 << self.k)
        else:
            raise ValueError(f"unknown init {init!r} (residual or random)")
        self.weight = nn.Parameter(w)
        self.register_buffer("mobius", torch.from_numpy(mobius(self.k)).float())

    def soft(self, xin: torch.Tensor) -> torch.Tensor:
        # expectation over rows == multilinear polynomial with coefficients omega @ M (cheaper to evaluate)
        coef = torch.sigmoid(self.weight) @ self.mobius
        if self.k == 2:
            a, b = xin[..., 0], xin[..., 1]
            return coef[:, 0] + coef[:, 2] * a + coef[:, 1] * b + coef[:, 3] * (a * b)
        return (_monomial_basis(xin) * coef).sum(-1)

    def table_rows(self) -> torch.Tensor:
        return torch.sigmoid(self.weight.detach()) >= 0.5


class WarpLayer(LogicLayer):
    """Walsh-Hadamard coefficients per LUT (WARP-LUTs), any k in 1..6."""

    method = "warp"

    def __init__(self, idx: np.ndarray, *, init: str = "residual", residual_logit: float = 2.0,
                 temperature: float = 1.0, hard: bool = True) -> None:
        super().__init__(idx)
        c = torch.randn(self.n, 1 << self.k) * (0.05 if init == "residual" else 1.0)
        if init == "residual":
            # subset {x_0} alone: z = c * (1 - 2 x_0) < 0 exactly when x_0 = 1
            c[:, 1 << (self.k - 1)] += residual_logit  # x_0 is the most significant bit of s
        elif init != "random":
            raise ValueError(f"unknown init {init!r} (residual or random)")
        self.weight = nn.Parameter(c)
        self.temperature = float(temperature)
        self.hard_forward = bool(hard)
        self.register_buffer("H", torch.from_numpy(hadamard(self.k)).float())

    def soft(self, xin: torch.Tensor) -> torch.Tensor:
        z = (_walsh_basis(1 - 2 * xin) * self.weight).sum(-1)
        u = torch.rand_like(z).clamp_(1e-7, 1.0 - 1e-7)
        noise = torch.log(u) - torch.log1p(-u)
        y = torch.sigmoid((noise - z) / self.temperature)
        if self.hard_forward:
            return (y > 0.5).to(y.dtype) - y.detach() + y
        return y

    def table_rows(self) -> torch.Tensor:
        return (self.weight.detach() @ self.H.t()) < 0


_LAYERS: dict[str, type[LogicLayer]] = {
    "dlgn": DLGNLayer, "gumbel": GumbelLayer, "light": LightLayer, "warp": WarpLayer,
}


def make_layer(method: str, idx: np.ndarray, **options: object) -> LogicLayer:
    """A layer of ``method`` with the given wiring; ``options`` go to its constructor."""
    if method not in _LAYERS:
        raise ValueError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    return _LAYERS[method](idx, **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Encoder and output
# --------------------------------------------------------------------------

class ThermometerEncoder(nn.Module):
    """Thermometer bits ``x[f] > thresholds[f, i]`` compared in float64, exactly
    like :meth:`lut2rtl.netlist.Thermometer.encode` (bit ``f*m + i``)."""

    def __init__(self, thresholds: np.ndarray) -> None:
        super().__init__()
        t = np.asarray(thresholds, dtype=np.float64)
        if t.ndim != 2:
            raise ValueError(f"thresholds must be 2-D (features, m), got shape {t.shape}")
        self.register_buffer("thresholds", torch.from_numpy(t.copy()))

    @property
    def n_bits(self) -> int:
        return int(self.thresholds.numel())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.to(torch.float64)[:, :, None] > self.thresholds[None, :, :]
        return b.reshape(x.shape[0], -1).float()


class GroupSumLayer(nn.Module):
    """Per-class sums of contiguous output groups; score ``(sum + beta) / tau``."""

    def __init__(self, classes: int, tau: float, beta: float = 0.0) -> None:
        super().__init__()
        if classes < 1 or not math.isfinite(tau) or tau <= 0:
            raise ValueError(f"GroupSum needs classes >= 1 and tau > 0, got {classes}, {tau}")
        self.classes, self.tau, self.beta = int(classes), float(tau), float(beta)

    def counts(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.classes:
            raise ValueError(f"{self.classes} classes do not divide {x.shape[-1]} outputs")
        return x.reshape(x.shape[0], self.classes, -1).sum(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.counts(x) + self.beta) / self.tau

    def extra_repr(self) -> str:
        return f"classes={self.classes}, tau={self.tau:g}, beta={self.beta:g}"

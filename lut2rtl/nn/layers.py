"""Differentiable logic layers of the four training methods, GroupSum and the
thermometer encoder, in torch.

Every layer reads its inputs through fixed wiring (a buffer ``idx [n, k]`` of
local indices into the previous layer) and parametrizes one LUT per neuron:

``dlgn``   16 logits per 2-input gate; soft output ``E_softmax[f_g(a, b)]``.
``gumbel`` the same logits; training output is the hard gate
           ``argmax(w + Gumbel noise)`` with a straight-through softmax gradient.
``light``  ``2**k`` truth-table logits; ``omega = sigmoid(w)`` is the probability
           that each row outputs 1; output is the expectation under independent inputs.
``warp``   ``2**k`` Walsh-Hadamard coefficients ``c``; ``z = sum_S c_S chi_S(1 - 2x)``;
           training output ``sigmoid((-z + L) / temperature)`` with logistic noise ``L``
           (``logit`` of uniforms on a 16-bit grid, :func:`uniform16`, read from windows of a
           fixed table by default, :func:`logistic_noise`; hard straight-through by default),
           discrete output ``[z < 0]``.

All truth-table facts (row order, gate ids) come from :mod:`lut2rtl.netlist`.
In ``eval()`` mode a layer computes exactly its discretized truth tables on
hard 0/1 inputs, so the eval forward *is* the discretized network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..netlist import rows_to_table, table_to_rows, truth_table_rows

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
    "logistic_noise",
    "make_layer",
    "noise_table",
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
    return rows @ _k2_matrix()


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


def _k2_matrix() -> np.ndarray:
    """``K [4 rows j, 4]``: a 2-input table ``f`` (rows in the netlist order) has the multilinear
    form ``f @ K = (c0, c_a, c_b, c_ab)``, ``y = c0 + c_a a + c_b b + c_ab ab`` (``a`` = first input)."""
    r = truth_table_rows(2)
    j = {(a, b): int(np.flatnonzero((r[:, 0] == a) & (r[:, 1] == b))[0]) for a in (0, 1) for b in (0, 1)}
    k = np.zeros((4, 4))
    k[j[0, 0]] = (1, -1, -1, 1)
    k[j[1, 0], 1], k[j[1, 0], 3] = 1, -1
    k[j[0, 1], 2], k[j[0, 1], 3] = 1, -1
    k[j[1, 1], 3] = 1
    return k


# --------------------------------------------------------------------------
# The soft contraction, shared by every method
#
# Layout: inside a layer, signals are neuron-major ``[n, B]`` (one contiguous
# row per neuron). A layer returns ``out.t()`` (a ``[B, n]`` view), so the next
# layer's ``x.t()`` is contiguous again and its input gather is one
# ``index_select`` of whole rows per input (its backward a row ``index_add_``).
# Every method reduces its parameters, once per step, to a per-neuron table
# ``[n, 2**k]`` (or, for k = 2, its four multilinear coefficients); only the
# contraction of that table with the inputs is batch-sized.
# --------------------------------------------------------------------------

class _Multilinear2(torch.autograd.Function):
    """``y = c0 + c_a a + c_b b + c_ab ab`` for ``c [n, 4]``, ``a, b [n, B]``, with a hand-fused
    backward (autograd's version of the same formula makes twice the full-size temporaries)."""

    @staticmethod
    def forward(ctx: Any, c: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        cc = c.t().unsqueeze(-1)  # [4, n, 1]
        # in-place ops on full-size tensors: torch's addcmul with a broadcast [n, 1] operand is ~3x slower
        da = (b * cc[3]).add_(cc[1])  # dy/da = c_a + c_ab b
        y = (b * cc[2]).add_(cc[0]).addcmul_(a, da)
        ctx.save_for_backward(c, a, b, da)
        return y

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        c, a, b, da = ctx.saved_tensors
        g = g.contiguous()  # a transposed gradient would put every op below on torch's slow strided path
        gc = ga = gb = None
        if ctx.needs_input_grad[1]:
            ga = g * da
        if ctx.needs_input_grad[2]:
            cc = c.t().unsqueeze(-1)
            gb = (a * cc[3]).add_(cc[2]).mul_(g)  # dy/db = c_b + c_ab a
        if ctx.needs_input_grad[0]:
            gxa = g * a
            gc = torch.stack([g.sum(1), gxa.sum(1), torch.linalg.vecdot(g, b), torch.linalg.vecdot(gxa, b)], dim=1)
        return gc, ga, gb


def _row_basis_nm(xs: Sequence[torch.Tensor]) -> torch.Tensor:
    """Inputs ``[n, B]`` each -> ``[n, 2**len, B]``: entry ``j`` is ``prod_m (x_m if bit m of row j else 1 - x_m)``
    with the first input the most significant bit (the netlist row order)."""
    p = torch.stack([1 - xs[0], xs[0]], dim=1)
    for x in xs[1:]:
        q = torch.stack([1 - x, x], dim=1)
        p = (p.unsqueeze(2) * q.unsqueeze(1)).flatten(1, 2)
    return p


def _contract_table(table: torch.Tensor, xs: Sequence[torch.Tensor]) -> torch.Tensor:
    """``sum_j table[:, j] * basis_j(x)`` -> ``[n, B]``: the multilinear extension of the tables
    ``[n, 2**k]`` (rows in netlist order) at soft inputs ``xs`` (k tensors ``[n, B]``).

    Split form: the rows factor as (first h inputs) x (last k - h inputs), so the sum is
    ``r2 . (T^T r1)`` with one small batched matmul per neuron instead of a ``[n, 2**k, B]`` basis.
    """
    k = len(xs)
    if k == 1:
        return torch.addcmul(table[:, 0:1], table[:, 1:2] - table[:, 0:1], xs[0])
    h = k // 2
    n = table.shape[0]
    r1 = _row_basis_nm(xs[:h])  # [n, 2^h, B]
    r2 = _row_basis_nm(xs[h:])  # [n, 2^(k-h), B]
    v = torch.bmm(table.reshape(n, 1 << h, 1 << (k - h)).transpose(1, 2), r1)  # [n, 2^(k-h), B]
    return (v * r2).sum(1)


def uniform16(shape: Sequence[int], *, dtype: torch.dtype, device: torch.device | str,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform noise on the grid ``(i + 1/2) / 2**16``, ``i = 0 .. 2**16 - 1``, drawn from torch's RNG
    (or ``generator``): every full-range 64-bit draw gives four 16-bit samples (``torch.rand`` spends one
    32-bit draw on each float, which made the draw most of a noisy WARP step on the CPU). The grid never
    reaches 0 or 1, so its logit is finite (at most ``ln(2**17 - 1) ~ 11.8`` in magnitude), and the
    arithmetic below is exact in float32."""
    n = math.prod(shape)
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_(
        -(1 << 63), None, generator=generator)
    r = words.view(torch.int16)[:n].view(*shape)  # four independent 16-bit lanes per word
    # (r + 32768.5) / 2**16 as one kernel that also converts the type
    return torch.add(torch.tensor(32768.5 / 65536, dtype=dtype, device=device), r, alpha=1.0 / 65536)


NOISE_TABLE_SIZE = 1 << 22  # logistic values in the table (16 MiB in float32)
NOISE_TABLE_SEED = 0x1E5D  # the table is a constant: the same values in every process and run
_noise_tables: dict[tuple[str, torch.dtype], torch.Tensor] = {}


def noise_table(dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """The fixed table of :data:`NOISE_TABLE_SIZE` logistic values ``logit(U)``, ``U`` from
    :func:`uniform16` on a generator seeded with :data:`NOISE_TABLE_SEED` (made once per device and
    dtype; a pure function of them, so it holds no state that a run could change)."""
    dev = torch.device(device)
    key = (str(dev), dtype)
    t = _noise_tables.get(key)
    if t is None:
        gen = torch.Generator().manual_seed(NOISE_TABLE_SEED)
        u = uniform16((NOISE_TABLE_SIZE,), dtype=torch.float64, device="cpu", generator=gen)
        t = _noise_tables[key] = u.logit_().to(device=dev, dtype=dtype)
    return t


def logistic_noise(shape: Sequence[int], *, dtype: torch.dtype, device: torch.device | str,
                   table: bool = True) -> tuple[torch.Tensor, float]:
    """Logistic noise ``L = logit(U)``, ``U`` uniform on the 16-bit grid of :func:`uniform16`.

    ``table=True`` (for up to ``NOISE_TABLE_SIZE // 4`` values): a window of :func:`noise_table` at a
    random offset and with a random sign (logistic noise is symmetric), both from one draw of torch's
    CPU RNG, as evolution strategies share a noise table (Salimans et al., 2017). Every value has the
    distribution of a fresh draw and the values of one call are distinct draws of the table; between
    calls the same values recur at other positions. It costs no pass over the values (a view; the
    sign is applied by the caller's add), where a fresh draw costs three (random words, conversion,
    logit). Returns ``(L, sign)`` with ``sign * L`` the noise.
    ``table=False``, or more values: fresh draws from torch's RNG on ``device``, sign 1.
    """
    n = math.prod(shape)
    if table and n <= NOISE_TABLE_SIZE // 4:
        t = noise_table(dtype, device)
        r = int(torch.randint(0, 2 * (NOISE_TABLE_SIZE - n + 1), (1,)))
        return t[(r >> 1):(r >> 1) + n].view(*shape), (-1.0 if r & 1 else 1.0)
    return uniform16(shape, dtype=dtype, device=device).logit_(), 1.0


class _WarpOutput(torch.autograd.Function):
    """WARP's training output from ``s = -z / temperature`` (``[n, B]``; the sign and the temperature
    are folded into the per-neuron coefficients, so no full-size op applies them), noise, sigmoid and
    straight-through in one function (torch's autograd would keep about a dozen full-size temporaries):
    ``y = sigmoid(sign L / temperature + s)``, i.e. ``sigmoid((sign L - z) / temperature)``, with
    logistic noise ``sign L`` from :func:`logistic_noise` (``noise`` is ``(L, sign)``, or ``None`` for
    ``y = sigmoid(s)``); the forward is ``[y > 0.5]`` when ``hard`` else ``y``; the gradient is
    ``dy/ds = y (1 - y)`` in both cases.
    """

    @staticmethod
    def forward(ctx: Any, s: torch.Tensor, temperature: float, noise: tuple[torch.Tensor, float] | None,
                hard: bool) -> torch.Tensor:
        if noise is not None:
            y = torch.add(s, noise[0], alpha=noise[1] / temperature).sigmoid_()
        else:
            y = s.sigmoid()
        ctx.save_for_backward(y)  # without hard, y is the output itself: autograd guards it against in-place changes
        if hard:
            # comparison straight into a float tensor: (y > 0.5).to(float) is a much slower bool round trip
            return torch.gt(y, 0.5, out=torch.empty_like(y))
        return y

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.sigmoid_backward(g.contiguous(), y), None, None, None  # g y (1 - y), one kernel


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

class LogicLayer(nn.Module):
    """Base class: fixed wiring buffer ``idx`` and the discrete (eval) forward.

    ``forward`` takes ``[B, n_prev]`` and returns ``[B, n]`` (a transposed view of a
    neuron-major result; see the layout note above).
    """

    method: str = ""

    def __init__(self, idx: np.ndarray) -> None:
        super().__init__()
        idx = np.asarray(idx, dtype=np.int64)
        if idx.ndim != 2:
            raise ValueError(f"wiring must be 2-D (n, k), got shape {idx.shape}")
        self.n, self.k = int(idx.shape[0]), int(idx.shape[1])
        self.register_buffer("idx", torch.from_numpy(idx.copy()))

    def gather(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The k inputs of every neuron, neuron-major: ``k`` tensors ``[n, B]``."""
        xt = x.t()
        if not xt.is_contiguous():
            xt = xt.contiguous()
        # the wiring is read on every call (not cached): a caller may load or edit ``idx`` in place
        return [xt.index_select(0, col) for col in self.idx.t()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs = self.gather(x)
        out = self.soft(xs) if self.training else self.hard(xs)
        return out.t()

    def soft(self, xs: list[torch.Tensor]) -> torch.Tensor:  # pragma: no cover - abstract
        """Training output ``[n, B]`` from the gathered inputs."""
        raise NotImplementedError

    def table_rows(self) -> torch.Tensor:  # pragma: no cover - abstract
        """Discretized truth tables: bool ``[n, 2**k]`` (row ``j`` in the netlist order)."""
        raise NotImplementedError

    def hard(self, xs: list[torch.Tensor]) -> torch.Tensor:
        """Exactly the discretized LUTs on hard inputs (values > 0.5 read as 1): ``[n, B]``."""
        j = (xs[0] > 0.5).long()
        for x in xs[1:]:
            j = 2 * j + (x > 0.5).long()  # the first input is the most significant bit of the row
        return torch.gather(self.table_rows().to(xs[0].dtype), 1, j)

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

    def soft(self, xs: list[torch.Tensor]) -> torch.Tensor:
        c = self.gate_probs() @ self.coef  # [n, 4], linear in the gate probabilities
        return _Multilinear2.apply(c, xs[0], xs[1])

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
    """Truth-table logits: ``omega_j = sigmoid(w_j)`` (Light DLGN), any k in 1..6.

    Residual init: the table of "first input" at logits ``+-residual_logit`` plus
    ``N(0, init_noise)`` (so neurons with the same wiring do not move in lockstep).
    """

    method = "light"

    def __init__(self, idx: np.ndarray, *, init: str = "residual", residual_logit: float = 3.0,
                 init_noise: float = 0.1) -> None:
        super().__init__(idx)
        rows = torch.from_numpy(truth_table_rows(self.k))  # [2^k, k]
        if init == "residual":
            w = torch.where(rows[:, 0], residual_logit, -residual_logit).float().repeat(self.n, 1)
            w += init_noise * torch.randn_like(w)
        elif init == "random":
            w = torch.randn(self.n, 1 << self.k)
        else:
            raise ValueError(f"unknown init {init!r} (residual or random)")
        self.weight = nn.Parameter(w)
        if self.k == 2:
            self.register_buffer("k2", torch.from_numpy(_k2_matrix()).float())

    def soft(self, xs: list[torch.Tensor]) -> torch.Tensor:
        # the expectation over rows is the multilinear extension of the table omega
        omega = torch.sigmoid(self.weight)
        if self.k == 2:
            return _Multilinear2.apply(omega @ self.k2, xs[0], xs[1])
        return _contract_table(omega, xs)

    def table_rows(self) -> torch.Tensor:
        return torch.sigmoid(self.weight.detach()) >= 0.5


class WarpLayer(LogicLayer):
    """Walsh-Hadamard coefficients per LUT (WARP-LUTs), any k in 1..6.

    ``z(x) = sum_S c_S chi_S(1 - 2x)`` is multilinear in x, so it equals the multilinear
    extension of its values at the corners ``z_j = (H c)_j``: each step converts the
    coefficients to that table once and contracts it like a truth table.
    ``noise``: logistic noise in the training forward (False: ``sigmoid(-z / temperature)``);
    ``hard``: forward the threshold ``[y > 0.5]`` with a straight-through gradient.
    ``noise_table``: the noise comes from windows of a fixed table (:func:`logistic_noise`; False: fresh
    draws every step, a slower step and the same accuracy, see ``bench/RESULTS.md``).
    The layer's defaults are the papers' mode; ``lut2rtl train`` defaults to ``noise=False, hard=False``,
    which measured better (see ``TrainConfig``).
    """

    method = "warp"

    def __init__(self, idx: np.ndarray, *, init: str = "residual", residual_logit: float = 2.0,
                 temperature: float = 1.0, hard: bool = True, noise: bool = True,
                 noise_table: bool = True) -> None:
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
        self.noise = bool(noise)
        self.noise_table = bool(noise_table)
        self.register_buffer("H", torch.from_numpy(hadamard(self.k)).float())
        if self.k == 2:
            # z table = c @ H^T, its multilinear coefficients = (c @ H^T) @ K
            self.register_buffer("hk2", torch.from_numpy(hadamard(2).T @ _k2_matrix()).float())

    def z(self, xs: list[torch.Tensor], scale: float = 1.0) -> torch.Tensor:
        """The Walsh sum ``z`` at soft inputs, times ``scale``: ``[n, B]`` (the scale is applied to the
        ``[n, 2**k]`` table, not to the batch-sized result)."""
        if self.k == 2:
            return _Multilinear2.apply(self.weight @ (self.hk2 * scale), xs[0], xs[1])
        return _contract_table((self.weight @ self.H.t()) * scale, xs)

    def soft(self, xs: list[torch.Tensor]) -> torch.Tensor:
        s = self.z(xs, -1.0 / self.temperature)
        noise = self.logistic_noise(s) if self.noise else None
        return _WarpOutput.apply(s, self.temperature, noise, self.hard_forward)

    def logistic_noise(self, s: torch.Tensor) -> tuple[torch.Tensor, float]:
        """The noise of one training forward for ``s`` (``(L, sign)``, :func:`logistic_noise`)."""
        return logistic_noise(s.shape, dtype=s.dtype, device=s.device, table=self.noise_table)

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
        if x.dim() == 2 and x.t().is_contiguous():
            # a logic layer's neuron-major output: sum in that layout (its gradient stays contiguous)
            return x.t().reshape(self.classes, -1, x.shape[0]).sum(1).t()
        return x.reshape(x.shape[0], self.classes, -1).sum(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.counts(x) + self.beta) / self.tau

    def extra_repr(self) -> str:
        return f"classes={self.classes}, tau={self.tau:g}, beta={self.beta:g}"

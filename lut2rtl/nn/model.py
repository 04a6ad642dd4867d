"""A layered logic network in torch (encoder -> logic layers -> GroupSum) and its
export to the Netlist IR."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..netlist import GroupSum, Netlist, Thermometer
from .layers import GroupSumLayer, LogicLayer, ThermometerEncoder, make_layer
from .wiring import make_wiring

__all__ = ["LogicNet", "build_logic_net", "dense_layers", "options_for"]


class LogicNet(nn.Module):
    """Thermometer encoder (optional) -> logic layers -> GroupSum.

    ``forward(x)`` takes raw features when the net has an encoder (else input
    bits) and returns class scores. In ``eval()`` mode every layer is exactly
    its discretized LUTs, so the output equals the exported netlist's.
    """

    def __init__(self, n_inputs: int, layers: Sequence[LogicLayer], *, classes: int, tau: float,
                 beta: float = 0.0, thresholds: np.ndarray | None = None) -> None:
        super().__init__()
        self.n_inputs = int(n_inputs)
        self.encoder = None if thresholds is None else ThermometerEncoder(thresholds)
        if self.encoder is not None and self.encoder.n_bits != self.n_inputs:
            raise ValueError(f"encoder makes {self.encoder.n_bits} bits, network reads {self.n_inputs}")
        self.layers = nn.ModuleList(layers)
        self.group_sum = GroupSumLayer(classes, tau, beta)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Raw features -> input bits (identity without an encoder)."""
        return x.float() if self.encoder is None else self.encoder(x)

    def output_bits(self, bits: torch.Tensor) -> torch.Tensor:
        """Input bits ``[B, n_inputs]`` -> last layer outputs ``[B, n_out]``."""
        h = bits
        for layer in self.layers:
            h = layer(h)
        return h

    def forward_bits(self, bits: torch.Tensor) -> torch.Tensor:
        return self.group_sum(self.output_bits(bits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_bits(self.encode(x))

    @property
    def methods(self) -> list[str]:
        return [layer.method for layer in self.layers]

    def to_netlist(self, metadata: Mapping[str, Any] | None = None) -> Netlist:
        """The discretized network as a layered :class:`~lut2rtl.netlist.Netlist`
        (encoder and GroupSum included)."""
        layers = [(layer.idx.cpu().numpy(), layer.tables()) for layer in self.layers]
        enc = None if self.encoder is None else Thermometer(self.encoder.thresholds.cpu().numpy())
        gs = GroupSum(self.group_sum.classes, self.group_sum.tau, self.group_sum.beta)
        return Netlist.layered(self.n_inputs, layers, group_sum=gs, encoder=enc, metadata=dict(metadata or {}))


def build_logic_net(
    method: str | Sequence[str],
    n_inputs: int,
    widths: Sequence[int],
    ks: int | Sequence[int],
    *,
    classes: int,
    tau: float,
    beta: float = 0.0,
    thresholds: np.ndarray | None = None,
    wiring: str = "random",
    seed: int | np.random.Generator = 0,
    layer_options: Mapping[str, Any] | None = None,
) -> LogicNet:
    """Build a layered logic network; wiring is drawn from ``numpy.random.default_rng(seed)``.

    ``method`` and ``ks`` may be one value or one per layer (layers of differing
    k and method are allowed). Parameter init draws from torch's global RNG:
    call ``torch.manual_seed`` first for a deterministic model.
    """
    depth = len(widths)
    methods = [method] * depth if isinstance(method, str) else list(method)
    kk = [int(ks)] * depth if isinstance(ks, (int, np.integer)) else [int(k) for k in ks]
    if len(methods) != depth or len(kk) != depth:
        raise ValueError(f"{depth} widths but {len(methods)} methods and {len(kk)} fan-ins")
    if widths[-1] % classes:
        raise ValueError(f"last width {widths[-1]} is not a multiple of the {classes} classes")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    layers = dense_layers(methods, int(n_inputs), widths, kk, rng, wiring, dict(layer_options or {}))
    return LogicNet(n_inputs, layers, classes=classes, tau=tau, beta=beta, thresholds=thresholds)


def dense_layers(methods: Sequence[str], n_inputs: int, widths: Sequence[int], ks: Sequence[int],
                 rng: np.random.Generator, wiring: str, options: Mapping[str, Any]) -> list[LogicLayer]:
    """Layers of ``widths`` LUTs after an ``n_inputs``-bit input, wiring drawn from ``rng``."""
    layers: list[LogicLayer] = []
    prev = int(n_inputs)
    for w, k, m in zip(widths, ks, methods):
        idx = make_wiring(rng, prev, int(w), int(k), wiring)
        layers.append(make_layer(m, idx, **options_for(m, options)))
        prev = int(w)
    return layers


_OPTION_NAMES = {
    "dlgn": ("init", "residual_logit"),
    "gumbel": ("init", "residual_logit", "temperature"),
    "light": ("init", "residual_logit"),
    "warp": ("init", "residual_logit", "temperature", "hard", "noise", "noise_table"),
}


def options_for(method: str, opts: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``opts`` that ``method``'s layer constructor takes (``None`` values dropped)."""
    names = _OPTION_NAMES.get(method, ())
    return {k: v for k, v in opts.items() if k in names and v is not None}

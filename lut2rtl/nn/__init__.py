"""Training: differentiable logic layers (dlgn, gumbel, light, warp), the
layered model with its export to the Netlist IR, and the training loop.

Modules: :mod:`.wiring` (fixed random wiring), :mod:`.layers` (the four
parametrizations, thermometer encoder, GroupSum), :mod:`.model` (``LogicNet``,
``build_logic_net``, ``LogicNet.to_netlist``), :mod:`.train` (``train``,
``TrainConfig``; DDP under torchrun), :mod:`.baselines` (float MLP and
Deep Linearly Gated Network).
"""

from __future__ import annotations

from .layers import METHODS, DLGNLayer, GumbelLayer, LightLayer, LogicLayer, WarpLayer
from .model import LogicNet, build_logic_net
from .train import TrainConfig, TrainingError, TrainResult, train

__all__ = [
    "METHODS",
    "DLGNLayer",
    "GumbelLayer",
    "LightLayer",
    "LogicLayer",
    "LogicNet",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "WarpLayer",
    "build_logic_net",
    "train",
]

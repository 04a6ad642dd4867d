"""Helpers of the simulation tests (imported by name: sim/ is not a package)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
# Verilator models are cached here between runs (git-ignored), keyed by a hash of Verilog + flags
SIM_CACHE = REPO / "sim_build"


def example_checkpoints() -> list[Path]:
    return sorted(EXAMPLES.glob("*.pt"))


def main_example() -> Path:
    """The trained digits example if present, else the random one."""
    trained = EXAMPLES / "digits.pt"
    return trained if trained.is_file() else EXAMPLES / "random_digits.pt"

"""Shared fixtures of the simulation tests, and the options that check a user's own model.

``pytest sim/ --checkpoint model.pt [--target ice40] [--pipeline 4]`` compiles
the checkpoint (into a temporary folder) and runs the equivalence checks of
``sim/test_user_model.py`` on it; ``pytest sim/ --build build/model`` checks a
folder ``lut2rtl compile`` wrote. Without them those tests are skipped and
``pytest sim/`` runs as always.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from simlib import SIM_CACHE


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lut2rtl", "check your own model (sim/test_user_model.py)")
    group.addoption("--checkpoint", default=None, help="model.pt to compile and check")
    group.addoption("--target", default="ice40", help="target family for --checkpoint (default ice40)")
    group.addoption("--pipeline", type=int, default=0, help="pipeline stages for --checkpoint (default 0)")
    group.addoption("--build", default=None, help="a build folder (lut2rtl compile -o ...) to check instead")
    group.addoption("--user-vectors", type=int, default=2000,
                    help="random vectors added to vectors.npz (default 2000)")
    group.addoption("--formal-max-luts", type=int, default=20000,
                    help="prove formally only up to this many LUTs (default 20000)")


@pytest.fixture
def sim_cache() -> Path:
    SIM_CACHE.mkdir(exist_ok=True)
    return SIM_CACHE

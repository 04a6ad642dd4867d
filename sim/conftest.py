"""Shared fixtures of the simulation tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from simlib import SIM_CACHE


@pytest.fixture
def sim_cache() -> Path:
    SIM_CACHE.mkdir(exist_ok=True)
    return SIM_CACHE

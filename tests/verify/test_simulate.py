"""The one Verilator setup: primitive models and flags come from the family record."""

from __future__ import annotations

import pytest

from lut2rtl.families import FAMILIES
from lut2rtl.verify.simulate import verilator_sources


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_sources_per_family(name: str) -> None:
    files, flags = verilator_sources(FAMILIES[name])
    assert "-Wno-TIMESCALEMOD" in flags
    if FAMILIES[name].primitive is None:
        assert files == []
    else:
        assert len(files) == 1 and files[0].name == "cells_sim.v" and files[0].parent.name == name
    if name == "ecp5":  # its model includes .vh files from its own folder
        assert "-DNO_INCLUDES" in flags and f"-I{files[0].parent}" in flags


def test_plain_logic_reads_nothing() -> None:
    files, flags = verilator_sources(None)
    assert files == [] and all(f.startswith("-W") for f in flags)

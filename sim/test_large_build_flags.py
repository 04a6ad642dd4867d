"""The flags a large design is built with (C++ at -O0 above HUGE_LUTS, Verilator's DFG optimizer off
above NO_DFG_LUTS) still give a bit-exact simulation against the reference evaluator, and still catch a
wrong design. The thresholds are lowered here so a small network takes that path; the bench runs it at
100,000 gates."""

from __future__ import annotations

from pathlib import Path

import pytest

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.netgen import random_netlist
from lut2rtl.verify import harness
from lut2rtl.verify.mutate import flip_lut_init_bit
from lut2rtl.verify.simulate import simulate_design
from lut2rtl.verify.vectors import expected_vectors, random_inputs

pytestmark = pytest.mark.verilator


@pytest.mark.parametrize("flip", [False, True], ids=["ok", "flipped"])
def test_large_design_flags_are_bit_exact(tmp_path: Path, monkeypatch, flip: bool) -> None:
    monkeypatch.setattr(harness, "HUGE_LUTS", 0)
    monkeypatch.setattr(harness, "NO_DFG_LUTS", 0)
    notes: list[str] = []
    commands: list[list[str]] = []
    real = harness.run_logged

    def spy(cmd, **kw):  # type: ignore[no-untyped-def]
        commands.append(list(cmd))
        return real(cmd, **kw)

    monkeypatch.setattr(harness, "run_logged", spy)
    net = random_netlist(31, 20, [40, 30, 20], 2, classes=4)
    design = read_build_folder(compile_netlist(net, tmp_path / "d", target="ice40", pipeline=2).out_dir)
    if flip:
        text, _ = flip_lut_init_bit(design.verilog.read_text(), 3)
        design.verilog.write_text(text)
    vec = expected_vectors(net, random_inputs(net.n_inputs, 300, 1))
    res = simulate_design(design, vec, seed=5, cache_dir=tmp_path / "cache", engine="cxx", progress=notes.append)
    build = commands[0]  # a fresh cache: Verilation, the C++ build, then the run
    assert commands[1][0] == "make" and "OPT_FAST=-O0" in commands[1]
    assert "-fno-dfg" in build and "-O0" in build  # the large-design path was taken
    assert any("needs about" in n and "GB of memory" in n for n in notes)  # the memory line was shown
    assert res.ok == (not flip)
    if flip:
        assert res.comparison.mismatched_vectors > 0

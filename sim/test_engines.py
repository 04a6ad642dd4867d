"""The two simulation engines see the same thing.

The C++ harness (no public signals, fast builds) and the cocotb testbench
(the protocol-level reference) drive the same stream into the same Verilog
and must record the same outputs and ``out_valid`` trace, on a correct
pipelined design and on one with a flipped LUT bit (where both must report
the same mismatching vectors).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.mutate import flip_lut_init_bit
from lut2rtl.verify.simulate import simulate_design
from lut2rtl.verify.vectors import expected_vectors, random_inputs

pytestmark = pytest.mark.verilator


@pytest.mark.parametrize("flip", [False, True], ids=["ok", "flipped"])
def test_engines_agree(tmp_path: Path, sim_cache: Path, flip: bool) -> None:
    net = random_netlist(21, 20, [40, 30, 20], 2, classes=4)
    out = compile_netlist(net, tmp_path / "d", target="ice40", pipeline=2, out_bits=True).out_dir
    design = read_build_folder(out)
    if flip:
        text, _ = flip_lut_init_bit(design.verilog.read_text(), 3)
        design.verilog.write_text(text)
    vec = expected_vectors(net, random_inputs(net.n_inputs, 300, 1))
    fast = simulate_design(design, vec, seed=5, cache_dir=sim_cache, engine="cxx")
    slow = simulate_design(design, vec, seed=5, cache_dir=sim_cache, engine="cocotb")
    assert fast.engine == "cxx" and slow.engine == "cocotb"
    for name in ("out_bits", "counts", "out_class", "valid_expected", "valid_got"):
        np.testing.assert_array_equal(getattr(fast.observed, name), getattr(slow.observed, name), err_msg=name)
    assert fast.cycles == slow.cycles
    assert fast.ok == slow.ok == (not flip)
    assert fast.comparison.mismatched_vectors == slow.comparison.mismatched_vectors

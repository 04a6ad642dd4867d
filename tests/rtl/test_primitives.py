"""The LUT primitives' INIT values and pin order, checked by simulating the
compiled Verilog with Yosys's own primitive models (cells_sim.v) in Verilator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.compile import compile_checkpoint, compile_netlist
from lut2rtl.evaluate import evaluate

from .simhelp import all_functions_netlist, exhaustive_bits, split_counts, unpack_words
from .vsim import build_sim, run_sim

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.verilator


@pytest.mark.parametrize(("target", "fabric", "pipeline"), [
    ("ice40", "verilog", 2),
    ("xilinx", "amaranth", 0),
    pytest.param("ecp5", "verilog", 1, marks=pytest.mark.slow),
    pytest.param("gowin", "verilog", 3, marks=pytest.mark.slow),
    pytest.param("generic", "verilog", 2, marks=pytest.mark.slow),
    pytest.param("ice40", "amaranth", 0, marks=pytest.mark.slow),
    pytest.param("ecp5", "amaranth", 2, marks=pytest.mark.slow),
    pytest.param("gowin", "amaranth", 0, marks=pytest.mark.slow),
    pytest.param("xilinx", "verilog", 2, marks=pytest.mark.slow),
])
def test_all_lut_functions(tmp_path: Path, target: str, fabric: str, pipeline: int,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    # every function of <= 2 inputs, random ones of 3..6 inputs (decomposed on
    # LUT4 families), all 64 input patterns; vectors between pipeline segments
    # are split into 8-bit pieces (normally 32768) to exercise that path too
    import lut2rtl.rtl.fabric
    import lut2rtl.rtl.network

    monkeypatch.setattr(lut2rtl.rtl.fabric, "CHUNK", 8)
    monkeypatch.setattr(lut2rtl.rtl.network, "CHUNK", 8)
    net = all_functions_netlist()
    res = compile_netlist(net, tmp_path / "b", target=target, pipeline=pipeline, opt=0, fabric=fabric, name="allf")
    assert res.manifest.options["fabric_built"] == fabric
    exe = build_sim(tmp_path / "b", tmp_path / "sim")
    bits = exhaustive_bits(net.n_inputs)
    got = run_sim(exe, bits, pipeline)
    assert set(got["cycle"]) == {pipeline}
    assert np.array_equal(unpack_words(got["out_bits"], net.n_outputs), evaluate(net, bits).out_bits)


@pytest.mark.parametrize(("target", "pipeline"), [
    pytest.param("ice40", 4, marks=pytest.mark.slow),
    pytest.param("ecp5", 1, marks=pytest.mark.slow),
    pytest.param("xilinx", 0, marks=pytest.mark.slow),
    pytest.param("gowin", 4, marks=pytest.mark.slow),
    pytest.param("generic", 9, marks=pytest.mark.slow),
])
def test_example_vectors(tmp_path: Path, target: str, pipeline: int) -> None:
    ckpt = EXAMPLES / "random_digits.pt"
    res = compile_checkpoint(ckpt, tmp_path / "b", target=target, pipeline=pipeline, out_bits=True)
    man = res.manifest
    vec = np.load(tmp_path / "b" / "vectors.npz")
    exe = build_sim(tmp_path / "b", tmp_path / "sim")
    got = run_sim(exe, vec["in_bits"], pipeline)
    assert set(got["cycle"]) == {pipeline}
    assert np.array_equal(unpack_words(got["out_bits"], man.n_outputs), vec["out_bits"].astype(bool))
    assert np.array_equal(split_counts(got["out_counts"], man.classes, man.count_width), vec["counts"])
    assert np.array_equal(np.array(got["out_class"]), vec["out_class"])
    # the vectors are the reference evaluator's answers on the source netlist
    ref = evaluate(load_checkpoint(ckpt), vec["in_bits"].astype(bool))
    assert np.array_equal(ref.pred, vec["out_class"])

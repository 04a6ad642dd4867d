"""Convolutional networks through the unchanged compile / verify flow: torch eval ==
reference evaluator == Verilator simulation on every output bit (ice40 and xilinx,
pipelines 0 and 4), a formal proof, and negative controls (a flipped LUT INIT bit).

The default run builds one small conv network for ice40 at pipeline 4 (simulated) and 0
(proved); the full matrix, the flipped-bit simulation and the digits conv example are ``slow``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.compile import compile_checkpoint
from lut2rtl.nn.conv import build_conv_net
from lut2rtl.verify.vectors import Vectors

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "digits_conv.pt"


def small_conv(tmp: Path) -> tuple[Path, torch.nn.Module]:
    """A random conv net (two conv blocks with padding and pooling, one dense layer), saved as version 2."""
    torch.manual_seed(5)
    model = build_conv_net("warp", (6, 6, 2), [4, 3], [12], classes=3, tau=1.0, k=2, depth=2, seed=5,
                           layer_options={"init": "random"})
    model.eval()
    path = tmp / "small_conv.pt"
    save_checkpoint(model.to_conv_net({"dataset": "none"}), path)
    return path, model


def torch_out_bits(model: torch.nn.Module, in_bits: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model.output_bits(torch.from_numpy(in_bits.astype(np.float32))).numpy() > 0.5


def check_build(out_dir: Path, model: torch.nn.Module | None, cache: Path) -> None:
    """torch (when given) == the vectors (reference evaluator) == Verilator, every bit."""
    from lut2rtl.verify.simulate import simulate_design

    design = read_build_folder(out_dir)
    vectors = design.vectors()
    if model is not None:
        assert np.array_equal(torch_out_bits(model, vectors.in_bits), vectors.out_bits.astype(bool))
    sim = simulate_design(design, vectors, cache_dir=cache)
    assert sim.vectors == vectors.n > 0
    assert sim.comparison.mismatched_vectors == 0, sim.comparison.mismatches[:3]


def flipped_design_mismatches(out_dir: Path, cache: Path) -> int:
    """Negative control: the same build with one LUT INIT bit flipped; returns its mismatching vectors.
    The last LUT of the Verilog is flipped: one near the outputs (a flip deep inside the convolution can
    be masked by the OR pooling and the trees behind it on every vector)."""
    from lut2rtl.verify.mutate import flip_lut_init_bit, lut_inits
    from lut2rtl.verify.simulate import simulate_design

    design = read_build_folder(out_dir)
    text = design.verilog.read_text()
    text, _ = flip_lut_init_bit(text, len(lut_inits(text)) - 1)
    design.verilog.write_text(text)
    return simulate_design(design, design.vectors(), cache_dir=cache).comparison.mismatched_vectors


@pytest.fixture(scope="module")
def small_build(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("convrtl")
    path, model = small_conv(tmp)
    res = compile_checkpoint(path, tmp / "ice40_p4", target="ice40", pipeline=4)
    return tmp, path, model, res


def test_build_folder_holds_the_lowered_network(small_build):
    """The compiler got the lowered flat network and its vectors agree with torch's eval forward."""
    tmp, path, model, res = small_build
    design = read_build_folder(res.out_dir)
    assert design.netlist.n_luts == model.to_netlist().n_luts
    v = design.vectors()
    assert np.array_equal(torch_out_bits(model, v.in_bits), v.out_bits.astype(bool))
    assert isinstance(v, Vectors) and res.manifest.latency == 4


@pytest.mark.verilator
def test_small_conv_simulates_bit_exact(small_build):
    tmp, _, model, res = small_build
    check_build(res.out_dir, model, tmp / "simcache")


@pytest.mark.slow
@pytest.mark.verilator
def test_flipped_lut_bit_is_caught(small_build, tmp_path):
    import shutil

    tmp, _, _, res = small_build
    copy = tmp_path / "flipped"
    shutil.copytree(res.out_dir, copy)
    assert flipped_design_mismatches(copy, tmp_path / "simcache") > 0


@pytest.mark.slow
@pytest.mark.verilator
@pytest.mark.parametrize("target", ["ice40", "xilinx"])
@pytest.mark.parametrize("pipeline", [0, 4])
def test_conv_matrix_simulates_bit_exact(small_build, tmp_path, target, pipeline):
    tmp, path, model, _ = small_build
    res = compile_checkpoint(path, tmp_path / "build", target=target, pipeline=pipeline)
    check_build(res.out_dir, model, tmp / "simcache")


@pytest.mark.slow
@pytest.mark.verilator
@pytest.mark.parametrize("target", ["ice40", "xilinx"])
@pytest.mark.parametrize("pipeline", [0, 4])
def test_digits_conv_example_simulates_bit_exact(tmp_path, target, pipeline):
    """The example (vectors: the digits test split plus random inputs). The checkpoint holds the
    discretized tables, not the torch parameters: torch == evaluator for it is the training record's
    ``torch_discrete_acc == accuracy`` (tests/nn/test_conv_example.py) and, bit by bit, tests/nn/test_conv.py."""
    if not EXAMPLE.exists():
        pytest.skip("examples/digits_conv.pt not generated")
    res = compile_checkpoint(EXAMPLE, tmp_path / "build", target=target, pipeline=pipeline)
    check_build(res.out_dir, None, tmp_path / "simcache")


@pytest.mark.yosys
def test_formal_proof_of_a_conv_design(small_build, tmp_path):
    import shutil

    from lut2rtl.verify.check import formal_check

    tmp, path, _, _ = small_build
    res = compile_checkpoint(path, tmp_path / "p0", target="ice40", pipeline=0)
    proof, _ = formal_check(read_build_folder(res.out_dir), timeout=600)
    assert proof.proved, proof.detail
    # negative control: the proof fails on a flipped LUT bit
    from lut2rtl.verify.mutate import flip_lut_init_bit, lut_inits

    bad = tmp_path / "bad"
    shutil.copytree(res.out_dir, bad)
    design = read_build_folder(bad)
    text = design.verilog.read_text()
    design.verilog.write_text(flip_lut_init_bit(text, len(lut_inits(text)) - 1)[0])
    proof_bad, _ = formal_check(read_build_folder(bad), timeout=600)
    assert not proof_bad.proved

"""Imported models compile, and the build folder agrees with the source model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lut2rtl.checkpoint import load_checkpoint, save_checkpoint
from lut2rtl.compile import compile_checkpoint
from lut2rtl.datasets import load_digits
from lut2rtl.interop import import_difflogic, import_torchlogix

from . import standins as S


@pytest.fixture(scope="module")
def torchlogix_digits(tmp_path_factory):
    """A light k=4 torchlogix stand-in over the 64 digits features, imported and compiled."""
    d = load_digits()
    gen = torch.Generator().manual_seed(0)
    model = S.torchlogix_model([60, 30], 64, 2, 10, parametrization="light", lut_rank=4, seed=0)
    # thresholds in the features' range, so the digits split exercises them
    model[0].thresholds = (torch.rand(64, 2, generator=gen) * 16).sort(-1).values.float()
    tmp = tmp_path_factory.mktemp("tl")
    ckpt = tmp / "tl_digits.pt"
    save_checkpoint(import_torchlogix(model, metadata={"dataset": "digits"}), ckpt)
    res = compile_checkpoint(ckpt, tmp / "build", target="ice40", pipeline=2)
    return model, d, ckpt, res


def test_build_folder_matches_source_model(torchlogix_digits):
    model, d, ckpt, res = torchlogix_digits
    src = load_checkpoint(ckpt)
    ref = load_checkpoint(res.out_dir / "netlist.pt")
    assert [layer.k for layer in ref.layers] == [4, 4]
    for a, b in zip(src.layers, ref.layers):
        assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.tables, b.tables)
    v = np.load(res.out_dir / "vectors.npz")
    n_test = d.x_test.shape[0]
    assert v["in_bits"].shape == (n_test + 256, 128)
    # the digits split went through the same thresholds as the source model
    want_in = model[0](torch.from_numpy(d.x_test.astype(np.float32))).numpy().astype(np.uint8)
    assert np.array_equal(v["in_bits"][:n_test], want_in)
    bits, counts, pred = S.discrete_forward_bits(model, v["in_bits"], 10)
    assert np.array_equal(v["out_bits"].astype(bool), bits)
    assert np.array_equal(v["counts"], counts) and np.array_equal(v["out_class"], pred)
    m = res.manifest
    assert m.n_inputs == 128 and m.classes == 10 and m.latency == 2


@pytest.mark.verilator
def test_compiled_verilog_lints(torchlogix_digits):
    import os
    import subprocess

    from lut2rtl.tools.verilator import find_verilator, verilator_env
    from lut2rtl.tools.yosys import yosys_share

    _, _, _, res = torchlogix_digits
    top = res.manifest.top
    cells = yosys_share() / "ice40" / "cells_sim.v"
    cmd = [find_verilator(), "--lint-only", "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", top,
           str(res.out_dir / f"{top}.v"), str(cells)]
    r = subprocess.run(cmd, env={**os.environ, **verilator_env()}, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.verilator
def test_imported_models_simulate_bit_exact(torchlogix_digits, tmp_path):
    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.verify.simulate import simulate_design

    _, _, _, res = torchlogix_digits
    model = S.difflogic_model([48, 24], 20, 4, seed=2)
    ckpt = tmp_path / "dl.pt"
    save_checkpoint(import_difflogic(model), ckpt)
    res_dl = compile_checkpoint(ckpt, tmp_path / "build_dl", target="generic", pipeline=1)
    for out_dir in (res.out_dir, res_dl.out_dir):
        design = read_build_folder(out_dir)
        sim = simulate_design(design, design.vectors(), cache_dir=tmp_path / "simcache")
        assert sim.vectors > 0
        assert sim.comparison.mismatched_vectors == 0, sim.comparison.mismatches[:3]

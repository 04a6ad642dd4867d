"""Compiled designs are bit-exact with the reference evaluator in simulation.

Each case compiles a checkpoint (or a small random netlist) with
``compile_checkpoint``, builds a Verilator model with the family's primitive
models and streams ``vectors.npz`` (the whole digits test split plus random
vectors for the digits examples) one per clock with random idle cycles,
checking every output bit, count, class and ``out_valid`` at the declared
latency.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simlib import example_checkpoints, main_example

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.compile import compile_checkpoint
from lut2rtl.datasets import load_digits
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.compare import format_mismatches
from lut2rtl.verify.simulate import simulate_design

TARGETS = ["ice40", "ecp5", "xilinx", "gowin", "generic"]
PIPELINES = [0, 1, 4]

pytestmark = pytest.mark.verilator


def _check(ckpt: Path, tmp_path: Path, sim_cache: Path, target: str, pipeline: int, **kw: object) -> int:
    out = tmp_path / f"{ckpt.stem}-{target}-p{pipeline}"
    compile_checkpoint(ckpt, out, target=target, pipeline=pipeline, **kw)  # type: ignore[arg-type]
    design = read_build_folder(out)
    assert design.manifest.latency == pipeline
    vectors = design.vectors()
    res = simulate_design(design, vectors, seed=pipeline, cache_dir=sim_cache)
    assert res.ok, "\n".join(format_mismatches(res.comparison))
    assert res.vectors == vectors.n
    return vectors.n


def test_main_example_full_test_split(tmp_path: Path, sim_cache: Path) -> None:
    ckpt = main_example()
    n = _check(ckpt, tmp_path, sim_cache, "ice40", 4)
    # vectors.npz holds the whole digits test split (plus random vectors)
    assert n >= len(load_digits().y_test)


@pytest.mark.parametrize(("target", "pipeline"), [("generic", 0), ("ecp5", 1)])
def test_small_random_network(tmp_path: Path, sim_cache: Path, target: str, pipeline: int) -> None:
    net = random_netlist(7, 24, [60, 40, 30], [2, 4, 3], classes=3)
    ckpt = tmp_path / "small.pt"
    save_checkpoint(net, ckpt)
    _check(ckpt, tmp_path, sim_cache, target, pipeline, out_bits=True)


def test_no_groupsum_out_bits_only(tmp_path: Path, sim_cache: Path) -> None:
    net = random_netlist(np.random.default_rng(3), 12, [30, 17], 6, dag=True)
    ckpt = tmp_path / "plain.pt"
    save_checkpoint(net, ckpt)
    _check(ckpt, tmp_path, sim_cache, "xilinx", 1)


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("ckpt", example_checkpoints(), ids=lambda p: p.stem)
def test_every_example_target_pipeline(ckpt: Path, target: str, pipeline: int, tmp_path: Path,
                                       sim_cache: Path) -> None:
    _check(ckpt, tmp_path, sim_cache, target, pipeline)


@pytest.mark.yosys
def test_abc_cover_simulates_and_proves(tmp_path: Path, sim_cache: Path) -> None:
    # a network where level 3 (the default) keeps ABC's cover, not the packer's:
    # the design built from it matches the reference evaluator in Verilator, cycle
    # for cycle, and is proved equal to the source netlist for all inputs
    from lut2rtl.passes import optimize
    from lut2rtl.verify.check import verify_build

    net = random_netlist(1, 64, [256] * 6, 2, classes=4)
    assert optimize(net, 3).n_luts < optimize(net, 2).n_luts
    ckpt = tmp_path / "all16.pt"
    save_checkpoint(net, ckpt)
    _check(ckpt, tmp_path, sim_cache, "ice40", 2, out_bits=True)
    report = verify_build(tmp_path / "all16-ice40-p2", formal=True, simulate=False)
    assert report.formal is not None and report.formal.proved, report.formal

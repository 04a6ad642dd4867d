"""Equivalence checks of the user's own model: ``pytest sim/ --checkpoint model.pt``.

With ``--checkpoint FILE [--target T] [--pipeline N]`` the checkpoint is
compiled once (as ``lut2rtl compile`` does) into a temporary build folder;
with ``--build FOLDER`` an existing build folder is checked as it is (its
Verilog included: a hand-edited or corrupted file fails here). Then:

- simulation: ``vectors.npz`` (the dataset's test split when the model reads
  it, else random vectors) plus ``--user-vectors`` random vectors, streamed
  through the Verilator model cycle by cycle and compared with the reference
  evaluator on ``netlist.pt``; a failure names the first mismatching sample
  and its input bits;
- formal: ``lut2rtl verify --formal`` on the same folder (the registered
  design itself for a pipelined build), when the network has at most
  ``--formal-max-luts`` LUTs; larger ones are skipped with that reason
  (simulated only).

Without ``--checkpoint`` or ``--build`` both tests are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lut2rtl.buildfolder import BuildFolder, read_build_folder
from lut2rtl.verify.check import VerifyReport, verify_build

pytestmark = [pytest.mark.verilator, pytest.mark.yosys]


@pytest.fixture(scope="module")
def user_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> BuildFolder:
    opt = request.config.getoption
    build, ckpt = opt("--build"), opt("--checkpoint")
    if build and ckpt:
        raise pytest.UsageError("give --checkpoint or --build, not both")
    if build:
        return read_build_folder(build)
    if not ckpt:
        pytest.skip("no --checkpoint or --build given (pytest sim/ --checkpoint model.pt checks your model)")
    from lut2rtl.compile import compile_checkpoint

    out = tmp_path_factory.mktemp("user") / Path(ckpt).stem
    compile_checkpoint(ckpt, out, target=opt("--target"), pipeline=opt("--pipeline"))
    return read_build_folder(out)


def _failure(report: VerifyReport) -> str:
    return "\n".join([f"{report.design}: not bit-exact with netlist.pt", *report.lines])


def test_user_model_simulates(user_build: BuildFolder, request: pytest.FixtureRequest, sim_cache: Path) -> None:
    n = request.config.getoption("--user-vectors")
    report = verify_build(user_build.path, extra_vectors=n, seed=1, cache_dir=sim_cache)
    assert report.sim is not None
    assert report.ok, _failure(report)
    assert report.vectors == user_build.vectors().n + n


def test_user_model_proves(user_build: BuildFolder, request: pytest.FixtureRequest) -> None:
    limit = request.config.getoption("--formal-max-luts")
    luts = user_build.netlist.n_luts
    if luts > limit:
        pytest.skip(f"{luts} LUTs > --formal-max-luts {limit}: simulated only")
    report = verify_build(user_build.path, formal=True, simulate=False)
    assert report.ok, _failure(report)
    assert report.formal is not None and report.formal.proved

"""Simulating a compiled design with Verilator.

Two engines read the same Verilog, the same primitive models and flags
(:func:`verilator_sources`: the family's ``share/<family>/cells_sim.v``)
and drive the same stream (:func:`lut2rtl.verify.vectors.stream_plan`):

- ``cxx`` (the default): a generated C++ harness and a Verilator model with
  no public signals (:mod:`.harness`); its build is what makes large
  networks affordable (a 6,000-LUT, 100-class design builds in under a
  minute instead of 13);
- ``cocotb``: the cocotb testbench :mod:`.tb` through cocotb's Verilator
  runner (:func:`verilator_build`), which makes every net public; kept as the
  protocol-level testbench for small designs and as a cross-check of the
  harness (both must report the same observations).

Builds are cached in a folder keyed by a hash of every source, flag and tool
version, so an unchanged design is built once. :func:`simulate` streams
vectors through the model and returns the comparison with the reference
outputs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from ..buildfolder import BuildFolder
from ..errors import ToolError, ToolNotFound
from ..families import Family
from ..tools.verilator import find_verilator, verilator_env
from .compare import Comparison, Observed, compare
from .partition import PARTITION_LUTS, PIECE_LUTS, Partition, PartitionError, partition_design
from .vectors import Vectors

log = logging.getLogger(__name__)

__all__ = ["ENGINES", "SimResult", "default_cache_dir", "simulate", "simulate_design", "verilator_build",
           "verilator_sources"]

ENGINES = ("cxx", "cocotb")

CACHE_ENV = "LUT2RTL_SIM_CACHE"
TB_MODULE = "lut2rtl.verify.tb"
# Warnings that the vendor primitive models trigger and that say nothing about
# the design; -Wno-fatal keeps any other lint warning from failing a build.
# the cocotb testbench (tb.py) reads its configuration from the file this names
CONFIG_ENV = "LUT2RTL_TB_CONFIG"
_MODEL_WARNINGS = ["-Wno-TIMESCALEMOD", "-Wno-SPECIFYIGN"]
BASE_ARGS = ["-Wno-fatal", *_MODEL_WARNINGS, "-Wno-MULTIDRIVEN", "--x-assign", "0", "--x-initial", "0"]


@dataclass(frozen=True)
class SimResult:
    """Outcome of one simulation run."""

    comparison: Comparison
    observed: Observed
    vectors: int
    cycles: int
    build_seconds: float  # 0 when the cached model was reused
    sim_seconds: float  # the streaming loop inside the simulator
    run_seconds: float  # the whole simulator process (start-up included)
    cached: bool
    build_dir: Path
    engine: str = "cocotb"
    pieces: int = 0  # the fabric's pieces when it was simulated piecewise (:mod:`.piecewise`); 0: whole

    @property
    def ok(self) -> bool:
        return self.comparison.ok


def _cocotb_runner():  # type: ignore[no-untyped-def]
    try:
        from cocotb_tools.runner import get_runner
    except ImportError:
        raise ToolNotFound("cocotb is not installed: pip install 'lut2rtl[sim]' (or use --engine cxx)") from None
    return get_runner


def default_cache_dir() -> Path:
    """``$LUT2RTL_SIM_CACHE``, else ``$XDG_CACHE_HOME/lut2rtl/verilator`` (``~/.cache/...``)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lut2rtl" / "verilator"


def verilator_sources(family: Family | None) -> tuple[list[Path], list[str]]:
    """The family's primitive models and the Verilator flags they need
    (every Verilator run of a lut2rtl design reads them from here)."""
    files, flags = family.sim_sources() if family is not None else ([], [])
    return files, [*_MODEL_WARNINGS, *flags]


def tool_versions() -> str:
    parts = []
    for pkg in ("verilator", "cocotb"):
        try:
            parts.append(f"{pkg}={metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{pkg}=?")
    return ";".join(parts)


@contextlib.contextmanager
def verilator_on_path() -> Iterator[dict[str, str]]:
    # cocotb's runner looks Verilator up with shutil.which() in this process's PATH
    env = verilator_env()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def verilator_build(verilog: Path, top: str, family: Family | None, *,
                    cache_dir: Path | None = None) -> tuple[Path, float, bool]:
    """Build (or reuse) the Verilator model of ``top`` in ``verilog``.

    Returns ``(build_dir, seconds, cached)``. Raises :class:`ToolError` (with
    the tail of the build log) when Verilator or the C++ build fails.
    """
    get_runner = _cocotb_runner()

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    models, args = verilator_sources(family)
    build_args = BASE_ARGS + args[len(_MODEL_WARNINGS):]
    h = hashlib.sha256()
    h.update(Path(verilog).read_bytes())
    for m in models:
        h.update(m.read_bytes())
    h.update(json.dumps([top, build_args, tool_versions()]).encode())
    key = h.hexdigest()[:20]
    build_dir = cache / f"{top}-{key}"
    stamp = build_dir / "lut2rtl-built"
    with locked(cache / f"{top}-{key}.lock"):
        if stamp.is_file() and (build_dir / top).is_file():
            return build_dir, 0.0, True
        if build_dir.exists():
            shutil.rmtree(build_dir)  # a build that was interrupted
        build_dir.mkdir(parents=True)
        # the sources are copied so the model does not depend on the user's folder
        src = build_dir / "design.v"
        shutil.copyfile(verilog, src)
        t0 = time.perf_counter()
        runner = _quiet(get_runner("verilator"))
        log_file = build_dir / "build.log"
        with verilator_on_path():
            try:
                runner.build(sources=[src, *models], hdl_toplevel=top, build_args=build_args, build_dir=build_dir,
                             always=True, log_file=log_file)
            except (RuntimeError, SystemExit) as e:
                tail = log_tail(log_file)
                raise ToolError(f"Verilator build of {verilog} failed: {tail or e}",
                                command=[find_verilator()], stderr=tail) from None
        seconds = time.perf_counter() - t0
        stamp.write_text(json.dumps({"seconds": seconds}))
        log.info("built %s in %.1f s", build_dir, seconds)
        return build_dir, seconds, False


def _quiet(runner):  # type: ignore[no-untyped-def]
    # the runner logs every command at INFO on its own logger; follow our verbosity
    runner.log.setLevel(logging.INFO if log.isEnabledFor(logging.INFO) else logging.WARNING)
    return runner


def log_tail(log_file: Path, n: int = 6) -> str:
    """The error lines (else the last lines) of a tool's log, joined on one line."""
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errs = [ln for ln in lines if "%Error" in ln or "error:" in ln.lower()]
    return " | ".join((errs or lines)[-n:]).strip()


def simulate(verilog: Path, top: str, ports: dict[str, int], latency: int, expected: Vectors, *,
             family: Family | None, classes: int | None, seed: int = 0, gap: float = 0.25,
             cache_dir: Path | None = None, timeout: float | None = None, engine: str = "cxx",
             progress: Callable[[str], None] | None = None, piece_luts: int | None = None) -> SimResult:
    """Stream ``expected.in_bits`` through the design and compare with ``expected``.

    One slot per clock, with idle slots (``in_valid = 0``, garbage inputs)
    drawn with probability ``gap`` from ``seed``; ``engine`` is ``cxx`` or
    ``cocotb`` (see the module docstring); ``progress`` is called with a
    line at least every 10 s of a long build or run (``cxx``). Raises
    :class:`ToolError` if the model cannot be built or the simulator does
    not produce a result.

    ``piece_luts`` (``cxx``): ``None`` simulates a design whose structural
    fabric has more than :data:`lut2rtl.verify.partition.PARTITION_LUTS`
    primitives in pieces of at most
    :data:`~lut2rtl.verify.partition.PIECE_LUTS` (:mod:`.piecewise`: each
    Verilator build holds one piece), any other design whole; ``0`` always
    whole; a positive number: in pieces of at most that many whenever the
    design has a structural fabric.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "cxx":
        from .harness import build_harness, run_harness

        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        part = _partition(Path(verilog), top, piece_luts)
        if part is not None:
            from .piecewise import simulate_piecewise

            return simulate_piecewise(Path(verilog), top, ports, latency, expected, family=family, classes=classes,
                                      seed=seed, gap=gap, cache_dir=cache, timeout=timeout, progress=progress,
                                      part=part)
        built = build_harness(Path(verilog), top, ports, family, cache_dir=cache, progress=progress,
                              timeout=timeout)
        run = run_harness(built, ports, latency, classes, expected, seed=seed, gap=gap, progress=progress,
                          timeout=timeout)
        return SimResult(comparison=compare(expected, run.observed), observed=run.observed, vectors=expected.n,
                         cycles=run.cycles, build_seconds=built.seconds, sim_seconds=run.sim_seconds,
                         run_seconds=run.run_seconds, cached=built.cached, build_dir=built.build_dir,
                         engine="cxx")
    get_runner = _cocotb_runner()

    build_dir, build_s, cached = verilator_build(verilog, top, family, cache_dir=cache_dir)
    with tempfile.TemporaryDirectory(prefix="lut2rtl-sim-") as tmp:
        work = Path(tmp)
        expected.save(work / "stimulus.npz")
        cfg = {"stimulus": str(work / "stimulus.npz"), "result": str(work / "result.npz"),
               "latency": latency, "ports": ports, "seed": seed, "gap": gap, "classes": classes}
        (work / "config.json").write_text(json.dumps(cfg))
        runner = _quiet(get_runner("verilator"))
        t0 = time.perf_counter()
        env = {**verilator_env(), CONFIG_ENV: str(work / "config.json"),
               "COCOTB_RESOLVE_X": "ZEROS", "PYTHONWARNINGS": "ignore"}
        with verilator_on_path():
            try:
                runner.test(test_module=TB_MODULE, hdl_toplevel=top, hdl_toplevel_lang="verilog", build_dir=build_dir,
                            test_dir=work,
                            extra_env=env, log_file=work / "sim.log", results_xml=str(work / "results.xml"),
                            seed=seed)
            except (RuntimeError, SystemExit) as e:
                if not (work / "result.npz").is_file():
                    raise ToolError(f"simulation of {top} failed: {log_tail(work / 'sim.log') or e}") from None
        run_s = time.perf_counter() - t0
        res_path = work / "result.npz"
        if not res_path.is_file():
            raise ToolError(f"simulation of {top} produced no result: {log_tail(work / 'sim.log')}")
        with np.load(res_path) as z:
            r = {k: np.asarray(z[k]) for k in z.files}
    observed = Observed(out_bits=r.get("out_bits"), counts=r.get("counts"), out_class=r.get("out_class"),
                        valid_expected=r["valid_expected"], valid_got=r["valid_got"])
    return SimResult(comparison=compare(expected, observed), observed=observed, vectors=expected.n,
                     cycles=int(r["cycles"]), build_seconds=build_s, sim_seconds=float(r["seconds"]),
                     run_seconds=run_s, cached=cached, build_dir=build_dir, engine="cocotb")


def _partition(verilog: Path, top: str, piece_luts: int | None) -> Partition | None:
    """The pieces ``verilog`` is simulated in (see :func:`simulate`), or None: whole."""
    if piece_luts == 0:
        return None
    text = verilog.read_text(errors="replace")
    if piece_luts is None and text.count("\n") < PARTITION_LUTS:  # (a fabric has a line per primitive)
        return None
    try:
        part = partition_design(text, top, piece_luts=piece_luts or PIECE_LUTS)
    except PartitionError as e:
        log.info("simulating %s whole: %s", top, e)
        return None
    if piece_luts is None and part.luts <= PARTITION_LUTS:
        return None
    return part


def sim_setup(design: BuildFolder) -> dict[str, object]:
    """What a user's own testbench needs to simulate ``design`` with Verilator
    as lut2rtl does: the top, the sources (the design and the family's
    primitive model), the flags, and the environment (the PyPI wheel's
    launcher folder on PATH, VERILATOR_ROOT, and the make variable that
    works around the wheel's empty precompiled-header flag)."""
    models, flags = verilator_sources(design.manifest.primitives)
    tops = [design.manifest.top]
    if design.manifest.interface is not None:
        tops.append(str(design.manifest.interface["top"]))
    return {"design": str(design.path), "tops": tops,
            "sources": [str(design.verilog.resolve()), *(str(p) for p in models)],
            "flags": [*BASE_ARGS, *flags[len(_MODEL_WARNINGS):]], "verilator": find_verilator(),
            "env": verilator_env()}


def simulate_design(design: BuildFolder, vectors: Vectors, *, seed: int = 0, gap: float = 0.25,
                    cache_dir: Path | None = None, engine: str = "cxx",
                    progress: Callable[[str], None] | None = None, piece_luts: int | None = None) -> SimResult:
    """:func:`simulate` a compiled design folder against ``vectors``."""
    ports = {n: w for n, (_, w) in design.manifest.ports.items()}
    return simulate(design.verilog, design.manifest.top, ports, design.manifest.latency, vectors,
                    family=design.manifest.primitives, classes=design.manifest.classes, seed=seed, gap=gap,
                    cache_dir=cache_dir, engine=engine, progress=progress, piece_luts=piece_luts)

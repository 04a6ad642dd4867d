"""Piecewise simulation: a design too large for one Verilator build, simulated in pieces.

:func:`lut2rtl.verify.partition.partition_design` cuts the emitted Verilog
into the *rest* (the top module, with the structural fabric's instance
replaced by cut ports ``lut2rtl_fi*``/``lut2rtl_fo*``, and every other
module) and the fabric's *pieces* (its lines, verbatim, a few tens of
thousands of primitives each). Each is built by Verilator alone, with the
family's primitive models and the flags of the whole-design build, so no
build holds more than one piece. The run:

1. the rest, fabric outputs held at 0: records what the fabric reads in every
   cycle (the three reset cycles included);
2. the pieces, in order: each reads its inputs' per-cycle values (the
   fabric's inputs from step 1, or an earlier piece's outputs) and records
   its outputs, with the same per-cycle order as the whole design's harness
   (inputs applied, the model settles, outputs read, one rising edge), from
   the same initial state (registers 0);
3. the rest again, its fabric outputs played from step 2: its core outputs
   are what is compared with the reference, and the fabric inputs it shows
   must equal step 1's bit for bit.

Why this is the whole design's simulation: the design has one clock and the
fabric is a feed-forward circuit (pieces only read earlier pieces; every
line is copied once), so in every cycle a piece's settled outputs are a
function of its inputs in that cycle and in earlier ones (its registers),
and the values recorded at the sampling point of each cycle are the ones its
registers and its readers' registers take at the next edge. Step 3's check
closes the loop: the fabric outputs played in step 3 are the pieces' response
to exactly the fabric inputs step 3 shows, so no value in the composed run
differs from the monolithic run's. A design where the fabric's inputs
depended on its outputs fails that check and is reported, never passed.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..buildfolder import data_input
from ..errors import ToolError
from ..families import Family
from ..rtl.fabric import chunks
from .compare import compare
from .harness import (
    HarnessBuild,
    build_harness,
    harness_cpp,
    pack_words,
    port_words,
    run_harness,
    run_logged,
    stream_cpp,
    unpack_words,
    word_count,
)
from .partition import PIECE_LUTS, Partition, Piece, partition_design
from .simulate import SimResult
from .vectors import Vectors, stream_plan

log = logging.getLogger(__name__)

__all__ = ["simulate_piecewise"]

Progress = Callable[[str], None]
BUILDS_AT_ONCE = 2  # pieces built side by side (each Verilator run is single-threaded)
_ROWS = 1024  # cycles per block when streams are gathered


class _Streams:
    """Per-cycle values of named signal bits: each source a matrix packed along time
    (``[ceil(steps / 8), bits]``), and where each name lives in them."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.sources: list[np.ndarray] = []
        self.where: dict[str, tuple[int, int]] = {}

    def add(self, names: list[str], words: np.ndarray, widths: list[int] | None = None) -> None:
        """Store ``words`` (uint32 ``[steps, w]``): ``names`` in order, one port after another when
        ``widths`` is given (each port padded to whole words), else contiguous."""
        if widths is None:
            bits = unpack_words(words, len(names))
        else:
            parts, at = [], 0
            for w in widths:
                parts.append(unpack_words(words[:, at:at + word_count(w)], w))
                at += word_count(w)
            bits = np.concatenate(parts, axis=1) if parts else np.zeros((self.steps, 0), np.uint8)
        assert bits.shape == (self.steps, len(names))
        s = len(self.sources)
        self.sources.append(np.packbits(bits, axis=0, bitorder="little"))
        for col, n in enumerate(names):
            self.where[n] = (s, col)

    def gather(self, names: list[str], widths: list[int] | None = None) -> np.ndarray:
        """uint32 ``[steps, words]`` of ``names`` laid out like :meth:`add`'s."""
        try:
            loc = np.array([self.where[n] for n in names], dtype=np.int64).reshape(-1, 2)
        except KeyError as e:
            raise ToolError(f"piecewise simulation: no values recorded for {e.args[0]}") from None
        groups = [(w, None) for w in widths] if widths is not None else [(len(names), None)]
        total = sum(word_count(w) for w, _ in groups)
        out = np.zeros((self.steps, total), dtype=np.uint32)
        for r0 in range(0, self.steps, _ROWS):
            r1 = min(self.steps, r0 + _ROWS)
            bits = np.zeros((r1 - r0, len(names)), dtype=np.uint8)
            for s in np.unique(loc[:, 0]).tolist():
                sel = np.flatnonzero(loc[:, 0] == s)
                packed = self.sources[s][r0 // 8:(r1 + 7) // 8][:, loc[sel, 1]]
                bits[:, sel] = np.unpackbits(packed, axis=0, bitorder="little")[:r1 - r0]
            at, col = 0, 0
            for w, _ in groups:
                out[r0:r1, at:at + word_count(w)] = pack_words(bits[:, col:col + w], word_count(w))
                at += word_count(w)
                col += w
        return out


def _fabric_names(ports: list[tuple[str, int]]) -> list[str]:
    return [f"{p}[{q}]" for p, w in ports for q in range(w)]


def _run_piece(build: HarnessBuild, words_in: np.ndarray, steps: int, out_words: int, *,
               progress: Progress | None, timeout: float | None) -> tuple[np.ndarray, float]:
    with tempfile.TemporaryDirectory(prefix="lut2rtl-piece-") as tmp:
        work = Path(tmp)
        np.ascontiguousarray(words_in, dtype=np.uint32).tofile(work / "in.bin")
        run_logged([str(build.exe), "in.bin", str(steps), "out.bin"], cwd=work, env={},
                    log_file=work / "sim.log", what=f"simulation of {build.build_dir.name}", progress=progress,
                    timeout=timeout)
        text = (work / "sim.log").read_text(errors="replace")
        raw = np.fromfile(work / "out.bin", dtype=np.uint32)
    if raw.size != steps * out_words:
        raise ToolError(f"simulation of {build.build_dir.name} wrote {raw.size} words, expected {steps * out_words}")
    secs = next((float(t.split()[-1]) for t in text.splitlines() if t.startswith("lut2rtl-harness")), 0.0)
    return raw.reshape(steps, out_words), secs


def simulate_piecewise(verilog: Path, top: str, ports: dict[str, int], latency: int, expected: Vectors, *,
                       family: Family | None, classes: int | None, seed: int, gap: float, cache_dir: Path,
                       timeout: float | None = None, progress: Progress | None = None,
                       piece_luts: int = PIECE_LUTS, part: Partition | None = None) -> SimResult:
    """:func:`lut2rtl.verify.simulate.simulate` (engine ``cxx``) in pieces (see the module docstring).
    Raises :class:`lut2rtl.verify.partition.PartitionError` when the design cannot be cut."""
    t_start = time.perf_counter()
    if part is None:
        part = partition_design(Path(verilog).read_text(errors="replace"), top, piece_luts=piece_luts)
    pieces: list[Piece] = [p for p in part.pieces if p.outputs]
    fi = [(c.name, c.width) for c in part.fabric_in]
    fo = [(c.name, c.width) for c in part.fabric_out]
    note = (f"piecewise simulation: the fabric's {part.luts:,} primitives in {len(pieces)} pieces "
            f"(at most {max((p.luts for p in pieces), default=0):,} each), the rest of the design in one")
    log.info("%s", note)
    if progress is not None:
        progress(note)
    key = hashlib.sha256(part.rest.encode() + "".join(p.verilog for p in pieces).encode()).hexdigest()[:16]
    src = Path(cache_dir) / f"{top}-pieces-{key}"
    src.mkdir(parents=True, exist_ok=True)
    (src / "rest.v").write_text(part.rest)
    jobs: list[tuple[Path, str, str]] = [(src / "rest.v", top, harness_cpp(ports, cut=(fo, fi)))]
    for p in pieces:
        (src / f"{p.name}.v").write_text(p.verilog)
        ins = [(f"pi{c}", w) for c, w in enumerate(chunks(len(p.inputs)))]
        outs = [(f"po{c}", w) for c, w in enumerate(chunks(len(p.outputs)))]
        jobs.append((src / f"{p.name}.v", p.name, stream_cpp(ins, outs, p.clocked)))

    def build(job: tuple[Path, str, str]) -> HarnessBuild:
        return build_harness(job[0], job[1], ports, family, cache_dir=Path(cache_dir), progress=progress,
                             timeout=timeout, cpp=job[2], group=False)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=BUILDS_AT_ONCE) as pool:
        builds = list(pool.map(build, jobs))
    build_s = time.perf_counter() - t0 if not all(b.cached for b in builds) else 0.0
    rest, piece_builds = builds[0], builds[1:]

    n_in = ports[data_input(ports)]
    cycles = stream_plan(expected.n, n_in, latency, gap, seed).cycles
    steps = cycles + 3
    _, fo_words = port_words(fo)
    _, fi_words = port_words(fi)
    sim_s = 0.0
    # 1. what the fabric reads, its outputs held at 0
    first = run_harness(rest, ports, latency, classes, expected, seed=seed, gap=gap, progress=progress,
                        timeout=timeout, cut_in=np.zeros((steps, fo_words), np.uint32), cut_out_words=fi_words)
    sim_s += first.sim_seconds
    assert first.cut_out is not None
    streams = _Streams(steps)
    fabric_in = [(c.fabric, c.width) for c in part.fabric_in]
    streams.add(_fabric_names(fabric_in), first.cut_out, [w for _, w in fabric_in])
    # 2. the pieces, in order
    for i, (p, b) in enumerate(zip(pieces, piece_builds)):
        if progress is not None:
            progress(f"piecewise simulation: piece {i + 1} of {len(pieces)} ({p.luts:,} primitives)")
        words_in = streams.gather(p.inputs)
        out, secs = _run_piece(b, words_in, steps, word_count(len(p.outputs)) if p.outputs else 0,
                               progress=progress, timeout=timeout)
        sim_s += secs
        streams.add(p.outputs, out)
    # 3. the rest, the fabric's outputs played back
    fabric_out = [(c.fabric, c.width) for c in part.fabric_out]
    played = streams.gather(_fabric_names(fabric_out), [w for _, w in fabric_out])
    second = run_harness(rest, ports, latency, classes, expected, seed=seed, gap=gap, progress=progress,
                         timeout=timeout, cut_in=played, cut_out_words=fi_words)
    sim_s += second.sim_seconds
    if not np.array_equal(second.cut_out, first.cut_out):
        raise ToolError("piecewise simulation: the fabric's inputs changed when its outputs were played back "
                        "(they depend on its outputs); simulate this design whole")
    return SimResult(comparison=compare(expected, second.observed), observed=second.observed, vectors=expected.n,
                     cycles=second.cycles, build_seconds=build_s, sim_seconds=sim_s,
                     run_seconds=time.perf_counter() - t_start - build_s, cached=all(b.cached for b in builds),
                     build_dir=rest.build_dir, engine="cxx", pieces=len(pieces))

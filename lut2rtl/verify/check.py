"""``lut2rtl verify``: simulate (and optionally prove) a compiled design folder."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..buildfolder import BuildFolder, read_build_folder
from ..errors import BuildFolderError, ToolError, VerificationError
from ..netlist import Netlist
from ..tools._run import tool_progress
from .compare import format_mismatches
from .formal import FormalResult, prove_equivalence
from .pipelined import prove_pipelined
from .simulate import SimResult, simulate_design
from .vectors import expected_vectors, random_inputs

log = logging.getLogger(__name__)

__all__ = ["VerifyReport", "formal_check", "raise_on_failure", "verify_build"]


@dataclass
class VerifyReport:
    """What ``lut2rtl verify`` found; ``ok`` is False on any mismatch or failed proof."""

    design: str
    vectors: int
    sim: SimResult | None = None
    formal: FormalResult | None = None
    formal_subject: str = ""  # what was proved ("this design" or "the latency-0 compile of ...")
    # why no proof result exists although --formal was asked: skipped because
    # simulation already found a mismatch, or the proof could not finish
    formal_skipped: str = ""
    formal_error: str = ""
    # the first vector that differs and its inputs (in_bits[n-1..0] as 0/1 text)
    first_mismatch: dict[str, Any] | None = None
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        # a proof that was asked for and could not finish is not a pass
        return ((self.sim is None or self.sim.ok) and (self.formal is None or self.formal.proved)
                and not self.formal_error)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"design": self.design, "ok": self.ok, "vectors": self.vectors,
                             "seconds": round(self.seconds, 3)}
        if self.sim is not None:
            c = self.sim.comparison
            d["simulation"] = {
                "ok": self.sim.ok, "cycles": self.sim.cycles, "mismatched_vectors": c.mismatched_vectors,
                "valid_errors": c.n_valid_errors, "build_seconds": round(self.sim.build_seconds, 3),
                "sim_seconds": round(self.sim.sim_seconds, 3), "cached_build": self.sim.cached,
                "engine": self.sim.engine, "pieces": self.sim.pieces,
                "mismatches": [{"vector": m.vector, "port": m.port, "expected": m.expected, "got": m.got}
                               for m in c.mismatches],
            }
            if self.first_mismatch is not None:
                d["simulation"]["first_mismatch"] = self.first_mismatch
        if self.formal is not None:
            d["formal"] = {"proved": self.formal.proved, "seconds": round(self.formal.seconds, 3),
                           "method": self.formal.method, "subject": self.formal_subject,
                           "detail": self.formal.detail}
        elif self.formal_skipped or self.formal_error:
            d["formal"] = {"proved": False, "skipped": self.formal_skipped or None,
                           "error": self.formal_error or None}
        return d


def recorded_head_groups(options: dict[str, Any], net: Netlist, where: object) -> list[list[int]] | None:
    """The bits each class's popcount tree counts, in the design's order, as ``compile`` recorded them in
    the manifest (``options.head_groups``; null: every bit in index order); None where the folder records
    none (an older lut2rtl: the proof computes the order again). Raises :class:`BuildFolderError` when the
    record does not fit the netlist."""
    if "head_groups" not in options or net.group_sum is None:
        return None
    rec = options["head_groups"]
    classes = int(net.group_sum.classes)
    g = net.n_outputs // classes
    if rec is None:
        return [list(range(g)) for _ in range(classes)]

    def fits(x: Any) -> bool:
        return (isinstance(x, list) and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < g
                                            for i in x) and len(set(x)) == len(x))

    if not isinstance(rec, list) or len(rec) != classes or not all(fits(x) for x in rec):
        raise BuildFolderError(f"{where}: the manifest's options.head_groups is not {classes} lists of distinct "
                               f"bit positions below {g}")
    return rec


def formal_check(design: BuildFolder, *, timeout: float | None = 600.0,
                 progress: Callable[[str], None] | None = None) -> tuple[FormalResult, str]:
    """Prove the design equal to its ``netlist.pt``; returns the result and what was proved.

    A combinational design is proved as it is
    (:func:`~lut2rtl.verify.formal.prove_equivalence`); a pipelined one is
    proved as it is too, registers included, against the reference delayed
    by its latency (:func:`~lut2rtl.verify.pipelined.prove_pipelined`: path
    timing, ``out_valid`` by BMC, function with registers as wires).
    """
    man = design.manifest
    family = man.family
    if family is not None and family.popcount_pack and man.options.get("head_order") != "packed":
        # the head counted its group bits in index order (compile: registers inside the fabric, or a build
        # folder from before the packing order): the reference's cut points must follow the same order
        family = dataclasses.replace(family, popcount_pack=False)
    net = design.netlist
    groups = recorded_head_groups(man.options, net, design.path)
    try:
        with tool_progress(progress):  # each Yosys run of the proof reports while it runs
            if man.latency == 0:
                return (prove_equivalence(net, design.verilog, man.top, family=family, out_bits=man.out_bits,
                                          timeout=timeout, groups=groups), "this design (combinational)")
            ports = {n: w for n, (_, w) in man.ports.items()}
            proof = prove_pipelined(net, design.verilog, man.top, family=family, ports=ports, latency=man.latency,
                                    out_bits=man.out_bits, timeout=timeout, progress=progress, groups=groups)
    except ToolError as e:
        # a step's own limit is what was left of the whole proof's: name the whole limit instead
        if timeout is not None and "timed out" in str(e):
            raise ToolError(f"the proof did not finish within {timeout:g} s") from None
        raise
    return proof, f"this registered design against netlist.pt delayed by {man.latency} cycles"


def verify_build(path: str | os.PathLike[str], *, extra_vectors: int = 0, seed: int = 0, formal: bool = False,
                 simulate: bool = True, gap: float = 0.25, cache_dir: Path | None = None, engine: str = "cxx",
                 progress: Callable[[str], None] | None = None, piece_luts: int | None = None,
                 formal_timeout: float | None = 600.0) -> VerifyReport:
    """Check a compiled design folder against its reference netlist.

    Simulation streams ``vectors.npz`` plus ``extra_vectors`` random vectors
    (from ``seed``, expected outputs from the reference evaluator on
    ``netlist.pt``) through a Verilator model; ``formal`` adds a Yosys proof
    (see :func:`formal_check`). Simulation runs first: when it already
    found a mismatch the proof is skipped (the report says so), and a proof
    that cannot finish is reported as such, never as a pass. ``engine``
    chooses the simulator (:mod:`.simulate`), ``piece_luts`` whether the
    ``cxx`` one runs the fabric in pieces (:func:`.simulate.simulate`); ``formal_timeout`` bounds the
    proof in seconds (None: no limit); ``progress`` gets a line at
    least every 10 s of a long step (steps themselves are logged). Returns the report; the
    caller decides what a failure means (:func:`raise_on_failure`).
    """
    t0 = time.perf_counter()
    design = read_build_folder(path)
    vectors = design.vectors()
    net = design.netlist
    # vectors.npz is only trusted as far as it agrees with netlist.pt
    ref = expected_vectors(net, vectors.in_bits)
    same = np.array_equal(ref.out_bits, vectors.out_bits) and (ref.counts is None or (
        vectors.counts is not None and np.array_equal(ref.counts, vectors.counts)
        and np.array_equal(ref.out_class, vectors.out_class)))
    if not same:
        raise BuildFolderError(f"{design.vectors_path}: expected outputs disagree with netlist.pt")
    vectors_npz = vectors.n
    if extra_vectors:
        vectors = vectors.concat(expected_vectors(net, random_inputs(net.n_inputs, extra_vectors, seed)))
    report = VerifyReport(design=str(design.path), vectors=vectors.n)
    if simulate:
        log.info("simulating %d vectors (%s)", vectors.n, engine)
        report.sim = simulate_design(design, vectors, seed=seed, gap=gap, cache_dir=cache_dir, engine=engine,
                                     progress=progress, piece_luts=piece_luts)
        report.lines += format_mismatches(report.sim.comparison)
        if report.sim.comparison.mismatches:
            v = report.sim.comparison.mismatches[0].vector
            bits = "".join(str(int(b)) for b in vectors.in_bits[v][::-1])
            report.first_mismatch = {"vector": v, "in_bits": bits,
                                     "source": "vectors.npz" if v < vectors_npz else f"random (seed {seed})"}
            report.lines.append(f"first mismatching sample: vector {v} ({report.first_mismatch['source']}), "
                                f"in_bits[{len(bits) - 1}:0] = {bits}")
    if formal and report.sim is not None and not report.sim.ok:
        # the design is already known to be wrong, and the simulation's
        # mismatches say where; a proof would only repeat that, slowly
        report.formal_skipped = (f"simulation already found {report.sim.comparison.mismatched_vectors} "
                                 "mismatching vector(s); formal proof not attempted")
        report.lines.append(f"formal: skipped ({report.formal_skipped})")
    elif formal:
        log.info("formal proof")
        try:
            report.formal, report.formal_subject = formal_check(design, timeout=formal_timeout, progress=progress)
        except ToolError as e:
            report.formal_error = " ".join(str(e).split())
            report.lines.append(f"formal: could not finish: {report.formal_error}")
    if report.formal is not None:
        if not report.formal.proved:
            report.lines.append(f"formal proof FAILED for {report.formal_subject}; counterexample:")
            report.lines += ["  " + ln for ln in report.formal.detail.splitlines()]
    report.seconds = time.perf_counter() - t0
    return report


def raise_on_failure(report: VerifyReport) -> None:
    """Raise :class:`VerificationError` with a one-line summary if the report failed."""
    if report.ok:
        return
    parts = []
    if report.sim is not None and not report.sim.ok:
        c = report.sim.comparison
        parts.append(f"{c.mismatched_vectors} of {report.vectors} vectors differ from the reference"
                     + (f", out_valid wrong in {c.n_valid_errors} cycles" if c.n_valid_errors else ""))
    if report.formal is not None and not report.formal.proved:
        parts.append(f"not equivalent to netlist.pt (formal, {report.formal_subject})")
    if report.formal_error:
        parts.append(f"formal proof could not finish ({report.formal_error})")
    raise VerificationError(f"{report.design}: " + "; ".join(parts))

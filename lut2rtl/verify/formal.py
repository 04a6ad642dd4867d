"""Formal equivalence: the compiled Verilog equals the netlist for every input.

The design (FPGA primitives from Yosys's simulation models, or plain logic)
is compared with the independent Verilog of :mod:`.reference`, written
straight from ``netlist.pt``. Yosys reads both, flattens them, builds a miter
(``miter -equiv``: an output that is 1 iff some output port differs) and
proves ``trigger = 0`` with SAT (``sat -verify -prove trigger 0``).

Tried and rejected: ``freduce`` before SAT (a 150-LUT proof took minutes
instead of a second); ``techmap; abc`` before SAT (fast, but it "proved" a
design with a flipped LUT bit equal -- x/undef bits become don't-cares for
ABC -- so it is unsound here; the negative control in
sim/test_negative_control.py guards against such a change).
Known limit: the GroupSum popcount/argmax makes the SAT problem hard
(different adder structures on the two sides); see bench_simulation.

Only combinational designs (latency 0) are proved this way: for a pipelined
build, :func:`lut2rtl.verify.check.verify_build` proves the latency-0 compile
of the same netlist (same compiler, same options apart from the pipeline),
and the pipeline registers are covered by simulation.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError
from ..netlist import Netlist
from ..tools.yosys import run_yosys
from .primitives import instantiated_modules, primitive_library
from .reference import emit_reference_verilog

log = logging.getLogger(__name__)

__all__ = ["FormalResult", "prove_equivalence"]

REF_TOP = "lut2rtl_formal_reference"
MITER = "lut2rtl_formal_miter"


@dataclass(frozen=True)
class FormalResult:
    """Outcome of a proof: ``proved`` is True only when SAT showed the miter unsatisfiable."""

    proved: bool
    seconds: float
    method: str
    detail: str  # the counterexample (failed proof) or a summary line


def _primitive_reads(family: str | None, design_text: str, work: Path) -> list[str]:
    if family is None:
        return []
    # only the models the design uses: parsing a whole cells_sim.v takes minutes in WASM Yosys
    (work / "prims.v").write_text(primitive_library(family, instantiated_modules(design_text)))
    return ["read_verilog -DNO_INCLUDES prims.v"]


def prove_equivalence(net: Netlist, verilog: str | Path, top: str, *, family: str | None, out_bits: bool,
                      timeout: float | None = 600.0, keep_dir: Path | None = None) -> FormalResult:
    """Prove that module ``top`` of ``verilog`` (combinational) computes ``net``.

    ``out_bits`` says whether the design has the ``out_bits`` port next to its
    GroupSum outputs. Returns a :class:`FormalResult` (``proved=False`` with a
    counterexample when they differ); raises :class:`ToolError` when Yosys
    fails for another reason (unreadable Verilog, port mismatch, timeout).
    """
    if top == REF_TOP:
        raise ValueError(f"design top must not be named {REF_TOP}")
    with tempfile.TemporaryDirectory(prefix="lut2rtl-formal-") as tmp:
        work = Path(tmp) if keep_dir is None else Path(keep_dir)
        work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(verilog, work / "design.v")
        (work / "reference.v").write_text(emit_reference_verilog(net, REF_TOP, out_bits=out_bits))
        script = [
            *_primitive_reads(family, (work / "design.v").read_text(errors="replace"), work),
            "read_verilog design.v",
            # -top keeps only the primitive models the design uses (running proc on
            # the whole model library is slow); flatten then removes non-top
            # modules, so the reference is read after it
            f"hierarchy -check -top {top}",
            "proc",
            # ROMs/memories (e.g. popcount tables) become logic the SAT solver can model
            "memory",
            "flatten -wb",  # the carry/mux models are whiteboxes
            "read_verilog reference.v",
            "proc",
            "opt_clean",
            f"miter -equiv -flatten {REF_TOP} {top} {MITER}",
            f"hierarchy -top {MITER}",
            "opt -fast",
            "sat -verify -prove trigger 0 -show-inputs -show-outputs",
        ]
        t0 = time.perf_counter()
        try:
            run_yosys("\n".join(script), cwd=work, log_file="formal.log", timeout=timeout)
            proved, detail = True, "SAT proved the miter unsatisfiable: equal for all inputs"
        except ToolError as e:
            text = _read(work / "formal.log")
            if "SAT proof finished - model found: FAIL!" not in text and "Assert failed" not in text:
                raise ToolError(f"formal check of {top} could not run: {e}", command=e.command,
                                stderr=e.stderr) from None
            proved, detail = False, _counterexample(text)
        seconds = time.perf_counter() - t0
    return FormalResult(proved=proved, seconds=seconds, method="yosys miter + sat", detail=detail)


def _read(p: Path) -> str:
    try:
        return p.read_text(errors="replace")
    except OSError:
        return ""


def _counterexample(log_text: str) -> str:
    # the table of input/output values that `sat -show-inputs -show-outputs` prints for a failing model
    m = re.search(r"SAT proof finished - model found: FAIL!(.*?)(?:\nERROR:|\Z)", log_text, re.S)
    body = m.group(1) if m else log_text[-2000:]
    lines = [ln.strip() for ln in body.splitlines() if re.match(r"^\s*\\[A-Za-z_]", ln)]
    return "\n".join(lines[:40])

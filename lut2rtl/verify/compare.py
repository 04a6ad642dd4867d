"""Comparing what a design produced with what the reference evaluator expects.

The testbench records, for every vector, the values on the output ports at
the vector's declared output cycle, and the ``out_valid`` trace of every
cycle; :func:`compare` turns both into a list of mismatches that
:func:`format_mismatches` renders for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .vectors import Vectors

__all__ = ["Mismatch", "Observed", "ValidError", "compare", "format_mismatches"]


@dataclass(frozen=True)
class Observed:
    """What the design put on its ports.

    Data arrays are indexed by vector (the values seen at that vector's
    output cycle); a port the design does not have is ``None``.
    ``valid_expected``/``valid_got`` hold ``out_valid`` per sampled cycle.
    """

    out_bits: np.ndarray | None  # uint8 [N, n_outputs]
    counts: np.ndarray | None  # int64 [N, classes]
    out_class: np.ndarray | None  # int64 [N]
    valid_expected: np.ndarray  # uint8 [cycles]
    valid_got: np.ndarray  # uint8 [cycles]


@dataclass(frozen=True)
class Mismatch:
    """One output of one vector that differs from the reference."""

    vector: int
    port: str  # "out_class", "out_counts" or "out_bits"
    expected: str
    got: str


@dataclass(frozen=True)
class ValidError:
    """A cycle whose ``out_valid`` is not ``in_valid`` delayed by the latency."""

    cycle: int
    expected: int
    got: int


@dataclass
class Comparison:
    mismatches: list[Mismatch] = field(default_factory=list)
    mismatched_vectors: int = 0
    valid_errors: list[ValidError] = field(default_factory=list)
    n_valid_errors: int = 0

    @property
    def ok(self) -> bool:
        return self.mismatched_vectors == 0 and self.n_valid_errors == 0


def _bits_text(bits: np.ndarray) -> str:
    # most significant (highest index) bit first, as a Verilog literal reads
    return "".join(str(int(b)) for b in bits[::-1])


def compare(expected: Vectors, got: Observed, *, keep: int = 20) -> Comparison:
    """Compare every vector's outputs and every cycle's ``out_valid``.

    At most ``keep`` individual mismatches (and valid errors) are kept; the
    totals count all of them.
    """
    res = Comparison()
    n = expected.n
    bad = np.zeros(n, dtype=bool)
    per_port: list[tuple[str, np.ndarray]] = []
    if got.out_class is not None and expected.out_class is not None:
        d = got.out_class != expected.out_class
        per_port.append(("out_class", d))
    if got.counts is not None and expected.counts is not None:
        d = np.any(got.counts != expected.counts, axis=1)
        per_port.append(("out_counts", d))
    if got.out_bits is not None:
        d = np.any(got.out_bits != expected.out_bits, axis=1)
        per_port.append(("out_bits", d))
    if not per_port:
        raise ValueError("the design exposes no output to compare (no out_bits, out_counts or out_class)")
    for _, d in per_port:
        bad |= d
    res.mismatched_vectors = int(bad.sum())
    for v in np.flatnonzero(bad)[:keep].tolist():
        for port, d in per_port:
            if not d[v]:
                continue
            if port == "out_class":
                assert expected.out_class is not None and got.out_class is not None
                res.mismatches.append(Mismatch(v, port, str(int(expected.out_class[v])), str(int(got.out_class[v]))))
            elif port == "out_counts":
                assert expected.counts is not None and got.counts is not None
                res.mismatches.append(Mismatch(v, port, str(expected.counts[v].tolist()), str(got.counts[v].tolist())))
            else:
                assert got.out_bits is not None
                diff = np.flatnonzero(expected.out_bits[v] != got.out_bits[v])
                shown = ",".join(str(i) for i in diff[:8]) + ("..." if diff.size > 8 else "")
                res.mismatches.append(Mismatch(
                    v, port, _bits_text(expected.out_bits[v]),
                    f"{_bits_text(got.out_bits[v])} ({diff.size} bit(s) differ: {shown})"))
    vbad = np.flatnonzero(got.valid_expected != got.valid_got)
    res.n_valid_errors = int(vbad.size)
    res.valid_errors = [ValidError(int(c), int(got.valid_expected[c]), int(got.valid_got[c])) for c in vbad[:keep]]
    return res


def format_mismatches(cmp: Comparison, *, limit: int = 5, width: int = 72) -> list[str]:
    """Human-readable lines about the first mismatches (empty if none)."""
    lines: list[str] = []

    def clip(s: str) -> str:
        return s if len(s) <= width else s[: width - 3] + "..."

    if cmp.mismatched_vectors:
        lines.append(f"{cmp.mismatched_vectors} vector(s) differ from the reference evaluator; first ones:")
        shown = 0
        for m in cmp.mismatches:
            if shown >= limit:
                break
            lines.append(f"  vector {m.vector}: {m.port} expected {clip(m.expected)}")
            lines.append(f"  {' ' * len(str(m.vector))}         {' ' * len(m.port)} got      {clip(m.got)}")
            shown += 1
    if cmp.n_valid_errors:
        lines.append(f"out_valid is wrong in {cmp.n_valid_errors} cycle(s) "
                     "(it must be in_valid delayed by the latency); first ones:")
        for e in cmp.valid_errors[:limit]:
            lines.append(f"  cycle {e.cycle}: expected {e.expected}, got {e.got}")
    return lines

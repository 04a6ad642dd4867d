from __future__ import annotations

import numpy as np

from lut2rtl.verify.compare import Observed, compare, format_mismatches
from lut2rtl.verify.vectors import Vectors


def _vectors() -> Vectors:
    out = np.array([[1, 0, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1]], dtype=np.uint8)
    counts = out.reshape(3, 2, 2).sum(axis=2).astype(np.int64)
    return Vectors(np.zeros((3, 5), np.uint8), out, counts, np.argmax(counts, axis=1).astype(np.int64))


def _observed(v: Vectors, **changes: np.ndarray) -> Observed:
    base = {"out_bits": v.out_bits.copy(), "counts": v.counts.copy(), "out_class": v.out_class.copy(),  # type: ignore[union-attr]
            "valid_expected": np.array([0, 1, 1, 0, 1], np.uint8), "valid_got": np.array([0, 1, 1, 0, 1], np.uint8)}
    base.update(changes)
    return Observed(**base)


def test_equal_is_ok() -> None:
    v = _vectors()
    c = compare(v, _observed(v))
    assert c.ok and c.mismatched_vectors == 0 and format_mismatches(c) == []


def test_mismatch_names_vector_port_expected_got() -> None:
    v = _vectors()
    bits = v.out_bits.copy()
    bits[1, 2] ^= 1
    c = compare(v, _observed(v, out_bits=bits))
    assert not c.ok and c.mismatched_vectors == 1
    (m,) = c.mismatches
    assert (m.vector, m.port, m.expected) == (1, "out_bits", "1000")
    assert m.got.startswith("1100 (1 bit(s) differ: 2")
    text = "\n".join(format_mismatches(c))
    assert text.startswith("1 vector(s) differ from the reference evaluator")
    assert "vector 1: out_bits expected 1000" in text


def test_class_and_counts_and_valid_errors() -> None:
    v = _vectors()
    cls = v.out_class.copy()  # type: ignore[union-attr]
    cls[0] = 1 - cls[0]
    counts = v.counts.copy()  # type: ignore[union-attr]
    counts[2, 0] = 0
    valid = np.array([0, 1, 0, 0, 1], np.uint8)
    c = compare(v, _observed(v, out_class=cls, counts=counts, valid_got=valid))
    assert c.mismatched_vectors == 2 and c.n_valid_errors == 1
    assert [(m.vector, m.port) for m in c.mismatches] == [(0, "out_class"), (2, "out_counts")]
    assert c.valid_errors[0].cycle == 2
    lines = format_mismatches(c)
    assert any(ln.startswith("out_valid is wrong in 1 cycle(s)") for ln in lines)
    assert "  cycle 2: expected 1, got 0" in lines


def test_limit_keeps_totals() -> None:
    v = _vectors()
    c = compare(v, _observed(v, out_bits=1 - v.out_bits), keep=1)
    assert c.mismatched_vectors == 3 and len(c.mismatches) == 1

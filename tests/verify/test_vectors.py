from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lut2rtl.errors import BuildFolderError
from lut2rtl.evaluate import evaluate
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.vectors import bits_to_ints, expected_vectors, ints_to_bits, load_vectors, random_inputs


def test_bits_ints_roundtrip_bit_i_is_column_i() -> None:
    bits = random_inputs(70, 9, seed=1)
    ints = bits_to_ints(bits)
    for row, v in zip(bits, ints):
        assert all(((v >> i) & 1) == row[i] for i in range(70))
    assert np.array_equal(ints_to_bits(ints, 70), bits)


def test_random_inputs_are_seeded() -> None:
    assert np.array_equal(random_inputs(10, 5, 3), random_inputs(10, 5, 3))
    assert not np.array_equal(random_inputs(10, 50, 3), random_inputs(10, 50, 4))


def test_expected_comes_from_reference_evaluator(tmp_path: Path) -> None:
    net = random_netlist(2, 16, [20, 12], 3, classes=4)
    bits = random_inputs(16, 100, 0)
    v = expected_vectors(net, bits)
    ref = evaluate(net, bits)
    assert np.array_equal(v.out_bits, ref.out_bits) and np.array_equal(v.counts, ref.counts)
    assert np.array_equal(v.out_class, ref.pred)
    v.save(tmp_path / "v.npz")
    back = load_vectors(tmp_path / "v.npz", n_inputs=16, n_outputs=12, classes=4)
    assert np.array_equal(back.out_bits, v.out_bits) and back.n == 100
    joined = v.concat(back)
    assert joined.n == 200


def test_load_vectors_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildFolderError, match=r"v\.npz: file not found$"):
        load_vectors(tmp_path / "v.npz", n_inputs=4, n_outputs=2, classes=None)
    np.savez(tmp_path / "w.npz", in_bits=np.zeros((3, 5), np.uint8), out_bits=np.zeros((3, 2), np.uint8))
    with pytest.raises(BuildFolderError, match=r"in_bits has shape \(3, 5\), expected \(N, 4\)"):
        load_vectors(tmp_path / "w.npz", n_inputs=4, n_outputs=2, classes=None)
    with pytest.raises(BuildFolderError, match=r"'counts' and 'out_class' are missing"):
        load_vectors(tmp_path / "w.npz", n_inputs=5, n_outputs=2, classes=2)
    (tmp_path / "x.npz").write_text("junk")
    with pytest.raises(BuildFolderError, match=r"not a readable \.npz file"):
        load_vectors(tmp_path / "x.npz", n_inputs=5, n_outputs=2, classes=None)

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from lut2rtl.datasets import load_dataset, load_digits, load_idx, load_mnist, thermometer_thresholds
from lut2rtl.errors import DatasetError


def test_digits_split_is_deterministic_and_stratified():
    a, b = load_digits(), load_digits()
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    assert a.x_train.shape[1] == 64 and a.classes == 10
    assert len(a.y_train) + len(a.y_test) == 1797
    assert set(np.unique(a.y_test)) == set(range(10))


def _idx(path, arr, code=0x08, gz=False):
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + b"".join(struct.pack(">I", s) for s in arr.shape)
    data = header + arr.astype(">u1").tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def test_mnist_from_tiny_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 256, size=(5, 28, 28))
    _idx(tmp_path / "train-images-idx3-ubyte", xs)
    _idx(tmp_path / "train-labels-idx1-ubyte", np.arange(5))
    _idx(tmp_path / "t10k-images-idx3-ubyte.gz", xs[:3], gz=True)
    _idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(3))
    d = load_mnist(tmp_path)
    assert d.x_train.shape == (5, 784) and d.x_test.shape == (3, 784)
    assert np.array_equal(d.x_train[2], xs[2].ravel())
    assert load_dataset("fashion-mnist", tmp_path).name == "fashion-mnist"


def test_idx_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DatasetError, match="bad magic"):
        load_idx(tmp_path / "bad")
    _idx(tmp_path / "short", np.arange(10))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-3])
    with pytest.raises(DatasetError, match="holds 7 bytes"):
        load_idx(tmp_path / "short")
    with pytest.raises(DatasetError, match="missing train-images"):
        load_mnist(tmp_path)
    with pytest.raises(DatasetError, match="needs --data-dir"):
        load_dataset("mnist")


def test_thermometer_uniform_and_quantile():
    x = np.array([[0.0, 10.0], [16.0, 20.0], [8.0, 30.0]])
    u = thermometer_thresholds(x, 3, feature_range=(0, 16))
    assert u.thresholds.tolist() == [[4.0, 8.0, 12.0]] * 2
    bits = u.encode(np.array([[8.0, 12.5]]))
    assert bits.tolist() == [[True, False, False, True, True, True]]
    q = thermometer_thresholds(x, 1, mode="quantile")
    assert q.thresholds.tolist() == [[8.0], [20.0]]

"""Image datasets: image shapes for the conv networks, CIFAR-10 from its Python batches
(read without running pickled code)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from lut2rtl.datasets import load_cifar10, load_dataset, load_digits
from lut2rtl.errors import DatasetError


def write_cifar(folder: Path, n: int = 4) -> dict[str, tuple[np.ndarray, list[int]]]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    made = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({b"batch_label": name.encode(), b"labels": labels, b"data": data}, f, protocol=2)
        made[name] = (data, labels)
    return made


def test_digits_is_an_8x8_image():
    assert load_digits().image_shape == (8, 8, 1)


def test_cifar10_batches_become_pixel_major_rgb(tmp_path):
    made = write_cifar(tmp_path / "cifar-10-batches-py")
    d = load_dataset("cifar10", tmp_path)
    assert d.image_shape == (32, 32, 3) and d.x_train.shape == (20, 3072) and d.x_test.shape == (4, 3072)
    data, labels = made["test_batch"]
    # pixel (h, w) channel c of the test sample 1: R plane, then G, then B in the batch
    h, w = 5, 17
    for c in range(3):
        assert d.x_test[1, (h * 32 + w) * 3 + c] == data[1, c * 1024 + h * 32 + w]
    assert d.y_test.tolist() == labels
    assert np.array_equal(d.x_train[:4], load_cifar10(tmp_path / "cifar-10-batches-py").x_train[:4])


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_cifar10_pickle_with_code_is_refused(tmp_path):
    write_cifar(tmp_path)
    with open(tmp_path / "data_batch_3", "wb") as f:
        pickle.dump({b"labels": [1], b"data": _Evil()}, f)
    with pytest.raises(DatasetError, match=r"data_batch_3: the pickle needs (posix|os)\.system, which a CIFAR-10 "
                                           r"batch does not; refused$"):
        load_cifar10(tmp_path)


def test_cifar10_missing_and_malformed(tmp_path):
    with pytest.raises(DatasetError, match="needs --data-dir"):
        load_dataset("cifar10")
    write_cifar(tmp_path)
    (tmp_path / "test_batch").unlink()
    with pytest.raises(DatasetError, match=r"missing test_batch"):
        load_cifar10(tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"labels": [1, 2], b"data": np.zeros((2, 100), np.uint8)}, f, protocol=2)
    with pytest.raises(DatasetError, match=r"test_batch: data \(2, 100\) and labels \(2,\) are not N x 3072"):
        load_cifar10(tmp_path)


def _idx(path: Path, arr: np.ndarray) -> None:
    import struct

    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + b"".join(struct.pack(">I", s) for s in arr.shape)
    path.write_bytes(header + arr.astype(">u1").tobytes())


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_conv_trains_on_image_datasets(tmp_path, name):
    """A few conv steps on tiny stand-ins of the files: the image geometry reaches the model, and torch's
    eval forward scores the test split exactly as the reference evaluator does."""
    from lut2rtl.datasets import load_dataset as load
    from lut2rtl.nn.train import TrainConfig, train

    rng = np.random.default_rng(0)
    if name == "mnist":
        xs = rng.integers(0, 256, size=(12, 28, 28))
        for stem, arr in (("train-images-idx3-ubyte", xs), ("train-labels-idx1-ubyte", np.arange(12) % 10),
                          ("t10k-images-idx3-ubyte", xs[:6]), ("t10k-labels-idx1-ubyte", np.arange(6))):
            _idx(tmp_path / stem, arr)
        shape = (28, 28, 2)
    else:
        write_cifar(tmp_path, n=3)
        shape = (32, 32, 6)
    data = load(name, tmp_path)
    res = train(TrainConfig(arch="conv", method="light", k=2, channels=(2,), width=20, depth=1, steps=3,
                            bits_per_feature=2, eval_every=3, device="cpu"), data)
    assert res.compact.stages[0].in_shape == shape
    assert res.metrics["torch_discrete_acc"] == pytest.approx(res.accuracy, abs=1e-6)

"""Datasets: the embedded default (scikit-learn's bundled digits, no download),
MNIST / Fashion-MNIST from local IDX files, CIFAR-10 from its local Python pickle
batches (read by an unpickler that builds numpy arrays and nothing else), and
thermometer encoding."""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .netlist import Thermometer

__all__ = [
    "Dataset",
    "load_dataset",
    "load_cifar10",
    "load_digits",
    "load_idx",
    "load_mnist",
    "thermometer_thresholds",
    "DATASETS",
]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")


@dataclass(frozen=True)
class Dataset:
    """A train/test split of raw float features and integer labels."""

    name: str
    x_train: np.ndarray  # float32 [N, F]
    y_train: np.ndarray  # int64 [N]
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    feature_range: tuple[float, float]
    # (H, W, values per pixel) when the features are an image, pixel-major (feature (h * W + w) * V + v)
    image_shape: tuple[int, int, int] | None = None

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


def load_digits(*, test_fraction: float = 0.25, split_seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 samples, 64 features in 0..16).

    The split is deterministic: a fixed permutation from ``split_seed``,
    stratified per class so train and test hold the classes in equal shares.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    d = _sk_load_digits()
    x = np.asarray(d.data, dtype=np.float32)
    y = np.asarray(d.target, dtype=np.int64)
    tr, te = stratified_split(y, 10, test_fraction, split_seed)
    return Dataset("digits", x[tr], y[tr], x[te], y[te], 10, (0.0, 16.0), (8, 8, 1))


def stratified_split(y: np.ndarray, classes: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(kept, held_out)``, both sorted: per class, a share ``fraction`` of its rows
    (rounded), taken by a fixed permutation from ``seed``."""
    rng = np.random.default_rng(seed)
    keep, held = [], []
    for c in range(classes):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        n_held = int(round(idx.size * fraction))
        held.append(idx[:n_held])
        keep.append(idx[n_held:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (optionally gzipped): the MNIST container format."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{p}: no such file") from None
    except OSError as e:
        raise DatasetError(f"{p}: cannot read: {e.strerror or e}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DatasetError(f"{p}: corrupt gzip data ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetError(f"{p}: not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    code, ndim = raw[2], raw[3]
    if code not in dtypes:
        raise DatasetError(f"{p}: unknown IDX data type {code:#x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{p}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(dtypes[code])
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if len(raw) - header != count * dtype.itemsize:
        raise DatasetError(
            f"{p}: IDX header says shape {shape} ({count * dtype.itemsize} bytes) "
            f"but the file holds {len(raw) - header} bytes of data"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_mnist(directory: str | os.PathLike[str], *, name: str = "mnist") -> Dataset:
    """MNIST or Fashion-MNIST from the four standard IDX files in ``directory``
    (plain or ``.gz``). Images are flattened to 784 features in 0..255."""
    d = Path(directory)
    if not d.is_dir():
        raise DatasetError(f"{d}: not a folder (expected the four MNIST IDX files in it)")
    arrays: dict[str, np.ndarray] = {}
    for key, stem in _MNIST_FILES.items():
        for candidate in (d / stem, d / (stem + ".gz")):
            if candidate.exists():
                arrays[key] = load_idx(candidate)
                break
        else:
            raise DatasetError(f"{d}: missing {stem} (or {stem}.gz)")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise DatasetError(f"{d}: {split} images {x.shape} and labels {y.shape} do not match")
    return Dataset(
        name,
        arrays["x_train"].reshape(arrays["x_train"].shape[0], -1).astype(np.float32),
        arrays["y_train"].astype(np.int64),
        arrays["x_test"].reshape(arrays["x_test"].shape[0], -1).astype(np.float32),
        arrays["y_test"].astype(np.int64),
        10,
        (0.0, 255.0),
        (arrays["x_train"].shape[1], arrays["x_train"].shape[2], 1),
    )


# The only globals a CIFAR-10 batch (a pickled dict of bytes keys, lists and numpy arrays) needs.
_CIFAR_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # how protocol 2 writes bytes from Python 3
}


class _ArrayUnpickler(pickle.Unpickler):
    """Builds numpy arrays and plain data only: any other global in the pickle is refused."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _CIFAR_GLOBALS:
            raise DatasetError(f"the pickle needs {module}.{name}, which a CIFAR-10 batch does not; refused")
        if module.startswith("numpy.core.") and importlib.util.find_spec("numpy._core") is not None:
            module = "numpy._core." + module[len("numpy.core."):]  # numpy 2 renamed it (batches predate that)
        return getattr(importlib.import_module(module), name)


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            d = _ArrayUnpickler(f, encoding="bytes").load()
    except DatasetError as e:
        raise DatasetError(f"{path}: {e}") from None
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError) as e:
        raise DatasetError(f"{path}: not a CIFAR-10 batch ({type(e).__name__}: {e})") from None
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DatasetError(f"{path}: not a CIFAR-10 batch (no b'data' and b'labels')")
    x = np.asarray(d[b"data"])
    y = np.asarray(d[b"labels"], dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != 3072 or x.shape[0] != y.shape[0]:
        raise DatasetError(f"{path}: data {x.shape} and labels {y.shape} are not N x 3072 and N")
    # stored channel-major (R plane, G plane, B plane of 32 x 32): to pixel-major RGB
    return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(x.shape[0], -1).astype(np.float32), y


def load_cifar10(directory: str | os.PathLike[str]) -> Dataset:
    """CIFAR-10 from its Python batches (``data_batch_1`` .. ``data_batch_5``, ``test_batch``) in
    ``directory`` or its ``cifar-10-batches-py`` subfolder. Features are pixel-major RGB
    (``image_shape`` (32, 32, 3)), values 0..255."""
    d = Path(directory)
    if (d / "cifar-10-batches-py").is_dir():
        d = d / "cifar-10-batches-py"
    if not d.is_dir():
        raise DatasetError(f"{d}: not a folder (expected the CIFAR-10 Python batches in it)")
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    missing = [n for n in names if not (d / n).is_file()]
    if missing:
        raise DatasetError(f"{d}: missing {missing[0]} (the CIFAR-10 Python version: data_batch_1..5, test_batch)")
    parts = [_cifar_batch(d / n) for n in names]
    x_tr = np.concatenate([p[0] for p in parts[:5]])
    y_tr = np.concatenate([p[1] for p in parts[:5]])
    return Dataset("cifar10", x_tr, y_tr, parts[5][0], parts[5][1], 10, (0.0, 255.0), (32, 32, 3))


def load_dataset(name: str, path: str | os.PathLike[str] | None = None) -> Dataset:
    """Load a dataset by name: ``digits`` (embedded), ``mnist``/``fashion-mnist`` or ``cifar10`` (``path``)."""
    if name == "digits":
        return load_digits()
    if name == "cifar10":
        if path is None:
            raise DatasetError("dataset 'cifar10' needs --data-dir: a folder with its Python batches (no download)")
        return load_cifar10(path)
    if name in ("mnist", "fashion-mnist"):
        if path is None:
            raise DatasetError(f"dataset {name!r} needs --data-dir: a folder with its IDX files (no download)")
        return load_mnist(path, name=name)
    raise DatasetError(f"unknown dataset {name!r} (choose from {', '.join(DATASETS)})")


def thermometer_thresholds(
    x_train: np.ndarray,
    bits_per_feature: int,
    *,
    mode: str = "uniform",
    feature_range: tuple[float, float] | None = None,
) -> Thermometer:
    """Thermometer thresholds per feature.

    ``uniform``: ``bits_per_feature`` thresholds evenly inside the feature range
    (global range, same for every feature). ``quantile``: per-feature quantiles
    of the training data, ``i / (m + 1)`` for ``i = 1..m``.
    """
    x = np.asarray(x_train, dtype=np.float64)
    m = int(bits_per_feature)
    if m < 1:
        raise ValueError("bits_per_feature must be >= 1")
    if mode == "uniform":
        lo, hi = feature_range if feature_range is not None else (float(x.min()), float(x.max()))
        t = lo + (hi - lo) * np.arange(1, m + 1) / (m + 1)
        thresholds = np.tile(t, (x.shape[1], 1))
    elif mode == "quantile":
        q = np.arange(1, m + 1) / (m + 1)
        thresholds = np.quantile(x, q, axis=0).T
    else:
        raise ValueError(f"unknown thermometer mode {mode!r} (uniform or quantile)")
    return Thermometer(np.ascontiguousarray(thresholds, dtype=np.float64))

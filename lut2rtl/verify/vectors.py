"""Test vectors: input bits and the outputs the reference evaluator expects.

A vector set is what a design must reproduce: ``in_bits`` ``[N, n_inputs]``
and the expected ``out_bits`` ``[N, n_outputs]``, plus per-class ``counts``
``[N, classes]`` and ``out_class`` ``[N]`` when the network has a GroupSum.
Expectations always come from :func:`lut2rtl.evaluate.evaluate`, never from
the design under test.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BuildFolderError
from ..evaluate import evaluate
from ..netlist import Netlist

__all__ = ["StreamPlan", "Vectors", "bits_to_ints", "expected_vectors", "ints_to_bits", "load_vectors",
           "random_inputs", "stream_plan"]


@dataclass(frozen=True)
class Vectors:
    """Inputs and the reference outputs of ``N`` vectors (see the module docstring)."""

    in_bits: np.ndarray  # uint8 [N, n_inputs]
    out_bits: np.ndarray  # uint8 [N, n_outputs]
    counts: np.ndarray | None = None  # int64 [N, classes]
    out_class: np.ndarray | None = None  # int64 [N]

    @property
    def n(self) -> int:
        return int(self.in_bits.shape[0])

    def concat(self, other: Vectors) -> Vectors:
        """These vectors followed by ``other`` (both must have the same fields)."""
        if (self.counts is None) != (other.counts is None):
            raise ValueError("cannot join vectors with and without class counts")
        return Vectors(
            in_bits=np.concatenate([self.in_bits, other.in_bits]),
            out_bits=np.concatenate([self.out_bits, other.out_bits]),
            counts=None if self.counts is None else np.concatenate([self.counts, other.counts]),  # type: ignore[list-item]
            out_class=None if self.out_class is None else np.concatenate([self.out_class, other.out_class]),  # type: ignore[list-item]
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        arrays = {"in_bits": self.in_bits, "out_bits": self.out_bits}
        if self.counts is not None and self.out_class is not None:
            arrays["counts"] = self.counts
            arrays["out_class"] = self.out_class
        np.savez(path, **arrays)  # type: ignore[arg-type]


def random_inputs(n_inputs: int, n: int, seed: int) -> np.ndarray:
    """``n`` uniformly random input vectors (uint8 0/1) from ``seed``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, size=(n, n_inputs), dtype=np.uint8)


def expected_vectors(net: Netlist, in_bits: np.ndarray) -> Vectors:
    """Vectors for ``in_bits`` with the outputs of the reference evaluator."""
    bits = np.asarray(in_bits, dtype=np.uint8).reshape(-1, net.n_inputs)
    res = evaluate(net, bits)
    return Vectors(
        in_bits=bits,
        out_bits=res.out_bits.astype(np.uint8),
        counts=None if res.counts is None else res.counts.astype(np.int64),
        out_class=None if res.pred is None else res.pred.astype(np.int64),
    )


def _check_npz_sizes(p: Path) -> None:
    """Refuse members whose .npy header claims more data than the member holds
    (numpy would allocate the claimed size before reading)."""
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if claimed > info.file_size:
                    raise BuildFolderError(f"{p}: member {info.filename} claims {claimed} bytes but holds "
                                           f"{info.file_size}")
    except FileNotFoundError:
        raise BuildFolderError(f"{p}: file not found") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise BuildFolderError(f"{p}: not a readable .npz file ({e})") from None


def load_vectors(path: str | os.PathLike[str], *, n_inputs: int, n_outputs: int,
                 classes: int | None) -> Vectors:
    """Read a ``vectors.npz`` of a build folder and check its shapes against the manifest."""
    p = Path(path)
    _check_npz_sizes(p)
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: np.asarray(z[k]) for k in z.files}
    except FileNotFoundError:
        raise BuildFolderError(f"{p}: file not found") from None
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise BuildFolderError(f"{p}: not a readable .npz file ({e})") from None
    for key in ("in_bits", "out_bits"):
        if key not in data:
            raise BuildFolderError(f"{p}: array {key!r} is missing")
    in_bits, out_bits = data["in_bits"], data["out_bits"]
    if in_bits.ndim != 2 or in_bits.shape[1] != n_inputs:
        raise BuildFolderError(f"{p}: in_bits has shape {in_bits.shape}, expected (N, {n_inputs})")
    n = in_bits.shape[0]
    if out_bits.shape != (n, n_outputs):
        raise BuildFolderError(f"{p}: out_bits has shape {out_bits.shape}, expected ({n}, {n_outputs})")
    for key in ("in_bits", "out_bits"):
        a = data[key]
        if a.size and (a.min() < 0 or a.max() > 1):
            raise BuildFolderError(f"{p}: {key} holds values other than 0 and 1")
    counts = out_class = None
    if classes is not None:
        if "counts" not in data or "out_class" not in data:
            raise BuildFolderError(f"{p}: arrays 'counts' and 'out_class' are missing (the design has a GroupSum)")
        counts, out_class = data["counts"].astype(np.int64), data["out_class"].astype(np.int64)
        if counts.shape != (n, classes) or out_class.shape != (n,):
            raise BuildFolderError(f"{p}: counts/out_class have shapes {counts.shape}/{out_class.shape}, "
                              f"expected ({n}, {classes})/({n},)")
    return Vectors(in_bits.astype(np.uint8), out_bits.astype(np.uint8), counts, out_class)


def bits_to_ints(bits: np.ndarray) -> list[int]:
    """Rows of 0/1 ``[N, n]`` -> Python ints with bit ``i`` = column ``i``."""
    b = np.asarray(bits, dtype=np.uint8)
    packed = np.packbits(b, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def ints_to_bits(values: list[int], width: int) -> np.ndarray:
    """Inverse of :func:`bits_to_ints`: ints -> uint8 ``[N, width]``."""
    n_bytes = (width + 7) // 8
    raw = b"".join(int(v).to_bytes(n_bytes, "little") for v in values)
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(len(values), n_bytes)
    return np.unpackbits(arr, axis=1, bitorder="little")[:, :width].copy()


@dataclass(frozen=True)
class StreamPlan:
    """What a testbench drives, one slot per clock after reset.

    ``slots[j]`` is the vector driven in cycle ``j`` (``-1``: an idle slot,
    ``in_valid = 0``), followed by ``latency`` idle slots that flush the
    pipeline; ``garbage`` holds the ``in_bits`` of the idle slots, taken in
    turn. Both simulation engines (the cocotb testbench and the C++ harness)
    drive the same plan for the same seed."""

    slots: np.ndarray  # int64 [cycles]
    garbage: np.ndarray  # uint8 [G, n_inputs]

    @property
    def cycles(self) -> int:
        return int(self.slots.size)


def stream_plan(n: int, n_inputs: int, latency: int, gap: float, seed: int) -> StreamPlan:
    """The slots of ``n`` vectors with idle runs of 1..3 slots before a vector
    (probability ``gap`` each), from ``seed``, plus ``latency`` trailing idle slots."""
    rng = np.random.default_rng(seed)
    slots: list[int] = []
    idle = rng.random(n) < gap
    runs = rng.integers(1, 4, size=n)
    for i in range(n):
        if idle[i]:
            slots.extend([-1] * int(runs[i]))
        slots.append(i)
    garbage = rng.integers(0, 2, size=(max(1, len(slots) - n + latency), n_inputs), dtype=np.uint8)
    slots.extend([-1] * latency)
    return StreamPlan(np.asarray(slots, dtype=np.int64), garbage)

"""The reference evaluator: the oracle every other path is compared with.

Samples are bit-packed, 64 per ``uint64`` word: sample ``s`` is bit ``s % 64``
of word ``s // 64``. A signal over ``N`` samples is a row of ``ceil(N / 64)``
words. A LUT is evaluated as a multiplexer tree over its truth table (see the
encoding in :mod:`lut2rtl.netlist`): the last input selects between adjacent
rows first, the first input last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ShapeError
from .netlist import FUSED_HEAD, Netlist, rows_to_table, table_to_rows, truth_table_rows

if TYPE_CHECKING:
    from .datasets import Dataset

__all__ = [
    "EvalResult",
    "class_counts",
    "evaluate",
    "evaluate_features",
    "evaluate_packed",
    "pack_bits",
    "packed_class_counts",
    "predict",
    "score_dataset",
    "unpack_bits",
]

_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
# Bytes of temporaries per evaluation chunk (bounds memory on wide layers).
_CHUNK_BYTES = 64 << 20
# Bytes of the per-chunk signal buffer (all signals x a slice of the words).
_BUF_BYTES = 8 << 20


@dataclass(frozen=True)
class EvalResult:
    """Outputs of a batch: bits ``[N, n_out]``, counts ``[N, classes]``, class ``[N]``."""

    out_bits: np.ndarray
    counts: np.ndarray | None
    pred: np.ndarray | None


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Bool ``[N, n]`` -> uint64 ``[n, ceil(N/64)]`` (sample-packed words)."""
    b = np.asarray(bits)
    if b.ndim != 2:
        raise ShapeError(f"bits must be 2-D (samples, bits), got shape {b.shape}")
    if b.dtype != bool:
        if not np.issubdtype(b.dtype, np.integer) or (b.size and (b.min() < 0 or b.max() > 1)):
            raise ShapeError(f"bits must be boolean or 0/1 integers, got dtype {b.dtype}")
        b = b.astype(bool)
    n_samples, n = b.shape
    words = (n_samples + 63) // 64
    # pack along the sample axis first (8x less data to transpose afterwards)
    packed = np.zeros((words * 8, n), dtype=np.uint8)
    packed[: (n_samples + 7) // 8] = np.packbits(b, axis=0, bitorder="little")
    per_signal = np.ascontiguousarray(packed.reshape(words, 8, n).transpose(2, 0, 1))  # [n, words, 8]
    return per_signal.view("<u8").reshape(n, words).astype(np.uint64, copy=False)


def unpack_bits(words: np.ndarray, n_samples: int) -> np.ndarray:
    """uint64 ``[n, W]`` -> bool ``[n_samples, n]``."""
    w = np.ascontiguousarray(words, dtype="<u8")
    as_bytes = w.view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :n_samples]
    return bits.view(bool).T  # a transposed view: no copy


# --------------------------------------------------------------------------
# Two-input fast path. Which numpy expression computes which table is found by
# evaluating each candidate on the truth-table rows of the one encoding
# (lut2rtl.netlist), so no second gate list exists here.

def _op_const0(a, b, out, tmp):  # type: ignore[no-untyped-def]
    out.fill(0)


def _op_const1(a, b, out, tmp):  # type: ignore[no-untyped-def]
    out.fill(_ONES)


_CANDIDATES = (
    _op_const0,
    _op_const1,
    lambda a, b, out, tmp: np.copyto(out, a),
    lambda a, b, out, tmp: np.copyto(out, b),
    lambda a, b, out, tmp: np.invert(a, out=out),
    lambda a, b, out, tmp: np.invert(b, out=out),
    lambda a, b, out, tmp: np.bitwise_and(a, b, out=out),
    lambda a, b, out, tmp: np.bitwise_or(a, b, out=out),
    lambda a, b, out, tmp: np.bitwise_xor(a, b, out=out),
    lambda a, b, out, tmp: np.invert(np.bitwise_and(a, b, out=out), out=out),
    lambda a, b, out, tmp: np.invert(np.bitwise_or(a, b, out=out), out=out),
    lambda a, b, out, tmp: np.invert(np.bitwise_xor(a, b, out=out), out=out),
    lambda a, b, out, tmp: np.bitwise_and(a, np.invert(b, out=tmp), out=out),
    lambda a, b, out, tmp: np.bitwise_and(np.invert(a, out=tmp), b, out=out),
    lambda a, b, out, tmp: np.bitwise_or(a, np.invert(b, out=tmp), out=out),
    lambda a, b, out, tmp: np.bitwise_or(np.invert(a, out=tmp), b, out=out),
)


def _derive_gate_ops() -> tuple:  # type: ignore[type-arg]
    rows = truth_table_rows(2)
    a = np.where(rows[:, 0], _ONES, np.uint64(0))[:, None]
    b = np.where(rows[:, 1], _ONES, np.uint64(0))[:, None]
    ops: list = [None] * 16  # type: ignore[type-arg]
    for fn in _CANDIDATES:
        out = np.empty_like(a)
        fn(a, b, out, np.empty_like(a))
        table = int(rows_to_table(out[:, 0] == _ONES))
        if ops[table] is None:
            ops[table] = fn
    assert all(op is not None for op in ops), "a 2-input function has no fast path"
    return tuple(ops)


_GATE_OPS = _derive_gate_ops()


@dataclass(frozen=True)
class _LayerPlan:
    lo: int  # first signal id written
    k: int
    # k == 2: groups of equal tables: (table, dest ids, input a ids, input b ids)
    groups: tuple[tuple[int, np.ndarray, np.ndarray, np.ndarray], ...]
    inputs: np.ndarray  # k != 2: [n, k] ids
    rows: np.ndarray  # k != 2: [n, 2^k] bool


def _plan(net: Netlist) -> tuple[_LayerPlan, ...]:
    plans = []
    for l, layer in enumerate(net.layers):
        lo = net.offsets[l]
        if layer.k == 2:
            order = np.argsort(layer.tables, kind="stable")
            tabs = layer.tables[order]
            cuts = np.flatnonzero(np.diff(tabs)) + 1
            groups = []
            for part in np.split(np.arange(layer.size), cuts):
                if part.size == 0:
                    continue
                sel = order[part]
                groups.append((int(tabs[part[0]]), (sel + lo).astype(np.intp),
                               layer.inputs[sel, 0].astype(np.intp), layer.inputs[sel, 1].astype(np.intp)))
            plans.append(_LayerPlan(lo, 2, tuple(groups), layer.inputs, np.empty((0, 0), bool)))
        else:
            rows = table_to_rows(layer.tables, layer.k)
            plans.append(_LayerPlan(lo, layer.k, (), layer.inputs.astype(np.intp), rows))
    return tuple(plans)


def _run_layer_generic(p: _LayerPlan, buf: np.ndarray) -> None:
    """Multiplexer tree over the truth table, for any k."""
    n, k = p.inputs.shape
    n_words = buf.shape[1]
    step = max(1, _CHUNK_BYTES // max(1, (1 << k) * n_words * 8))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        idx = p.inputs[lo:hi]
        # v[:, j] holds the word of row j: constants to start with
        v = np.where(p.rows[lo:hi], _ONES, np.uint64(0))[:, :, None]  # [c, 2^k, 1]
        for m in range(k - 1, -1, -1):
            x = buf[idx[:, m]][:, None, :]  # [c, 1, W]
            even, odd = v[:, 0::2], v[:, 1::2]
            v = even ^ ((even ^ odd) & x)
        buf[p.lo + lo:p.lo + hi] = np.broadcast_to(v[:, 0, :], (hi - lo, n_words))


def _run_layer_gates(p: _LayerPlan, buf: np.ndarray) -> None:
    n_words = buf.shape[1]
    for table, dest, ia, ib in p.groups:
        a = np.take(buf, ia, axis=0)
        b = np.take(buf, ib, axis=0)
        out = np.empty((dest.size, n_words), dtype=np.uint64)
        _GATE_OPS[table](a, b, out, np.empty_like(out))
        buf[dest] = out


def evaluate_packed(net: Netlist, words: np.ndarray) -> np.ndarray:
    """Packed input words ``[n_inputs, W]`` -> packed output words ``[n_out, W]``."""
    w = np.asarray(words)
    if w.ndim != 2 or w.shape[0] != net.n_inputs:
        raise ShapeError(f"packed inputs must have shape ({net.n_inputs}, W), got {tuple(w.shape)}")
    w = w.astype(np.uint64, copy=False)
    plans = _plan(net)
    n_words = w.shape[1]
    out = np.empty((net.n_outputs, n_words), dtype=np.uint64)
    # Work on column chunks small enough that all signals of a chunk stay in
    # cache-friendly memory (and memory stays bounded on huge networks).
    chunk = int(max(1, min(n_words, _BUF_BYTES // max(1, net.n_signals * 8), 256)))
    outputs = net.outputs.astype(np.intp)
    for c0 in range(0, n_words, chunk):
        c1 = min(n_words, c0 + chunk)
        buf = np.empty((net.n_signals, c1 - c0), dtype=np.uint64)
        buf[: net.n_inputs] = w[:, c0:c1]
        for p in plans:
            if p.k == 2:
                _run_layer_gates(p, buf)
            else:
                _run_layer_generic(p, buf)
        out[:, c0:c1] = buf[outputs]
    return out


def class_counts(out_bits: np.ndarray, classes: int) -> np.ndarray:
    """Bool outputs ``[N, n_out]`` -> per-class popcounts ``[N, classes]`` (int64)."""
    n_samples, n_out = out_bits.shape
    if n_out % classes:
        raise ShapeError(f"{classes} classes do not divide {n_out} outputs")
    return packed_class_counts(pack_bits(out_bits), classes, n_samples)


def packed_class_counts(out_words: np.ndarray, classes: int, n_samples: int) -> np.ndarray:
    """Packed outputs ``[n_out, W]`` -> per-class popcounts ``[n_samples, classes]`` (int64)."""
    n_out = out_words.shape[0]
    if n_out % classes:
        raise ShapeError(f"{classes} classes do not divide {n_out} outputs")
    g = n_out // classes
    counts = np.empty((n_samples, classes), dtype=np.int64)
    w = np.ascontiguousarray(out_words, dtype="<u8")
    step = max(1, (16 << 20) // max(1, n_out * 64))  # words per chunk
    acc_dtype = np.uint8 if g < 256 else (np.uint16 if g < 65536 else np.uint32)
    for w0 in range(0, w.shape[1], step):
        w1 = min(w.shape[1], w0 + step)
        bits = np.unpackbits(w[:, w0:w1].copy().view(np.uint8), axis=1, bitorder="little")  # [n_out, 64*c]
        c = bits.reshape(classes, g, -1).sum(axis=1, dtype=acc_dtype)  # [classes, 64*c]
        s0, s1 = w0 * 64, min(n_samples, w1 * 64)
        counts[s0:s1] = c[:, : s1 - s0].T
    return counts


def predict(counts: np.ndarray) -> np.ndarray:
    """Argmax over classes; ties go to the lowest class index."""
    return np.argmax(counts, axis=1).astype(np.int64)


def evaluate(net: Netlist, bits: np.ndarray) -> EvalResult:
    """Evaluate input bits ``[N, n_inputs]`` (bool or 0/1)."""
    b = np.asarray(bits)
    if b.ndim != 2 or b.shape[1] != net.n_inputs:
        raise ShapeError(f"input bits must have shape (N, {net.n_inputs}), got {tuple(b.shape)}")
    n_samples = b.shape[0]
    out_words = evaluate_packed(net, pack_bits(b))
    out_bits = unpack_bits(out_words, n_samples)
    if net.group_sum is None or FUSED_HEAD in net.metadata:  # a fused head's inputs are no class groups
        return EvalResult(out_bits=out_bits, counts=None, pred=None)
    counts = packed_class_counts(out_words, net.group_sum.classes, n_samples)
    return EvalResult(out_bits=out_bits, counts=counts, pred=predict(counts))


def evaluate_features(net: Netlist, x: np.ndarray) -> EvalResult:
    """Evaluate raw features through the netlist's thermometer encoder."""
    if net.encoder is None:
        raise ShapeError("this network has no input encoder: give input bits, not raw features")
    return evaluate(net, net.encoder.encode(x))


def score_dataset(net: Netlist, data: Dataset, split: str = "test") -> dict[str, Any]:
    """Accuracy of the reference evaluator on a dataset split."""
    if net.group_sum is None:
        raise ShapeError("the network has no GroupSum: it predicts no classes to score")
    if net.encoder is None:
        raise ShapeError("the network has no input encoder: it cannot read raw dataset features")
    if net.encoder.features != data.features:
        raise ShapeError(
            f"the network's encoder expects {net.encoder.features} features, dataset {data.name!r} has {data.features}"
        )
    if net.group_sum.classes != data.classes:
        raise ShapeError(
            f"the network predicts {net.group_sum.classes} classes, dataset {data.name!r} has {data.classes}"
        )
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    r = evaluate_features(net, x)
    assert r.pred is not None
    correct = int((r.pred == y).sum())
    return {
        "dataset": data.name,
        "split": split,
        "samples": int(y.shape[0]),
        "correct": correct,
        "accuracy": correct / max(1, int(y.shape[0])),
    }


def read_bits_file(path: str, n_inputs: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``in_bits`` (0/1, ``[N, n_inputs]``) and the optional ``labels`` (``[N]``)
    of an ``.npz`` file (a build folder's ``vectors.npz`` is one). Raises
    :class:`DatasetError` naming the file and the problem."""
    import zipfile

    from .errors import DatasetError

    try:
        with np.load(path, allow_pickle=False) as z:
            if "in_bits" not in z.files:
                names = sorted(z.files)
                has = ", ".join(names[:4]) + (f", ... ({len(names)} arrays)" if len(names) > 4 else "")
                raise DatasetError(f"{path}: no 'in_bits' array (it has: {has or 'nothing'})")
            bits = np.asarray(z["in_bits"])
            labels = np.asarray(z["labels"]) if "labels" in z.files else None
    except DatasetError:
        raise
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DatasetError(f"{path}: not a readable .npz file ({' '.join(str(e).split())[:120]})") from None
    if bits.ndim != 2 or bits.shape[1] != n_inputs:
        raise DatasetError(f"{path}: in_bits has shape {tuple(bits.shape)}, the network reads (N, {n_inputs})")
    if bits.dtype != bool and (not np.issubdtype(bits.dtype, np.integer) or (bits.size and (
            bits.min() < 0 or bits.max() > 1))):
        raise DatasetError(f"{path}: in_bits must hold 0 and 1 (bool or integers), got dtype {bits.dtype}")
    if labels is not None and (labels.shape != (bits.shape[0],) or not np.issubdtype(labels.dtype, np.integer)):
        raise DatasetError(f"{path}: labels must be integers of shape ({bits.shape[0]},), got "
                           f"{labels.dtype} {tuple(labels.shape)}")
    return bits.astype(bool), labels

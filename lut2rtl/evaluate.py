"""The reference evaluator: the oracle every other path is compared with.

Samples are bit-packed, 64 per ``uint64`` word: sample ``s`` is bit ``s % 64``
of word ``s // 64``. A signal over ``N`` samples is a row of ``ceil(N / 64)``
words. A LUT is evaluated as a multiplexer tree over its truth table (see the
encoding in :mod:`lut2rtl.netlist`): the last input selects between adjacent
rows first, the first input last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ShapeError
from .netlist import Layer, Netlist, table_to_rows

__all__ = [
    "EvalResult",
    "class_counts",
    "evaluate",
    "evaluate_features",
    "evaluate_packed",
    "pack_bits",
    "predict",
    "unpack_bits",
]

_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
# Bytes of temporaries per evaluation chunk (bounds memory on wide layers).
_CHUNK_BYTES = 64 << 20


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
    padded = np.zeros((n, words * 64), dtype=bool)
    padded[:, :n_samples] = b.T
    packed = np.packbits(padded, axis=1, bitorder="little")  # [n, words*8] uint8
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


def unpack_bits(words: np.ndarray, n_samples: int) -> np.ndarray:
    """uint64 ``[n, W]`` -> bool ``[n_samples, n]``."""
    w = np.ascontiguousarray(words, dtype="<u8")
    as_bytes = w.view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :n_samples]
    return bits.T.astype(bool)


def _eval_layer(layer: Layer, sources: np.ndarray) -> np.ndarray:
    """Evaluate one layer: ``sources`` holds the words of the signals the
    layer's (remapped) input ids index. Returns ``[n, W]``."""
    n, k = layer.size, layer.k
    n_words = sources.shape[1]
    out = np.empty((n, n_words), dtype=np.uint64)
    rows = table_to_rows(layer.tables, k)  # [n, 2^k] bool
    per_node = max(1, (1 << k) * max(n_words, 1) * 8)
    step = max(1, _CHUNK_BYTES // per_node)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        idx = layer.inputs[lo:hi]
        # v[:, j] holds the word of row j: constants to start with
        v = np.where(rows[lo:hi], _ONES, np.uint64(0))[:, :, None]  # [c, 2^k, 1]
        for m in range(k - 1, -1, -1):
            x = sources[idx[:, m]][:, None, :]  # [c, 1, W]
            even, odd = v[:, 0::2], v[:, 1::2]
            v = even ^ ((even ^ odd) & x)
        out[lo:hi] = np.broadcast_to(v[:, 0, :], (hi - lo, n_words))
    return out


def evaluate_packed(net: Netlist, words: np.ndarray) -> np.ndarray:
    """Packed input words ``[n_inputs, W]`` -> packed output words ``[n_out, W]``."""
    w = np.asarray(words)
    if w.ndim != 2 or w.shape[0] != net.n_inputs:
        raise ShapeError(f"packed inputs must have shape ({net.n_inputs}, W), got {tuple(w.shape)}")
    w = w.astype(np.uint64, copy=False)
    n_layers = len(net.layers)
    offs = net.offsets
    # Last layer that reads each source (inputs = source 0, layer l = source l+1);
    # sources that feed the outputs live to the end.
    last_use = [-1] * (n_layers + 1)
    src_of_layer_inputs: list[np.ndarray] = []
    for l, layer in enumerate(net.layers):
        src = np.searchsorted(offs, layer.inputs.ravel(), side="right")  # 0 = inputs
        srcs = np.unique(src)
        src_of_layer_inputs.append(srcs)
        for s in srcs:
            last_use[int(s)] = l
    out_srcs = np.unique(np.searchsorted(offs, net.outputs, side="right"))
    for s in out_srcs:
        last_use[int(s)] = n_layers
    values: list[np.ndarray | None] = [w] + [None] * n_layers
    for l, layer in enumerate(net.layers):
        srcs = src_of_layer_inputs[l]
        if len(srcs) == 1:
            s = int(srcs[0])
            base = 0 if s == 0 else offs[s - 1]
            stack = values[s]
            local = Layer(k=layer.k, inputs=layer.inputs - base, tables=layer.tables)
        else:
            stack, remap = _gather_sources(values, offs, srcs)
            local = Layer(k=layer.k, inputs=remap(layer.inputs), tables=layer.tables)
        assert stack is not None
        values[l + 1] = _eval_layer(local, stack)
        for s in srcs:
            if last_use[int(s)] == l:
                values[int(s)] = None
    stack, remap = _gather_sources(values, offs, out_srcs)
    return stack[remap(net.outputs)]


def _gather_sources(values: list[np.ndarray | None], offs: tuple[int, ...], srcs: np.ndarray):  # type: ignore[no-untyped-def]
    parts = []
    bases = []
    new_base = 0
    for s in srcs:
        v = values[int(s)]
        assert v is not None, "source freed before its last use"
        parts.append(v)
        bases.append((0 if s == 0 else offs[int(s) - 1], new_base))
        new_base += v.shape[0]
    stack = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
    starts = np.array([b[0] for b in bases], dtype=np.int64)
    shift = np.array([b[1] - b[0] for b in bases], dtype=np.int64)

    def remap(ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(starts, ids, side="right") - 1
        return ids + shift[pos]

    return stack, remap


def class_counts(out_bits: np.ndarray, classes: int) -> np.ndarray:
    """Bool outputs ``[N, n_out]`` -> per-class popcounts ``[N, classes]`` (int64)."""
    n_samples, n_out = out_bits.shape
    if n_out % classes:
        raise ShapeError(f"{classes} classes do not divide {n_out} outputs")
    g = n_out // classes
    return out_bits.reshape(n_samples, classes, g).sum(axis=2, dtype=np.int64)


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
    if net.group_sum is None:
        return EvalResult(out_bits=out_bits, counts=None, pred=None)
    counts = class_counts(out_bits, net.group_sum.classes)
    return EvalResult(out_bits=out_bits, counts=counts, pred=predict(counts))


def evaluate_features(net: Netlist, x: np.ndarray) -> EvalResult:
    """Evaluate raw features through the netlist's thermometer encoder."""
    if net.encoder is None:
        raise ShapeError("this network has no input encoder: give input bits, not raw features")
    return evaluate(net, net.encoder.encode(x))

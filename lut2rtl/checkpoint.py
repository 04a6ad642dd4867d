"""Checkpoint I/O: the ``model.pt`` file format (documented in docs/checkpoint.md).

A checkpoint is a plain dict of tensors and Python scalars, strings, lists and
dicts, written with ``torch.save`` and read only with
``torch.load(path, weights_only=True)``: a file that carries pickled code is
refused and the code never runs.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CheckpointError, NetlistError
from .fileio import atomic_write_bytes
from .lowering import ConvNet, ConvStage, DenseStage, PoolStage, Stage, check_conv_net, lower
from .netlist import MAX_INPUTS, MAX_K, MAX_LUTS, GroupSum, Layer, Netlist, Thermometer, check_netlist

FORMAT = "lut2rtl-checkpoint"
VERSION = 1  # what a flat netlist is written as
VERSIONS = (1, 2)  # what the loader reads (2: the compact convolutional form, lut2rtl.lowering)
# A file larger than this is refused before torch reads it (the largest real
# networks, 64M LUTs of k=6, need far less).
MAX_FILE_BYTES = 8 << 30

_META_TYPES = (str, int, float, bool, type(None))


def netlist_to_dict(net: Netlist) -> dict[str, Any]:
    """The checkpoint dict of a netlist (see docs/checkpoint.md)."""
    import torch

    check_netlist(net)
    layered = net.is_layered()
    layers = []
    for l, layer in enumerate(net.layers):
        if layered:
            base = 0 if l == 0 else net.offsets[l - 1]
            idx = layer.inputs - base
            reads = "previous"
        else:
            idx = layer.inputs
            reads = "any"
        layers.append({
            "k": int(layer.k),
            "reads": reads,
            "inputs": _int_tensor(idx),
            "tables": _table_tensor(layer.tables),
        })
    d: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "n_inputs": int(net.n_inputs),
        "layers": layers,
        **_head_dict(net.group_sum, net.encoder, net.metadata),
    }
    if not layered:
        d["outputs"] = torch.from_numpy(np.array(net.outputs, dtype=np.int64))
    return d


def _head_dict(group_sum: GroupSum | None, encoder: Thermometer | None, metadata: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    return {
        "group_sum": None if group_sum is None else {
            "classes": int(group_sum.classes),
            "tau": float(group_sum.tau),
            "beta": float(group_sum.beta),
        },
        "encoder": None if encoder is None else {
            "kind": "thermometer",
            "thresholds": torch.from_numpy(np.array(encoder.thresholds, dtype=np.float64)),
        },
        "metadata": _clean_metadata(metadata),
    }


def _int_tensor(a: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.array(a, dtype=np.int64))


def _table_tensor(t: np.ndarray) -> Any:
    import torch

    # uint64 bit patterns stored as int64 (two's complement)
    return torch.from_numpy(np.asarray(t).astype(np.uint64).view(np.int64).copy())


def conv_net_to_dict(net: ConvNet) -> dict[str, Any]:
    """The version-2 checkpoint dict of a compact convolutional network (docs/checkpoint.md)."""
    lower(net)  # refuses what cannot be lowered, before anything is written
    stages: list[dict[str, Any]] = []
    for st in net.stages:
        if isinstance(st, ConvStage):
            stages.append({"kind": "conv", "in_shape": list(st.in_shape), "kernel": list(st.kernel),
                           "stride": st.stride, "padding": st.padding, "k": st.k, "depth": st.depth,
                           "leaves": _int_tensor(st.leaves), "tables": [_table_tensor(t) for t in st.tables]})
        elif isinstance(st, PoolStage):
            stages.append({"kind": "or_pool", "in_shape": list(st.in_shape), "kernel": list(st.kernel),
                           "stride": st.stride})
        else:
            stages.append({"kind": "dense", "k": st.k, "inputs": _int_tensor(st.inputs),
                           "tables": _table_tensor(st.tables)})
    return {"format": FORMAT, "version": 2, "n_inputs": int(net.n_inputs), "stages": stages,
            **_head_dict(net.group_sum, net.encoder, net.metadata)}


def save_checkpoint(net: Netlist | ConvNet, path: str | os.PathLike[str], *,
                    extra: Mapping[str, Any] | None = None) -> None:
    """Write a netlist (format version 1) or a compact convolutional network (version 2)
    to ``path`` atomically (a temporary file renamed into place).

    ``extra`` adds top-level keys (e.g. training state as tensors); they must
    be readable with ``weights_only=True`` and must not shadow format keys.
    """
    import torch

    d = conv_net_to_dict(net) if isinstance(net, ConvNet) else netlist_to_dict(net)
    if extra:
        clash = set(extra) & set(d)
        if clash:
            raise ValueError(f"extra keys shadow checkpoint keys: {sorted(clash)}")
        d.update(extra)
    buf = io.BytesIO()
    torch.save(d, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike[str]) -> Netlist:
    """Read and validate a checkpoint; raise :class:`CheckpointError` naming the problem."""
    raw = read_checkpoint_dict(path)
    return netlist_from_dict(raw, where=str(path))


def check_model_file(path: str | os.PathLike[str], what: str = "checkpoint",
                     error: type[CheckpointError] = CheckpointError) -> Path:
    """``path`` as a readable file of at most :data:`MAX_FILE_BYTES`, else ``error``."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise error(f"{p}: no such file") from None
    except OSError as e:
        raise error(f"{p}: cannot read: {e.strerror or e}") from None
    if p.is_dir():
        raise error(f"{p}: is a folder, not a {what} file")
    if size > MAX_FILE_BYTES:
        raise error(f"{p}: {size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")
    return p


def read_checkpoint_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the raw dict of a checkpoint with ``weights_only=True`` (no code runs)."""
    import torch

    p = check_model_file(path)
    try:
        raw = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to parse is a bad checkpoint
        raise CheckpointError(f"{p}: not a loadable lut2rtl checkpoint ({_one_line(e)})") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{p}: top level is {type(raw).__name__}, expected a dict")
    return raw


def checkpoint_hash(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a checkpoint file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def netlist_from_dict(raw: Mapping[str, Any], *, where: str = "checkpoint") -> Netlist:
    """Validate a checkpoint dict and build the netlist it describes."""
    import torch

    def fail(msg: str) -> CheckpointError:
        return CheckpointError(f"{where}: {msg}")

    if not isinstance(raw, Mapping):
        raise fail(f"top level is {type(raw).__name__}, expected a dict")
    fmt = raw.get("format")
    if fmt != FORMAT:
        if raw.get("kind") == "float-baseline":
            raise fail("this is a float baseline model (mlp / dlgn-halfspace): it has no logic network to compile")
        raise fail(f"'format' is {_show(fmt)}, expected {FORMAT!r} (not a lut2rtl checkpoint)")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f"'version' is {_show(version)}, expected an integer")
    if version not in VERSIONS:
        raise fail(f"checkpoint version {version} is not supported (this lut2rtl reads versions "
                   f"{', '.join(map(str, VERSIONS))})")
    if version == 2:
        conv = conv_net_from_dict(raw, where=where)
        try:
            return lower(conv, where=where)
        except NetlistError as e:
            raise CheckpointError(str(e)) from None

    n_inputs = _get_int(raw, "n_inputs", where, lo=1, hi=MAX_INPUTS)
    if "layers" not in raw:
        raise fail("missing key 'layers'")
    layers_raw = raw["layers"]
    if not isinstance(layers_raw, (list, tuple)):
        raise fail(f"'layers' must be a list, got {type(layers_raw).__name__}")
    if len(layers_raw) == 0:
        raise fail("'layers' is empty: the network has no layers")

    total = 0
    for l, lr in enumerate(layers_raw):
        if not isinstance(lr, Mapping):
            raise fail(f"layers[{l}] must be a dict, got {type(lr).__name__}")
        t = lr.get("tables")
        if isinstance(t, torch.Tensor) and t.ndim >= 1:
            total += int(t.shape[0])
    if total > MAX_LUTS:
        raise fail(f"{total} LUTs exceeds the limit of {MAX_LUTS}")

    layers: list[Layer] = []
    offsets = [n_inputs]
    for l, lr in enumerate(layers_raw):
        here = f"layers[{l}]"
        k = _get_int(lr, "k", f"{where}: {here}", lo=1, hi=MAX_K)
        reads = lr.get("reads", "previous")
        if reads not in ("previous", "any"):
            raise fail(f"{here}.reads is {_show(reads)}, expected 'previous' or 'any'")
        inputs = _get_tensor(lr, "inputs", f"{where}: {here}", integer=True)
        tables = _get_tensor(lr, "tables", f"{where}: {here}", integer=True)
        if tables.ndim != 1:
            raise fail(f"{here}.tables must be 1-D, got shape {tuple(tables.shape)}")
        n = int(tables.shape[0])
        if n == 0:
            raise fail(f"{here} is empty (0 LUTs)")
        if tuple(inputs.shape) != (n, k):
            raise fail(f"{here}.inputs has shape {tuple(inputs.shape)}, expected ({n}, {k}) for {n} LUTs of k={k}")
        idx = inputs.to(torch.int64).numpy()
        if reads == "previous":
            lo = 0 if l == 0 else offsets[l - 1]
            width = offsets[l] - lo
            bad = np.argwhere((idx < 0) | (idx >= width))
            if bad.size:
                neuron, m = (int(v) for v in bad[0])
                src = "the input bits" if l == 0 else f"layer {l - 1}"
                raise fail(
                    f"layer {l}, neuron {neuron}: input {m} is {int(idx[neuron, m])}, "
                    f"outside 0..{width - 1} ({src} has {width} outputs)"
                )
            idx = idx + lo
        tab = tables.to(torch.int64).numpy().view(np.uint64)
        layers.append(Layer(k=k, inputs=idx, tables=tab))
        offsets.append(offsets[-1] + n)

    outputs = None
    if "outputs" in raw and raw["outputs"] is not None:
        o = _get_tensor(raw, "outputs", where, integer=True)
        if o.ndim != 1:
            raise fail(f"'outputs' must be 1-D, got shape {tuple(o.shape)}")
        outputs = o.to(torch.int64).numpy()

    group_sum, encoder, meta = _read_head(raw, where)
    net = Netlist(
        n_inputs=n_inputs, layers=tuple(layers), outputs=outputs,
        group_sum=group_sum, encoder=encoder, metadata=meta,
    )
    try:
        check_netlist(net, where=where)
    except NetlistError as e:
        raise CheckpointError(str(e)) from None
    return net


def _read_head(raw: Mapping[str, Any], where: str) -> tuple[GroupSum | None, Thermometer | None, dict[str, Any]]:
    import torch

    def fail(msg: str) -> CheckpointError:
        return CheckpointError(f"{where}: {msg}")

    group_sum = None
    gs = raw.get("group_sum")
    if gs is not None:
        if not isinstance(gs, Mapping):
            raise fail(f"'group_sum' must be a dict or None, got {type(gs).__name__}")
        classes = _get_int(gs, "classes", f"{where}: group_sum", lo=1, hi=1 << 20)
        tau = _get_float(gs, "tau", f"{where}: group_sum", default=1.0)
        beta = _get_float(gs, "beta", f"{where}: group_sum", default=0.0)
        group_sum = GroupSum(classes=classes, tau=tau, beta=beta)

    encoder = None
    enc = raw.get("encoder")
    if enc is not None:
        if not isinstance(enc, Mapping):
            raise fail(f"'encoder' must be a dict or None, got {type(enc).__name__}")
        if enc.get("kind") != "thermometer":
            raise fail(f"encoder kind {_show(enc.get('kind'))} is not supported (expected 'thermometer')")
        th = _get_tensor(enc, "thresholds", f"{where}: encoder", integer=False)
        if th.ndim != 2:
            raise fail(f"encoder.thresholds must have shape (features, m), got {tuple(th.shape)}")
        encoder = Thermometer(thresholds=th.to(torch.float64).numpy())

    meta = raw.get("metadata", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, Mapping):
        raise fail(f"'metadata' must be a dict, got {type(meta).__name__}")
    return group_sum, encoder, _clean_metadata(meta)


def load_conv_net(path: str | os.PathLike[str]) -> ConvNet | None:
    """The compact form of a version-2 checkpoint, ``None`` for a version-1 file (a flat netlist)."""
    raw = read_checkpoint_dict(path)
    if raw.get("format") == FORMAT and raw.get("version") == 2:
        return conv_net_from_dict(raw, where=str(path))
    load_checkpoint(path)  # the same errors as any reader
    return None


def conv_net_from_dict(raw: Mapping[str, Any], *, where: str = "checkpoint") -> ConvNet:
    """Validate a version-2 checkpoint dict and build its compact network (geometry checked:
    :class:`CheckpointError` names the stage)."""
    import torch

    def fail(msg: str) -> CheckpointError:
        return CheckpointError(f"{where}: {msg}")

    n_inputs = _get_int(raw, "n_inputs", where, lo=1, hi=MAX_INPUTS)
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, (list, tuple)) or not stages_raw:
        raise fail(f"'stages' must be a non-empty list, got {_show(stages_raw)}")
    stages: list[Stage] = []
    total = 0
    for i, sr in enumerate(stages_raw):
        if not isinstance(sr, Mapping):
            raise fail(f"stages[{i}] must be a dict, got {type(sr).__name__}")
        kind = sr.get("kind")
        here = f"{where}: stages[{i}] ({kind})" if isinstance(kind, str) else f"{where}: stages[{i}]"
        if kind == "conv":
            shape = _get_ints(sr, "in_shape", here, 3)
            kernel = _get_ints(sr, "kernel", here, 2)
            k = _get_int(sr, "k", here, lo=1, hi=MAX_K)
            depth = _get_int(sr, "depth", here, lo=1, hi=16)
            leaves = _get_tensor(sr, "leaves", here, integer=True).to(torch.int64).numpy()
            tabs = sr.get("tables")
            if not isinstance(tabs, (list, tuple)):
                raise CheckpointError(f"{here}: 'tables' must be a list of {depth} tensors, got {_show(tabs)}")
            tables = tuple(_get_tensor({"tables": t}, "tables", f"{here}: tables[{lv}]", integer=True)
                           .to(torch.int64).numpy().view(np.uint64) for lv, t in enumerate(tabs))
            st: Stage = ConvStage(shape, kernel, _get_int(sr, "stride", here, lo=1, hi=1 << 12),
                                  _get_int(sr, "padding", here, lo=0, hi=1 << 12), k, depth, leaves, tables)
        elif kind == "or_pool":
            st = PoolStage(_get_ints(sr, "in_shape", here, 3), _get_ints(sr, "kernel", here, 2),
                           _get_int(sr, "stride", here, lo=1, hi=1 << 12))
        elif kind == "dense":
            k = _get_int(sr, "k", here, lo=1, hi=MAX_K)
            inputs = _get_tensor(sr, "inputs", here, integer=True).to(torch.int64).numpy()
            tables_d = _get_tensor(sr, "tables", here, integer=True).to(torch.int64).numpy().view(np.uint64)
            st = DenseStage(k, inputs, tables_d)
        else:
            raise fail(f"stages[{i}].kind is {_show(kind)}, expected 'conv', 'or_pool' or 'dense'")
        total += st.n_luts if isinstance(st, ConvStage) else 0
        if total > MAX_LUTS:
            raise fail(f"{total} LUTs after lowering exceeds the limit of {MAX_LUTS}")
        stages.append(st)
    group_sum, encoder, meta = _read_head(raw, where)
    net = ConvNet(n_inputs, tuple(stages), group_sum=group_sum, encoder=encoder, metadata=meta)
    try:
        check_conv_net(net, where=where)
    except NetlistError as e:
        raise CheckpointError(str(e)) from None
    return net


# --------------------------------------------------------------------------

def _get_int(d: Mapping[str, Any], key: str, where: str, *, lo: int, hi: int) -> int:
    if key not in d:
        raise CheckpointError(f"{where}: missing key {key!r}")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise CheckpointError(f"{where}: {key!r} is {type(v).__name__}, expected an integer")
    if not lo <= int(v) <= hi:
        raise CheckpointError(f"{where}: {key!r}={int(v)} outside {lo}..{hi}")
    return int(v)


def _get_ints(d: Mapping[str, Any], key: str, where: str, n: int) -> tuple[int, ...]:
    v = d.get(key)
    if not isinstance(v, (list, tuple)) or len(v) != n or \
            any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) for x in v):
        raise CheckpointError(f"{where}: {key!r} is {_show(v)}, expected a list of {n} integers")
    if any(not 0 <= int(x) <= 1 << 16 for x in v):
        raise CheckpointError(f"{where}: {key!r}={list(v)} outside 0..{1 << 16}")
    return tuple(int(x) for x in v)


def _get_float(d: Mapping[str, Any], key: str, where: str, *, default: float) -> float:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CheckpointError(f"{where}: {key!r} is {type(v).__name__}, expected a number")
    if not math.isfinite(float(v)):
        raise CheckpointError(f"{where}: {key!r} is {v}, expected a finite number")
    return float(v)


def _get_tensor(d: Mapping[str, Any], key: str, where: str, *, integer: bool) -> Any:
    import torch

    if key not in d:
        raise CheckpointError(f"{where}: missing key {key!r}")
    t = d[key]
    if not isinstance(t, torch.Tensor):
        raise CheckpointError(f"{where}: {key!r} is {type(t).__name__}, expected a tensor")
    if t.layout != torch.strided:
        raise CheckpointError(f"{where}: {key!r} has unsupported layout {t.layout} (expected a dense tensor)")
    if t.is_complex() or t.dtype == torch.bool:
        raise CheckpointError(f"{where}: {key!r} has unsupported dtype {t.dtype}")
    if integer and t.is_floating_point():
        raise CheckpointError(f"{where}: {key!r} has dtype {t.dtype}, expected an integer dtype")
    if not integer and not t.is_floating_point():
        raise CheckpointError(f"{where}: {key!r} has dtype {t.dtype}, expected a floating dtype")
    return t.detach().cpu().contiguous()


def _clean_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Keep metadata plain: str keys; str/int/float/bool/None values or lists/dicts of them."""
    def clean(v: Any, depth: int = 0) -> Any:
        if isinstance(v, _META_TYPES):
            return v
        if depth > 4:
            # not str(v): a hostile file can nest lists thousands deep and
            # their repr would overflow the stack
            return f"<{type(v).__name__} nested too deep>"
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (np.floating,)):
            return float(v)
        if isinstance(v, (list, tuple)):
            return [clean(x, depth + 1) for x in v]
        if isinstance(v, Mapping):
            return {key(k): clean(x, depth + 1) for k, x in v.items()}
        return str(v)

    def key(k: Any) -> str:
        # plain keys as text; a container key (deeply nested tuple...) by its type
        return str(k) if isinstance(k, _META_TYPES) else f"<{type(k).__name__}>"

    return {key(k): clean(v) for k, v in meta.items()}


def _show(v: Any) -> str:
    """A short, safe rendering of a value read from a file: a hostile value
    (a huge string, a list nested thousands deep) must not blow up the message."""
    if isinstance(v, (str, int, float, bool, type(None))):
        text = repr(v)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(v, (list, tuple, dict)):
        return f"a {type(v).__name__} of {len(v)} items"
    return f"a {type(v).__name__}"


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    first = text[0] if text else ""
    if "weights_only" in str(e) or "Unsupported global" in str(e) or "Weights only load failed" in str(e):
        return "it contains pickled objects other than tensors and plain data; refused without running them"
    # torch's own messages run on for several sentences: keep the first
    sentence = first.split(". ")[0].rstrip(".") or "the file is empty or truncated"
    return f"{type(e).__name__}: {sentence}"[:200]

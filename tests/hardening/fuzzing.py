"""Checkpoint mutations for the fuzz tests: structural (on the dict) and
byte-level (on the file). Each mutation is plain data so hypothesis can
shrink it and a failing case can be saved to the regression corpus."""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

import numpy as np
import torch

from lut2rtl.checkpoint import netlist_to_dict
from lut2rtl.datasets import load_digits, thermometer_thresholds
from lut2rtl.netgen import random_netlist

_VALUES: list[Any] = [
    None, 0, -1, 1, 7, 2**31, 2**63 - 1, -(2**63), 1.5, float("nan"), float("inf"), -float("inf"), "", "x" * 50,
    True, [], {}, [1, 2], {"a": 1},
]


def base_dict(seed: int = 0) -> dict[str, Any]:
    """A small valid checkpoint dict for digits (so eval runs too)."""
    d = load_digits()
    enc = thermometer_thresholds(d.x_train, 1, feature_range=d.feature_range)
    net = random_netlist(seed, enc.n_bits, [40, 20], [2, 3], classes=10).replace(encoder=enc)
    return netlist_to_dict(net)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
    out = [prefix]
    if isinstance(obj, dict):
        for k in sorted(obj, key=str):
            out += _paths(obj[k], prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _get(obj: Any, path: tuple) -> Any:  # type: ignore[type-arg]
    for p in path:
        obj = obj[p]
    return obj


def mutate_dict(d: dict[str, Any], ops: list[tuple[int, int, int]]) -> dict[str, Any]:
    """Apply mutations ``(kind, where, what)`` chosen by integers."""
    d = copy.deepcopy(d)
    for kind, where, what in ops:
        paths = [p for p in _paths(d) if p]
        if not paths:
            break
        path = paths[where % len(paths)]
        parent = _get(d, path[:-1])
        key = path[-1]
        target = parent[key]
        k = kind % 7
        if k == 0:  # replace by an odd value (a copy: later ops must not mutate _VALUES)
            parent[key] = copy.deepcopy(_VALUES[what % len(_VALUES)])
        elif k == 1:  # delete
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif k == 2 and isinstance(target, torch.Tensor) and target.numel():  # poke one element
            flat = target.reshape(-1).clone()
            i = what % flat.numel()
            if flat.is_floating_point():
                value: Any = [float("nan"), float("inf"), -1e300, 0.0][what % 4]
            else:
                value = [-1, 2**31, 2**62, 10**6, 0][what % 5]
            try:
                flat[i] = value
            except (RuntimeError, OverflowError):  # does not fit a narrow dtype (int8, float32...)
                flat[i] = 1 if flat.dtype == torch.bool else -1
            parent[key] = flat.reshape(target.shape)
        elif k == 3 and isinstance(target, torch.Tensor):  # change dtype
            parent[key] = target.to([torch.float32, torch.int8, torch.bool, torch.float64, torch.int32][what % 5])
        elif k == 4 and isinstance(target, torch.Tensor) and target.ndim:  # change shape
            choice = what % 4
            if choice == 0:
                parent[key] = target[: max(0, target.shape[0] - 1 - what % 3)]
            elif choice == 1:
                parent[key] = target.reshape(-1)
            elif choice == 2:
                parent[key] = target.unsqueeze(0)
            else:
                parent[key] = torch.cat([target, target], dim=0)
        elif k == 5 and isinstance(target, (int, float)) and not isinstance(target, bool):  # nudge a number
            parent[key] = target + [1, -1, 1000, -1000, 0.5][what % 5]
        elif k == 6 and isinstance(parent, list) and len(parent) > 1:  # drop or duplicate a layer
            if what % 2:
                parent.pop(key)
            else:
                parent.insert(key, copy.deepcopy(target))
    return d


def to_bytes(d: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    torch.save(d, buf)
    return buf.getvalue()


PLACEHOLDER = "LUT2RTL_FUZZ_PLACEHOLDER"


def splice_deep_list(data: bytes, depth: int) -> bytes:
    """Replace the string PLACEHOLDER in a torch.save file by a list nested
    ``depth`` deep (written as raw pickle opcodes: pickle itself cannot write it)."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    needle = b"X" + len(PLACEHOLDER).to_bytes(4, "little") + PLACEHOLDER.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            member = zin.read(info.filename)
            if info.filename.endswith("data.pkl"):
                assert needle in member
                # EMPTY_LIST x depth, APPEND x (depth - 1)
                member = member.replace(needle, b"]" * depth + b"a" * (depth - 1), 1)
            zout.writestr(info, member)
    return out.getvalue()


def mutate_bytes(data: bytes, ops: list[tuple[int, int]]) -> bytes:
    """Byte-level damage: truncate, flip, or overwrite ranges."""
    b = bytearray(data)
    for kind, where in ops:
        if not b:
            break
        i = where % len(b)
        k = kind % 3
        if k == 0:
            del b[i:]
        elif k == 1:
            b[i] ^= 0xFF
        else:
            b[i:i + 8] = bytes(np.random.default_rng(where).integers(0, 256, size=8, dtype=np.uint8))
    return bytes(b)

"""Reading a difflogic / torchlogix model by structure and building a Netlist.

A model arrives as a module object (a real ``torch.nn.Module`` or the inert
stand-ins of :mod:`._load`) or as a state dict. Both are flattened into a
list of :class:`Unit` (one per leaf layer, in registration order) whose
attributes are looked up by name; the layers are then classified and
converted. Convention details live in :mod:`.conventions`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import NetlistError
from ..lowering import ConvNet, ConvStage, DenseStage, Stage, check_conv_net, lower
from ..netlist import MAX_K, GroupSum, Netlist, Thermometer, check_netlist
from . import _conv
from . import conventions as conv
from ._load import InteropError, StubObject, class_name, is_torch_builtin

log = logging.getLogger(__name__)

# Layers that are the identity at inference time.
_PASS_THROUGH = {"Flatten", "Identity", "Dropout"}
# Keys that wrap a state dict in a training checkpoint.
_WRAPPER_KEYS = ("model_state_dict", "state_dict", "model")
_PARAM_CLASSES = {
    "RawLUTParametrization": "raw",
    "LightLUTParametrization": "light",
    "WalshLUTParametrization": "walsh",
}


@dataclass
class Unit:
    """One leaf layer: its path in the model, class name and attributes."""

    path: str
    cls: str
    attrs: dict[str, Any] = field(default_factory=dict)
    obj: Any = None
    where: str = "model"

    def get(self, name: str) -> Any:
        if self.obj is not None:
            cur: Any = self.obj
            for part in name.split("."):
                cur = _attr(cur, part)
                if cur is None:
                    return None
            return cur
        return self.attrs.get(name)

    @property
    def label(self) -> str:
        return f"{self.where}: layer '{self.path}'" + (f" ({self.cls})" if self.cls else "")


@dataclass
class Options:
    """Inputs that a state dict cannot carry."""

    tool: str
    indices: Any = None  # per-layer wiring (list or dict), overrides the model's
    parametrization: str | None = None
    classes: int | None = None
    tau: float | None = None
    beta: float | None = None
    where: str = "model"
    metadata: dict[str, Any] = field(default_factory=dict)
    n_inputs: int | None = None


def _attr(obj: Any, name: str) -> Any:
    d = getattr(obj, "__dict__", None)
    if d is None:
        return None
    if name in d:
        return d[name]
    for sub in ("_parameters", "_buffers", "_modules"):
        dd = d.get(sub)
        if isinstance(dd, Mapping) and name in dd:
            return dd[name]
    return None


def _children(obj: Any) -> list[tuple[str, Any]]:
    mods = getattr(obj, "__dict__", {}).get("_modules")
    if not isinstance(mods, Mapping):
        return []
    return [(str(k), v) for k, v in mods.items() if v is not None]


def _is_module(obj: Any) -> bool:
    import torch

    return isinstance(obj, torch.nn.Module) or (
        isinstance(obj, StubObject) and "_modules" in getattr(obj, "__dict__", {})
    )


def _is_unit(obj: Any) -> bool:
    """A layer read as a whole (its children, e.g. torchlogix connections, are parts of it)."""
    return any(_attr(obj, n) is not None for n in ("weight", "weights", "thresholds", "tree_weights")) or \
        class_name(obj) in ("GroupSum",) or "Pool" in class_name(obj)


def units_of_module(root: Any, where: str = "model") -> list[Unit]:
    out: list[Unit] = []

    def walk(obj: Any, path: str) -> None:
        kids = _children(obj)
        if _is_unit(obj) or not kids:
            out.append(Unit(path=path or "<root>", cls=class_name(obj), obj=obj, where=where))
            return
        for name, child in kids:
            walk(child, f"{path}.{name}" if path else name)

    walk(root, "")
    return out


_SD_LEAVES = ("connections.indices", "connections.weights", "weights", "weight", "thresholds",
              "indices", "raw_diffs")


def units_of_state_dict(sd: Mapping[str, Any], where: str) -> list[Unit]:
    import torch

    units: dict[str, Unit] = {}
    for key, value in sd.items():
        if not isinstance(key, str):
            raise InteropError(f"{where}: state dict key {key!r} is not a string")
        if not isinstance(value, torch.Tensor):
            continue
        for leaf in _SD_LEAVES:
            if key == leaf or key.endswith("." + leaf):
                prefix = key[: len(key) - len(leaf)].rstrip(".")
                break
        else:
            prefix, _, leaf = key.rpartition(".")
        u = units.setdefault(prefix, Unit(path=prefix or "<root>", cls="", where=where))
        u.attrs[leaf] = value
    return list(units.values())


def unwrap(source: Any, where: str) -> Any:
    """A model object or a state dict, possibly inside a training-checkpoint dict."""
    import torch

    if _is_module(source):
        return source
    if isinstance(source, Mapping):
        if source and all(isinstance(v, torch.Tensor) for v in source.values()):
            return source
        for key in _WRAPPER_KEYS:
            if key in source and (isinstance(source[key], Mapping) or _is_module(source[key])):
                return unwrap(source[key], where)
        if source.get("format") == "lut2rtl-checkpoint":
            raise InteropError(f"{where}: this is already a lut2rtl checkpoint; nothing to import")
        raise InteropError(
            f"{where}: a dict that is neither a state dict (names -> tensors) nor holds one "
            f"under {', '.join(repr(k) for k in _WRAPPER_KEYS)}"
        )
    raise InteropError(f"{where}: expected a model (nn.Module) or a state dict, got {type(source).__name__}")


# --------------------------------------------------------------------------
# Classification and conversion


def _np(t: Any, what: str, unit: Unit, *, integer: bool) -> np.ndarray:
    import torch

    if isinstance(t, (list, tuple)) and integer:
        return np.stack([_np(x, what, unit, integer=True) for x in t]) if t else np.zeros((0, 0), np.int64)
    if not isinstance(t, torch.Tensor):
        raise InteropError(f"{unit.label}: {what} is {type(t).__name__}, expected a tensor")
    a = t.detach().cpu()
    if integer:
        if a.is_floating_point() or a.is_complex() or a.dtype == torch.bool:
            raise InteropError(f"{unit.label}: {what} has dtype {a.dtype}, expected integers")
        return a.to(torch.int64).numpy()
    if not a.is_floating_point():
        raise InteropError(f"{unit.label}: {what} has dtype {a.dtype}, expected floats")
    arr = a.to(torch.float64).numpy()
    if not np.all(np.isfinite(arr)):
        raise InteropError(f"{unit.label}: {what} holds non-finite values")
    return arr


def _is_logic(u: Unit) -> bool:
    if u.obj is not None and is_torch_builtin(u.obj):
        return False  # nn.Linear has a `weight` too
    return u.get("weights") is not None or u.get("weight") is not None


def _is_encoder(u: Unit) -> bool:
    return u.get("thresholds") is not None or u.get("raw_diffs") is not None or "Binarization" in u.cls \
        or "Threshold" in u.cls


def _is_group_sum(u: Unit) -> bool:
    return u.cls == "GroupSum"


def _wiring(u: Unit, given: Any, n: int) -> np.ndarray:
    """Wiring ``[n, k]`` (column m = input x_m) from the given file entry or the layer."""
    src = given
    what = "wiring from --indices"
    if src is None:
        conn = u.get("connections")
        if conn is not None and not isinstance(conn, str):
            if u.get("connections.weights") is not None or class_name(conn).startswith("Learnable"):
                raise InteropError(f"{u.label}: learnable connections are not supported (fixed wiring only)")
            src, what = u.get("connections.indices"), "connections.indices"
        elif u.get("connections.weights") is not None:
            raise InteropError(f"{u.label}: learnable connections are not supported (fixed wiring only)")
        elif u.get("connections.indices") is not None:
            src, what = u.get("connections.indices"), "connections.indices"
        else:
            src, what = u.get("indices"), "indices"
    if src is None:
        raise InteropError(
            f"{u.label}: no wiring (difflogic keeps `indices` outside the state dict); "
            f"pass the model object or --indices FILE"
        )
    idx = _np(src, what, u, integer=True)
    if idx.ndim == 3:
        raise InteropError(f"{u.label}: {what} has shape {tuple(idx.shape)}: learnable/candidate "
                           f"connections are not supported")
    if idx.ndim != 2 or idx.shape[1] != n or not 1 <= idx.shape[0] <= MAX_K:
        raise InteropError(
            f"{u.label}: {what} has shape {tuple(idx.shape)}, expected (k, {n}) for {n} neurons "
            f"(k inputs per neuron, 1..{MAX_K})"
        )
    return np.ascontiguousarray(idx.T)


def _parametrization(u: Unit, opts: Options, width: int, k: int) -> str:
    if opts.tool == "difflogic":
        return "raw"
    p = u.get("parametrization")
    if opts.parametrization is not None:
        name = opts.parametrization
    elif isinstance(p, str):
        # torchlogix 0.1.0 stores the name; its walsh uses the legacy convention
        name = conv.WALSH_LEGACY if p == "walsh" else p
    elif p is not None:
        cls = class_name(p)
        if cls not in _PARAM_CLASSES:
            raise InteropError(f"{u.label}: unknown parametrization {cls}")
        name = _PARAM_CLASSES[cls]
    elif width == 16 and k == 2:
        name = "raw"
    else:
        raise InteropError(
            f"{u.label}: cannot tell the parametrization of {width} parameters per neuron "
            f"from a state dict; pass --parametrization raw|light|walsh|walsh-legacy"
        )
    if name == "warp":
        name = "walsh"
    if name not in conv.PARAMETRIZATIONS:
        raise InteropError(f"{u.label}: unsupported parametrization {name!r} "
                           f"(supported: {', '.join(conv.PARAMETRIZATIONS)})")
    return name


def _logic_layer(u: Unit, opts: Options, given_idx: Any) -> tuple[np.ndarray, np.ndarray, str, int | None]:
    if "Conv" in u.cls or "Pool" in u.cls:
        raise InteropError(f"{u.label}: convolutional logic layers are not supported (dense layers only)")
    w_raw = u.get("weights") if u.get("weights") is not None else u.get("weight")
    w = _np(w_raw, "weights", u, integer=False)
    if w.ndim != 2 or w.shape[0] == 0:
        raise InteropError(f"{u.label}: weights have shape {tuple(w.shape)}, expected (neurons, parameters)")
    n, width = w.shape
    idx = _wiring(u, given_idx, n)
    k = idx.shape[1]
    name = _parametrization(u, opts, width, k)
    if k not in conv.PARAMETRIZATIONS[name]:
        raise InteropError(f"{u.label}: parametrization {name!r} with {k} inputs per neuron is not supported")
    expect = 16 if name == "raw" else 1 << k
    if width != expect:
        raise InteropError(
            f"{u.label}: weights have shape {tuple(w.shape)}, expected ({n}, {expect}) "
            f"for {name!r} with {k} inputs per neuron"
        )
    rank = u.get("lut_rank") if u.obj is not None else None
    if rank is None and u.obj is not None:
        rank = _attr(u.get("parametrization"), "lut_rank") if u.get("parametrization") is not None else None
    if isinstance(rank, int) and rank != k:
        raise InteropError(f"{u.label}: lut_rank={rank} but the wiring has {k} inputs per neuron")
    if name in ("walsh", conv.WALSH_LEGACY):
        amb = conv.walsh_ambiguous_rows(w, k, legacy=name == conv.WALSH_LEGACY)
        if amb:
            log.warning("%s: %d truth-table entries have Walsh sums within float32 rounding of 0; "
                        "they may discretize differently in torchlogix", u.label, amb)
    tables = conv.tables_from_parameters(name, w, k)
    in_dim = u.get("in_dim")
    return idx, tables, name, in_dim if isinstance(in_dim, int) and not isinstance(in_dim, bool) else None


def _encoder(u: Unit) -> np.ndarray | None:
    if u.get("raw_diffs") is not None or "Learnable" in u.cls:
        raise InteropError(f"{u.label}: learnable thresholds are not supported; copy the learned "
                           f"thresholds into a FixedBinarization (thresholds buffer) first")
    t = u.get("thresholds")
    if t is None:
        return None  # DummyBinarization: the inputs are bits already
    fd = u.get("feature_dim")
    if fd is not None and fd != -2:
        raise InteropError(f"{u.label}: feature_dim={fd} is not supported (only -2: thresholds innermost)")
    th = _np(t, "thresholds", u, integer=False)
    if th.ndim not in (1, 2) or th.size == 0:
        raise InteropError(f"{u.label}: thresholds have shape {tuple(th.shape)}, expected (m,) or (features, m)")
    return th


def _group_sum(u: Unit, opts: Options) -> GroupSum:
    k = u.get("k")
    tau = u.get("tau")
    beta = u.get("beta")
    if isinstance(k, np.integer):
        k = int(k)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InteropError(f"{u.label}: k={k!r} is not a positive class count")
    return GroupSum(classes=k, tau=_num(tau, 1.0, u, "tau"), beta=_num(beta, 0.0, u, "beta"))


def _num(v: Any, default: float, u: Unit, what: str) -> float:
    import torch

    if v is None:
        return default
    if isinstance(v, torch.Tensor) and v.numel() == 1:
        v = float(v)
    if isinstance(v, (np.floating, np.integer)):
        v = float(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise InteropError(f"{u.label}: {what}={v!r} is not a finite number")
    return float(v)


def _indices_for(opts: Options, units: Sequence[Unit]) -> list[Any]:
    """The --indices entry of each logic unit (None when not given)."""
    logic = [u for u in units if _is_logic(u)]
    given = opts.indices
    if given is None:
        return [None] * len(logic)
    if isinstance(given, Mapping):
        out = []
        for u in logic:
            for key in (u.path, f"{u.path}.weights", f"{u.path}.weight"):
                if key in given:
                    out.append(given[key])
                    break
            else:
                raise InteropError(f"{opts.where}: --indices has no entry for {u.label} "
                                   f"(keys: {', '.join(map(str, list(given)[:6]))})")
        return out
    if isinstance(given, (list, tuple)):
        if len(given) != len(logic):
            raise InteropError(f"{opts.where}: --indices holds {len(given)} layer wirings but the model "
                               f"has {len(logic)} logic layers")
        return list(given)
    raise InteropError(f"{opts.where}: --indices must hold a list (one wiring per logic layer) "
                       f"or a dict (layer name -> wiring), got {type(given).__name__}")


def _final_group_sum(group_sum: GroupSum | None, opts: Options) -> GroupSum | None:
    """The model's GroupSum with what the options give or override."""
    if group_sum is None and opts.classes is not None:
        return GroupSum(classes=opts.classes, tau=1.0 if opts.tau is None else opts.tau,
                        beta=0.0 if opts.beta is None else opts.beta)
    if group_sum is not None and (opts.tau is not None or opts.beta is not None or opts.classes is not None):
        return GroupSum(
            classes=opts.classes if opts.classes is not None else group_sum.classes,
            tau=opts.tau if opts.tau is not None else group_sum.tau,
            beta=opts.beta if opts.beta is not None else group_sum.beta,
        )
    return group_sum


def is_conv_unit(u: Unit) -> bool:
    return u.get("tree_weights") is not None or "Conv" in u.cls


def is_pool_unit(u: Unit) -> bool:
    return "Pool" in u.cls


def build_conv_net(units: Sequence[Unit], opts: Options) -> ConvNet:
    """A torchlogix model with ``LogicConv2d`` / ``OrPooling2d`` layers in the compact form
    (:mod:`._conv` states the conventions): conv and pooling stages, then dense layers, GroupSum."""
    dense_units = [u for u in units if _is_logic(u) and not is_conv_unit(u)]
    idx_given = dict(zip((u.path for u in dense_units), _indices_for(opts, dense_units)))
    stages: list[Stage] = []
    shape: tuple[int, int, int] | None = None
    group_sum: GroupSum | None = None
    params: list[str] = []
    for u in units:
        spatial = bool(stages) and not isinstance(stages[-1], DenseStage)
        if is_conv_unit(u):
            if stages and not spatial:
                raise InteropError(f"{u.label}: a convolution after a dense layer is not supported")
            tw = u.get("tree_weights")
            first = tw[0] if isinstance(tw, (list, tuple)) and tw else u.get("tree_weights.0")
            width = int(first.shape[-1]) if first is not None and hasattr(first, "shape") else 0
            k = u.get("lut_rank")
            name = _parametrization(u, opts, width, k if isinstance(k, int) else 2)
            st = _conv.conv_stage(u, name, _np)
            if shape is not None and st.in_shape != shape:
                raise InteropError(f"{u.label}: reads {st.in_shape[2]} channels of {st.in_shape[0]}x"
                                   f"{st.in_shape[1]} (in_dim, channels) but the layer before produces "
                                   f"{shape[2]} of {shape[0]}x{shape[1]}")
            stages.append(st)
            params.append(name)
            shape = st.out_shape
        elif is_pool_unit(u):
            if shape is None or not spatial:
                raise InteropError(f"{u.label}: OR pooling must follow a convolution or another pooling")
            if "3d" in u.cls.lower():
                raise InteropError(f"{u.label}: 3-D pooling is not supported")
            pool = _conv.pool_stage(u, shape)
            stages.append(pool)
            shape = pool.out_shape
        elif _is_logic(u):
            if group_sum is not None:
                raise InteropError(f"{u.label}: logic layer after the GroupSum")
            idx, tables, name, _ = _logic_layer(u, opts, idx_given[u.path])
            if spatial and shape is not None:
                width_in = shape[0] * shape[1] * shape[2]
                if idx.max(initial=0) >= width_in or idx.min(initial=0) < 0:
                    raise InteropError(f"{u.label}: reads input {int(idx.max())}, outside the {width_in} "
                                       f"flattened outputs of the layer before")
                idx = _conv.chw_to_hwc(shape)[idx]
            stages.append(DenseStage(idx.shape[1], idx, tables))
            params.append(name)
        elif _is_group_sum(u):
            if not stages or group_sum is not None:
                raise InteropError(f"{u.label}: GroupSum before any logic layer, or a second one")
            group_sum = _group_sum(u, opts)
        elif _is_encoder(u):
            if u.get("thresholds") is not None:
                raise InteropError(f"{u.label}: thresholds in front of a convolution are not supported; "
                                   f"import the model from its bits (DummyBinarization)")
        elif u.cls in _PASS_THROUGH:
            continue
        else:
            raise InteropError(f"{u.label}: unsupported layer type")
    if not stages or not isinstance(stages[0], ConvStage):
        raise InteropError(f"{opts.where}: the first logic layer must be a LogicConv2d")
    if not isinstance(stages[-1], DenseStage) and shape is not None:
        stages.append(_conv.reorder_stage(shape))  # GroupSum over torchlogix's flattened order
    first = stages[0]
    meta = {"imported_from": opts.tool, "parametrization": sorted(set(params))}
    meta.update(opts.metadata)
    net = ConvNet(first.in_shape[0] * first.in_shape[1] * first.in_shape[2], tuple(stages),
                  group_sum=_final_group_sum(group_sum, opts), metadata=meta)
    try:
        check_conv_net(net, where=opts.where)
        lower(net, where=opts.where)
    except NetlistError as e:
        raise InteropError(str(e)) from None
    return net


def build_netlist(units: Sequence[Unit], opts: Options) -> Netlist:
    """Classify the units (encoder? -> logic layers -> GroupSum?) and build the netlist."""
    idx_given = _indices_for(opts, units)
    thresholds: np.ndarray | None = None
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    params: list[str] = []
    in_dims: list[int | None] = []
    group_sum: GroupSum | None = None
    gs_label = ""
    for u in units:
        if _is_logic(u):
            if group_sum is not None:
                raise InteropError(f"{u.label}: logic layer after the GroupSum ({gs_label})")
            idx, tables, name, in_dim = _logic_layer(u, opts, idx_given[len(layers)])
            layers.append((idx, tables))
            params.append(name)
            in_dims.append(in_dim)
        elif _is_group_sum(u):
            if not layers:
                raise InteropError(f"{u.label}: GroupSum before any logic layer")
            if group_sum is not None:
                raise InteropError(f"{u.label}: a second GroupSum")
            group_sum, gs_label = _group_sum(u, opts), u.label
        elif _is_encoder(u):
            if layers:
                raise InteropError(f"{u.label}: thresholding after a logic layer is not supported")
            thresholds = _encoder(u)
        elif u.cls in _PASS_THROUGH:
            continue
        elif "Conv" in u.cls or "Pool" in u.cls:
            raise InteropError(f"{u.label}: convolutional logic layers are not supported (dense layers only)")
        elif u.obj is None and u.cls == "":
            raise InteropError(f"{u.label}: state dict entries {sorted(u.attrs)} belong to no layer lut2rtl knows")
        else:
            raise InteropError(f"{u.label}: unsupported layer type")
    if not layers:
        raise InteropError(f"{opts.where}: no logic layers found (expected {opts.tool} layers with gate weights)")
    group_sum = _final_group_sum(group_sum, opts)

    # Input width: the first layer's in_dim, else what the encoder produces,
    # else the widest index used.
    first_max = int(layers[0][0].max()) + 1
    n_inputs = in_dims[0]
    if opts.n_inputs is not None:
        if n_inputs is not None and n_inputs != opts.n_inputs:
            raise InteropError(f"{opts.where}: the first logic layer has in_dim={n_inputs}, "
                               f"not the {opts.n_inputs} inputs given")
        n_inputs = opts.n_inputs
    encoder = None
    if thresholds is not None:
        if thresholds.ndim == 1:
            m = thresholds.shape[0]
            width = n_inputs if n_inputs is not None else first_max
            if width % m:
                raise InteropError(f"{opts.where}: {m} global thresholds do not divide the "
                                   f"{width} inputs of the first logic layer")
            thresholds = np.tile(thresholds, (width // m, 1))
        encoder = Thermometer(thresholds=thresholds)
        if n_inputs is None:
            n_inputs = encoder.n_bits
        elif encoder.n_bits != n_inputs:
            raise InteropError(f"{opts.where}: the thresholds produce {encoder.n_bits} bits but the first "
                               f"logic layer reads {n_inputs} inputs")
    if n_inputs is None:
        n_inputs = first_max
        log.warning("%s: the input width is not recorded; taking %d (the highest input the first layer "
                    "reads, plus one) -- give the real width with --inputs", opts.where, n_inputs)
    width = n_inputs
    for l, (idx, tables) in enumerate(layers):
        if in_dims[l] is not None and in_dims[l] != width:
            raise InteropError(f"{opts.where}: logic layer {l} has in_dim={in_dims[l]} but its input "
                               f"has {width} signals")
        bad = np.argwhere((idx < 0) | (idx >= width))
        if bad.size:
            neuron, m = (int(v) for v in bad[0])
            raise InteropError(f"{opts.where}: logic layer {l}, neuron {neuron}: input {m} is "
                               f"{int(idx[neuron, m])}, outside 0..{width - 1}")
        width = tables.shape[0]
    if group_sum is not None and width % group_sum.classes:
        raise InteropError(f"{opts.where}: GroupSum k={group_sum.classes} does not divide the "
                           f"{width} outputs of the last logic layer")
    meta = {"imported_from": opts.tool, "parametrization": sorted(set(params))}
    meta.update(opts.metadata)
    net = Netlist.layered(n_inputs, layers, group_sum=group_sum, encoder=encoder, metadata=meta)
    try:
        check_netlist(net, where=opts.where)
    except NetlistError as e:
        raise InteropError(str(e)) from None
    return net

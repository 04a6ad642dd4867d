"""Import logic-gate networks trained with difflogic or torchlogix.

Neither package is needed (or imported): models are read by structure --
attribute names and tensor shapes -- from a module object, a whole pickled
model file (read with inert stand-in classes, no foreign code runs) or a state
dict plus a wiring file. The conventions of both tools are mapped onto
lut2rtl's truth-table encoding in :mod:`lut2rtl.interop.conventions`.
See docs/interop.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..checkpoint import save_checkpoint
from ..errors import OutputError
from ..lowering import ConvNet, lower
from ..netlist import Netlist
from ._load import InteropError, load_model_file
from ._model import (
    Options,
    build_conv_net,
    build_netlist,
    is_conv_unit,
    is_pool_unit,
    units_of_module,
    units_of_state_dict,
    unwrap,
)

__all__ = [
    "TOOLS",
    "InteropError",
    "import_difflogic",
    "import_compact",
    "import_file",
    "import_model",
    "import_torchlogix",
    "load_indices_file",
]

TOOLS = ("difflogic", "torchlogix")


def import_model(source: Any, tool: str, **options: Any) -> Netlist:
    """Convert a trained difflogic / torchlogix model into a flat :class:`Netlist` (options as
    :func:`import_compact`; a convolutional model comes back lowered)."""
    net = import_compact(source, tool, **options)
    return lower(net, where=options.get("where", "model")) if isinstance(net, ConvNet) else net


def import_compact(
    source: Any,
    tool: str,
    *,
    indices: Any = None,
    parametrization: str | None = None,
    classes: int | None = None,
    tau: float | None = None,
    beta: float | None = None,
    n_inputs: int | None = None,
    where: str = "model",
    metadata: Mapping[str, Any] | None = None,
) -> Netlist | ConvNet:
    """Convert a trained difflogic / torchlogix model into a :class:`Netlist`, or, for a torchlogix
    model with ``LogicConv2d`` / ``OrPooling2d`` layers, into the compact form
    (:class:`~lut2rtl.lowering.ConvNet`, saved as checkpoint version 2), whose input bits are
    torchlogix's ``(C, H, W)`` input read channel-innermost, ``x.permute(1, 2, 0).flatten()``.

    ``source`` is a model object (``nn.Module`` / ``nn.Sequential``), a state
    dict, or a training-checkpoint dict holding one under ``model_state_dict``,
    ``state_dict`` or ``model``. ``indices`` (one wiring per logic layer, a list
    in layer order or a dict keyed by layer name; each a tuple of ``k``
    index tensors or a ``[k, n]`` tensor) replaces the model's own wiring --
    needed for difflogic state dicts, which lack it. ``parametrization``
    (torchlogix: ``raw``, ``light``, ``walsh``/``warp``, ``walsh-legacy``) is
    needed where a state dict cannot tell. ``classes``/``tau``/``beta`` give or
    override the GroupSum. ``n_inputs`` gives the input width where the model
    does not record it (state dicts; else the highest index read + 1). Raises :class:`InteropError` naming the layer.
    """
    if tool not in TOOLS:
        raise ValueError(f"tool must be one of {TOOLS}, got {tool!r}")
    if tool == "difflogic" and parametrization not in (None, "raw"):
        raise InteropError(f"{where}: difflogic layers always hold 16 gate logits; "
                           f"--parametrization {parametrization} applies to torchlogix only")
    if classes is not None and (isinstance(classes, bool) or not isinstance(classes, int) or classes < 1):
        raise InteropError(f"{where}: classes={classes!r} is not a positive integer")
    if n_inputs is not None and (isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1):
        raise InteropError(f"{where}: n_inputs={n_inputs!r} is not a positive integer")
    if tau is not None and not tau > 0:
        raise InteropError(f"{where}: tau={tau!r} must be positive")
    model = unwrap(source, where)
    units = units_of_state_dict(model, where) if isinstance(model, Mapping) else units_of_module(model, where)
    opts = Options(
        tool=tool, indices=indices, parametrization=parametrization, classes=classes, tau=tau,
        beta=beta, where=where, metadata=dict(metadata or {}), n_inputs=n_inputs,
    )
    if any(is_conv_unit(u) or is_pool_unit(u) for u in units):
        if tool != "torchlogix":
            raise InteropError(f"{where}: convolutional layers are read from torchlogix models only")
        return build_conv_net(units, opts)
    return build_netlist(units, opts)


def import_difflogic(source: Any, **kwargs: Any) -> Netlist:
    """:func:`import_model` for difflogic (``LogicLayer.weights`` [n, 16], ``indices`` (a, b), ``GroupSum``)."""
    return import_model(source, "difflogic", **kwargs)


def import_torchlogix(source: Any, **kwargs: Any) -> Netlist:
    """:func:`import_model` for torchlogix (``LogicDense`` raw / light / walsh, ``GroupSum``, thresholds)."""
    return import_model(source, "torchlogix", **kwargs)


def load_indices_file(path: str | os.PathLike[str]) -> Any:
    """Read a wiring file (``torch.save`` of a list or dict of index tensors; weights_only)."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise InteropError(f"{p}: no such wiring file")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to parse is a bad file
        first = (str(e).strip().splitlines() or [""])[0]
        raise InteropError(f"{p}: not a loadable wiring file ({type(e).__name__}: {first[:200]})") from None


def import_file(
    tool: str,
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    indices_file: str | os.PathLike[str] | None = None,
    force: bool = False,
    **kwargs: Any,
) -> Netlist:
    """Read ``src``, convert it and write the lut2rtl checkpoint ``out`` atomically.

    Refuses to overwrite ``out`` unless ``force``. Returns the netlist written.
    """
    out_p = Path(out)
    if out_p.is_dir():
        raise OutputError(f"{out_p}: is a folder")
    if out_p.exists() and not force:
        raise OutputError(f"{out_p} exists (use --force to overwrite)")
    if out_p.resolve() == Path(src).resolve():
        raise OutputError(f"{out_p}: output would overwrite the source model")
    source = load_model_file(src)
    indices = load_indices_file(indices_file) if indices_file is not None else None
    meta = {"source_file": Path(src).name}
    meta.update(kwargs.pop("metadata", None) or {})
    net = import_compact(source, tool, indices=indices, where=str(src), metadata=meta, **kwargs)
    save_checkpoint(net, out_p)
    return lower(net, where=str(src)) if isinstance(net, ConvNet) else net

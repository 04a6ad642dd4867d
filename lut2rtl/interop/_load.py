"""Reading a foreign model file without importing (or running) the foreign package.

A file is read with ``torch.load(weights_only=True)``. A state dict loads
directly. A whole pickled model (``torch.save(model, path)``) names the
classes of difflogic / torchlogix / ``torch.nn``; each such class is replaced
by an inert stand-in (:class:`StubObject`) that only receives the pickled
attribute dict, so the structure can be read by attribute names while no
foreign code is imported and nothing but torch's allow-listed rebuild
functions is called. Any other global in the pickle is refused.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from ..checkpoint import check_model_file
from ..errors import CheckpointError

__all__ = ["InteropError", "StubObject", "class_name", "load_model_file"]


class InteropError(CheckpointError):
    """A foreign model cannot be converted (unsupported layer, bad shapes, missing wiring)."""


class StubObject:
    """Inert stand-in for a pickled class of a foreign package (attributes only)."""

    _lut2rtl_class: str = "?"
    _lut2rtl_path: str = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> StubObject:  # noqa: ARG004 - pickle passes args
        return object.__new__(cls)

    def __repr__(self) -> str:
        return f"<stub {self._lut2rtl_class}>"


# Module prefixes whose classes may be replaced by stand-ins: the two tools,
# torch's own nn modules (Sequential, Flatten, ...) and a user's __main__
# wrapper class (a model defined in a training script).
_STUB_PREFIXES = ("difflogic.", "torchlogix.", "neurodifflogic.", "torch.nn.modules.", "__main__.")

_stub_cache: dict[str, type[StubObject]] = {}


def _stub_class(full_path: str) -> type[StubObject]:
    cls = _stub_cache.get(full_path)
    if cls is None:
        short = full_path.rsplit(".", 1)[-1]
        cls = type(short, (StubObject,), {"_lut2rtl_class": short, "_lut2rtl_path": full_path,
                                          "__module__": __name__})
        _stub_cache[full_path] = cls
    return cls


def is_torch_builtin(obj: Any) -> bool:
    """A ``torch.nn`` layer (Linear, ReLU, ...), real or stand-in."""
    path = obj._lut2rtl_path if isinstance(obj, StubObject) else type(obj).__module__
    return path.startswith("torch.nn.")


def _numpy_globals() -> list[tuple[Any, str]]:
    """numpy scalars and dtypes a pickled attribute (a tau of type float64) may need."""
    import numpy as np

    out: list[tuple[Any, str]] = [(np.dtype, "numpy.dtype")]
    scalar = getattr(getattr(getattr(np, "_core", np), "multiarray", None), "scalar", None)
    if scalar is not None:
        out += [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar")]
    for name in dir(np.dtypes):
        if name.endswith("DType"):
            out.append((getattr(np.dtypes, name), f"numpy.dtypes.{name}"))
    return out


def class_name(obj: Any) -> str:
    """Class name of a model object or of its stand-in."""
    if isinstance(obj, StubObject):
        return obj._lut2rtl_class
    return type(obj).__name__


def load_model_file(path: str | os.PathLike[str]) -> Any:
    """Load a state dict or a pickled model; raise :class:`InteropError` naming the problem."""
    import torch

    p = check_model_file(path, "model", InteropError)
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass  # names classes: try the stand-ins below
    except Exception as e:  # noqa: BLE001 - any other failure to parse is a bad file
        raise InteropError(f"{p}: not a loadable PyTorch file ({_one_line(e)})") from None

    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(p)
    except Exception as e:  # noqa: BLE001
        raise InteropError(f"{p}: not a loadable PyTorch file ({_one_line(e)})") from None
    numpy_ok = dict((name, obj) for obj, name in _numpy_globals())
    refused = sorted(n for n in names if not n.startswith(_STUB_PREFIXES) and n not in numpy_ok)
    if refused:
        raise InteropError(
            f"{p}: the pickle needs {refused[0]}, which is not a difflogic/torchlogix/torch.nn class; "
            f"save a state dict instead (torch.save(model.state_dict(), ...)) and pass --indices"
        )
    # every numpy scalar/dtype global: the checkpoint scan does not list the
    # dtype classes a scalar's BUILD step needs
    allow = [(_stub_class(n), n) for n in names if n not in numpy_ok] + _numpy_globals()
    try:
        with torch.serialization.safe_globals(allow):
            return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise InteropError(f"{p}: cannot read the pickled model ({_one_line(e)})") from None


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]

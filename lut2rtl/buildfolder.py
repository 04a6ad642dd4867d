"""The build folder of ``lut2rtl compile``, as typed data.

The folder holds ``<name>.v`` (top module ``<name>``), the manifest
``<name>.json``, ``netlist.pt`` (the source netlist: the reference) and
``vectors.npz`` (reference vectors); the port contract is in
docs/hardware.md. :mod:`lut2rtl.compile` writes it with
:func:`write_build_folder`; verify, synth and the harness and UART tops read
it with :func:`read_build_folder` and get the same :class:`BuildFolder`, and
the same :class:`~lut2rtl.errors.BuildFolderError` for a broken folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import __version__
from .errors import BuildFolderError, CheckpointError, OutputError
from .families import FAMILIES, Family
from .fileio import atomic_output_dir
from .netlist import Netlist

__all__ = ["CORE_INPUTS", "INPUT_PORTS", "BuildFolder", "Manifest", "data_input", "read_build_folder",
           "write_build_folder"]

# the ports every core has (clk, rst, in_valid, and its data input in; out_valid out)
CORE_INPUTS = ("clk", "rst", "in_valid")
# the data input: the network's input bits, or, with the encoder in hardware
# (`--encoder hw`), the raw integer features it compares
INPUT_PORTS = ("in_bits", "in_features")


def data_input(ports: Any) -> str:
    """The data input among ``ports`` (names): ``in_features`` if present, else ``in_bits``."""
    return "in_features" if "in_features" in ports else "in_bits"


@dataclass(frozen=True)
class Manifest:
    """``<name>.json``: what was built, its ports and the compile's estimates.

    ``ports`` maps each port name to ``(direction, width)`` in port order.
    ``family`` is the ``--target``; ``primitives`` the family whose LUT
    primitives the Verilog instantiates (``None`` for plain logic)."""

    name: str
    family: Family
    pipeline: int
    opt: int
    n_inputs: int
    n_outputs: int
    classes: int | None
    count_width: int | None
    class_width: int | None
    out_bits: bool
    ports: dict[str, tuple[str, int]]
    checkpoint_sha256: str
    top: str
    latency: int
    files: dict[str, str]
    estimate: dict[str, Any] = field(default_factory=dict)
    vectors: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    # the stream wrapper around the core (``--interface axis``): its module
    # name, ports and data layout; None for the bare core
    interface: dict[str, Any] | None = None
    lut2rtl_version: str = __version__

    @property
    def input_port(self) -> str:
        """The core's data input: ``in_bits``, or ``in_features`` with the encoder in hardware."""
        return data_input(self.ports)

    @property
    def primitives(self) -> Family | None:
        return None if self.family.primitive is None else self.family

    def width(self, port: str) -> int:
        return self.ports[port][1]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "top": self.top, "target": self.family.name, "pipeline": self.pipeline,
            "latency": self.latency, "opt": self.opt, "n_inputs": self.n_inputs, "n_outputs": self.n_outputs,
            "classes": self.classes, "count_width": self.count_width, "class_width": self.class_width,
            "out_bits": self.out_bits, "ports": {n: {"dir": d, "width": w} for n, (d, w) in self.ports.items()},
            "files": self.files, "primitives": None if self.primitives is None else self.family.name,
            "checkpoint_sha256": self.checkpoint_sha256, "lut2rtl_version": self.lut2rtl_version,
            "estimate": self.estimate, "vectors": self.vectors, "options": self.options,
            **({"interface": self.interface} if self.interface is not None else {}),
        }

    @classmethod
    def from_json(cls, data: Any, where: Path) -> Manifest:
        """Check and read a manifest (``where`` names it in errors)."""

        def bad(why: str) -> BuildFolderError:
            return BuildFolderError(f"{where}: {why}")

        if not isinstance(data, dict):
            raise bad("the manifest is not a JSON object")
        missing = [k for k in ("top", "target", "pipeline", "latency", "n_inputs", "n_outputs", "classes",
                               "out_bits", "ports", "files") if k not in data]
        if missing:
            raise bad(f"manifest lacks key(s) {', '.join(missing)}")
        for key in ("n_inputs", "n_outputs", "classes", "pipeline", "latency"):
            v = data[key]
            if key == "classes" and v is None:
                continue
            low = 0 if key in ("pipeline", "latency") else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise bad(f"{key!r} must be an integer >= {low}, got {_short(v)}")
        if data["target"] not in FAMILIES:
            raise bad(f"unknown target {_short(data['target'])} (known: {', '.join(FAMILIES)})")
        family = FAMILIES[data["target"]]
        if data.get("primitives") not in (None, family.name):
            raise bad(f"primitives {_short(data.get('primitives'))} do not match the target {family.name!r}")
        files = data["files"]
        if not isinstance(files, dict):
            raise bad("malformed 'files' entry (expected an object)")
        files = {"netlist": "netlist.pt", "vectors": "vectors.npz", **files}
        for key in ("verilog", "netlist", "vectors"):
            name = files.get(key)
            # plain file names only: a manifest must not point outside its folder
            if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
                raise bad(f"files.{key} must be a plain file name in the folder, got {_short(name)}")
        ports = _ports(data["ports"], bad)
        try:
            return cls(name=str(data.get("name", data["top"])), top=str(data["top"]), family=family,
                       pipeline=data["pipeline"], latency=data["latency"], opt=int(data.get("opt", 0)),
                       n_inputs=data["n_inputs"], n_outputs=data["n_outputs"], classes=data["classes"],
                       count_width=data.get("count_width"), class_width=data.get("class_width"),
                       out_bits=bool(data["out_bits"]), ports=ports,
                       checkpoint_sha256=str(data.get("checkpoint_sha256", "")),
                       estimate=dict(data.get("estimate") or {}), vectors=int(data.get("vectors", 0)),
                       options=dict(data.get("options") or {}), files=files,
                       interface=_interface(data.get("interface"), bad),
                       lut2rtl_version=str(data.get("lut2rtl_version", "")))
        except (TypeError, ValueError) as e:
            raise bad(f"malformed manifest ({e})") from None


def _ports(ports: Any, bad: Any) -> dict[str, tuple[str, int]]:
    if not isinstance(ports, dict):
        raise bad("the manifest has no 'ports' table")
    out: dict[str, tuple[str, int]] = {}
    for name, p in ports.items():
        d = p.get("dir") if isinstance(p, dict) else None
        w = p.get("width") if isinstance(p, dict) else None
        if d not in ("in", "out") or isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise bad(f"port {name!r} needs dir 'in' or 'out' and an integer width >= 1, got {_short(p)}")
        out[str(name)] = (d, w)
    for name in ("clk", "rst", "in_valid", "out_valid"):
        if name not in out:
            raise bad(f"port {name!r} is missing from 'ports' (every lut2rtl core has clk, rst, in_valid, "
                      "in_bits or in_features, out_valid)")
    data_in = [n for n in INPUT_PORTS if n in out]
    if len(data_in) != 1:
        raise bad("the ports need exactly one data input, in_bits or in_features, got "
                  f"{', '.join(data_in) or 'none'}")
    extra_in = [n for n, (d, _) in out.items() if d == "in" and n not in (*CORE_INPUTS, *INPUT_PORTS)]
    if extra_in:
        raise bad(f"the core has input ports no lut2rtl core has: {', '.join(extra_in)}")
    return out


@dataclass(frozen=True)
class BuildFolder:
    """A compiled design: its files and its manifest."""

    path: Path
    manifest: Manifest

    @property
    def verilog(self) -> Path:
        return self.path / self.manifest.files["verilog"]

    @property
    def netlist_path(self) -> Path:
        return self.path / self.manifest.files["netlist"]

    @property
    def vectors_path(self) -> Path:
        return self.path / self.manifest.files["vectors"]

    @cached_property
    def netlist(self) -> Netlist:
        from .checkpoint import load_checkpoint

        try:
            return load_checkpoint(self.netlist_path)
        except CheckpointError as e:  # its messages begin with the path already
            raise BuildFolderError(str(e)) from None

    def vectors(self) -> Any:
        """The reference vectors (:class:`lut2rtl.verify.vectors.Vectors`)."""
        from .verify.vectors import load_vectors

        m = self.manifest
        return load_vectors(self.vectors_path, n_inputs=m.n_inputs, n_outputs=m.n_outputs, classes=m.classes)


def read_build_folder(path: str | os.PathLike[str]) -> BuildFolder:
    """Read and check a build folder's manifest.

    Raises :class:`BuildFolderError` (one line, naming the file) if the folder,
    its manifest or a file the manifest names is missing or malformed.
    """
    folder = Path(path)
    if not folder.exists():
        raise BuildFolderError(f"{folder}: no such build folder (compile one with `lut2rtl compile`)")
    if not folder.is_dir():
        raise BuildFolderError(f"{folder}: not a folder (give the folder `lut2rtl compile` wrote)")
    found = None
    for p in sorted(p for p in folder.glob("*.json") if p.is_file()):
        # the manifest is <top>.json; other JSON files (reports) may lie beside it
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("top") == p.stem and "ports" in data:
            found = Manifest.from_json(data, p)
            break
    if found is None:
        raise BuildFolderError(f"{folder}: no manifest (<name>.json with 'top' and 'ports') in this folder")
    build = BuildFolder(folder, found)
    for f in (build.verilog, build.netlist_path, build.vectors_path):
        if not f.is_file():
            raise BuildFolderError(f"{f}: file named by the manifest is missing")
    return build


def write_build_folder(out_dir: str | os.PathLike[str], manifest: Manifest, files: dict[str, bytes], *,
                       force: bool = False) -> None:
    """Write the manifest and ``files`` (name -> bytes) as one folder, atomically."""
    data = {f"{manifest.name}.json": (json.dumps(manifest.to_json(), sort_keys=True, indent=2) + "\n").encode(),
            **files}
    with atomic_output_dir(out_dir, force=force) as tmp:
        for fname, blob in sorted(data.items()):
            try:
                (tmp / fname).write_bytes(blob)
            except OSError as e:
                raise OutputError(f"cannot write {Path(out_dir) / fname}: {e.strerror or e}") from None


def _interface(v: Any, bad: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    if not isinstance(v, dict) or not isinstance(v.get("top"), str) or not isinstance(v.get("ports"), dict):
        raise bad("malformed 'interface' entry (expected an object with 'top' and 'ports')")
    return dict(v)


def _short(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."

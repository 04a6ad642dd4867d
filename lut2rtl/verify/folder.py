"""Reading a compiled design folder (the build folder of ``lut2rtl compile``).

The folder holds ``<name>.v`` (top module ``<name>``), the manifest
``<name>.json``, ``netlist.pt`` (the source netlist, the reference) and
``vectors.npz`` (reference vectors); see the hardware contract in
docs/ and :mod:`lut2rtl.compile`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..checkpoint import load_checkpoint
from ..errors import CheckpointError
from ..netlist import Netlist
from ._errors import BuildFolderError, bad_file
from .vectors import Vectors, load_vectors

__all__ = ["FAMILIES", "DesignFolder", "load_design"]

# Families whose primitive models come from Yosys's share/<family>/cells_sim.v.
FAMILIES = ("ice40", "ecp5", "xilinx", "gowin")

_REQUIRED = ("top", "latency", "n_inputs", "n_outputs", "classes", "out_bits", "ports", "files")


@dataclass(frozen=True)
class DesignFolder:
    """A compiled design: its files and the manifest facts the checks need."""

    path: Path
    manifest: dict[str, Any]
    verilog: Path
    netlist_path: Path
    vectors_path: Path

    @property
    def top(self) -> str:
        return str(self.manifest["top"])

    @property
    def latency(self) -> int:
        return int(self.manifest["latency"])

    @property
    def primitives(self) -> str | None:
        p = self.manifest.get("primitives")
        return None if p is None else str(p)

    @property
    def ports(self) -> dict[str, int]:
        """Port name -> width."""
        return {k: int(v["width"]) for k, v in self.manifest["ports"].items()}

    @property
    def classes(self) -> int | None:
        c = self.manifest["classes"]
        return None if c is None else int(c)

    @cached_property
    def netlist(self) -> Netlist:
        try:
            return load_checkpoint(self.netlist_path)
        except CheckpointError as e:
            raise BuildFolderError(f"{self.netlist_path}: {e}") from None

    def vectors(self) -> Vectors:
        return load_vectors(self.vectors_path, n_inputs=int(self.manifest["n_inputs"]),
                            n_outputs=int(self.manifest["n_outputs"]), classes=self.classes)


def load_design(path: str | os.PathLike[str]) -> DesignFolder:
    """Read and check the manifest of a compiled design folder.

    Raises :class:`BuildFolderError` (one line, naming the file) if the folder,
    its manifest or a file the manifest names is missing or malformed.
    """
    folder = Path(path)
    if not folder.exists():
        raise BuildFolderError(f"{folder}: no such design folder (compile one with `lut2rtl compile`)")
    if not folder.is_dir():
        raise BuildFolderError(f"{folder}: not a folder (give the folder `lut2rtl compile` wrote)")
    manifests = sorted(p for p in folder.glob("*.json") if p.is_file())
    manifest_path = None
    for p in manifests:
        # the manifest is <top>.json; other JSON files (reports) may lie beside it
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("top") == p.stem and "ports" in data:
            manifest_path = p
            break
    if manifest_path is None:
        raise BuildFolderError(f"{folder}: no manifest (<name>.json with 'top' and 'ports') in this folder")
    manifest = data
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise bad_file(manifest_path, f"manifest lacks key(s) {', '.join(missing)}")
    try:
        files = manifest["files"]
        names = {"verilog": files["verilog"], "netlist": files.get("netlist", "netlist.pt"),
                 "vectors": files.get("vectors", "vectors.npz")}
        for key, name in names.items():
            # plain file names only: a manifest must not point outside its folder
            if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
                raise bad_file(manifest_path, f"files.{key} must be a plain file name in the folder, got {name!r}")
        verilog = folder / names["verilog"]
        netlist_path = folder / names["netlist"]
        vectors_path = folder / names["vectors"]
        ports = {k: int(v["width"]) for k, v in manifest["ports"].items()}
        latency = int(manifest["latency"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise bad_file(manifest_path, f"malformed manifest ({e!r})") from None
    for key in ("n_inputs", "n_outputs", "classes"):
        v = manifest.get(key)
        if key == "classes" and v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise bad_file(manifest_path, f"{key!r} must be a positive integer, got {_short(v)}")
    if latency < 0:
        raise bad_file(manifest_path, f"latency {latency} is negative")
    for need in ("clk", "rst", "in_valid", "in_bits", "out_valid"):
        if need not in ports:
            raise bad_file(manifest_path, f"port {need!r} is missing from 'ports'")
    prim = manifest.get("primitives")
    if prim is not None and prim not in FAMILIES:
        raise bad_file(manifest_path, f"unknown primitives family {prim!r} (known: {', '.join(FAMILIES)})")
    for f in (verilog, netlist_path, vectors_path):
        if not f.is_file():
            raise BuildFolderError(f"{f}: file named by the manifest is missing")
    return DesignFolder(folder, manifest, verilog, netlist_path, vectors_path)


def _short(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."

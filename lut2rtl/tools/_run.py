"""Finding and running external tools, in one place.

A tool is looked up as: the environment override (``LUT2RTL_<NAME>``, a path
or a command name), then the PyPI package's launcher next to the running
Python, then ``PATH``. A command is kept as data (a list of strings); a
failure becomes a :class:`~lut2rtl.errors.ToolError` carrying the command and
the tail of stderr.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import ToolError, ToolNotFound

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0  # a tool run longer than this reports while it runs (when given a progress callback)
# the progress callback of tool runs that are not given one, for work whose tool calls lie deep in helpers
_PROGRESS: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("lut2rtl_tool_progress",
                                                                                         default=None)


@contextlib.contextmanager
def tool_progress(callback: Callable[[str], None] | None) -> Iterator[None]:
    """Within the block, :func:`run_tool` calls without a ``progress`` of their own report to ``callback``."""
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)

__all__ = ["ToolResult", "find_tool", "kill_group", "note_first_yowasp_run", "run_tool", "tool_progress",
           "yowasp_first_run"]


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
    progress: Callable[[str], None] | None = None,
    every: float = HEARTBEAT_S,
    phase: Callable[[Sequence[str]], str] | None = None,
) -> ToolResult:
    """Run a command; on a non-zero exit (with ``check``) raise :class:`ToolError`.

    With ``progress``, a run that lasts longer than ``every`` seconds reports every ``every`` seconds:
    ``"<what>: running, 40 s: <phase>"``, the phase being ``phase(lines)`` of the output lines so far
    (stderr, then stdout), by default the last non-empty one. Without ``progress``, the callback of an
    enclosing :func:`tool_progress` block, if any."""
    if progress is None:
        progress = _PROGRESS.get()
    cmd = [str(c) for c in command]
    name = what or Path(cmd[0]).name
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
    assert p.stdout is not None and p.stderr is not None
    # both pipes drained by threads (a full pipe would stall the tool), so the wait below can wake up to report
    lines: dict[str, list[str]] = {"out": [], "err": []}
    readers = [threading.Thread(target=_drain, args=(stream, lines[key]), daemon=True)
               for key, stream in (("out", p.stdout), ("err", p.stderr))]
    for r in readers:
        r.start()
    t0 = time.monotonic()
    try:
        while True:
            left = None if timeout is None else timeout - (time.monotonic() - t0)
            if left is not None and left <= 0:
                kill_group(p)
                p.wait()
                for r in readers:
                    r.join(timeout=5.0)  # a helper outside the process group may hold a pipe open
                raise ToolError(f"{name} timed out after {timeout:g} s", command=cmd,
                                stderr="".join(lines["err"]))
            wait = every if progress is not None else left
            if wait is not None and left is not None:
                wait = min(wait, left)
            try:
                p.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                if progress is not None and time.monotonic() - t0 >= every:
                    seen = lines["err"] + lines["out"]
                    now = (phase or _last_line)(seen)
                    progress(f"{name}: running, {time.monotonic() - t0:.0f} s" + (f": {now}" if now else ""))
    except BaseException:  # Ctrl-C, or any error while waiting: leave nothing running
        if p.poll() is None:
            kill_group(p)
            p.wait()
        raise
    for r in readers:
        r.join()
    out, err = "".join(lines["out"]), "".join(lines["err"])
    result = ToolResult(cmd, p.returncode, out, err)
    if check and p.returncode != 0:
        tail = _last_error_line(err) or _last_error_line(out)
        raise ToolError(f"{name} failed (exit {p.returncode}): {tail}", command=cmd,
                        stderr=err)
    return result


def _drain(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)
    stream.close()


def _last_line(lines: Sequence[str]) -> str:
    for line in reversed(lines[-50:]):
        if line.strip():
            return line.strip()[:120]
    return ""


def kill_group(p: subprocess.Popen[str]) -> None:
    """Kill ``p`` and every process of its group (it leads one: ``start_new_session``)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        p.kill()


_ERROR_COUNT = re.compile(r"\d+ warnings?, \d+ errors?$", re.IGNORECASE)


def _last_error_line(text: str) -> str:
    """The line of a tool's output that says what went wrong: its last ``ERROR...`` line (Yosys, nextpnr),
    else its last line that mentions an error and is not a count (nextpnr ends with "0 warnings, 1 error"),
    else its last line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith("ERROR"):
            return ln[:300]
    for ln in reversed(lines):
        if "error" in ln.lower() and not _ERROR_COUNT.match(ln):
            return ln[:300]
    return lines[-1][:300] if lines else ""

"""lut2rtl's benchmarks: ``python -m bench`` (see ``bench/__main__.py`` and ``bench/README.md``)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator

_T0 = time.perf_counter()


def progress(what: str) -> None:
    """One progress line on stderr, with the seconds since the benchmark started (``python -m bench`` relays
    the lines as they come; a full benchmark runs for up to an hour, and its steps for minutes)."""
    print(f"  [{time.perf_counter() - _T0:6.0f} s] {what}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def working(what: str, every: float = 30.0) -> Iterator[None]:
    """``progress(what + " ...")``, then a line every ``every`` seconds until the block ends, for a single step
    that runs for minutes (a Yosys run, writing a large design)."""
    progress(f"{what} ...")
    t0, done = time.perf_counter(), threading.Event()

    def beat() -> None:
        while not done.wait(every):
            progress(f"{what}: still running, {time.perf_counter() - t0:.0f} s")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def script_options(usage: str, doc: str | None) -> bool:
    """For a bench script run as ``python bench/<script>.py``: True after printing ``usage`` and ``doc``
    when the arguments ask for help (-h, --help); exit with one error line on any other option."""
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(f"usage: {usage}\n\n{doc or ''}")
        return True
    flags = [a for a in sys.argv[1:] if a.startswith("-")]
    if flags:
        sys.exit(f"error: unknown option {flags[0]!r} (usage: {usage})")
    return False

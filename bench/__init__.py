"""lut2rtl's benchmarks: ``python -m bench`` (see ``bench/__main__.py`` and ``bench/README.md``)."""

from __future__ import annotations

import sys
import time

_T0 = time.perf_counter()


def progress(what: str) -> None:
    """One progress line on stderr, with the seconds since the benchmark started (``python -m bench`` relays
    the lines as they come; a full benchmark runs for up to an hour, and its steps for minutes)."""
    print(f"  [{time.perf_counter() - _T0:6.0f} s] {what}", file=sys.stderr, flush=True)

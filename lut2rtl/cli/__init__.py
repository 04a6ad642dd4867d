"""The ``lut2rtl`` command line: a thin click layer over the library.

Each command lives in its own module of this package and only parses options,
calls the library and renders the result. Library errors
(:class:`lut2rtl.errors.Lut2RtlError`) become one ``error: ...`` line on
stderr and exit status 1; Ctrl-C gives exit status 130.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]

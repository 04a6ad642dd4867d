"""`lut2rtl verify` (not available yet)."""

from __future__ import annotations

import click

from ..errors import Lut2RtlError


@click.command("verify", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(args: tuple[str, ...]) -> None:
    """(Not available yet.)"""
    raise Lut2RtlError("'lut2rtl verify' is not available in this version yet")

"""The root command group and its error handling."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

from .. import __version__
from ..errors import Lut2RtlError, OptionError


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``), raised where the program is, so that the tools it runs are ended with it
    (they run in process groups of their own, which the signal does not reach)."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only; the old handler comes back)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: Any) -> None:
        raise Terminated()

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class _Lut2RtlGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            with sigterm_as_interrupt():
                return super().invoke(ctx)
        except Lut2RtlError as e:
            message = " ".join(str(e).split()) or type(e).__name__
            if isinstance(e, OptionError):  # the library names an option; here it is a flag
                message = f"--{e.option.replace('_', '-')} {' '.join(e.detail.split())}"
            click.echo(f"error: {message}", err=True)
            ctx.exit(1)
        except Terminated:
            click.echo("error: terminated", err=True)
            ctx.exit(143)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(130)
        except MemoryError as e:
            # a resource limit, not a bug: a network (or a hostile file's
            # claimed size) too large for this machine
            detail = " ".join(str(e).split())
            click.echo(f"error: out of memory{': ' + detail if detail else ''}", err=True)
            ctx.exit(1)


@click.group(cls=_Lut2RtlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="lut2rtl")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
def main(verbose: bool) -> None:
    """Train logic-gate / LUT networks and compile them to bit-exact FPGA RTL.

    \b
    Examples:
      lut2rtl info examples/digits.pt
      lut2rtl eval examples/digits.pt --dataset digits
      lut2rtl compile examples/digits.pt --target ice40 --pipeline 4 -o build/digits
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr)


def _register() -> None:
    # one module per command; imported here so `lut2rtl --help` lists them all
    from . import cmd_compile, cmd_eval, cmd_import, cmd_info, cmd_synth, cmd_train, cmd_verify

    for mod in (cmd_info, cmd_eval, cmd_train, cmd_compile, cmd_verify, cmd_synth, cmd_import):
        main.add_command(mod.command)


_register()

"""The exception hierarchy of lut2rtl.

Every error a user can cause derives from :class:`Lut2RtlError`; the CLI turns
it into one ``error: ...`` line on stderr and a non-zero exit status. Misuse of
the Python API by a programmer raises the built-in ``ValueError``/``TypeError``.
"""

from __future__ import annotations


class Lut2RtlError(Exception):
    """Base class of the errors lut2rtl reports to its users."""


class CheckpointError(Lut2RtlError):
    """A checkpoint file cannot be read or does not follow the format."""


class NetlistError(Lut2RtlError):
    """A netlist violates a structural rule (index range, fan-in, widths...)."""


class ShapeError(Lut2RtlError, ValueError):
    """Data given to the evaluator or an encoder has the wrong shape or type."""


class DatasetError(Lut2RtlError):
    """A dataset cannot be found or parsed."""


class CompileError(Lut2RtlError):
    """The hardware generator cannot build the requested design."""


class OptionError(CompileError, ValueError):
    """An option has a value the design cannot have. ``option`` names it in
    the library's words (the CLI shows it as ``--option``)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option} {message}")
        self.option = option
        self.detail = message


class OutputError(Lut2RtlError):
    """An output file or folder cannot be written (exists, not writable...)."""


class ToolError(Lut2RtlError):
    """An external tool (Verilator, Yosys, nextpnr) is missing or failed."""

    def __init__(self, message: str, *, command: list[str] | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.command = list(command) if command is not None else None
        self.stderr = stderr


class ToolNotFound(ToolError):
    """An external tool is not installed or cannot be started."""


class BuildFolderError(Lut2RtlError):
    """A build folder is missing or broken (manifest, netlist, vectors, Verilog)."""


class VerificationError(Lut2RtlError):
    """A design does not compute what the reference evaluator computes."""

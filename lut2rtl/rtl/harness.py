"""Measurement harness around a compiled core, for synthesis and timing.

A core has hundreds of input bits: more than any package has pins, so it
cannot be placed alone. The harness feeds ``in_bits`` from a serial-in shift
register (pins: ``ser_in``, ``ser_valid``) and registers the outputs, reduced
to a few pins (``out_valid``, ``out_class`` when the core has a GroupSum, and
``out_xor``, the XOR of every other output bit, so no logic is optimized
away). Every path into and out of the core starts and ends at a flip-flop, so
nextpnr's Fmax is the core's (plus one flip-flop's clock-to-out and setup).

The core is instantiated by module name (``Instance(manifest.top, ...)``)
with the port widths of the build folder's manifest; the harness is converted
to Verilog on its own and read by Yosys together with the core's file.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Instance, Module, ResetSignal, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..buildfolder import Manifest
from ..errors import CompileError

__all__ = ["HARNESS_NAME", "Harness", "core_instance", "harness_verilog"]

HARNESS_NAME = "lut2rtl_harness"


def core_instance(m: Module, manifest: Manifest, in_valid: Value, in_bits: Value, rst: Value | None = None
                  ) -> dict[str, Signal]:
    """Instantiate the core (clocked by ``sync``, reset by ``rst`` or the
    domain's reset), ``in_bits`` on its data input (``manifest.input_port``:
    ``in_bits``, or ``in_features`` with the encoder in hardware); return its
    output signals by port name."""
    outs = {n: Signal(w, name=f"core_{n}") for n, (d, w) in sorted(manifest.ports.items()) if d == "out"}
    kw: dict[str, Any] = {"i_clk": ClockSignal(), "i_rst": ResetSignal() if rst is None else rst,
                          "i_in_valid": in_valid, f"i_{manifest.input_port}": in_bits}
    kw.update({f"o_{n}": s for n, s in outs.items()})
    m.submodules.core = Instance(manifest.top, **kw)
    return outs


class Harness(wiring.Component):
    """Serial-in, registered-out wrapper of a compiled core (see module doc).

    Ports: ``clk``, ``rst`` (synchronous, active high), ``ser_in``,
    ``ser_valid``, ``out_valid``, ``out_xor`` and, with a GroupSum,
    ``out_class``. ``in_bits`` is a shift register: each clock shifts
    ``ser_in`` into bit 0; ``ser_valid`` (registered) is the core's
    ``in_valid``."""

    def __init__(self, manifest: Manifest) -> None:
        self._manifest = manifest
        self._n_in = manifest.width("in_bits")
        self._class_width = manifest.width("out_class") if "out_class" in manifest.ports else 0
        members: dict[str, Any] = {"clk": In(1), "rst": In(1), "ser_in": In(1), "ser_valid": In(1),
                                   "out_valid": Out(1), "out_xor": Out(1)}
        if self._class_width:
            members["out_class"] = Out(self._class_width)
        super().__init__(members)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        m.domains.sync = cd = ClockDomain("sync")
        m.d.comb += [cd.clk.eq(self.clk), cd.rst.eq(self.rst)]

        # data registers need no reset (only the valid bits do): less logic around the core
        shreg = Signal(self._n_in, reset_less=True)
        in_valid = Signal()
        if self._n_in == 1:
            m.d.sync += shreg.eq(self.ser_in)
        else:
            m.d.sync += shreg.eq(Cat(self.ser_in, shreg[:-1]))
        m.d.sync += in_valid.eq(self.ser_valid)

        outs = core_instance(m, self._manifest, in_valid, shreg)
        m.d.sync += self.out_valid.eq(outs["out_valid"])
        if self._class_width:
            m.d.sync += self.out_class.eq(outs["out_class"])
        rest = [s for n, s in outs.items() if n not in ("out_valid", "out_class")]
        m.d.sync += self.out_xor.eq(Cat(*rest).xor() if rest else 0)
        return m


def harness_verilog(manifest: Manifest, *, name: str = HARNESS_NAME) -> str:
    """Verilog of the harness (module ``name``); the core module is not in it."""
    from amaranth.back import verilog

    if name == manifest.top:
        raise CompileError(f"the harness cannot be named like the core ({name!r})")
    return verilog.convert(Harness(manifest), name=name, emit_src=False)

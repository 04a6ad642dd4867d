"""Measurement harness around a compiled core, for synthesis and timing.

A core has hundreds of input bits: more than any package has pins, so it
cannot be placed alone. The harness feeds ``in_bits`` from a serial-in shift
register (pins: ``ser_in``, ``ser_valid``) and registers the outputs, reduced
to a few pins (``out_valid``, ``out_class`` when the core has a GroupSum, and
``out_xor``, the XOR of every other output bit, so no logic is optimized
away). Every path into and out of the core starts and ends at a flip-flop, so
nextpnr's Fmax is the core's (plus one flip-flop's clock-to-out and setup).

The core is instantiated by module name (``Instance(manifest["top"], ...)``)
with the port widths of the build folder's manifest; the harness is converted
to Verilog on its own and read by Yosys together with the core's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Instance, Module, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..errors import CompileError

__all__ = ["HARNESS_NAME", "Harness", "core_ports", "harness_verilog"]

HARNESS_NAME = "lut2rtl_harness"

_CORE_INPUTS = ("clk", "rst", "in_valid", "in_bits")


def core_ports(manifest: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """``port -> (direction, width)`` of the core described by a manifest,
    checked against the contract's required ports."""
    ports = manifest.get("ports")
    if not isinstance(ports, Mapping):
        raise CompileError("the manifest has no 'ports' table")
    out: dict[str, tuple[str, int]] = {}
    for name, p in ports.items():
        try:
            d, w = str(p["dir"]), int(p["width"])
        except (KeyError, TypeError, ValueError):
            raise CompileError(f"manifest port {name!r} needs 'dir' and an integer 'width'") from None
        if d not in ("in", "out") or w < 1:
            raise CompileError(f"manifest port {name!r}: dir {d!r}, width {w} (want dir in/out, width >= 1)")
        out[str(name)] = (d, w)
    for name in (*_CORE_INPUTS, "out_valid"):
        if name not in out:
            raise CompileError(f"the manifest's ports lack {name!r} (every lut2rtl core has clk, rst, in_valid, "
                               "in_bits, out_valid)")
    extra_in = [n for n, (d, _) in out.items() if d == "in" and n not in _CORE_INPUTS]
    if extra_in:
        raise CompileError(f"the core has input ports the harness cannot drive: {', '.join(extra_in)}")
    return out


def _core_instance(m: Module, manifest: Mapping[str, Any], in_valid: Signal, in_bits: Signal
                   ) -> dict[str, Signal]:
    """Instantiate the core; return its output signals by port name."""
    ports = core_ports(manifest)
    outs = {n: Signal(w, name=f"core_{n}") for n, (d, w) in sorted(ports.items()) if d == "out"}
    kw: dict[str, Any] = {"i_clk": ClockSignal(), "i_rst": ResetSignal(), "i_in_valid": in_valid,
                          "i_in_bits": in_bits}
    kw.update({f"o_{n}": s for n, s in outs.items()})
    m.submodules.core = Instance(str(manifest["top"]), **kw)
    return outs


class Harness(wiring.Component):
    """Serial-in, registered-out wrapper of a compiled core (see module doc).

    Ports: ``clk``, ``rst`` (synchronous, active high), ``ser_in``,
    ``ser_valid``, ``out_valid``, ``out_xor`` and, with a GroupSum,
    ``out_class``. ``in_bits`` is a shift register: each clock shifts
    ``ser_in`` into bit 0; ``ser_valid`` (registered) is the core's
    ``in_valid``."""

    def __init__(self, manifest: Mapping[str, Any]) -> None:
        self._manifest = dict(manifest)
        ports = core_ports(manifest)
        self._n_in = ports["in_bits"][1]
        self._class_width = ports["out_class"][1] if "out_class" in ports else 0
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

        outs = _core_instance(m, self._manifest, in_valid, shreg)
        m.d.sync += self.out_valid.eq(outs["out_valid"])
        if self._class_width:
            m.d.sync += self.out_class.eq(outs["out_class"])
        rest = [s for n, s in outs.items() if n not in ("out_valid", "out_class")]
        m.d.sync += self.out_xor.eq(Cat(*rest).xor() if rest else 0)
        return m


def harness_verilog(manifest: Mapping[str, Any], *, name: str = HARNESS_NAME) -> str:
    """Verilog of the harness (module ``name``); the core module is not in it."""
    from amaranth.back import verilog

    if name == manifest.get("top"):
        raise CompileError(f"the harness cannot be named like the core ({name!r})")
    core_ports(manifest)  # bad manifests fail here, before an elaboratable exists
    return verilog.convert(Harness(manifest), name=name, emit_src=False)

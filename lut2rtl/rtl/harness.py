"""Measurement harness around a compiled core, for synthesis and timing.

A core has hundreds of input bits: more than any package has pins, so it
cannot be placed alone. The harness feeds ``in_bits`` from a serial-in shift
register (pins: ``ser_in``, ``ser_valid``) and registers the outputs, reduced
to a few pins (``out_valid``, ``out_class`` when the core has a GroupSum, and
``out_xor``, the XOR of every other output bit, so no logic is optimized
away). Every path into and out of the core starts and ends at a flip-flop, so
nextpnr's Fmax is the core's (plus one flip-flop's clock-to-out and setup):
the XOR is a tree of registered stages of one LUT each after a register on
every output bit (a combinational XOR of 70 count bits was three LUT levels
with long routing, and it set the Fmax of pipelined cores: 170 MHz on hx8k
for a digits core whose own paths are shorter), and ``out_valid`` and
``out_class`` pass two registers, so the one the core's path ends at need
not sit by the pin.

The same harness wraps the AXI4-Stream wrapper (:mod:`lut2rtl.rtl.axis`,
``axis=True``): the shift register feeds ``s_axis_tdata``, ``ser_valid`` is
``s_axis_tvalid``, the ``out_ready`` pin (registered) is ``m_axis_tready``;
``m_axis_tvalid`` and ``s_axis_tready`` come out registered on ``out_valid``
and ``in_ready``, the class field of ``m_axis_tdata`` on ``out_class`` and
the XOR of the rest on ``out_xor``.

The design under the harness is instantiated by module name
(``Instance(manifest.top, ...)``, or the wrapper's) with the port widths of
the build folder's manifest; the harness is converted to Verilog on its own
and read by Yosys together with the core's file (which holds the wrapper).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Const, Instance, Module, ResetSignal, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..buildfolder import Manifest
from ..errors import CompileError

__all__ = ["AXIS_HARNESS_NAME", "HARNESS_NAME", "Harness", "axis_interface", "core_instance", "harness_verilog"]

HARNESS_NAME = "lut2rtl_harness"
XOR_FAN_IN = 4  # bits per LUT of the harness's XOR reduction (a LUT4)
AXIS_HARNESS_NAME = "lut2rtl_axis_harness"


def axis_interface(manifest: Manifest) -> dict[str, Any]:
    """The manifest's AXI4-Stream wrapper entry; :class:`CompileError` when the build has none."""
    if manifest.interface is None or manifest.interface.get("kind") != "axis":
        raise CompileError(f"{manifest.top}: the build folder has no AXI4-Stream wrapper "
                           "(compile it with --interface axis)")
    return manifest.interface


def core_instance(m: Module, manifest: Manifest, in_valid: Value, in_bits: Value, rst: Value | None = None
                  ) -> dict[str, Signal]:
    """Instantiate the core (clocked by ``sync``, reset by ``rst`` or the
    domain's reset), ``in_bits`` on its data input (``manifest.input_port``:
    ``in_bits``, or ``in_features`` with the encoder in hardware); return its
    output signals by port name."""
    return _instance(m, "core", manifest.top, manifest.ports,
                     {"clk": ClockSignal(), "rst": ResetSignal() if rst is None else rst, "in_valid": in_valid,
                      manifest.input_port: in_bits})


def _instance(m: Module, name: str, module: str, ports: dict[str, tuple[str, int]], inputs: dict[str, Value]
              ) -> dict[str, Signal]:
    # submodule ``name`` of type ``module``: ``inputs`` on its input ports, a signal per output port
    outs = {n: Signal(w, name=f"{name}_{n}") for n, (d, w) in sorted(ports.items()) if d == "out"}
    kw: dict[str, Any] = {f"i_{n}": v for n, v in inputs.items()}
    kw.update({f"o_{n}": s for n, s in outs.items()})
    m.submodules[name] = Instance(module, **kw)
    return outs


class Harness(wiring.Component):
    """Serial-in, registered-out wrapper of a compiled core, or of its
    AXI4-Stream wrapper with ``axis`` (see the module doc).

    Ports: ``clk``, ``rst`` (synchronous, active high), ``ser_in``,
    ``ser_valid``, ``out_valid``, ``out_xor``, with a GroupSum
    ``out_class``, and with ``axis`` ``out_ready`` and ``in_ready``. The
    data input is a shift register: each clock shifts ``ser_in`` into bit 0;
    ``ser_valid`` (registered) is the core's ``in_valid`` (``s_axis_tvalid``)."""

    def __init__(self, manifest: Manifest, *, axis: bool = False) -> None:
        self._manifest = manifest
        self._axis = axis_interface(manifest) if axis else None
        self._n_in = manifest.width(manifest.input_port)
        if self._axis is None:
            self._class_width = manifest.width("out_class") if "out_class" in manifest.ports else 0
        else:
            fields = {f["name"]: f for f in self._axis["m_axis_tdata"]["fields"]}
            self._class_width = fields["class"]["width"] if "class" in fields else 0
        members: dict[str, Any] = {"clk": In(1), "rst": In(1), "ser_in": In(1), "ser_valid": In(1),
                                   "out_valid": Out(1), "out_xor": Out(1)}
        if self._axis is not None:
            members.update({"out_ready": In(1), "in_ready": Out(1)})
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

        if self._axis is None:
            outs = core_instance(m, self._manifest, in_valid, shreg)
            valid, cls = outs["out_valid"], outs.get("out_class")
            rest = [s for n, s in outs.items() if n not in ("out_valid", "out_class")]
        else:
            ax = self._axis
            ports = {n: (p["dir"], p["width"]) for n, p in ax["ports"].items()}
            out_ready = Signal()
            m.d.sync += out_ready.eq(self.out_ready)
            pad = ports["s_axis_tdata"][1] - self._n_in
            tdata = Cat(shreg, Const(0, pad)) if pad else shreg
            outs = _instance(m, "axis", ax["top"], ports,
                             {"clk": ClockSignal(), "rst": ResetSignal(), "s_axis_tdata": tdata,
                              "s_axis_tvalid": in_valid, "m_axis_tready": out_ready})
            m.d.sync += self.in_ready.eq(outs["s_axis_tready"])
            valid, data = outs["m_axis_tvalid"], outs["m_axis_tdata"]
            cls = data[:self._class_width] if self._class_width else None
            rest = [data[self._class_width:]]  # m_axis_tlast is a constant
        # two registers on the pins' way: the first can sit by the core, the second by the pin
        valid_q = Signal()
        m.d.sync += [valid_q.eq(valid), self.out_valid.eq(valid_q)]
        if self._class_width:
            cls_q = Signal(self._class_width, reset_less=True)
            m.d.sync += [cls_q.eq(cls), self.out_class.eq(cls_q)]
        if not rest:
            m.d.sync += self.out_xor.eq(0)
            return m
        # every other output bit is registered as it leaves the core, then XORed down XOR_FAN_IN bits per
        # register stage (one LUT level each): the reduction never makes a path longer than the core's
        stage = Signal(len(Cat(*rest)), reset_less=True)
        m.d.sync += stage.eq(Cat(*rest))
        while len(stage) > 1:
            nxt = Signal(-(-len(stage) // XOR_FAN_IN), reset_less=True)
            m.d.sync += nxt.eq(Cat(*(stage[i:i + XOR_FAN_IN].xor() for i in range(0, len(stage), XOR_FAN_IN))))
            stage = nxt
        m.d.comb += self.out_xor.eq(stage)
        return m


def harness_verilog(manifest: Manifest, *, name: str | None = None, axis: bool = False) -> str:
    """Verilog of the harness (module ``name``, default :data:`HARNESS_NAME`,
    or :data:`AXIS_HARNESS_NAME` around the AXI4-Stream wrapper with
    ``axis``); neither the core nor the wrapper is in it."""
    from amaranth.back import verilog

    name = name or (AXIS_HARNESS_NAME if axis else HARNESS_NAME)
    if name == manifest.top or (axis and name == axis_interface(manifest)["top"]):
        raise CompileError(f"the harness cannot be named like the core ({name!r})")
    return verilog.convert(Harness(manifest, axis=axis), name=name, emit_src=False)

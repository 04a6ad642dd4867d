"""AXI4-Stream wrapper around a compiled core (``lut2rtl compile --interface axis``).

The core takes one input per clock and cannot stall: a sample it accepts
comes out ``L = manifest.latency`` cycles later, whatever the consumer does.
The wrapper therefore puts an output FIFO (``amaranth.lib.fifo.SyncFIFOBuffered``)
behind the core and grants input only against free FIFO space
(credit-based flow control)::

    s_axis_tready = (fifo.level + in_flight) < depth

``in_flight`` counts the samples inside the core (accepted, not yet written
into the FIFO). Every accepted sample therefore has a FIFO entry reserved
when it leaves the core, and nothing is ever dropped. ``s_axis_tready``
depends on registers only: there is no combinational path from
``m_axis_tready`` (nor from ``s_axis_tvalid``) to ``s_axis_tready``, so
upstream and downstream can be chained freely; the price is that a slot
freed by a read in cycle t is granted in cycle t+1.

Depth: with ``m_axis_tready`` held high a result spends two cycles in the
buffered FIFO (inner memory, then the output register), so
``fifo.level + in_flight`` settles at ``L + 2``; ``depth = L + 3`` keeps
``s_axis_tready`` high and the stream at one sample per clock.

Latency: a sample whose ``s_axis`` handshake completes at rising edge t
shows ``m_axis_tvalid`` after edge t+L+1 and, with ``m_axis_tready`` high,
completes its ``m_axis`` handshake at edge t+L+2: the ``latency`` of the
description is ``L + 2`` cycles (handshake to handshake).

``m_axis_tdata`` and ``m_axis_tvalid`` come from the FIFO's output
register. ``m_axis_tlast`` is constant 1: every result is a one-beat packet
(what a DMA engine such as AXI DMA's S2MM channel needs to end a transfer).
``s_axis`` has no ``tlast``: every beat is one sample.

The wrapper is an Amaranth component converted to Verilog on its own; it
instantiates the core by module name (:func:`lut2rtl.rtl.harness.core_instance`)
and is appended to the core's Verilog file by the compiler.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, ClockDomain, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..buildfolder import Manifest
from ..errors import CompileError
from .harness import core_instance

__all__ = ["AxisWrapper", "axis_description", "axis_wrapper", "min_fifo_depth", "pack_s_tdata",
           "unpack_m_tdata"]

# the FIFO's own cycles between write and read with m_axis_tready high (memory, output register)
_FIFO_CYCLES = 2


def _bytes(bits: int) -> int:
    return (bits + 7) // 8


def min_fifo_depth(latency: int) -> int:
    """The smallest FIFO depth that sustains one sample per clock at core latency ``latency``."""
    return latency + _FIFO_CYCLES + 1


def _m_fields(manifest: Manifest, counts: bool) -> list[dict[str, Any]]:
    """``m_axis_tdata``'s fields: name, lsb, width, and the core port (and its bit range) they copy."""
    ports = manifest.ports
    if "out_class" not in ports:
        if counts:
            raise CompileError(f"{manifest.top}: --axis-counts needs a GroupSum (out_counts); this network has "
                               "none (its m_axis_tdata carries out_bits)")
        w = ports["out_bits"][1]
        return [{"name": "out_bits", "lsb": 0, "width": w, "port": "out_bits", "port_lsb": 0}]
    cw = ports["out_class"][1]
    fields = [{"name": "class", "lsb": 0, "width": cw, "port": "out_class", "port_lsb": 0}]
    if counts:
        classes = manifest.classes
        if not classes or "out_counts" not in ports or ports["out_counts"][1] % classes:
            raise CompileError(f"{manifest.top}: the manifest's out_counts port does not hold {classes} counts")
        w = ports["out_counts"][1] // classes
        base = 8 * _bytes(cw)
        step = 8 * _bytes(w)
        fields += [{"name": f"count{k}", "lsb": base + k * step, "width": w, "port": "out_counts",
                    "port_lsb": k * w} for k in range(classes)]
    return fields


def axis_description(manifest: Manifest, *, counts: bool, depth: int | None = None) -> dict[str, Any]:
    """The manifest's ``interface`` entry for the wrapper of ``manifest``'s core
    (see :func:`axis_wrapper`); raises :class:`CompileError` for a design the
    wrapper cannot carry."""
    if manifest.input_port not in manifest.ports or "out_valid" not in manifest.ports:
        raise CompileError(f"{manifest.top}: the core lacks a data input or out_valid")
    min_depth = min_fifo_depth(manifest.latency)
    if depth is None:
        depth = min_depth
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    n_in = manifest.width(manifest.input_port)
    m_fields = _m_fields(manifest, counts)
    s_width = 8 * _bytes(n_in)
    m_width = 8 * _bytes(m_fields[-1]["lsb"] + m_fields[-1]["width"])
    ports = {"clk": ("in", 1), "rst": ("in", 1),
             "s_axis_tdata": ("in", s_width), "s_axis_tvalid": ("in", 1), "s_axis_tready": ("out", 1),
             "m_axis_tdata": ("out", m_width), "m_axis_tvalid": ("out", 1), "m_axis_tready": ("in", 1),
             "m_axis_tlast": ("out", 1)}
    return {
        "kind": "axis",
        "top": f"{manifest.top}_axis",
        "core": manifest.top,
        "ports": {n: {"dir": d, "width": w} for n, (d, w) in ports.items()},
        "reset": "rst: synchronous, active high (as the core's); from an AXI aresetn, drive rst = ~aresetn",
        "s_axis_tdata": {"width": s_width, "fields": [{"name": manifest.input_port, "lsb": 0, "width": n_in}],
                         "padding": "zero; bits above the fields are ignored"},
        "m_axis_tdata": {"width": m_width,
                         "fields": [{k: f[k] for k in ("name", "lsb", "width")} for f in m_fields],
                         "padding": "zero; every field starts on a byte boundary"},
        "m_axis_tlast": "constant 1: every result is a one-beat packet",
        "counts": bool(counts),
        "fifo_depth": depth,
        "core_latency": manifest.latency,
        # s_axis handshake edge -> m_axis handshake edge, m_axis_tready high
        "latency": manifest.latency + _FIFO_CYCLES,
        "throughput": 1 if depth >= min_depth else None,
        "ready_path": "s_axis_tready is a function of registers only (no path from m_axis_tready)",
    }


class AxisWrapper(wiring.Component):
    """The AXI4-Stream wrapper of a compiled core (see the module doc).

    ``depth`` overrides the FIFO depth (default: :func:`min_fifo_depth`, full
    throughput); a smaller one stays correct and only slows the stream."""

    def __init__(self, manifest: Manifest, *, counts: bool, depth: int | None = None) -> None:
        self._manifest = manifest
        self.description = axis_description(manifest, counts=counts, depth=depth)
        self._fields = _m_fields(manifest, counts)
        super().__init__({n: (In if p["dir"] == "in" else Out)(p["width"])
                          for n, p in self.description["ports"].items()})

    def elaborate(self, platform: Any) -> Module:
        man, desc = self._manifest, self.description
        depth = desc["fifo_depth"]
        m = Module()
        m.domains.sync = cd = ClockDomain("sync")
        m.d.comb += [cd.clk.eq(self.clk), cd.rst.eq(self.rst)]

        fire = Signal()
        m.d.comb += fire.eq(self.s_axis_tvalid & self.s_axis_tready)
        n_in = man.width(man.input_port)
        outs = core_instance(m, man, fire, self.s_axis_tdata[:n_in])

        # the FIFO stores the fields packed; the byte-aligned layout is wiring at its output
        payload = Cat(*(outs[f["port"]][f["port_lsb"]:f["port_lsb"] + f["width"]] for f in self._fields))
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=len(payload), depth=depth)
        m.d.comb += [fifo.w_data.eq(payload), fifo.w_en.eq(outs["out_valid"])]

        # samples inside the core; at latency 0 fire and out_valid coincide and it stays 0
        in_flight = Signal(range(depth + 1))
        m.d.sync += in_flight.eq(in_flight + fire - outs["out_valid"])
        m.d.comb += self.s_axis_tready.eq(fifo.level + in_flight < depth)

        m.d.comb += [self.m_axis_tvalid.eq(fifo.r_rdy), fifo.r_en.eq(self.m_axis_tready),
                     self.m_axis_tlast.eq(Const(1, 1))]
        pos = 0
        for f in self._fields:
            m.d.comb += self.m_axis_tdata[f["lsb"]:f["lsb"] + f["width"]].eq(fifo.r_data[pos:pos + f["width"]])
            pos += f["width"]
        return m


def axis_wrapper(manifest: Manifest, *, counts: bool, depth: int | None = None) -> tuple[str, dict[str, Any]]:
    """The AXI4-Stream wrapper of ``manifest``'s core: ``(verilog, description)``.

    The Verilog defines module ``<top>_axis`` (not the core, which it
    instantiates by name); the description is the manifest's ``interface``
    entry: ``kind``, ``top``, ``ports`` (``{name: {"dir", "width"}}``), the
    ``s_axis_tdata``/``m_axis_tdata`` layouts (fields with ``lsb`` and
    ``width``), ``fifo_depth``, ``latency`` (cycles from the ``s_axis`` to the
    ``m_axis`` handshake with ``m_axis_tready`` high) and ``core_latency``.

    ``m_axis_tdata`` holds the class index (byte 0 up) and, with ``counts``,
    each class's count in its own byte-aligned field; a core without a
    GroupSum sends its ``out_bits``. Raises :class:`CompileError` for
    ``counts`` without a GroupSum.
    """
    from amaranth.back import verilog

    axis_description(manifest, counts=counts, depth=depth)  # its errors before an Elaboratable exists
    wrapper = AxisWrapper(manifest, counts=counts, depth=depth)
    text = verilog.convert(wrapper, name=wrapper.description["top"], emit_src=False)
    return text, wrapper.description


def pack_s_tdata(desc: dict[str, Any], value: int) -> bytes:
    """The ``s_axis_tdata`` beat (little-endian bytes) for the core input ``value``."""
    nbytes = desc["s_axis_tdata"]["width"] // 8
    if value < 0 or value >> desc["s_axis_tdata"]["fields"][0]["width"]:
        raise ValueError(f"input value does not fit {desc['s_axis_tdata']['fields'][0]['width']} bits")
    return value.to_bytes(nbytes, "little")


def unpack_m_tdata(desc: dict[str, Any], beat: bytes | int) -> dict[str, int]:
    """The fields of one ``m_axis_tdata`` beat (bytes little-endian, or an int), by name."""
    word = int.from_bytes(bytes(beat), "little") if not isinstance(beat, int) else beat
    return {f["name"]: (word >> f["lsb"]) & ((1 << f["width"]) - 1) for f in desc["m_axis_tdata"]["fields"]}

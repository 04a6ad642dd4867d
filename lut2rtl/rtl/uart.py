"""UART board top: classify samples sent from a PC over a serial port.

Protocol (8N1, ``baud`` from the board clock; one request at a time):

* the host sends ``ceil(n_inputs / 8)`` bytes; byte ``i`` bit ``j`` (LSB
  first) is input bit ``8*i + j`` of the network (bits past ``n_inputs`` in
  the last byte are ignored);
* once the last byte is in, the core gets the sample (``in_valid`` for one
  clock) and, ``latency`` clocks later, the top answers with one byte: the
  predicted class (networks with a GroupSum), or ``ceil(n_outputs / 8)``
  bytes of output bits, LSB first, for networks without one;
* if the line stays idle for ``timeout`` clocks in the middle of a request
  (default: 0.1 s), the partial request is dropped, so the host can always
  resynchronize by pausing.

Ports: ``clk``, ``rx`` (FPGA input, from the host's TX), ``tx``. There is no
reset pin: a power-on counter holds the core in reset for 16 clocks (FPGA
flip-flops start at their init values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from amaranth.hdl import Cat, ClockDomain, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..buildfolder import Manifest
from ..errors import CompileError
from .harness import core_instance

__all__ = ["UART_NAME", "UartRx", "UartTop", "UartTx", "decode_response", "encode_request", "request_bytes",
           "uart_top_verilog"]

UART_NAME = "lut2rtl_uart_top"


def request_bytes(n_inputs: int) -> int:
    """Bytes per request for a core with ``n_inputs`` input bits."""
    return (n_inputs + 7) // 8


def encode_request(bits: Sequence[int] | np.ndarray) -> bytes:
    """The request bytes of one sample (host side): input bit ``8*i + j`` is
    bit ``j`` of byte ``i``; e.g. ``serial.write(encode_request(bits))``."""
    a = np.asarray(bits)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"one sample's input bits as a 1-D array, not shape {a.shape}")
    return np.packbits(a.astype(bool).astype(np.uint8), bitorder="little").tobytes()


def decode_response(data: bytes, n_bits: int) -> np.ndarray:
    """Output bits from the answer of a core without GroupSum (host side):
    ``ceil(n_bits / 8)`` bytes, LSB first. (With a GroupSum the answer is one
    byte, the class.)"""
    if len(data) != (n_bits + 7) // 8:
        raise ValueError(f"{n_bits} output bits come as {(n_bits + 7) // 8} bytes, got {len(data)}")
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")[:n_bits].astype(bool)


class UartRx(wiring.Component):
    """8N1 receiver sampling each bit in its middle; ``valid`` pulses one
    clock with ``data`` when a frame with a good stop bit is in."""

    def __init__(self, divisor: int) -> None:
        if divisor < 2:
            raise ValueError(f"UART divisor {divisor} < 2 clocks per bit")
        self._div = divisor
        super().__init__({"rx": In(1), "data": Out(8), "valid": Out(1)})

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        # two flip-flops against metastability; idle line is high
        s1 = Signal(init=1)
        s2 = Signal(init=1)
        m.d.sync += [s1.eq(self.rx), s2.eq(s1)]
        timer = Signal(range(self._div))
        nbit = Signal(range(8))
        shreg = Signal(8)
        m.d.sync += self.valid.eq(0)
        m.d.comb += self.data.eq(shreg)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~s2):
                    m.d.sync += timer.eq(self._div // 2)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(~s2):  # still low in the middle of the start bit
                    m.d.sync += [timer.eq(self._div - 1), nbit.eq(0)]
                    m.next = "DATA"
                with m.Else():
                    m.next = "IDLE"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shreg.eq(Cat(shreg[1:], s2)), timer.eq(self._div - 1), nbit.eq(nbit + 1)]
                    with m.If(nbit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += self.valid.eq(s2)
                    m.next = "IDLE"
        return m


class UartTx(wiring.Component):
    """8N1 transmitter: ``start`` with ``data`` while ``ready`` sends a byte."""

    def __init__(self, divisor: int) -> None:
        if divisor < 2:
            raise ValueError(f"UART divisor {divisor} < 2 clocks per bit")
        self._div = divisor
        super().__init__({"data": In(8), "start": In(1), "ready": Out(1), "tx": Out(1, init=1)})

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        timer = Signal(range(self._div))
        frame = Signal(10, init=0x3FF)  # shifted out LSB first; ones = idle
        left = Signal(range(11))
        m.d.comb += [self.ready.eq(left == 0), self.tx.eq(frame[0])]
        with m.If(left == 0):
            with m.If(self.start):
                m.d.sync += [frame.eq(Cat(Const(0, 1), self.data, Const(1, 1))), left.eq(10),
                             timer.eq(self._div - 1)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += [frame.eq(Cat(frame[1:], Const(1, 1))), left.eq(left - 1), timer.eq(self._div - 1)]
        return m


def _result_port(ports: Mapping[str, tuple[str, int]]) -> str:
    if "out_class" in ports:
        return "out_class"
    if "out_bits" in ports:
        return "out_bits"
    raise CompileError("the core has neither out_class nor out_bits: nothing to send back")


def _check_divisor(divisor: int) -> None:
    if divisor < 2:
        raise CompileError(f"UART divisor {divisor} clocks per bit is too small (clock too slow for the baud rate)")


class UartTop(wiring.Component):
    """The board top (see module doc). ``divisor`` = board clock / baud rate,
    in clocks per bit; ``timeout`` in clocks (0: never drop a request)."""

    def __init__(self, manifest: Manifest, *, divisor: int, timeout: int = 0) -> None:
        self._manifest = manifest
        ports = manifest.ports
        self._n_in = ports[manifest.input_port][1]
        self._result_port = _result_port(ports)
        self._result_width = ports[self._result_port][1]
        _check_divisor(divisor)
        self._div = divisor
        self._timeout = timeout
        super().__init__({"clk": In(1), "rx": In(1), "tx": Out(1, init=1)})

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        m.domains.sync = cd = ClockDomain("sync", reset_less=True)
        m.d.comb += cd.clk.eq(self.clk)

        por = Signal(4, init=15)
        core_rst = Signal(init=1)
        with m.If(por != 0):
            m.d.sync += por.eq(por - 1)
        m.d.sync += core_rst.eq(por != 0)

        m.submodules.rx = rx = UartRx(self._div)
        m.submodules.tx = tx = UartTx(self._div)
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx)]

        n_req = request_bytes(self._n_in)
        buf = Signal(8 * n_req)
        got = Signal(range(n_req + 1))
        in_valid = Signal()
        m.d.sync += in_valid.eq(0)
        gap = Signal(range(max(self._timeout, 1) + 1))
        with m.If(rx.valid):
            m.d.sync += [buf.eq(Cat(buf[8:], rx.data) if n_req > 1 else rx.data), gap.eq(0)]
            with m.If(got == n_req - 1):
                m.d.sync += [got.eq(0), in_valid.eq(1)]
            with m.Else():
                m.d.sync += got.eq(got + 1)
        if self._timeout > 0:
            with m.Elif(got != 0):
                with m.If(gap == self._timeout):
                    m.d.sync += [got.eq(0), gap.eq(0)]
                with m.Else():
                    m.d.sync += gap.eq(gap + 1)

        # the core: its data input straight from the byte buffer (bits past its width dropped)
        core_in = Signal(self._n_in)
        m.d.comb += core_in.eq(buf[: self._n_in])
        # the core's clk/rst come from this top's (reset-less) domain and the power-on reset
        outs = core_instance(m, self._manifest, in_valid, core_in, core_rst)

        n_resp = (self._result_width + 7) // 8
        result = Signal(8 * n_resp)
        to_send = Signal(range(n_resp + 1))
        with m.If(outs["out_valid"] & ~core_rst):
            m.d.sync += [result.eq(outs[self._result_port]), to_send.eq(n_resp)]
        with m.Elif((to_send != 0) & tx.ready):
            m.d.sync += [to_send.eq(to_send - 1), result.eq(result >> 8)]
        m.d.comb += [tx.data.eq(result[:8]), tx.start.eq((to_send != 0) & tx.ready)]
        return m


def uart_top_verilog(manifest: Manifest, *, clk_hz: float, baud: int = 115200,
                     divisor: int | None = None, timeout: int | None = None, name: str = UART_NAME) -> str:
    """Verilog of the UART board top (module ``name``; the core is not in it).

    ``divisor`` (clocks per bit) defaults to ``round(clk_hz / baud)``;
    ``timeout`` (clocks) to 0.1 s of ``clk_hz``."""
    from amaranth.back import verilog

    if name == manifest.top:
        raise CompileError(f"the UART top cannot be named like the core ({name!r})")
    div = divisor if divisor is not None else round(clk_hz / baud)
    _check_divisor(div)
    err = abs(clk_hz / div - baud) / baud if divisor is None else 0.0
    if err > 0.03:
        raise CompileError(f"{clk_hz / 1e6:g} MHz cannot make {baud} baud within 3% (off by {err:.1%})")
    _result_port(manifest.ports)  # a core without a result fails here, before an elaboratable exists
    tmo = timeout if timeout is not None else int(clk_hz // 10)
    return verilog.convert(UartTop(manifest, divisor=div, timeout=tmo), name=name, emit_src=False)

"""cocotb testbench of the AXI4-Stream wrapper (runs inside the simulator; started by test_axis.py).

Configuration: the JSON file named by ``$LUT2RTL_AXIS_TB_CONFIG`` (the
vectors file, the manifest's ``interface`` entry, the summary path, seed).
cocotbext-axi's ``AxiStreamSource``/``AxiStreamSink`` drive ``s_axis`` and
``m_axis``; a monitor records the cycle of every handshake on both sides.
Two phases, each after a reset:

- ``backpressure``: random pauses on ``s_axis_tvalid`` and ``m_axis_tready``
  (the sink pauses more than the source, so the FIFO fills and
  ``s_axis_tready`` must drop); every result must come back, in order, equal
  to the reference, none lost and none extra;
- ``full_rate``: no pauses: the same checks, and both sides must hand over
  one sample per clock with each result exactly ``latency`` cycles after its
  input.

Each phase's errors land in the summary (so a test can show which check a
broken wrapper fails); the cocotb test fails if any phase has one.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamSink, AxiStreamSource

from lut2rtl.rtl.axis import pack_s_tdata, unpack_m_tdata
from lut2rtl.verify.vectors import bits_to_ints

CONFIG_ENV = "LUT2RTL_AXIS_TB_CONFIG"


def _pauses(rng: random.Random, p: float):  # type: ignore[no-untyped-def]
    while True:
        yield rng.random() < p


def _expected(vec: dict[str, np.ndarray], desc: dict) -> list[dict[str, int]]:
    names = [f["name"] for f in desc["m_axis_tdata"]["fields"]]
    if names == ["out_bits"]:
        return [{"out_bits": v} for v in bits_to_ints(vec["out_bits"])]
    rows = []
    for i, c in enumerate(vec["out_class"].tolist()):
        row = {"class": int(c)}
        if desc["counts"]:
            row.update({f"count{k}": int(x) for k, x in enumerate(vec["counts"][i].tolist())})
        rows.append(row)
    return rows


class Monitor:
    """Cycle numbers of the handshakes on both sides, and of input stalls."""

    def __init__(self, dut) -> None:  # type: ignore[no-untyped-def]
        self.dut = dut
        self.cycle = 0
        self.clear()
        cocotb.start_soon(self._run())

    def clear(self) -> None:
        self.s: list[int] = []
        self.m: list[int] = []
        self.stalls = 0

    async def _run(self) -> None:
        d = self.dut
        while True:
            await RisingEdge(d.clk)
            self.cycle += 1
            if d.rst.value:
                continue
            s_valid, s_ready = int(d.s_axis_tvalid.value), int(d.s_axis_tready.value)
            if s_valid and s_ready:
                self.s.append(self.cycle)
            elif s_valid:
                self.stalls += 1
            if int(d.m_axis_tvalid.value) and int(d.m_axis_tready.value):
                self.m.append(self.cycle)


async def _reset(dut, cycles: int = 3) -> None:  # type: ignore[no-untyped-def]
    dut.rst.value = 1
    for _ in range(cycles):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


async def _phase(dut, source, sink, mon: Monitor, desc: dict, beats: list[bytes],  # type: ignore[no-untyped-def]
                 expected: list[dict[str, int]], *, full_rate: bool) -> dict:
    await _reset(dut)
    mon.clear()
    n = len(beats)
    for b in beats:
        source.send_nowait(b)
    got: list[dict[str, int]] = []
    # generous: every sample at the slowest pause rates, plus the pipeline
    limit = mon.cycle + 20 * n + 10 * desc["fifo_depth"] + 100
    while len(got) < n and mon.cycle < limit:
        await RisingEdge(dut.clk)
        while not sink.empty():
            got.append(unpack_m_tdata(desc, sink.recv_nowait().tdata))
    # anything after the last result is a duplicate or garbage: wait for it
    for _ in range(2 * desc["fifo_depth"] + desc["latency"] + 8):
        await RisingEdge(dut.clk)
    while not sink.empty():
        got.append(unpack_m_tdata(desc, sink.recv_nowait().tdata))

    errors = []
    if len(got) != n:
        errors.append(f"received {len(got)} results for {n} inputs")
    bad = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    if bad:
        i = bad[0]
        errors.append(f"{len(bad)} results differ from the reference; first: result {i} = {got[i]}, "
                      f"expected {expected[i]}")
    if len(mon.s) != n or len(mon.m) != len(got):
        errors.append(f"handshakes: {len(mon.s)} in, {len(mon.m)} out for {n} inputs, {len(got)} results")
    lat = [mo - si for si, mo in zip(mon.s, mon.m)]
    if lat and min(lat) < desc["latency"]:
        errors.append(f"a result came {min(lat)} cycles after its input, before the latency {desc['latency']}")
    if full_rate and mon.s and mon.m:
        if mon.s[-1] - mon.s[0] != n - 1 or mon.stalls:
            errors.append(f"input not one per clock: {n} samples over {mon.s[-1] - mon.s[0] + 1} cycles, "
                          f"{mon.stalls} stalled cycles")
        if mon.m[-1] - mon.m[0] != len(mon.m) - 1:
            errors.append(f"output not one per clock: {len(mon.m)} results over {mon.m[-1] - mon.m[0] + 1} cycles")
        if set(lat) != {desc["latency"]}:
            errors.append(f"latency {sorted(set(lat))} cycles, expected exactly {desc['latency']}")
    if not full_rate and not mon.stalls:
        errors.append("no backpressure reached s_axis: the test did not exercise the FIFO")
    return {"errors": errors, "results": len(got), "stalls": mon.stalls,
            "cycles": (mon.m[-1] - mon.s[0] + 1) if mon.s and mon.m else None,
            "latency": sorted(set(lat))}


@cocotb.test()
async def axis_stream(dut) -> None:  # type: ignore[no-untyped-def]
    with open(os.environ[CONFIG_ENV], encoding="utf-8") as f:
        cfg = json.load(f)
    desc = cfg["interface"]
    with np.load(cfg["vectors"]) as z:
        vec = {k: np.asarray(z[k])[: cfg["n"]] for k in z.files}
    beats = [pack_s_tdata(desc, v) for v in bits_to_ints(vec["in_bits"])]
    expected = _expected(vec, desc)
    rng = random.Random(cfg["seed"])

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst)
    mon = Monitor(dut)
    summary = {}
    source.set_pause_generator(_pauses(rng, 0.3))
    sink.set_pause_generator(_pauses(rng, 0.6))
    summary["backpressure"] = await _phase(dut, source, sink, mon, desc, beats, expected, full_rate=False)
    for side in (source, sink):
        side.set_pause_generator(None)
        side.pause = False  # clearing the generator leaves its last value standing
    summary["full_rate"] = await _phase(dut, source, sink, mon, desc, beats, expected, full_rate=True)
    with open(cfg["summary"], "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    errors = [f"{phase}: {e}" for phase, s in summary.items() for e in s["errors"]]
    assert not errors, "\n".join(errors)

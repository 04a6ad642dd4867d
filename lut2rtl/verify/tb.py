"""The cocotb testbench (runs inside the simulator, started by :mod:`.simulate`).

It reads its configuration from the JSON file named by ``$LUT2RTL_TB_CONFIG``
(stimulus and result paths, latency, port widths, gap probability, seed),
resets the design, then streams one slot per clock: a vector with
``in_valid = 1``, or (with probability ``gap``) an idle slot with
``in_valid = 0`` and random garbage on ``in_bits``. Slot ``j``'s inputs are driven
at falling edge ``j``; the outputs are sampled 1 ns later (after the inputs
settled, well before the next rising edge), where they must show slot
``j - latency``: a combinational design shows slot ``j`` itself, a design with
latency ``N`` shows what its ``N`` rising edges since then captured, so a design
one cycle early or late is caught. Each vector's outputs
are taken at exactly its declared cycle and ``out_valid`` is recorded every
cycle; the results are written to an ``.npz`` file and compared with the
reference (the test fails on any mismatch).
"""

from __future__ import annotations

import json
import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from lut2rtl.buildfolder import data_input
from lut2rtl.verify.compare import Observed, compare, format_mismatches
from lut2rtl.verify.simulate import CONFIG_ENV
from lut2rtl.verify.vectors import Vectors, bits_to_ints, ints_to_bits, stream_plan


def _u(handle) -> int:  # type: ignore[no-untyped-def]
    # 1-bit ports read as a Logic, wider ones as a LogicArray
    v = handle.value
    return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)


@cocotb.test()
async def stream_vectors(dut) -> None:  # type: ignore[no-untyped-def]
    with open(os.environ[CONFIG_ENV], encoding="utf-8") as f:
        cfg = json.load(f)
    with np.load(cfg["stimulus"]) as z:
        stim = {k: np.asarray(z[k]) for k in z.files}
    expected = Vectors(stim["in_bits"], stim["out_bits"], stim.get("counts"), stim.get("out_class"))
    ports: dict[str, int] = cfg["ports"]
    latency = int(cfg["latency"])
    n = expected.n
    in_ints = bits_to_ints(expected.in_bits)
    data_in = getattr(dut, data_input(ports))  # in_bits, or in_features (the encoder in hardware)
    plan = stream_plan(n, ports[data_input(ports)], latency, float(cfg["gap"]), int(cfg["seed"]))
    slots = plan.slots.tolist()
    garbage = bits_to_ints(plan.garbage)

    has_bits = "out_bits" in ports
    has_counts = "out_counts" in ports
    has_class = "out_class" in ports
    got_bits: list[int] = [0] * n
    got_counts: list[int] = [0] * n
    got_class = np.zeros(n, dtype=np.int64)
    total = len(slots)
    valid_exp = np.zeros(total, dtype=np.uint8)
    valid_got = np.zeros(total, dtype=np.uint8)

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.in_valid.value = 0
    data_in.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    t0 = time.perf_counter()
    dut.rst.value = 0
    g = 0
    for j in range(total):
        if j:
            await FallingEdge(dut.clk)
        s = slots[j] if j < len(slots) else -1
        if s >= 0:
            dut.in_valid.value = 1
            data_in.value = in_ints[s]
        else:
            dut.in_valid.value = 0
            data_in.value = garbage[g % len(garbage)]
            g += 1
        # sample once the new inputs have settled, well before the next rising edge
        await Timer(1, unit="ns")
        src = j - latency
        v = slots[src] if 0 <= src < len(slots) else -1
        valid_exp[j] = v >= 0
        valid_got[j] = _u(dut.out_valid)
        if v >= 0:
            if has_bits:
                got_bits[v] = _u(dut.out_bits)
            if has_counts:
                got_counts[v] = _u(dut.out_counts)
            if has_class:
                got_class[v] = _u(dut.out_class)
    seconds = time.perf_counter() - t0

    counts = None
    if has_counts:
        classes = int(cfg["classes"])
        cw = ports["out_counts"] // classes
        mask = (1 << cw) - 1
        counts = np.array([[(c >> (k * cw)) & mask for k in range(classes)] for c in got_counts], dtype=np.int64)
        counts = counts.reshape(n, classes)
    observed = Observed(
        out_bits=ints_to_bits(got_bits, ports["out_bits"]) if has_bits else None,
        counts=counts,
        out_class=got_class if has_class else None,
        valid_expected=valid_exp,
        valid_got=valid_got,
    )
    arrays: dict[str, np.ndarray] = {
        "valid_expected": observed.valid_expected, "valid_got": observed.valid_got,
        "cycles": np.array(total), "seconds": np.array(seconds),
    }
    if observed.out_bits is not None:
        arrays["out_bits"] = observed.out_bits
    if observed.counts is not None:
        arrays["counts"] = observed.counts
    if observed.out_class is not None:
        arrays["out_class"] = observed.out_class
    np.savez(cfg["result"], **arrays)  # type: ignore[arg-type]
    result = compare(expected, observed)
    assert result.ok, "\n".join(format_mismatches(result))

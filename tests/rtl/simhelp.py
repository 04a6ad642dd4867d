"""Test helpers: run a LutNetwork in Amaranth's simulator, evaluate a MappedFabric."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lut2rtl.netlist import CONST0, CONST1, Layer, Netlist, table_mask, table_to_rows
from lut2rtl.rtl.mapping import MappedFabric


def eval_fabric(fab: MappedFabric, bits: np.ndarray) -> np.ndarray:
    """Evaluate mapped cells directly (Python ints, per cell): outputs [N, n_out]."""
    bits = np.asarray(bits, dtype=bool)
    n = bits.shape[0]
    sig = np.zeros((fab.n_inputs + fab.n_cells, n), dtype=bool)
    sig[: fab.n_inputs] = bits.T
    for c in range(fab.n_cells):
        k = int(fab.cell_k[c])
        row = np.zeros(n, dtype=np.int64)
        for m in range(k):
            row = 2 * row + sig[fab.cell_inputs[c, m]]
        sig[fab.n_inputs + c] = table_to_rows(fab.cell_tables[c], k)[row]
    out = np.empty((n, fab.outputs.size), dtype=bool)
    for q, r in enumerate(fab.outputs.tolist()):
        out[:, q] = True if r == CONST1 else False if r == CONST0 else sig[r]
    return out


def simulate(dut: Any, in_bits: np.ndarray, *, gaps: bool = False) -> dict[str, list[int]]:
    """Stream ``in_bits`` (one vector per cycle; with ``gaps`` every third cycle
    idle) through a LutNetwork in Amaranth's simulator. Returns the output
    ports' values, collected when ``out_valid`` is high, plus ``cycle``: the
    cycle each was seen relative to the cycle its input was presented."""
    from amaranth.sim import Simulator

    vecs = [int("".join("1" if b else "0" for b in row[::-1]), 2) for row in np.asarray(in_bits, dtype=bool)]
    names = [n for n in ("out_bits", "out_counts", "out_class") if hasattr(dut, n)]
    got: dict[str, list[int]] = {n: [] for n in names}
    got["cycle"] = []
    lat = dut.latency
    sim = Simulator(dut)

    if lat == 0:
        async def tb_comb(ctx: Any) -> None:
            for v in vecs:
                ctx.set(dut.in_bits, v)
                ctx.set(dut.in_valid, 1)
                assert ctx.get(dut.out_valid) == 1
                for n in names:
                    got[n].append(ctx.get(getattr(dut, n)))
                got["cycle"].append(0)
        sim.add_testbench(tb_comb)
    else:
        sim.add_clock(1e-6)

        async def tb_seq(ctx: Any) -> None:
            schedule: list[int | None] = []
            for i in range(len(vecs)):
                if gaps and i % 3 == 1:
                    schedule.append(None)
                schedule.append(i)
            schedule += [None] * (lat + 1)
            presented: list[int] = []
            for t, i in enumerate(schedule):
                if i is None:
                    ctx.set(dut.in_valid, 0)
                    ctx.set(dut.in_bits, 0x5A5A5A5A5A5A & ((1 << len(dut.in_bits)) - 1))
                else:
                    ctx.set(dut.in_valid, 1)
                    ctx.set(dut.in_bits, vecs[i])
                    presented.append(t)
                await ctx.tick()
                if ctx.get(dut.out_valid):
                    for n in names:
                        got[n].append(ctx.get(getattr(dut, n)))
                    got["cycle"].append(t - presented[len(got["cycle"])] + 1)
        sim.add_testbench(tb_seq)
    sim.run()
    return got


def all_functions_netlist(seed: int = 0, n_random: int = 6) -> Netlist:
    """Every function of k <= 2 inputs and random ones of k = 3..6, each LUT
    reading distinct input bits of a 6-input network (so the 64 input patterns
    drive every row of every LUT); the outputs are all LUTs."""
    rng = np.random.default_rng(seed)
    n_in = 6
    layers = []
    for k in range(1, 7):
        n = (1 << (1 << k)) if k <= 2 else n_random
        if k <= 2:
            tables = np.arange(n, dtype=np.uint64)
            reps = 2
            tables = np.tile(tables, reps)
        else:
            tables = rng.integers(0, 1 << 62, size=n, dtype=np.uint64) & table_mask(k)
        inputs = np.stack([rng.permutation(n_in)[:k] for _ in range(tables.size)])
        layers.append(Layer(k=k, inputs=inputs, tables=tables))
    net = Netlist(n_inputs=n_in, layers=tuple(layers))
    return net.replace(layers=net.layers, outputs=np.arange(n_in, net.n_signals))


def exhaustive_bits(n: int) -> np.ndarray:
    """All 2**n input patterns, bool [2**n, n]."""
    j = np.arange(1 << n)[:, None]
    return ((j >> np.arange(n)[None, :]) & 1).astype(bool)


def unpack_words(values: list[int], width: int) -> np.ndarray:
    """Port values (ints) -> bool [N, width], bit i of the port in column i."""
    return np.array([[(v >> i) & 1 for i in range(width)] for v in values], dtype=bool).reshape(len(values), width)


def split_counts(values: list[int], classes: int, width: int) -> np.ndarray:
    """out_counts values -> int [N, classes]."""
    mask = (1 << width) - 1
    return np.array([[(v >> (c * width)) & mask for c in range(classes)] for v in values],
                    dtype=np.int64).reshape(len(values), classes)


def prove_with_models(tmp_path: Path, m: Any, ports: list[Any], family: Any, cells: set[str]) -> bool:
    """Yosys ``sat`` over every input of module ``m`` (with ``family``'s models of ``cells``): True when its
    ``ok`` port is 1 for every input, False when Yosys finds an input where it is not."""
    from amaranth.back import verilog

    from lut2rtl.errors import ToolError
    from lut2rtl.tools.yosys import run_yosys
    from lut2rtl.verify.primitives import primitive_library

    (tmp_path / "d.v").write_text(verilog.convert(m, ports=ports, name="top"))
    (tmp_path / "p.v").write_text(primitive_library(family, cells))
    try:
        run_yosys("read_verilog -DNO_INCLUDES p.v; read_verilog d.v; hierarchy -top top; proc; flatten -wb; "
                  "opt_clean; sat -verify -prove ok 1", cwd=tmp_path, log_file="sat.log")
    except ToolError:
        assert "model found: FAIL" in (tmp_path / "sat.log").read_text()
        return False
    return True

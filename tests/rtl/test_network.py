"""LutNetwork simulated in Amaranth's simulator (generic target: plain logic)
against the reference evaluator, pipelining and latency included."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Module

from lut2rtl.errors import CompileError
from lut2rtl.evaluate import evaluate
from lut2rtl.netgen import random_netlist
from lut2rtl.rtl import LutNetwork, plan_network
from lut2rtl.rtl.pipeline import plan_cuts

from .simhelp import simulate, split_counts, unpack_words


def _check(net, pipeline: int, *, out_bits: bool = True, n: int = 48, seed: int = 0) -> LutNetwork:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(n, net.n_inputs)).astype(bool)
    ref = evaluate(net, bits)
    dut = LutNetwork(net, "generic", pipeline, out_bits=out_bits, fabric="amaranth")
    got = simulate(dut, bits, gaps=True)
    assert len(got["cycle"]) == n
    assert set(got["cycle"]) == {pipeline}, "latency differs from the pipeline setting"
    if dut.has_out_bits:
        assert np.array_equal(unpack_words(got["out_bits"], net.n_outputs), ref.out_bits)
    if net.group_sum is not None:
        assert np.array_equal(split_counts(got["out_counts"], net.group_sum.classes, dut.plan.groupsum.count_width),
                              ref.counts)
        assert np.array_equal(np.array(got["out_class"]), ref.pred)
    return dut


@pytest.mark.parametrize("pipeline", [0, 1, 2, 4, 7, 25])
def test_groupsum_network_pipelined(pipeline: int) -> None:
    net = random_netlist(pipeline, 16, [24, 20, 12], [6, 2, 3], classes=3, dag=True)
    dut = _check(net, pipeline)
    st = dut.plan.stages
    assert len(st.fabric_cuts) + len(st.groupsum_cuts) + st.output_registers == pipeline


def test_chunked_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    # wide vectors travel in CHUNK-bit pieces (32768 normally; 5 here)
    import lut2rtl.rtl.fabric
    import lut2rtl.rtl.network

    monkeypatch.setattr(lut2rtl.rtl.fabric, "CHUNK", 5)
    monkeypatch.setattr(lut2rtl.rtl.network, "CHUNK", 5)
    net = random_netlist(5, 17, [20, 16, 12], [3, 2, 4], classes=3, dag=True)
    _check(net, 3)


@pytest.mark.parametrize("pipeline", [0, 3])
def test_no_groupsum(pipeline: int) -> None:
    net = random_netlist(7, 12, [10, 10, 6], [2, 4, 5])
    dut = _check(net, pipeline)
    assert not hasattr(dut, "out_class") and dut.has_out_bits


def test_ties_and_constant_outputs() -> None:
    # every output is constant 1 (TRUE gates): counts all equal, class 0;
    # constant outputs count in the popcount
    net = random_netlist(3, 8, [8, 8], 2, classes=4)
    layers = (net.layers[0], net.layers[1].__class__(k=2, inputs=net.layers[1].inputs,
                                                      tables=np.full(8, 15, dtype=np.uint64)))
    net = net.replace(layers=layers, outputs=net.outputs)
    dut = _check(net, 2, out_bits=False, n=8)
    assert not hasattr(dut, "out_bits")


def test_long_carry_signals_through_stages() -> None:
    # a DAG where the last layer reads the input bits: values carried through every register
    net = random_netlist(11, 8, [8, 8, 8, 8, 8], 2, dag=True, classes=2)
    dut = _check(net, 5)
    assert dut.plan.stages.fabric_ffs > 0


def test_component_inside_a_user_design() -> None:
    from amaranth.sim import Simulator

    net = random_netlist(2, 8, [8, 4], 2, classes=2)
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(10, 8)).astype(bool)
    ref = evaluate(net, bits)
    top = Module()
    top.submodules.net = dut = LutNetwork(net, "generic", 2)
    sim = Simulator(top)
    sim.add_clock(1e-6)
    seen: list[int] = []

    async def tb(ctx) -> None:  # type: ignore[no-untyped-def]
        for row in list(bits) + [None] * 3:
            ctx.set(dut.in_valid, row is not None)
            if row is not None:
                ctx.set(dut.in_bits, int("".join("1" if b else "0" for b in row[::-1]), 2))
            await ctx.tick()
            if ctx.get(dut.out_valid):
                seen.append(ctx.get(dut.out_class))

    sim.add_testbench(tb)
    sim.run()
    assert seen == ref.pred.tolist()


def test_plan_cuts_balanced() -> None:
    assert plan_cuts(10, 0) == ([], 0)
    assert plan_cuts(10, 1) == ([5], 0)
    assert plan_cuts(10, 4) == ([2, 4, 6, 8], 0)
    assert plan_cuts(3, 5) == ([1, 2], 3)
    assert plan_cuts(0, 2) == ([], 2)
    for d in range(1, 30):
        for n in range(0, 35):
            cuts, extra = plan_cuts(d, n)
            assert len(cuts) + extra == n
            seg = np.diff([0, *cuts, d])
            assert seg.max() - seg.min() <= 1 or extra > 0


def test_plan_errors() -> None:
    net = random_netlist(0, 4, [4], 2)
    with pytest.raises(CompileError, match=r"^unknown target 'vhdl'"):
        plan_network(net, "vhdl")
    with pytest.raises(CompileError, match=r"^pipeline must be a non-negative integer"):
        plan_network(net, "ice40", -1)
    with pytest.raises(CompileError, match=r"^fabric must be one of auto, amaranth, verilog, got 'x'"):
        plan_network(net, "ice40", 0, fabric="x")


def test_auto_fabric_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import lut2rtl.rtl.network

    net = random_netlist(0, 8, [20, 10], 2, genuine=True)
    assert plan_network(net, "ice40", fabric="auto").fabric_mode == "amaranth"
    monkeypatch.setattr(lut2rtl.rtl.network, "AUTO_VERILOG_CELLS", 5)
    assert plan_network(net, "ice40", fabric="auto").fabric_mode == "verilog"
    assert plan_network(net, "ice40", fabric="amaranth").fabric_mode == "amaranth"


def test_port_width_limit() -> None:
    from lut2rtl.netlist import Layer, Netlist

    net = Netlist(n_inputs=70_000, layers=(Layer(k=2, inputs=[[0, 69_999]], tables=[6]),))
    with pytest.raises(CompileError, match=r"^the network has 70000 input bits; a port of the design can have "
                                           r"at most 65535"):
        plan_network(net, "ice40")


@pytest.mark.parametrize("clock_mhz", [150.0, 400.0])
def test_clock_driven_network_bit_exact(clock_mhz: float) -> None:
    # the stages --clock-mhz places are real registers: outputs at exactly that latency, bit-exact
    net = random_netlist(4, 24, [40, 32], 2, classes=4)
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, size=(40, net.n_inputs)).astype(bool)
    ref = evaluate(net, bits)
    dut = LutNetwork(net, "generic", clock_mhz=clock_mhz, out_bits=True, fabric="amaranth")
    assert dut.latency > 0
    got = simulate(dut, bits, gaps=True)
    assert set(got["cycle"]) == {dut.latency}
    assert np.array_equal(unpack_words(got["out_bits"], net.n_outputs), ref.out_bits)
    assert np.array_equal(np.array(got["out_class"]), ref.pred)


def _register_bits(dut: LutNetwork) -> int:
    """Flip-flops in the design's Verilog (every ``reg`` is a register: initial value, clocked)."""
    import re

    text = LutNetwork(dut.plan.net, dut.plan.target, plan=dut.plan, clock_ports=True).to_verilog("top")
    return sum(int(w) + 1 if w else 1 for w, _ in re.findall(r"^\s*reg (?:\[(\d+):0\] )?(\S+) = ", text, re.M))


@pytest.mark.parametrize("fabric", ["amaranth", "verilog"])
def test_constant_head_inputs_are_not_registered(fabric: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a last layer with constant 0 and constant 1 gates: the head leaves the 0s out, reads the 1s as constants
    # and registers none of them (a register of a 1 is a real flip-flop, merged by Yosys into one that every
    # class reads); the estimate counts exactly the registers built, and the outputs stay bit-exact
    from lut2rtl.families import FAMILIES
    from lut2rtl.netlist import Layer
    from lut2rtl.rtl.groupsum import plan_groupsum

    def verilog_fabric() -> LutNetwork:
        dut = LutNetwork(net, "generic", 10, fabric="verilog")
        dut._MustUse__silence = True  # only its plan is used (_register_bits elaborates a copy)
        return dut

    net = random_netlist(4, 12, [16, 30], 2, classes=3)
    tables = net.layers[1].tables.copy()
    tables[::2], tables[1::6] = 15, 0
    net = net.replace(layers=(net.layers[0], Layer(k=2, inputs=net.layers[1].inputs, tables=tables)),
                      outputs=net.outputs)
    dut = _check(net, 10, out_bits=False) if fabric == "amaranth" else verilog_fabric()
    consts = dut.head_const_bits
    # the constant 0 gates are left out of the head (rtl/popcount.py: head_groups); the constant 1s are read
    assert set(consts.values()) == {1}
    assert dut.plan.groupsum.width < plan_groupsum(net.n_outputs, 3, FAMILIES["generic"]).width
    built = _register_bits(dut)
    assert built == dut.ff_estimate
    # negative control: a head not told about the constants registers them, and the estimate says so
    monkeypatch.setattr(LutNetwork, "head_const_bits", property(lambda self: {}))
    dut0 = _check(net, 10, out_bits=False) if fabric == "amaranth" else verilog_fabric()
    assert _register_bits(dut0) == dut0.ff_estimate == built + dut.plan.groupsum.input_registers(consts) > built

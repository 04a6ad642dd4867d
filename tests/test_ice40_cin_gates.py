"""bench/ice40_cin_gates.py: the rewrite of AND/OR carry-ins into chain-start SB_CARRYs keeps every output."""

from __future__ import annotations

import copy
import itertools

from bench.ice40_cin_gates import absorb, lut_function

# LUT_INIT (bit i: the output when pin m is bit m of i) of functions of pins I1, I2
AND12 = sum(1 << i for i in range(16) if i >> 1 & 1 and i >> 2 & 1)
OR12 = sum(1 << i for i in range(16) if i >> 1 & 1 or i >> 2 & 1)
XOR12 = sum(1 << i for i in range(16) if (i >> 1 & 1) ^ (i >> 2 & 1))
SUM = sum(1 << i for i in range(16) if (i >> 1 & 1) ^ (i >> 2 & 1) ^ (i >> 3 & 1))  # I1 ^ I2 ^ I3


def _cell(kind: str, conns: dict, init: int | None = None) -> dict:
    out = {"O"} if kind == "SB_LUT4" else {"CO"}
    return {"type": kind, "parameters": {} if init is None else {"LUT_INIT": format(init, "016b")},
            "port_directions": {p: "output" if p in out else "input" for p in conns}, "connections": conns}


def _adder(gate_init: int) -> dict:
    """y = a + b + gate(p, q) for 1-bit a, b: the gate LUT drives the carry-in, read by the carry and the sum
    LUT (I3); y[1] leaves through a second SB_CARRY position (I0 = I1 = 0) and its sum LUT."""
    p, q, a, b, g, c1, s0, c2, s1 = range(2, 11)
    cells = {
        "gate": _cell("SB_LUT4", {"I0": ["0"], "I1": [p], "I2": [q], "I3": ["0"], "O": [g]}, gate_init),
        "cy0": _cell("SB_CARRY", {"I0": [a], "I1": [b], "CI": [g], "CO": [c1]}),
        "sum0": _cell("SB_LUT4", {"I0": ["0"], "I1": [a], "I2": [b], "I3": [g], "O": [s0]}, SUM),
        "cy1": _cell("SB_CARRY", {"I0": ["0"], "I1": ["0"], "CI": [c1], "CO": [c2]}),
        "sum1": _cell("SB_LUT4", {"I0": ["0"], "I1": ["0"], "I2": ["0"], "I3": [c1], "O": [s1]}, SUM),
    }
    ports = {n: {"direction": "input", "bits": [bit]} for n, bit in (("p", p), ("q", q), ("a", a), ("b", b))}
    ports["y"] = {"direction": "output", "bits": [s0, s1]}
    return {"ports": ports, "cells": cells}


def _simulate(module: dict, values: dict[str, int]) -> list[int]:
    """The module's output bits for input port values, by the SB_LUT4/SB_CARRY functions."""
    net: dict = {"0": 0, "1": 1}
    for name, port in module["ports"].items():
        if port["direction"] == "input":
            net[port["bits"][0]] = values[name]
    pending = list(module["cells"].values())
    while pending:
        for c in list(pending):
            ins = {p: bits[0] for p, bits in c["connections"].items() if c["port_directions"][p] == "input"}
            if not all(v in net for v in ins.values()):
                continue
            x = {p: net[v] for p, v in ins.items()}
            if c["type"] == "SB_LUT4":
                i = sum(x[f"I{m}"] << m for m in range(4))
                net[c["connections"]["O"][0]] = int(c["parameters"]["LUT_INIT"], 2) >> i & 1
            else:
                net[c["connections"]["CO"][0]] = int(x["I0"] + x["I1"] + x["CI"] >= 2)
            pending.remove(c)
    return [net[bit] for bit in module["ports"]["y"]["bits"]]


def _table(module: dict) -> list[list[int]]:
    return [_simulate(module, dict(zip("pqab", v))) for v in itertools.product((0, 1), repeat=4)]


def test_lut_function_names_and_or_and_others() -> None:
    assert lut_function(AND12) == ([1, 2], (0, 0, 0, 1))
    assert lut_function(OR12) == ([1, 2], (0, 1, 1, 1))
    assert lut_function(XOR12)[1] == (0, 1, 1, 0)
    assert lut_function(SUM)[0] == [1, 2, 3]


def test_and_and_or_carry_ins_become_carry_cells_with_the_same_outputs() -> None:
    for init, ci in ((AND12, "0"), (OR12, "1")):
        module = _adder(init)
        want = _table(module)
        assert want == [[(a + b + g) & 1, (a + b + g) >> 1] for p, q, a, b in itertools.product((0, 1), repeat=4)
                        for g in [(p & q) if init == AND12 else (p | q)]]
        kinds = absorb(module)
        assert kinds["AND" if init == AND12 else "OR"] == 1
        assert "gate" not in module["cells"] and module["cells"]["cin_gate_gate"]["connections"]["CI"] == [ci]
        assert _table(module) == want
        # control: the other constant carry-in computes the other gate, and the outputs differ
        spoiled = copy.deepcopy(module)
        spoiled["cells"]["cin_gate_gate"]["connections"]["CI"] = ["1" if ci == "0" else "0"]
        assert _table(spoiled) != want


def test_other_functions_and_shared_nets_stay() -> None:
    module = _adder(XOR12)
    kinds = absorb(module)
    assert "gate" in module["cells"] and kinds["SB_LUT4, another 2-input function"] == 1
    shared = _adder(AND12)
    shared["ports"]["g"] = {"direction": "output", "bits": [6]}  # the gate's output is read elsewhere too
    assert absorb(shared)["SB_LUT4, other readers"] == 1 and "gate" in shared["cells"]


def test_random_simulation_agrees_after_the_rewrite_and_catches_a_control() -> None:
    from bench.ice40_cin_gates import mismatches
    for init in (AND12, OR12):
        gold = _adder(init)
        gate = copy.deepcopy(gold)
        absorb(gate)
        assert mismatches(gold, gate, words=4) == 0
        gate["cells"]["cin_gate_gate"]["connections"]["CI"][0] = "1" if init == AND12 else "0"
        assert mismatches(gold, gate, words=4) > 0


def test_baked_packed_order_is_the_heads_own() -> None:
    """bench/ice40_cin_gates.py builds with packing off from the packed order baked into the outputs: the fused
    network (the head's inputs, in order) is then the one lut2rtl's own build fuses. Control: the network
    without the baked order fuses to different head inputs."""
    import dataclasses

    import numpy as np

    from bench.ice40_cin_gates import bake_packed_order
    from lut2rtl.evaluate import evaluate
    from lut2rtl.families import FAMILIES
    from lut2rtl.netgen import random_netlist
    from lut2rtl.rtl.popcount import fuse_head

    net = random_netlist(4, 16, [60, 90], 2, classes=3)
    off = dataclasses.replace(FAMILIES["ice40"], popcount_pack=False)
    x = np.random.default_rng(0).integers(0, 2, (256, net.n_inputs)).astype(bool)
    own = evaluate(fuse_head(net, FAMILIES["ice40"]), x).out_bits
    assert np.array_equal(evaluate(fuse_head(bake_packed_order(net), off), x).out_bits, own)
    assert not np.array_equal(evaluate(fuse_head(net, off), x).out_bits, own)

"""Part 1 of the pipelined proof (register count on every path) on hand-made netlists."""

from __future__ import annotations

from typing import Any

from lut2rtl.verify.pipelined import check_latency, combinational_wrapper


def _netlist(cells: dict[str, Any], in_bits: list[int], out: list[int | str], valid_in: int = 90,
             valid_out: int = 91) -> dict[str, Any]:
    ports = {"in_bits": {"direction": "input", "bits": in_bits},
             "in_valid": {"direction": "input", "bits": [valid_in]},
             "out_bits": {"direction": "output", "bits": out},
             "out_valid": {"direction": "output", "bits": [valid_out]}}
    return {"modules": {"top": {"ports": ports, "cells": cells}}}


def _lut(a: int, b: int, y: int) -> dict[str, Any]:
    return {"type": "SB_LUT4", "port_directions": {"I0": "input", "I1": "input", "O": "output"},
            "connections": {"I0": [a], "I1": [b], "O": [y]}}


def _ff(d: int, q: int) -> dict[str, Any]:
    return {"type": "$dff", "port_directions": {"CLK": "input", "D": "input", "Q": "output"},
            "connections": {"CLK": [99], "D": [d], "Q": [q]}}


def _valid_chain(n: int) -> dict[str, Any]:
    bits = [90, *range(200, 200 + n - 1), 91]
    return {f"v{i}": _ff(bits[i], bits[i + 1]) for i in range(n)}


def test_balanced_two_stage_passes() -> None:
    # y = lut(ff(lut(a, b)), ff(c)) then a register: 2 registers on every path
    cells = {"l1": _lut(2, 3, 10), "f1": _ff(10, 11), "f2": _ff(4, 12), "l2": _lut(11, 12, 13), "f3": _ff(13, 14),
             **_valid_chain(2)}
    r = check_latency(_netlist(cells, [2, 3, 4], [14, "0"]), "top", 2)
    assert r.ok, r.detail
    assert r.registers == 5


def test_one_path_early_fails() -> None:
    # input c reaches the output through one register, a and b through two
    cells = {"l1": _lut(2, 3, 10), "f1": _ff(10, 11), "l2": _lut(11, 4, 13), "f3": _ff(13, 14), **_valid_chain(2)}
    r = check_latency(_netlist(cells, [2, 3, 4], [14]), "top", 2)
    assert not r.ok
    assert "out_bits[0] is reached from the inputs through 1 or 2 register(s), not exactly 2" in r.detail


def test_valid_chain_length_checked() -> None:
    cells = {"l1": _lut(2, 3, 10), "f1": _ff(10, 11), "f3": _ff(11, 14), **_valid_chain(1)}
    r = check_latency(_netlist(cells, [2, 3], [14]), "top", 2)
    assert not r.ok and "out_valid[0]" in r.detail


def test_enable_register_and_loop_fail() -> None:
    en = {"type": "$dffe", "port_directions": {"D": "input", "EN": "input", "Q": "output"},
          "connections": {"D": [2], "EN": [3], "Q": [14]}}
    r = check_latency(_netlist({"e": en, **_valid_chain(1)}, [2, 3], [14]), "top", 1)
    assert not r.ok and "$dffe" in r.detail
    loop = {"l1": _lut(2, 11, 10), "l2": _lut(10, 3, 11), "f": _ff(11, 14), **_valid_chain(1)}
    r = check_latency(_netlist(loop, [2, 3], [14]), "top", 1)
    assert not r.ok and "loop" in r.detail


def test_constant_source_deeper_than_latency_fails() -> None:
    # a register chain fed by a constant, 3 deep, into a 1-cycle design: its power-up value would show
    cells = {"c1": _ff("0", 20), "c2": _ff(20, 21), "c3": _ff(21, 22), "l": _lut(2, 22, 10), "f": _ff(10, 14),
             **_valid_chain(1)}
    r = check_latency(_netlist(cells, [2], [14]), "top", 1)  # type: ignore[list-item]
    assert not r.ok and "4 registers (> latency 1)" in r.detail


def test_wrapper_ties_reset() -> None:
    text = combinational_wrapper("core_top", {"clk": 1, "rst": 1, "in_valid": 1, "in_bits": 8, "out_valid": 1})
    assert ".rst(1'b0)" in text and "input wire [7:0] in_bits" in text

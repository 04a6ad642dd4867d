"""Golden text of the structural Verilog writer and the generic expressions."""

from __future__ import annotations

import numpy as np
import pytest

from lut2rtl.netlist import Layer, Netlist, table_to_rows
from lut2rtl.rtl import plan_network
from lut2rtl.rtl.exprs import lut_expr, verilog_template
from lut2rtl.rtl.fabric import write_fabric_verilog

TINY = Netlist(n_inputs=3, layers=(Layer(k=2, inputs=[[0, 1], [1, 2]], tables=[1, 6]),
                                   Layer(k=2, inputs=[[3, 4], [3, 0]], tables=[7, 2])))

GOLDEN_ICE40 = """\
module tiny__fabric(clk, i0, o0);
  input wire clk;
  input wire [2:0] i0;
  output wire [1:0] o0;
  // segment 0
  wire n3, n4;
  SB_LUT4 #(.LUT_INIT(16'h8888)) l3 (.I0(i0[0]), .I1(i0[1]), .I2(1'b0), .I3(1'b0), .O(n3));
  SB_LUT4 #(.LUT_INIT(16'h6666)) l4 (.I0(i0[1]), .I1(i0[2]), .I2(1'b0), .I3(1'b0), .O(n4));
  reg [2:0] r1_0 = 3'h0;
  always @(posedge clk) begin
    r1_0[0] <= i0[0];
    r1_0[1] <= n3;
    r1_0[2] <= n4;
  end
  // segment 1
  wire n5, n6;
  SB_LUT4 #(.LUT_INIT(16'hEEEE)) l5 (.I0(r1_0[1]), .I1(r1_0[2]), .I2(1'b0), .I3(1'b0), .O(n5));
  SB_LUT4 #(.LUT_INIT(16'h2222)) l6 (.I0(r1_0[1]), .I1(r1_0[0]), .I2(1'b0), .I3(1'b0), .O(n6));
  assign o0[0] = n5;
  assign o0[1] = n6;
endmodule
"""

GOLDEN_GENERIC_COMB = """\
module tiny__fabric(i0, o0);
  input wire [2:0] i0;
  output wire [1:0] o0;
  // segment 0
  wire n3, n4, n5, n6;
  assign n3 = i0[0] & i0[1];
  assign n4 = i0[1] ^ i0[2];
  assign n5 = n3 | n4;
  assign n6 = n3 & ~i0[0];
  assign o0[0] = n5;
  assign o0[1] = n6;
endmodule
"""


def _text(target: str, pipeline: int) -> str:
    p = plan_network(TINY, target, pipeline, fabric="verilog")
    return write_fabric_verilog("tiny__fabric", p.fabric, list(p.segments), p.target, p.inits)


def test_golden_ice40_pipelined() -> None:
    assert _text("ice40", 1) == GOLDEN_ICE40


def test_golden_generic_combinational() -> None:
    assert _text("generic", 0) == GOLDEN_GENERIC_COMB


def test_xilinx_uses_lutk_without_tie_offs() -> None:
    text = _text("xilinx", 0)
    assert "LUT2 #(.INIT(4'h8)) l3 (.I0(i0[0]), .I1(i0[1]), .O(n3));" in text
    assert "1'b0" not in text


def test_gate_expressions() -> None:
    assert [verilog_template(t, 2) for t in range(16)] == [
        "1'b0", "{0} & {1}", "{0} & ~{1}", "{0}", "~{0} & {1}", "{1}", "{0} ^ {1}", "{0} | {1}",
        "~{0} & ~{1}", "{0} ^ ~{1}", "~{1}", "{0} | ~{1}", "~{0}", "~{0} | {1}", "~{0} | ~{1}", "1'b1"]


def _eval(e: tuple, xs: list[int]) -> int:
    op = e[0]
    if op == "c":
        return e[1]
    if op == "v":
        return xs[e[1]]
    if op == "not":
        return 1 - _eval(e[1], xs)
    if op == "mux":
        return _eval(e[2], xs) if _eval(e[1], xs) else _eval(e[3], xs)
    a, b = _eval(e[1], xs), _eval(e[2], xs)
    return {"and": a & b, "or": a | b, "xor": a ^ b}[op]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
def test_expression_trees_match_tables(k: int) -> None:
    rng = np.random.default_rng(k)
    tables = range(1 << (1 << k)) if k <= 3 else rng.integers(0, 1 << min(63, 1 << k), size=200)
    for t in tables:
        rows = table_to_rows(int(t), k)
        e = lut_expr(int(t), k)
        for j in range(1 << k):
            xs = [(j >> (k - 1 - m)) & 1 for m in range(k)]
            assert _eval(e, xs) == rows[j], (k, int(t), j)

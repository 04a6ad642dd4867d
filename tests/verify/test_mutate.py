"""The negative-control mutations edit exactly what they say."""

from __future__ import annotations

import re

import pytest

from lut2rtl.verify.mutate import drop_register, flip_lut_init_bit, lut_inits

WRITER = """module f(input wire clk, input wire [3:0] i0, output wire [1:0] o0);
  wire n4, n5;
  SB_LUT4 #(.LUT_INIT(16'h2222)) l4 (.I0(i0[1]), .I1(i0[3]), .I2(1'b0), .I3(1'b0), .O(n4));
  SB_LUT4 #(.LUT_INIT(16'h8000)) l5 (.I0(i0[0]), .I1(i0[1]), .I2(i0[2]), .I3(i0[3]), .O(n5));
  reg [1:0] r1_0 = 2'h0;
  always @(posedge clk) begin
    r1_0[0] <= n4;
    r1_0[1] <= n5;
  end
  assign o0[0] = r1_0[0];
  assign o0[1] = r1_0[1];
endmodule
"""

AMARANTH = """  always @(posedge clk)
    valid_q0 <= \\$1 ;
  always @(posedge clk)
    gs_c0_n5_q1 <= \\$7 ;
  assign y = gs_c0_n5_q1;
"""


def test_flip_first_reachable_bit() -> None:
    text, flip = flip_lut_init_bit(WRITER, 0)
    assert (flip.old, flip.new, flip.bit) == (0x2222, 0x2223, 0)
    assert "16'h2223" in text and text.count("LUT_INIT") == 2
    # a tied input (I2 = I3 = 0) makes bits 4..15 unreachable: an explicit row there is allowed but
    # the default never picks one
    text, flip = flip_lut_init_bit(WRITER, 1)
    assert flip.bit == 0 and "16'h8001" in text


def test_flip_errors() -> None:
    with pytest.raises(ValueError, match=r"has 2 LUT primitive\(s\); no LUT number 5"):
        flip_lut_init_bit(WRITER, 5)
    with pytest.raises(ValueError, match="outside the 16-bit INIT"):
        flip_lut_init_bit(WRITER, 0, row=16)
    assert len(lut_inits(WRITER)) == 2


def test_drop_writer_register_bit() -> None:
    text, what = drop_register(WRITER, 1)
    assert what.startswith("r1_0[1] bypassed")
    assert "wire r1_0_bypass1 = n5;" in text
    assert re.search(r"assign o0\[1\] = r1_0_bypass1;", text)
    assert "r1_0[1] <= n5;" in text and "assign o0[0] = r1_0[0];" in text  # the rest is untouched


def test_drop_amaranth_register_skips_valid() -> None:
    text, what = drop_register(AMARANTH, 0)
    assert what.startswith("register gs_c0_n5_q1 bypassed")
    assert "always @*\n    gs_c0_n5_q1 = \\$7 ;" in text  # the escaped name keeps its closing space
    assert "valid_q0 <= \\$1 ;" in text
    with pytest.raises(ValueError, match=r"1 data register\(s\)"):
        drop_register(AMARANTH, 1)

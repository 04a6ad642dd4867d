from __future__ import annotations

from lut2rtl.families import FAMILIES
from lut2rtl.verify.primitives import instantiated_modules, primitive_library


def test_instantiated_modules_finds_cells() -> None:
    text = """module top(input a, output y);
  wire t;
  SB_LUT4 #(.LUT_INIT(16'h8000)) \\lut$1 (.I0(a), .O(t));
  SB_CARRY c0 (.I0(a), .CO(y));
  assign y = t;
endmodule
"""
    assert instantiated_modules(text) == {"SB_LUT4", "SB_CARRY"}


def test_library_holds_only_used_models() -> None:
    lib = primitive_library(FAMILIES["ice40"], {"SB_LUT4"})
    assert "module SB_LUT4" in lib
    assert "module SB_RAM40_4K" not in lib and "module SB_CARRY" not in lib
    assert "lib_whitebox" not in lib
    ecp5 = primitive_library(FAMILIES["ecp5"], {"LUT4"})  # LUT4 lives in an included .vh file
    assert "module LUT4" in ecp5

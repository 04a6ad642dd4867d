"""lut2rtl: train logic-gate / LUT networks and compile them to bit-exact FPGA RTL."""

from __future__ import annotations

__version__ = "0.1.0"

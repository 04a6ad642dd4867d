"""Verification: is the compiled design bit-exact with the reference evaluator?

- :mod:`.folder` reads a compiled design folder (manifest, ``netlist.pt``,
  ``vectors.npz``, Verilog);
- :mod:`.vectors` makes reference vectors with :func:`lut2rtl.evaluate.evaluate`;
- :mod:`.simulate` builds a Verilator model (cached) and streams the vectors
  through it with the cocotb testbench :mod:`.tb`; :mod:`.compare` reports
  mismatches;
- :mod:`.reference` writes an independent plain-Verilog model of a netlist and
  :mod:`.formal` proves the design equal to it with Yosys;
- :mod:`.check` ties them together for ``lut2rtl verify``.
"""

from __future__ import annotations

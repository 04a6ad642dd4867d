"""Verification: is the compiled design bit-exact with the reference evaluator?

- :mod:`.folder` reads a compiled design folder (manifest, ``netlist.pt``,
  ``vectors.npz``, Verilog);
- :mod:`.vectors` makes reference vectors with :func:`lut2rtl.evaluate.evaluate`;
- :mod:`.simulate` builds a Verilator model (cached) and streams the vectors
  through it with the C++ harness :mod:`.harness` (default) or the cocotb
  testbench :mod:`.tb`; :mod:`.compare` reports mismatches;
- :mod:`.reference` writes an independent plain-Verilog model of a netlist and
  :mod:`.formal` proves the design equal to it with Yosys (cut points from
  :mod:`.cutpoints`); :mod:`.pipelined` proves a registered design as it is;
- :mod:`.mutate` makes the negative controls (a flipped LUT bit, a bypassed
  register) every check must reject;
- :mod:`.check` ties them together for ``lut2rtl verify``.
"""

from __future__ import annotations

"""Hardware generation: a Netlist as a pipelined Amaranth design.

(:mod:`lut2rtl.families`: LUT primitives per FPGA family) ``mapping`` (netlist -> cells
that fit the primitive) -> ``pipeline`` (register placement) -> ``fabric``
(cells as Amaranth logic or structural Verilog) -> ``network``
(:class:`LutNetwork`, the component with the contract's ports) with
``groupsum`` (popcount + argmax).
"""

from __future__ import annotations

from .network import FABRICS, LutNetwork, NetworkPlan, plan_network

__all__ = ["FABRICS", "LutNetwork", "NetworkPlan", "plan_network"]

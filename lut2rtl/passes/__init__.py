"""Netlist -> Netlist passes and the optimization pipeline.

(The passes land with the optimization work; until then ``optimize`` returns
the netlist unchanged at every level.)
"""

from __future__ import annotations

from ..netlist import Netlist

__all__ = ["optimize", "OPT_LEVELS"]

OPT_LEVELS = (0, 1, 2)


def optimize(net: Netlist, level: int = 2, *, lut_size: int = 4) -> Netlist:
    """Run the pass pipeline of an optimization level for a target whose LUT
    primitive has ``lut_size`` inputs. Level 0 returns ``net`` unchanged."""
    if level not in OPT_LEVELS:
        raise ValueError(f"optimization level {level!r} not in {OPT_LEVELS}")
    return net

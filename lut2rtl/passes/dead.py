"""Dead-gate elimination: LUTs with no path to an output (through inputs the
tables actually depend on) are removed. Outputs keep their positions."""

from __future__ import annotations

from ..netlist import Netlist
from ._flat import from_netlist, to_netlist, with_nodes

__all__ = ["remove_dead"]


def remove_dead(net: Netlist) -> Netlist:
    """Remove LUTs outside the fan-in cones of the outputs."""
    flat = from_netlist(net)
    live = net.live_mask()[net.n_inputs:]
    return to_netlist(with_nodes(flat, alive=live), net)

"""Netlist -> Netlist passes and the optimization pipeline.

Each pass is one function ``Netlist -> Netlist`` in a module of its own; an
optimization level is a flat list of named passes:

- level 0: nothing;
- level 1: clean-ups: constant propagation, wire/inverter absorption,
  unused-input removal, structural deduplication, dead-gate elimination
  (repeated while they still shrink the network);
- level 2: LUTs wider than the target's split, the clean-ups, then LUT packing for the target's LUT size (then
  unused-input removal, deduplication and dead-gate elimination again);
- level 3 (the default of ``lut2rtl compile``): level 2, where the packer's
  cover competes with ABC's (:mod:`.abc`, through Yosys): the one with fewer
  LUTs and no more LUT levels is kept.

Every pass keeps the network's function bit-exact (``lut2rtl.evaluate``
gives the same outputs), its outputs' positions, GroupSum, encoder and
metadata.
"""

from __future__ import annotations

from collections.abc import Callable

from ..netlist import Netlist, table_depends_on
from .const import fold_constants
from .dead import remove_dead
from .dedupe import merge_duplicates
from .unused import drop_unused_inputs
from .wires import absorb_wires

__all__ = [
    "CLEANUP_PASSES",
    "OPT_LEVELS",
    "Pass",
    "absorb_wires",
    "drop_unused_inputs",
    "fold_constants",
    "merge_duplicates",
    "optimize",
    "pipeline",
    "remove_dead",
    "run_pipeline",
]

OPT_LEVELS = (0, 1, 2, 3)

Pass = Callable[[Netlist], Netlist]

CLEANUP_PASSES: tuple[tuple[str, Pass], ...] = (
    ("const", fold_constants),
    ("wires", absorb_wires),
    ("unused", drop_unused_inputs),
    ("dedupe", merge_duplicates),
    ("dead", remove_dead),
)

# Clean-up rounds: one pass can expose work for an earlier one (a merged
# duplicate makes a LUT read one signal twice, ...); stop when a round
# removes nothing.
_MAX_ROUNDS = 4


def pipeline(level: int, *, lut_size: int = 4) -> list[tuple[str, Pass]]:
    """The named passes of one clean-up round and the final passes of a level
    (clean-up rounds repeat; see :func:`optimize`)."""
    if level not in OPT_LEVELS:
        raise ValueError(f"optimization level {level!r} not in {OPT_LEVELS}")
    if level == 0:
        return []
    passes: list[tuple[str, Pass]] = []
    if level >= 2:
        from .pack import split_wide

        # LUTs wider than the target's are split first, so that the clean-ups
        # see their cofactors (often constant, a wire or a duplicate)
        passes.append((f"split{lut_size}", lambda net: split_wide(net, lut_size)))
    passes += CLEANUP_PASSES
    if level == 2:
        from .pack import pack_luts

        passes.append((f"pack{lut_size}", lambda net: pack_luts(net, lut_size=lut_size)))
    if level == 3:
        from .abc import best_cover

        passes.append((f"cover{lut_size}", lambda net: best_cover(net, lut_size)))
    if level >= 2:
        # a packed cone may ignore one of its leaves (reconvergent logic such
        # as a & ~a), two cones may compute the same function of the same
        # leaves: drop such inputs and LUTs, and what only they kept alive
        passes += [("unused", drop_unused_inputs), ("dedupe", merge_duplicates), ("dead", remove_dead)]
    return passes


def run_pipeline(
    net: Netlist, level: int = 2, *, lut_size: int = 4, trace: Callable[[str, Netlist], None] | None = None,
) -> Netlist:
    """Run a level's pipeline; ``trace(name, net)`` is called after every pass
    (and with ``"input"`` first), e.g. to report sizes."""
    if lut_size not in (3, 4, 5, 6):
        raise ValueError(f"lut_size={lut_size!r} outside 3..6")
    passes = pipeline(level, lut_size=lut_size)
    if trace is not None:
        trace("input", net)
    if not passes:
        return net
    # the passes before the clean-up block run once, the block repeats
    start = next(i for i, (_, fn) in enumerate(passes) if fn is CLEANUP_PASSES[0][1])
    stop = start + len(CLEANUP_PASSES)
    cleanup, final = passes[start:stop], passes[stop:]
    for name, fn in passes[:start]:
        net = fn(net)
        if trace is not None:
            trace(name, net)
    for _ in range(_MAX_ROUNDS):
        before = _size(net)
        for name, fn in cleanup:
            net = fn(net)
            if trace is not None:
                trace(name, net)
        if _size(net) == before:
            break
    for name, fn in final:
        net = fn(net)
        if trace is not None:
            trace(name, net)
    return net


def _size(net: Netlist) -> tuple[int, int]:
    # LUTs and the LUT inputs tables depend on (layers pad narrower LUTs)
    deps = sum(int(table_depends_on(layer.tables, layer.k).sum()) for layer in net.layers)
    return net.n_luts, deps


def optimize(net: Netlist, level: int = 2, *, lut_size: int = 4) -> Netlist:
    """Run the pass pipeline of an optimization level for a target whose LUT
    primitive has ``lut_size`` inputs. Level 0 returns ``net`` unchanged.

    Level 2 returns a netlist whose LUTs have at most ``lut_size`` inputs,
    one layer per LUT level. The result computes the same outputs as ``net``
    (bit-exact), in the same positions.
    """
    return run_pipeline(net, level, lut_size=lut_size)

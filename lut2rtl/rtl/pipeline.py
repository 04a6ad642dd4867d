"""Pipeline planning: where the register stages go.

The whole path from the input bits to the outputs is ``D = F + G`` LUT levels:
``F`` levels of mapped fabric, then ``G`` levels of popcount and argmax. A
register *cut* at ``c`` registers every signal alive between level ``c`` and
``c + 1``. ``N`` registers are spread over the ``D - 1`` internal boundaries so
that the longest register-to-register stretch has ``ceil(D / (N + 1))``
levels; registers beyond ``D - 1`` go on the outputs.

A fabric cell of level ``l`` sits in stage ``#{cuts c < l}``; a signal read
more than one stage after the one that makes it is carried through the
registers of every boundary in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mapping import MappedFabric

__all__ = ["StagePlan", "clock_cuts", "plan_cuts", "plan_stages"]


def plan_cuts(depth: int, registers: int) -> tuple[list[int], int]:
    """Internal cuts (sorted, in ``1 .. depth-1``) and the number of output registers."""
    if registers < 0:
        raise ValueError(f"registers must be >= 0, got {registers}")
    internal = min(registers, max(depth - 1, 0))
    cuts = [(i * depth) // (internal + 1) for i in range(1, internal + 1)]
    assert len(set(cuts)) == len(cuts) and all(1 <= c < depth for c in cuts)
    return cuts, registers - internal


def clock_cuts(delays: list[float], period: float) -> list[int]:
    """The fewest cuts (after levels ``1 .. len(delays)-1``) such that the levels between two
    registers add up to at most ``period``; a level longer than ``period`` alone gets a stage
    of its own. Greedy: cutting as late as possible is optimal for a chain of levels."""
    cuts: list[int] = []
    acc = 0.0
    for i, d in enumerate(delays):
        if acc > 0 and acc + d > period:
            cuts.append(i)
            acc = 0.0
        acc += d
    return cuts


@dataclass(frozen=True, eq=False)
class StagePlan:
    """Register placement of a mapped fabric (see the module docstring)."""

    pipeline: int
    fabric_depth: int
    groupsum_depth: int
    fabric_cuts: tuple[int, ...]  # cuts at levels <= fabric_depth
    groupsum_cuts: tuple[int, ...]  # groupsum levels (1-based) followed by a register
    output_registers: int
    cell_stage: np.ndarray  # int64 [C]
    boundaries: tuple[np.ndarray, ...]  # physical ids registered at fabric boundary b (sorted)

    @property
    def fabric_stages(self) -> int:
        return len(self.fabric_cuts)

    @property
    def fabric_ffs(self) -> int:
        return int(sum(b.size for b in self.boundaries))


def plan_stages(fab: MappedFabric, pipeline: int, groupsum_depth: int, cuts: list[int] | None = None) -> StagePlan:
    """Place ``pipeline`` register stages over the fabric and the popcount/argmax, spread
    evenly over the levels, or after exactly the levels ``cuts`` (then ``pipeline`` is
    their number)."""
    F = fab.depth
    if cuts is None:
        cuts, out_regs = plan_cuts(F + groupsum_depth, pipeline)
    else:
        pipeline, out_regs = len(cuts), 0
    fcuts = tuple(c for c in cuts if c <= F)
    gcuts = tuple(c - F for c in cuts if c > F)
    m_f = len(fcuts)
    n_in = fab.n_inputs
    cut_arr = np.asarray(fcuts, dtype=np.int64)
    # stage of every physical signal: inputs 0, a cell #{cuts < level}
    stage = np.searchsorted(cut_arr, fab.level, side="left").astype(np.int64)
    stage[:n_in] = 0
    boundaries: list[np.ndarray] = []
    if m_f:
        last_use = stage.copy()  # no later use -> not carried
        ck = fab.cell_k
        cell_stage = stage[n_in:]
        for m in range(fab.lut_size):
            has = ck > m
            np.maximum.at(last_use, fab.cell_inputs[has, m], cell_stage[has])
        outs = fab.outputs[fab.outputs >= 0]
        last_use[outs] = m_f
        for b in range(m_f):
            boundaries.append(np.flatnonzero((stage <= b) & (last_use > b)))
    return StagePlan(
        pipeline=pipeline, fabric_depth=F, groupsum_depth=groupsum_depth, fabric_cuts=fcuts,
        groupsum_cuts=gcuts, output_registers=out_regs, cell_stage=stage[n_in:],
        boundaries=tuple(boundaries),
    )

"""Register placement: cuts balanced over fabric + GroupSum, signals carried across boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from lut2rtl.netgen import random_netlist
from lut2rtl.rtl.mapping import map_netlist
from lut2rtl.rtl.pipeline import plan_cuts, plan_stages


def test_cuts_are_balanced() -> None:
    assert plan_cuts(10, 0) == ([], 0)
    assert plan_cuts(10, 4) == ([2, 4, 6, 8], 0)
    assert plan_cuts(3, 5) == ([1, 2], 3)  # more registers than boundaries: the rest on the outputs
    with pytest.raises(ValueError, match=r"registers must be >= 0"):
        plan_cuts(3, -1)


@pytest.mark.parametrize(("pipeline", "gs_depth"), [(0, 0), (1, 0), (2, 5), (3, 9), (9, 2), (20, 3)])
def test_stage_plan(pipeline: int, gs_depth: int) -> None:
    net = random_netlist(5, 16, [24, 20, 16, 12], [2, 3, 2, 4], dag=True)
    fab = map_netlist(net, 4)
    st = plan_stages(fab, pipeline, gs_depth)
    assert len(st.fabric_cuts) + len(st.groupsum_cuts) + st.output_registers == pipeline
    assert all(1 <= c <= fab.depth for c in st.fabric_cuts)
    assert all(1 <= c <= gs_depth for c in st.groupsum_cuts)
    # a cell's stage counts the fabric cuts below its level
    for c in range(fab.n_cells):
        lvl = fab.level[fab.n_inputs + c]
        assert st.cell_stage[c] == sum(1 for cut in st.fabric_cuts if cut < lvl)
    # every value read across a boundary is registered there (and only those)
    n_in = fab.n_inputs
    stage = np.concatenate([np.zeros(n_in, dtype=np.int64), st.cell_stage])
    for b, regs in enumerate(st.boundaries):
        need = set()
        for c in range(fab.n_cells):
            if st.cell_stage[c] > b:
                need |= {int(i) for i in fab.cell_inputs[c, :fab.cell_k[c]] if stage[i] <= b}
        need |= {int(o) for o in fab.outputs if o >= 0 and stage[o] <= b}
        assert set(regs.tolist()) == need
    assert st.fabric_ffs == sum(b.size for b in st.boundaries)


def test_clock_cuts_fewest_that_fit() -> None:
    from lut2rtl.rtl.pipeline import clock_cuts

    d = [1.0, 1.0, 2.0, 0.5, 0.5, 3.0]
    assert clock_cuts(d, 100.0) == []  # everything fits one period
    assert clock_cuts(d, 2.0) == [2, 3, 5]  # [1,1] [2] [.5,.5] [3>2: alone]
    for period in (1.5, 2.5, 3.0, 4.0, 5.5):
        cuts = clock_cuts(d, period)
        bounds = [0, *cuts, len(d)]
        stages = [sum(d[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        assert all(s <= period or b - a == 1 for s, a, b in zip(stages, bounds[:-1], bounds[1:]))
        # fewest: no stage could take the next level without going over
        assert all(s + d[b] > period for s, b in zip(stages[:-1], bounds[1:-1]))


def test_clock_driven_network(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lut2rtl.errors import OptionError
    from lut2rtl.rtl import plan_network

    net = random_netlist(8, 32, [64, 48], 2, classes=4)
    slow = plan_network(net, "ice40", clock_mhz=1.0)
    assert slow.latency == 0 and slow.clock_mhz == 1.0
    fast = plan_network(net, "ice40", clock_mhz=150.0)
    every = plan_network(net, "ice40", pipeline=fast.fabric.depth + fast.groupsum.levels - 1)
    assert 0 < fast.latency < every.latency
    assert fast.period_ns <= 1000.0 / 150.0 or fast.latency == every.latency
    assert fast.period_ns <= slow.period_ns
    with pytest.raises(OptionError, match=r"give it or pipeline, not both"):
        plan_network(net, "ice40", pipeline=2, clock_mhz=100.0)
    with pytest.raises(OptionError, match=r"must be a frequency in MHz"):
        plan_network(net, "ice40", clock_mhz=-5.0)

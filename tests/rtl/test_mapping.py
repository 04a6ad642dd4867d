from __future__ import annotations

import numpy as np
import pytest

from lut2rtl.evaluate import evaluate
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import CONST0, CONST1, Layer, Netlist
from lut2rtl.rtl.mapping import map_netlist

from .simhelp import all_functions_netlist, eval_fabric, exhaustive_bits


@pytest.mark.parametrize("lut_size", [4, 6])
def test_all_functions_exhaustive(lut_size: int) -> None:
    net = all_functions_netlist()
    fab = map_netlist(net, lut_size)
    bits = exhaustive_bits(net.n_inputs)
    assert np.array_equal(eval_fabric(fab, bits), evaluate(net, bits).out_bits)
    assert fab.cell_k.max() <= lut_size
    # k=1 tables: constants and the buffer make no cell, the inverter does
    k1 = fab.outputs[:8]
    assert set(k1[[0, 4]].tolist()) == {CONST0} and set(k1[[3, 7]].tolist()) == {CONST1}
    assert k1[1] < net.n_inputs and k1[5] < net.n_inputs  # buffers: wires to input bits


@pytest.mark.parametrize("seed", range(6))
def test_random_dag_mixed_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ks = rng.integers(1, 7, size=5).tolist()
    net = random_netlist(seed, 10, [12, 10, 9, 8, 6], ks, dag=True)
    bits = rng.integers(0, 2, size=(200, net.n_inputs)).astype(bool)
    ref = evaluate(net, bits).out_bits
    for L in (4, 6):
        fab = map_netlist(net, L)
        assert np.array_equal(eval_fabric(fab, bits), ref)
        assert fab.cell_k.max(initial=1) <= L
        # levels: every cell is one deeper than its deepest input
        for c in range(fab.n_cells):
            ins = fab.cell_inputs[c, : fab.cell_k[c]]
            assert fab.level[fab.n_inputs + c] == 1 + fab.level[ins].max()


def test_duplicate_and_constant_inputs() -> None:
    # LUT0 reads input 0 three times (the table is XNOR(x0, x1) seen through
    # merged inputs); LUT1 reads a constant LUT; LUT2 is a 6-input AND of one bit.
    l0 = Layer(k=2, inputs=[[0, 1], [0, 0]], tables=[0, 15])  # const 0, const 1
    l1 = Layer(k=4, inputs=[[0, 1, 0, 0], [2, 3, 0, 1], [0, 0, 0, 0]], tables=[0xF00F, 0x8000, 0x8001])
    l2 = Layer(k=6, inputs=[[0, 0, 0, 0, 0, 0]], tables=[1])
    net = Netlist(n_inputs=2, layers=(l0, l1, l2), outputs=np.array([4, 5, 6, 7]))
    bits = exhaustive_bits(2)
    fab = map_netlist(net, 4)
    assert np.array_equal(eval_fabric(fab, bits), evaluate(net, bits).out_bits)
    assert fab.outputs[1] == CONST0  # AND with a constant-0 input
    assert fab.outputs[3] == 0  # AND of x0 with itself is a wire


def test_dead_cells_removed_and_ids_kept() -> None:
    l0 = Layer(k=2, inputs=[[0, 1], [2, 3]], tables=[6, 1])
    net = Netlist(n_inputs=4, layers=(l0,), outputs=np.array([5]))
    fab = map_netlist(net, 4)
    assert fab.n_cells == 1
    assert fab.cell_inputs[0, :2].tolist() == [2, 3]  # input ids are not renumbered
    assert fab.outputs.tolist() == [4]


def test_decomposition_depth() -> None:
    net = random_netlist(1, 6, [50], 6)
    fab4 = map_netlist(net, 4)
    fab6 = map_netlist(net, 6)
    assert fab6.depth == 1 and fab6.n_cells == 50
    assert fab4.depth <= 3 and fab4.cell_k.max() <= 4
    assert sum(fab4.cells_per_layer()) == fab4.n_cells  # per layer of the split netlist


def test_fitting_netlist_is_laid_out_one_to_one() -> None:
    # a clean netlist whose LUTs fit: one cell per LUT, in the netlist's order
    net = random_netlist(3, 8, [20, 10], 4)
    from lut2rtl.passes import optimize

    net = optimize(net, 1)
    fab = map_netlist(net, 4)
    assert fab.n_cells == net.n_luts
    assert fab.cells_per_layer() == [layer.size for layer in net.layers]

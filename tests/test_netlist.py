from __future__ import annotations

import itertools

import numpy as np
import pytest

from lut2rtl.errors import NetlistError
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import (
    GATE_NAMES,
    GroupSum,
    Layer,
    Netlist,
    Thermometer,
    check_netlist,
    init_to_table,
    rows_to_table,
    table_depends_on,
    table_to_init,
    table_to_rows,
    truth_table_rows,
)

# The field's 2-input gates as Python functions of (a, b), a = first input.
GATES = {
    "FALSE": lambda a, b: 0, "AND": lambda a, b: a & b, "A&~B": lambda a, b: a & (1 - b),
    "A": lambda a, b: a, "~A&B": lambda a, b: (1 - a) & b, "B": lambda a, b: b,
    "XOR": lambda a, b: a ^ b, "OR": lambda a, b: a | b, "NOR": lambda a, b: 1 - (a | b),
    "XNOR": lambda a, b: 1 - (a ^ b), "~B": lambda a, b: 1 - b, "A|~B": lambda a, b: a | (1 - b),
    "~A": lambda a, b: 1 - a, "~A|B": lambda a, b: (1 - a) | b, "NAND": lambda a, b: 1 - (a & b),
    "TRUE": lambda a, b: 1,
}


def test_gate_id_is_the_truth_table():
    # id = sum_j f(row j) 2^(3-j), j = 2a + b: the convention of the field
    for gid, name in enumerate(GATE_NAMES):
        f = GATES[name]
        expect = sum(f(a, b) << (3 - (2 * a + b)) for a in (0, 1) for b in (0, 1))
        assert expect == gid, name
        rows = table_to_rows(gid, 2)
        for j, (a, b) in enumerate(truth_table_rows(2).astype(int)):
            assert rows[j] == f(a, b)


@pytest.mark.parametrize("k", range(1, 7))
def test_rows_roundtrip(k, rng):
    tables = rng.integers(0, 2 ** min(63, 1 << k), size=50, dtype=np.uint64)
    if k == 6:
        tables = tables * np.uint64(2) + rng.integers(0, 2, size=50, dtype=np.uint64)
    assert np.array_equal(rows_to_table(table_to_rows(tables, k)), tables)


def _init_reference(table: int, k: int) -> int:
    # bit i of INIT: output when I_m = bit m of i, with x_m wired to I_m
    init = 0
    for i in range(1 << k):
        x = [(i >> m) & 1 for m in range(k)]
        j = 0
        for m in range(k):
            j = 2 * j + x[m]
        init |= ((table >> ((1 << k) - 1 - j)) & 1) << i
    return init


@pytest.mark.parametrize("k", [1, 2])
def test_init_permutation_exhaustive(k):
    tables = np.arange(1 << (1 << k), dtype=np.uint64)
    inits = table_to_init(tables, k)
    for t, i in zip(tables.tolist(), inits.tolist()):
        assert i == _init_reference(t, k)
    assert np.array_equal(init_to_table(inits, k), tables)


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_init_permutation_random(k, rng):
    tables = rng.integers(0, 2**62, size=200, dtype=np.uint64) & np.uint64((1 << (1 << k)) - 1)
    inits = table_to_init(tables, k)
    for t, i in zip(tables.tolist(), inits.tolist()):
        assert i == _init_reference(t, k)
    assert np.array_equal(init_to_table(inits, k), tables)


def test_and_gate_init_is_8():
    # AND is true only for I0 = I1 = 1, pattern 3: INIT = 0b1000
    assert int(table_to_init(1, 2)) == 8
    # A (first input, wired to I0): true for patterns 1 and 3
    assert int(table_to_init(3, 2)) == 0b1010


def test_depends_on():
    dep = table_depends_on(np.arange(16, dtype=np.uint64), 2)
    names = {GATE_NAMES[i]: tuple(dep[i]) for i in range(16)}
    assert names["FALSE"] == (False, False)
    assert names["A"] == (True, False)
    assert names["~B"] == (False, True)
    assert names["XOR"] == (True, True)


def test_layered_constructor_and_offsets():
    net = Netlist.layered(4, [(np.array([[0, 1], [2, 3]]), np.array([1, 6])),
                              (np.array([[0, 1]]), np.array([7]))])
    assert net.offsets == (4, 6, 7)
    assert net.layers[1].inputs.tolist() == [[4, 5]]
    assert net.outputs.tolist() == [6]
    assert net.is_layered()
    assert net.layer_of(5) == 0 and net.layer_of(2) == -1


def test_arrays_are_read_only():
    net = random_netlist(0, 4, [3], 2)
    with pytest.raises(ValueError):
        net.layers[0].tables[0] = 1


def test_live_mask_ignores_unused_inputs():
    # layer 1 gate is "A" of (s4, s5): s5 is dead
    net = Netlist.layered(2, [(np.array([[0, 1], [0, 1]]), np.array([1, 6])),
                              (np.array([[0, 1]]), np.array([3]))])
    live = net.live_mask()
    assert live.tolist() == [True, True, True, False, True]


def _bad(msg, **kw):
    base = dict(n_inputs=4, layers=(Layer(2, np.array([[0, 1], [2, 3]]), np.array([1, 2])),))
    base.update(kw)
    with pytest.raises(NetlistError, match=msg):
        check_netlist(Netlist(**base))


def test_checker_messages():
    _bad(r"layer 0, neuron 1: input 0 reads signal 9, outside 0\.\.3",
         layers=(Layer(2, np.array([[0, 1], [9, 3]]), np.array([1, 2])),))
    _bad(r"layer 0: inputs have shape \(2, 3\), expected \(2, 2\)",
         layers=(Layer(2, np.array([[0, 1, 2], [1, 2, 3]]), np.array([1, 2])),))
    _bad(r"layer 0, neuron 0: truth table 0x10 is wider",
         layers=(Layer(2, np.array([[0, 1], [2, 3]]), np.array([16, 2])),))
    _bad(r"fan-in k=7", layers=(Layer(7, np.zeros((1, 7), int), np.array([1])),))
    _bad(r"3 classes do not divide the 2 outputs", group_sum=GroupSum(3))
    _bad(r"tau must be positive", group_sum=GroupSum(2, tau=0.0))
    _bad(r"threshold \[feature 0, 1\] is nan",
         encoder=Thermometer(np.array([[0.0, np.nan], [1.0, 2.0]])))
    _bad(r"encoder produces 6 bits but the network has 4 inputs", encoder=Thermometer(np.zeros((2, 3))))
    _bad(r"no layers", layers=())
    _bad(r"output 0 reads signal 99", outputs=np.array([99]))
    # a layer may not read itself or later layers
    _bad(r"layer 1, neuron 0: input 1 reads signal 6",
         layers=(Layer(2, np.array([[0, 1], [2, 3]]), np.array([1, 2])),
                 Layer(2, np.array([[4, 6]]), np.array([1]))))


def test_checker_accepts_dags():
    for seed in range(5):
        check_netlist(random_netlist(seed, 6, [5, 5, 4], [2, 3, 6], classes=2, dag=True))


def test_exhaustive_tiny_network_by_hand():
    # x0 AND x1, then XOR with x2 via a DAG read of an input bit
    net = Netlist(n_inputs=3, layers=(Layer(2, np.array([[0, 1]]), np.array([1])),
                                      Layer(2, np.array([[3, 2]]), np.array([6]))))
    from lut2rtl.evaluate import evaluate
    bits = np.array(list(itertools.product([0, 1], repeat=3)), dtype=bool)
    got = evaluate(net, bits).out_bits[:, 0]
    expect = (bits[:, 0] & bits[:, 1]) ^ bits[:, 2]
    assert np.array_equal(got, expect)

"""The head orders each class's group bits for the family's LUTs (rtl/popcount.py: pack_order,
head_groups with a family that has ``popcount_pack``): leaf counters get bits whose logic fits one LUT
together, network inputs go to the single positions, and the counts do not change."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lut2rtl.evaluate import evaluate
from lut2rtl.families import FAMILIES
from lut2rtl.netlist import GroupSum, Layer, Netlist, rows_to_table, truth_table_rows
from lut2rtl.passes import optimize
from lut2rtl.rtl.popcount import (
    _bit_supports,
    class_popcounts,
    family_popcount,
    fuse_head,
    head_groups,
    head_layout,
    pack_order,
)

ICE40 = FAMILIES["ice40"]


def _table(fn, k: int) -> int:
    rows = truth_table_rows(k)
    return int(rows_to_table(np.array([bool(fn(*r)) for r in rows])[None, :])[0])


def _net() -> Netlist:
    """One class of 12 bits: 6 XOR gates over input pairs, 3 inverters and 3 network inputs (buffers, wires
    after optimization), in that order: in index order two leaf counters read three XORs (six inputs)."""
    k = 2
    ins = [[2 * j, 2 * j + 1] for j in range(6)] + [[12 + j] * 2 for j in range(3)] + [[15 + j] * 2 for j in range(3)]
    tabs = [_table(lambda a, b: a ^ b, k)] * 6 + [_table(lambda a, b: not a, k)] * 3 + [_table(lambda a, b: a, k)] * 3
    layer = Layer(k=k, inputs=np.array(ins, dtype=np.int64), tables=np.array(tabs, dtype=np.uint64))
    return Netlist(n_inputs=18, layers=(layer,), outputs=np.arange(18, 30, dtype=np.int64),
                   group_sum=GroupSum(classes=1, tau=1.0))


def _fits(net: Netlist, order: list[int], leaves: list[tuple[int, ...]]) -> int:
    """Leaf counters whose three bits read at most 4 signals, over the optimized network's supports."""
    info = _bit_supports(optimize(net, 2, lut_size=4), 4)
    fit = 0
    for leaf in leaves:
        sups = [info[order[a]][0] for a in leaf]
        fit += all(s is not None for s in sups) and len(frozenset().union(*sups)) <= 4  # type: ignore[arg-type]
    return fit


def test_pack_order_fills_leaves_with_bits_that_fit_one_lut() -> None:
    net = _net()
    plan = family_popcount(12, ICE40)
    leaves, singles = head_layout(plan)
    leaf_pos = [op.args for op in leaves]
    packed = head_groups(net, ICE40)
    assert packed is not None and sorted(packed[0]) == list(range(12))
    order = list(packed[0])
    # every leaf fits one LUT4 now; in index order only the inverters' leaf does (the control)
    assert len(leaves) == 3 and _fits(net, order, leaf_pos) == 3
    assert _fits(net, list(range(12)), leaf_pos) == 1
    # the XORs left over sit at the single positions, the inverters all in leaves
    assert all(order[p] < 6 for p in singles)
    # the plain order is kept without the family (or on one that does not pack)
    assert head_groups(net) is None
    assert head_groups(net, dataclasses.replace(ICE40, popcount_pack=False)) is None


def test_pack_order_puts_network_inputs_at_the_single_positions() -> None:
    # three leaves of three bits and three singles; bits: 3 of one signal (inputs), others wide
    wide = (frozenset({10, 11, 12, 13, 14}), True, True)
    bits = [(None, True, True)] * 3 + [(frozenset({i}), False, False) for i in range(3)] + [wide] * 6
    bits = [(None, True, True) if b[0] is None else b for b in bits]
    order = pack_order(bits, [(0, 1, 2), (3, 4, 5), (6, 7, 8)], [9, 10, 11], 4)
    assert sorted(order) == list(range(12))
    assert sorted(order[p] for p in (9, 10, 11)) == [3, 4, 5]  # the inputs, not LUTs


@pytest.mark.parametrize(("seed", "widths", "classes"), [(0, [60, 90], 3), (1, [60, 90], 3), (2, [40, 120], 4),
                                                       (3, [6, 4], 2), (4, [10, 7], 7)])  # groups of 2 and 1
def test_packed_head_counts_what_the_network_counts(seed: int, widths: list[int], classes: int) -> None:
    """The fused network (leaf counters over the packed order) still gives each class's popcount, also
    where a group is too small for a leaf of three bits."""
    from lut2rtl.netgen import random_netlist

    net = random_netlist(seed, 12, widths, [2, 3], classes=classes)
    _check_counts(net, seed)


def _check_counts(net: Netlist, seed: int = 0) -> None:
    """Each class's count from the fused head (leaf counters over the packed order), as fused and as the
    optimizer leaves it, equals the network's popcount (the reference evaluator) on random inputs."""
    classes = int(net.group_sum.classes)  # type: ignore[union-attr]
    groups = head_groups(net, ICE40)
    fused = fuse_head(net, ICE40)
    x = np.random.default_rng(seed).integers(0, 2, (300, net.n_inputs)).astype(bool)
    src = evaluate(net, x).out_bits
    g = net.n_outputs // classes
    for got in (evaluate(fused, x).out_bits, evaluate(optimize(fused, 2, lut_size=4), x).out_bits):
        col = 0
        for c, pc in enumerate(class_popcounts(net.n_outputs, classes, ICE40, groups)):
            pos = range(g) if groups is None else groups[c]
            leaves, raw = head_layout(pc)
            total = np.zeros(len(x), dtype=np.int64)
            for op in leaves:
                w = len(op.args).bit_length()
                total += sum(got[:, col + j].astype(np.int64) << j for j in range(w))
                col += w
            total += got[:, col:col + len(raw)].sum(axis=1)
            col += len(raw)
            assert np.array_equal(total, src[:, c * g:(c + 1) * g].sum(axis=1))
            assert len(set(pos)) == len(pos) and set(pos) <= set(range(g))


def _partial_net() -> Netlist:
    """One class of 12 bits: 3 AND gates of their own input pairs (positions 0-2), then 9 LUTs of four
    inputs each, none shared (positions 3-11). No three bits fit one LUT4 together; an AND and two bits
    read as they are do (2 + 1 + 1 signals)."""
    k = 4
    ins = [[2 * j, 2 * j + 1, 2 * j, 2 * j] for j in range(3)] + [[6 + 4 * j + i for i in range(4)] for j in range(9)]
    tabs = [_table(lambda a, b, c, d: a & b, k)] * 3 + [_table(lambda a, b, c, d: (a ^ b) | (c & d), k)] * 9
    layer = Layer(k=k, inputs=np.array(ins, dtype=np.int64), tables=np.array(tabs, dtype=np.uint64))
    return Netlist(n_inputs=42, layers=(layer,), outputs=np.arange(42, 54, dtype=np.int64),
                   group_sum=GroupSum(classes=1, tau=1.0))


def _luts(net: Netlist) -> int:
    return sum(len(layer.inputs) for layer in optimize(net, 2, lut_size=4).layers)


def test_pack_order_absorbs_a_small_gate_beside_two_bits_read_as_they_are() -> None:
    net = _partial_net()
    packed = head_groups(net, ICE40)
    assert packed is not None
    leaves = [packed[0][a:a + 3] for a in (0, 3, 6)]
    # each leaf gets one AND: its LUT goes away, the other two bits are read as they are
    assert sorted(sum(i < 3 for i in leaf) for leaf in leaves) == [1, 1, 1]
    # the control: in index order one leaf reads all three ANDs (six signals), so only one goes away
    plain = dataclasses.replace(ICE40, popcount_pack=False)
    assert head_groups(net, plain) is None
    assert _luts(fuse_head(net, ICE40)) == _luts(fuse_head(net, plain)) - 2
    _check_counts(net)



@pytest.mark.parametrize("wide", [8, 160])  # every triple looked at / above PACK_EXACT small bits
def test_pack_order_pairs_constant_bits_in_leaves(wide: int) -> None:
    """Two constant bits make a leaf of its third bit alone (count c + 2: the low bit is the bit, the high
    bit a constant), so constants go into leaves in pairs, beside a bit that nothing else absorbs: one class
    of LUTs of four inputs of their own (no two fit a LUT4 together) with a constant 1 after every second
    one. Every constant ends up in a leaf with another, and the fused, optimized head needs fewer LUTs than
    in index order (the control: the constants spread there)."""
    k = 4
    n_const = wide // 2
    ins = [[0, 1, 2, 3]] * n_const + [[4 * j + i for i in range(4)] for j in range(wide)]
    tabs = [_table(lambda a, b, c, d: 1, k)] * n_const + [_table(lambda a, b, c, d: (a ^ b) | (c & d), k)] * wide
    layer = Layer(k=k, inputs=np.array(ins, dtype=np.int64), tables=np.array(tabs, dtype=np.uint64))
    n_in = 4 * wide
    order = []
    for j in range(wide):  # w, w, c, w, w, c, ...
        order.append(n_in + n_const + j)
        if j % 2:
            order.append(n_in + j // 2)
    net = Netlist(n_inputs=n_in, layers=(layer,), outputs=np.array(order, dtype=np.int64),
                  group_sum=GroupSum(classes=1, tau=1.0))
    consts = {p for p, o in enumerate(order) if o < n_in + n_const}
    packed = head_groups(net, ICE40)
    assert packed is not None
    leaves, _ = head_layout(family_popcount(len(order), ICE40))
    in_leaves = [sum(packed[0][a] in consts for a in op.args) for op in leaves]
    assert sum(in_leaves) == n_const and set(in_leaves) <= {0, 2}, in_leaves
    plain = dataclasses.replace(ICE40, popcount_pack=False)
    assert _luts(fuse_head(net, ICE40)) < _luts(fuse_head(net, plain))
    _check_counts(net)

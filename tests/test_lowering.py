"""The compact convolutional form and its lowering: an independent direct-convolution
oracle (loops over positions and tree nodes, written from the docstring) against the
reference evaluator on the lowered netlist; structure of the lowering; refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lut2rtl.errors import NetlistError
from lut2rtl.evaluate import evaluate
from lut2rtl.lowering import (
    ConvNet,
    ConvStage,
    DenseStage,
    PoolStage,
    check_conv_net,
    cofactor_zero,
    lower,
    or_table,
)
from lut2rtl.netlist import GroupSum, table_depends_on


def lut(table: int, k: int, bits: list[int]) -> int:
    row = 0
    for b in bits:
        row = 2 * row + int(b)
    return (int(table) >> ((1 << k) - 1 - row)) & 1


def oracle(net: ConvNet, sample: np.ndarray) -> np.ndarray:
    """Direct evaluation of the compact form, one position and one tree node at a time."""
    x = [int(b) for b in sample]
    for s in net.stages:
        if isinstance(s, ConvStage):
            h, w, c = s.in_shape
            kh, kw = s.kernel
            oh_n, ow_n, kk = s.out_shape
            out = []
            for oh in range(oh_n):
                for ow in range(ow_n):
                    for o in range(kk):
                        vals = []
                        for r in s.leaves[o].tolist():
                            dy, dx, ch = r // (kw * c), (r // c) % kw, r % c
                            ih, iw = oh * s.stride - s.padding + dy, ow * s.stride - s.padding + dx
                            vals.append(x[(ih * w + iw) * c + ch] if 0 <= ih < h and 0 <= iw < w else 0)
                        for lv in range(s.depth):
                            vals = [lut(s.tables[lv][o, j], s.k, vals[j * s.k:(j + 1) * s.k])
                                    for j in range(len(vals) // s.k)]
                        out.append(vals[0])
            x = out
        elif isinstance(s, PoolStage):
            h, w, c = s.in_shape
            (ph, pw), st_ = s.kernel, s.stride
            oh_n, ow_n, _ = s.out_shape
            x = [max(x[((oh * st_ + dy) * w + ow * st_ + dx) * c + ch] for dy in range(ph) for dx in range(pw))
                 for oh in range(oh_n) for ow in range(ow_n) for ch in range(c)]
        else:
            x = [lut(t, s.k, [x[i] for i in idx]) for idx, t in zip(s.inputs.tolist(), s.tables.tolist())]
    return np.array(x, dtype=bool)


def random_conv_net(rng: np.random.Generator, *, h: int, w: int, c: int, kernel: int, stride: int, padding: int,
                    k: int, depth: int, channels: int, pool: int, dense: int) -> ConvNet:
    conv = ConvStage((h, w, c), (kernel, kernel), stride, padding, k, depth,
                     rng.integers(0, kernel * kernel * c, (channels, k ** depth)),
                     tuple(rng.integers(0, 1 << (1 << k), (channels, k ** (depth - 1 - lv)), dtype=np.uint64)
                           for lv in range(depth)))
    stages: list = [conv]
    shape = conv.out_shape
    if pool > 1 and min(shape[:2]) >= pool:
        stages.append(PoolStage(shape, (pool, pool), pool))
        shape = stages[-1].out_shape
    width = int(np.prod(shape))
    if dense:
        stages.append(DenseStage(2, rng.integers(0, width, (dense, 2)), rng.integers(0, 16, dense, dtype=np.uint64)))
    return ConvNet(h * w * c, tuple(stages))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), h=st.integers(2, 6), w=st.integers(2, 6), c=st.integers(1, 3),
       kernel=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 2), kd=st.sampled_from(
           [(2, 1), (2, 2), (2, 3), (3, 1), (4, 1), (6, 1)]), channels=st.integers(1, 3),
       pool=st.integers(1, 2), dense=st.integers(0, 5))
def test_lowering_equals_direct_convolution(seed, h, w, c, kernel, stride, padding, kd, channels, pool, dense):
    rng = np.random.default_rng(seed)
    kernel = min(kernel, h + 2 * padding, w + 2 * padding)
    net = random_conv_net(rng, h=h, w=w, c=c, kernel=kernel, stride=stride, padding=padding, k=kd[0],
                          depth=kd[1], channels=channels, pool=pool, dense=dense)
    flat = lower(net)
    bits = rng.integers(0, 2, (12, net.n_inputs)).astype(bool)
    got = evaluate(flat, bits).out_bits
    want = np.stack([oracle(net, b) for b in bits])
    assert np.array_equal(got, want)


def test_oracle_comparison_catches_a_wrong_table():
    """Negative control: one flipped row of one lowered conv LUT is seen by the oracle comparison."""
    rng = np.random.default_rng(3)
    net = random_conv_net(rng, h=5, w=5, c=2, kernel=3, stride=1, padding=1, k=2, depth=2, channels=3, pool=1,
                          dense=0)
    flat = lower(net)
    bits = rng.integers(0, 2, (64, net.n_inputs)).astype(bool)
    want = np.stack([oracle(net, b) for b in bits])
    assert np.array_equal(evaluate(flat, bits).out_bits, want)
    layers = list(flat.layers)
    top = layers[-1]
    tables = top.tables.copy()
    tables[7] ^= np.uint64(0b0110)  # two rows of one position's output gate
    layers[-1] = type(top)(k=top.k, inputs=top.inputs, tables=tables)
    bad = flat.replace(layers=tuple(layers), outputs=flat.outputs)
    assert not np.array_equal(evaluate(bad, bits).out_bits, want)


def test_lowering_structure_and_padding():
    rng = np.random.default_rng(0)
    net = random_conv_net(rng, h=4, w=4, c=2, kernel=3, stride=1, padding=1, k=2, depth=2, channels=3, pool=2,
                          dense=0)
    flat = lower(net)
    conv = net.stages[0]
    # one copy of each kernel tree per output position; levels are layers; pooling is one OR layer
    assert [layer.size for layer in flat.layers] == [16 * 3 * 2, 16 * 3, 2 * 2 * 3]
    assert [layer.k for layer in flat.layers] == [2, 2, 4]
    assert np.all(flat.layers[2].tables == np.uint64(or_table(4)))
    # the same tables at every position, except where padding folded a leaf in
    t0 = flat.layers[0].tables.reshape(16, 3, 2)
    interior = 5  # position (1, 1): every receptive-field pixel is inside
    assert np.array_equal(t0[interior], conv.tables[0])
    # a leaf that reads padding: its LUT ignores that input (rewired to signal 0)
    idx = flat.layers[0].inputs.reshape(16, 3, 2, 2)
    dep = table_depends_on(flat.layers[0].tables, 2).reshape(16, 3, 2, 2)
    corner_reads_pad = [(o, j, m) for o in range(3) for j in range(2) for m in range(2)
                        if (conv.leaves[o, j * 2 + m] // (3 * 2)) == 0]  # dy = 0: row -1 at position (0, 0)
    assert corner_reads_pad
    for o, j, m in corner_reads_pad:
        assert idx[0, o, j, m] == 0 and not dep[0, o, j, m]
    # deterministic
    again = lower(net)
    assert all(np.array_equal(a.inputs, b.inputs) and np.array_equal(a.tables, b.tables)
               for a, b in zip(flat.layers, again.layers))


def test_cofactor_and_or_tables_exhaustive():
    for k in (1, 2, 3, 4):
        tables = np.arange(1 << (1 << k), dtype=np.uint64) if k <= 3 else \
            np.random.default_rng(k).integers(0, 1 << 16, 200, dtype=np.uint64)
        for m in range(k):
            cof = cofactor_zero(tables, k, m)
            for t, c in zip(tables.tolist()[:64], cof.tolist()[:64]):
                for row in range(1 << k):
                    bits = [(row >> (k - 1 - i)) & 1 for i in range(k)]
                    zeroed = [0 if i == m else b for i, b in enumerate(bits)]
                    assert lut(c, k, bits) == lut(t, k, zeroed)
        for row in range(1 << k):
            bits = [(row >> (k - 1 - i)) & 1 for i in range(k)]
            assert lut(or_table(k), k, bits) == int(any(bits))


def _conv(shape=(6, 6, 2), kernel=(3, 3), stride=1, padding=1, channels=2, leaves=None):
    lv = np.zeros((channels, 4), np.int64) if leaves is None else leaves
    return ConvStage(shape, kernel, stride, padding, 2, 2, lv,
                     (np.zeros((channels, 2), np.uint64), np.zeros((channels, 1), np.uint64)))


@pytest.mark.parametrize("stages, n_in, pattern", [
    ((_conv(shape=(6, 6, 2)),), 70, r"stages\[0\] \(conv\): in_shape \(6, 6, 2\) holds 72 bits but its input has 70$"),
    ((_conv(), PoolStage((6, 6, 3), (2, 2), 2)), 72,
     r"stages\[1\] \(or_pool\): in_shape \(6, 6, 3\) \(H, W, C\) disagrees with the \(6, 6, 2\) the previous"),
    ((_conv(shape=(2, 2, 2), kernel=(5, 5), padding=1),), 8,
     r"stages\[0\] \(conv\): kernel 5x5 is larger than its input 2x2 \(padding 1\)$"),
    ((_conv(leaves=np.full((2, 4), 18)),), 72,
     r"stages\[0\] \(conv\), kernel 0: leaf 0 reads receptive-field bit 18, outside 0\.\.17 \(3x3x2\)$"),
    ((_conv(), PoolStage((6, 6, 2), (3, 3), 3)), 72, r"stages\[1\] \(or_pool\): a 3x3 window is 9 bits"),
    ((_conv(), DenseStage(2, np.array([[0, 72]]), np.array([1], np.uint64))), 72,
     r"stages\[1\] \(dense\), neuron 0: input 1 is 72, outside 0\.\.71$"),
])
def test_malformed_geometry_is_refused_naming_the_stage(stages, n_in, pattern):
    with pytest.raises(NetlistError, match=r"^m\.pt: " + pattern):
        check_conv_net(ConvNet(n_in, stages), where="m.pt")


def test_well_formed_geometry_passes():
    """The refusals above are not blanket: the same stages with fitting geometry lower."""
    net = ConvNet(72, (_conv(), PoolStage((6, 6, 2), (2, 2), 2),
                       DenseStage(2, np.array([[0, 17]] * 10), np.ones(10, np.uint64))),
                  group_sum=GroupSum(10))
    assert lower(net).n_luts == 36 * 2 * 3 + 18 + 10

"""Logic convolution, OR pooling and the conv network in torch: eval mode == the lowered
netlist (reference evaluator) on every output bit, for every method; weights shared
across positions; training moves them; geometry refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lut2rtl.errors import NetlistError
from lut2rtl.evaluate import evaluate
from lut2rtl.lowering import lower
from lut2rtl.nn.conv import ConvLogicNet, LogicConv2d, OrPool2d, build_conv_net, draw_leaves

CASES = [("dlgn", 2, 2), ("gumbel", 2, 3), ("light", 2, 2), ("light", 4, 1), ("warp", 2, 2), ("warp", 6, 1)]


def torch_bits(net: ConvLogicNet, bits: np.ndarray) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        out = net.output_bits(torch.from_numpy(bits.astype(np.float32)))
    assert torch.all((out == 0) | (out == 1))
    return out.numpy() > 0.5


def train_a_little(net: ConvLogicNet, bits: np.ndarray, steps: int = 3) -> None:
    """A few steps on random labels, so the tables are not all at their init."""
    opt = torch.optim.Adam(net.parameters(), lr=0.5)
    x = torch.from_numpy(bits.astype(np.float32))
    y = torch.randint(0, net.group_sum.classes, (x.shape[0],), generator=torch.Generator().manual_seed(0))
    net.train()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(net.forward_bits(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("method, k, depth", CASES)
@pytest.mark.parametrize("stride, padding, pool", [(1, 1, 2), (2, 1, 1)])
def test_eval_forward_equals_lowered_netlist(method, k, depth, stride, padding, pool):
    torch.manual_seed(1)
    net = build_conv_net(method, (7, 6, 3), [5, 4], [20], classes=4, tau=1.0, k=k, depth=depth, pool=pool, dense_k=2,
                         padding=padding, stride=stride, seed=2, layer_options={"init": "random"})
    bits = np.random.default_rng(0).integers(0, 2, (256, 7 * 6 * 3)).astype(bool)
    train_a_little(net, bits)
    flat = net.to_netlist()
    got = evaluate(flat, bits)
    assert np.array_equal(got.out_bits, torch_bits(net, bits))
    # the class scores too (GroupSum over the same bits)
    with torch.no_grad():
        scores = net.forward_bits(torch.from_numpy(bits.astype(np.float32)))
    assert np.array_equal(scores.argmax(-1).numpy(), got.pred)


def test_comparison_catches_a_corrupted_kernel():
    """Negative control: one table of one kernel changed in the compact form is seen on the outputs."""
    torch.manual_seed(0)
    net = build_conv_net("light", (6, 6, 2), [4], [], classes=4, tau=1.0, pool=1, seed=0,
                         layer_options={"init": "random"})
    bits = np.random.default_rng(1).integers(0, 2, (128, 72)).astype(bool)
    want = torch_bits(net, bits)
    conv = net.to_conv_net()
    assert np.array_equal(evaluate(lower(conv), bits).out_bits, want)
    stage = conv.stages[0]
    top = stage.tables[-1].copy()
    top[2, 0] ^= np.uint64(0b1001)
    bad = type(conv)(conv.n_inputs, (type(stage)(stage.in_shape, stage.kernel, stage.stride, stage.padding,
                                                 stage.k, stage.depth, stage.leaves, (*stage.tables[:-1], top)),),
                     group_sum=conv.group_sum)
    assert not np.array_equal(evaluate(lower(bad), bits).out_bits, want)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), method=st.sampled_from(["dlgn", "gumbel", "light", "warp"]),
       h=st.integers(3, 7), w=st.integers(3, 7), c=st.integers(1, 3), kernel=st.integers(1, 3),
       stride=st.integers(1, 2), padding=st.integers(0, 1), channels=st.integers(2, 4), pool=st.integers(1, 2))
def test_random_conv_nets_are_bit_exact(seed, method, h, w, c, kernel, stride, padding, channels, pool):
    torch.manual_seed(seed)
    k, depth = (2, 2) if method in ("dlgn", "gumbel") else [(2, 2), (3, 1), (4, 1)][seed % 3]
    net = build_conv_net(method, (h, w, c), [channels], [8], classes=2, tau=1.0, kernel=kernel, stride=stride,
                         padding=padding, k=k, depth=depth, pool=pool, dense_k=2, seed=seed,
                         layer_options={"init": "random"})
    bits = np.random.default_rng(seed).integers(0, 2, (64, h * w * c)).astype(bool)
    assert np.array_equal(evaluate(net.to_netlist(), bits).out_bits, torch_bits(net, bits))


def test_weights_are_shared_across_positions():
    torch.manual_seed(0)
    leaves = draw_leaves(np.random.default_rng(0), 27, 6, 4)
    small = LogicConv2d("light", (4, 4, 3), leaves, kernel=3, padding=1)
    large = LogicConv2d("light", (12, 12, 3), leaves, kernel=3, padding=1)
    n_small = sum(p.numel() for p in small.parameters())
    assert n_small == sum(p.numel() for p in large.parameters()) == 6 * (2 + 1) * 4  # 3 gates x 4 logits
    assert small.out_shape == (4, 4, 6) and large.out_shape == (12, 12, 6)


def test_training_changes_the_kernels_and_the_gradient_reaches_every_level():
    torch.manual_seed(0)
    net = build_conv_net("dlgn", (8, 8, 3), [8], [40], classes=10, tau=2.0, seed=0)
    before = [t.copy() for t in net.to_conv_net().stages[0].tables]
    x = torch.randint(0, 2, (64, 192)).float()
    loss = net.forward_bits(x).logsumexp(-1).mean()
    loss.backward()
    conv = net.layers[0]
    assert all(level.weight.grad is not None and level.weight.grad.abs().sum() > 0 for level in conv.levels)
    train_a_little(net, x.numpy().astype(bool), steps=20)
    after = net.to_conv_net().stages[0].tables
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_or_pool_is_a_window_or():
    pool = OrPool2d((4, 6, 2), 2)
    x = torch.randint(0, 2, (16, 48)).float()
    y = pool(x).numpy()
    xi = x.numpy().reshape(16, 4, 6, 2)
    want = np.stack([xi[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2, :].max(axis=(1, 2))
                     for i in range(2) for j in range(3)], axis=1).reshape(16, -1)
    assert pool.out_shape == (2, 3, 2) and np.array_equal(y, want)


def test_layer_geometry_refusals():
    leaves = np.zeros((2, 4), np.int64)
    with pytest.raises(NetlistError, match=r"^LogicConv2d: stages\[0\] \(conv\): kernel 5x5 is larger than its input"):
        LogicConv2d("dlgn", (3, 3, 1), leaves, kernel=5)
    with pytest.raises(NetlistError, match=r"leaf 0 reads receptive-field bit 9, outside 0\.\.8"):
        LogicConv2d("dlgn", (3, 3, 1), np.full((2, 4), 9), kernel=3)
    with pytest.raises(NetlistError, match=r"^OrPool2d: stages\[0\] \(or_pool\): kernel 4x4 is larger"):
        OrPool2d((3, 3, 1), 4)
    with pytest.raises(ValueError, match="not a multiple of the 10 classes"):
        build_conv_net("dlgn", (8, 8, 3), [4], [45], classes=10, tau=1.0)

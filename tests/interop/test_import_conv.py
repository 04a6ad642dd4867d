"""torchlogix LogicConv2d / OrPooling2d import: predictions, counts and every output bit equal
the torchlogix forward (restated in the stand-ins) on 2,000 samples; refusals name the layer."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch

from lut2rtl.checkpoint import load_checkpoint, load_conv_net
from lut2rtl.evaluate import evaluate
from lut2rtl.interop import InteropError, import_compact, import_torchlogix
from lut2rtl.lowering import ConvNet

from . import conv_standins as C

N = 2000


def bits_and_hwc(seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    x = torch.randint(0, 2, (N, 2, 8, 8), generator=torch.Generator().manual_seed(seed)).double()
    return x, x.permute(0, 2, 3, 1).reshape(N, -1).numpy().astype(bool)


@pytest.mark.parametrize("parametrization, lut_rank, tree_depth", [
    ("raw", 2, 2), ("raw", 2, 3), ("light", 2, 2), ("light", 4, 1), ("walsh", 2, 2), ("walsh", 4, 1)])
def test_conv_import_equals_torchlogix_forward(parametrization, lut_rank, tree_depth):
    model = C.conv_model(parametrization, seed=1, lut_rank=lut_rank, tree_depth=tree_depth)
    x, x_hwc = bits_and_hwc()
    want_bits, want_counts, want_pred = C.conv_forward(model, x, 4)
    net = import_torchlogix(model)
    got = evaluate(net, x_hwc)
    assert np.array_equal(got.out_bits, want_bits)
    assert np.array_equal(got.counts, want_counts) and np.array_equal(got.pred, want_pred)
    # the comparison sees information: output bits that differ between samples (random gates behind
    # OR pooling saturate many of them)
    assert (want_bits.any(0) & ~want_bits.all(0)).sum() >= 3


def test_groupsum_straight_after_pooling_keeps_torchlogix_order():
    """No dense layer: the GroupSum reads the flattened (C, H, W) bits; the importer reorders them."""
    model = C.conv_model("raw", seed=2, dense=False)
    x, x_hwc = bits_and_hwc(1)
    want_bits, want_counts, _ = C.conv_forward(model, x, 2)
    got = evaluate(import_torchlogix(model), x_hwc)
    assert np.array_equal(got.out_bits, want_bits) and np.array_equal(got.counts, want_counts)


def test_comparison_catches_a_changed_kernel_and_a_wrong_layout():
    """Negative controls: one kernel node's gate changed after import, and the input read in
    torchlogix's (C, H, W) order instead of channel-innermost, both change the outputs."""
    model = C.conv_model("raw", seed=3)
    x, x_hwc = bits_and_hwc(2)
    want_bits, _, _ = C.conv_forward(model, x, 4)
    assert np.array_equal(evaluate(import_torchlogix(model), x_hwc).out_bits, want_bits)
    assert not np.array_equal(evaluate(import_torchlogix(model), x.reshape(N, -1).numpy().astype(bool)).out_bits,
                              want_bits)
    with torch.no_grad():
        w = model[0].tree_weights[1]  # the top gate of every kernel of the first conv
        w[0, 0] = 0.0
        w[0, 0, int(w.new_zeros(1).long()) + 6] = 9.0  # kernel 0 becomes XOR
    changed = evaluate(import_torchlogix(model), x_hwc).out_bits
    assert np.array_equal(changed, C.conv_forward(model, x, 4)[0])
    assert not np.array_equal(changed, want_bits)


def test_import_file_writes_version_2(tmp_path, monkeypatch):
    """A whole pickled model (classes under ``torchlogix.*``), read with the inert stand-ins."""
    model = C.conv_model("walsh", seed=4, lut_rank=4, tree_depth=1)
    fake = types.ModuleType("torchlogix")
    for cls in {type(m) for m in model.modules()} | {type(m.parametrization) for m in model
                                                     if hasattr(m, "parametrization")}:
        if cls.__module__.startswith("tests."):
            monkeypatch.setattr(cls, "__module__", "torchlogix")
            setattr(fake, cls.__qualname__, cls)
    monkeypatch.setitem(sys.modules, "torchlogix", fake)
    src = tmp_path / "tl.pt"
    torch.save(model, src)
    monkeypatch.delitem(sys.modules, "torchlogix")
    from lut2rtl.interop import import_file

    net = import_file("torchlogix", src, tmp_path / "out.pt")
    assert isinstance(load_conv_net(tmp_path / "out.pt"), ConvNet)
    x, x_hwc = bits_and_hwc(3)
    want_bits, _, _ = C.conv_forward(model, x, 4)
    assert np.array_equal(evaluate(load_checkpoint(tmp_path / "out.pt"), x_hwc).out_bits, want_bits)
    assert np.array_equal(evaluate(net, x_hwc).out_bits, want_bits)


def _refused(model, pattern):
    with pytest.raises(InteropError, match=pattern):
        import_compact(model, "torchlogix")


def test_conv_refusals_name_the_layer():
    g = torch.Generator().manual_seed(0)
    m = C.conv_model("raw")
    m[0].conv_dimension = 3
    _refused(m, r"^model: layer '0' \(LogicConv2d\): conv_dimension=3: only 2-D convolutions")
    m = C.conv_model("raw")
    m[3].padding = 1
    _refused(m, r"^model: layer '3' \(OrPooling2d\): padding=1: OR pooling with padding is not supported")
    m = C.conv_model("raw")
    m[2] = C.LogicConv2d((4, 4), 5, 8, g)  # reads 5 channels, the layer before makes 6
    _refused(m, r"^model: layer '2' \(LogicConv2d\): reads 5 channels of 4x4 .* produces 6 of 4x4")
    m = C.conv_model("raw")
    m[0].connections.indices[0][0, 0, 1, 0, 0] += 1  # one position not a slid copy of the first
    _refused(m, r"layer '0' \(LogicConv2d\): connections\.indices\[0\] is not one receptive field slid")
    m = C.conv_model("raw")
    m[2].in_dim = (2, 2)  # a 3x3 kernel over a 2x2 input (no padding)
    _refused(m, r"^model: layer '2' \(LogicConv2d\): kernel 3x3 is larger than its input 2x2 \(padding 0\)$")
    m = C.conv_model("raw")
    m[5].connections.indices = m[5].connections.indices + 8  # past the 8 flattened bits
    _refused(m, r"^model: layer '5' \(LogicDense\): reads input 15, outside the 8 flattened outputs")

from __future__ import annotations

import numpy as np
import pytest
import torch

from lut2rtl.checkpoint import load_checkpoint, save_checkpoint
from lut2rtl.datasets import load_digits, thermometer_thresholds
from lut2rtl.evaluate import evaluate, evaluate_features
from lut2rtl.netlist import check_netlist
from lut2rtl.nn.model import build_logic_net

CASES = [("dlgn", 2), ("gumbel", 2), ("light", 2), ("light", 3), ("light", 4), ("light", 6),
         ("warp", 2), ("warp", 4), ("warp", 6)]


def _torch_outputs(model, bits: np.ndarray):
    model.eval()
    with torch.no_grad():
        b = torch.from_numpy(bits.astype(np.float32))
        out = model.output_bits(b)
        counts = model.group_sum.counts(out)
        scores = model.forward_bits(b)
    return out.numpy(), counts.numpy(), scores.argmax(-1).numpy()


def _trained_a_little(model, n_in: int, steps: int = 5) -> None:
    # move the parameters away from init so the tables are varied
    opt = torch.optim.Adam(model.parameters(), lr=0.5)
    model.train()
    for _ in range(steps):
        x = torch.randint(0, 2, (32, n_in)).float()
        loss = torch.nn.functional.cross_entropy(model.forward_bits(x), torch.randint(0, 5, (32,)))
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("method,k", CASES)
def test_eval_mode_equals_reference_evaluator(method, k, rng):
    torch.manual_seed(3)
    model = build_logic_net(method, 24, [60, 40, 20], k, classes=5, tau=2.0, seed=4,
                            layer_options={"init": "random"})
    _trained_a_little(model, 24)
    net = model.to_netlist({"method": method})
    check_netlist(net)
    assert net.is_layered() and [layer.k for layer in net.layers] == [k, k, k]
    bits = rng.integers(0, 2, size=(700, 24)).astype(bool)
    out, counts, pred = _torch_outputs(model, bits)
    ref = evaluate(net, bits)
    assert np.array_equal(out.astype(bool), ref.out_bits)
    assert np.array_equal(counts.astype(np.int64), ref.counts.astype(np.int64))
    assert np.array_equal(pred, ref.pred)
    assert 0 < out.mean() < 1  # not a degenerate constant network


@pytest.mark.parametrize("method", ["dlgn", "light", "warp"])
def test_tiny_net_exhaustive_mixed_k(method):
    torch.manual_seed(0)
    ks = [2, 2] if method == "dlgn" else [3, 2, 4]
    widths = [12, 8] if method == "dlgn" else [12, 8, 4]
    model = build_logic_net(method, 8, widths, ks, classes=2, tau=1.0, seed=1, layer_options={"init": "random"})
    net = model.to_netlist()
    bits = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(bool)  # all 2^8 inputs
    out, counts, pred = _torch_outputs(model, bits)
    ref = evaluate(net, bits)
    assert np.array_equal(out.astype(bool), ref.out_bits)
    assert np.array_equal(pred, ref.pred)


def test_mixed_methods_per_layer(rng):
    torch.manual_seed(0)
    model = build_logic_net(["gumbel", "light", "warp"], 16, [30, 20, 10], [2, 3, 4], classes=2, tau=1.0,
                            seed=2, layer_options={"init": "random"})
    net = model.to_netlist()
    bits = rng.integers(0, 2, size=(200, 16)).astype(bool)
    out, _, pred = _torch_outputs(model, bits)
    assert np.array_equal(out.astype(bool), evaluate(net, bits).out_bits)


def test_encoder_and_save_load_same_predictions(tmp_path):
    d = load_digits()
    thr = thermometer_thresholds(d.x_train, 2, feature_range=d.feature_range)
    torch.manual_seed(0)
    model = build_logic_net("light", thr.n_bits, [100, 50], 2, classes=10, tau=3.0, thresholds=thr.thresholds,
                            layer_options={"init": "random"})
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(d.x_test)).argmax(-1).numpy()
    net = model.to_netlist({"method": "light"})
    assert np.array_equal(net.encoder.thresholds, thr.thresholds)
    assert np.array_equal(evaluate_features(net, d.x_test).pred, pred)
    p = tmp_path / "m.pt"
    save_checkpoint(net, p)
    back = load_checkpoint(p)
    assert back.metadata["method"] == "light"
    assert np.array_equal(evaluate_features(back, d.x_test).pred, pred)


def test_wiring_is_a_buffer_in_state_dict():
    torch.manual_seed(0)
    model = build_logic_net("dlgn", 10, [10, 10], 2, classes=2, tau=1.0, seed=5)
    sd = model.state_dict()
    assert "layers.0.idx" in sd and "layers.1.idx" in sd
    other = build_logic_net("dlgn", 10, [10, 10], 2, classes=2, tau=1.0, seed=6)
    other.load_state_dict(sd)
    assert torch.equal(other.layers[0].idx, model.layers[0].idx)


def test_build_errors():
    with pytest.raises(ValueError, match="multiple of the 3 classes"):
        build_logic_net("dlgn", 10, [10, 10], 2, classes=3, tau=1.0)
    with pytest.raises(ValueError, match="unknown method"):
        build_logic_net("nope", 10, [10, 10], 2, classes=2, tau=1.0)


def test_warp_options_reach_the_layers():
    """noise and hard are passed through build_logic_net (the train config and the CLI rely on it)."""
    from lut2rtl.nn.model import build_logic_net

    for noise in (True, False):
        for hard in (True, False):
            net = build_logic_net("warp", 12, [20, 20], 2, classes=2, tau=1.0,
                                  layer_options={"noise": noise, "hard": hard, "init": "residual"})
            assert all(layer.noise is noise and layer.hard_forward is hard for layer in net.layers)
    # options of other methods are not passed to layers that do not take them
    net = build_logic_net("dlgn", 12, [20], 2, classes=2, tau=1.0, layer_options={"noise": False})
    assert net.layers[0].method == "dlgn"

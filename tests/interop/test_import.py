"""Imported checkpoints reproduce the source model's discrete forward (computed
by the stand-ins with the tools' own formulas) on every output bit and class."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest
import torch
from torch import nn

from lut2rtl.checkpoint import load_checkpoint, save_checkpoint
from lut2rtl.datasets import load_digits
from lut2rtl.evaluate import evaluate, evaluate_features
from lut2rtl.interop import InteropError, import_difflogic, import_torchlogix
from lut2rtl.interop._load import load_model_file

from . import standins as S

N = 512


def _check_bits(net, model, classes, n_in, seed=1):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(N, n_in)).astype(bool)
    want_bits, want_counts, want_pred = S.discrete_forward(model, torch.from_numpy(bits.astype(np.float64)), classes)
    got = evaluate(net, bits)
    assert np.array_equal(got.out_bits, want_bits)
    assert np.array_equal(got.counts, want_counts)
    assert np.array_equal(got.pred, want_pred)


def _check_features(net, model, classes, n_features, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 16, size=(N, n_features)).astype(np.float32)
    x[: N // 4] = np.round(x[: N // 4])  # exact ties with thresholds are possible too
    want_bits, want_counts, want_pred = S.discrete_forward(model, torch.from_numpy(x), classes)
    got = evaluate_features(net, x)
    assert np.array_equal(got.out_bits, want_bits)
    assert np.array_equal(got.counts, want_counts)
    assert np.array_equal(got.pred, want_pred)


# -- difflogic ---------------------------------------------------------------

def test_difflogic_module_object():
    model = S.difflogic_model([60, 40, 30], 24, 5, seed=3)
    net = import_difflogic(model)
    assert net.n_inputs == 24 and [layer.size for layer in net.layers] == [60, 40, 30]
    assert net.group_sum.classes == 5 and net.group_sum.tau == 10.0 and net.group_sum.beta == 0.0
    assert net.metadata["imported_from"] == "difflogic"
    _check_bits(net, model, 5, 24)


def test_difflogic_state_dict_plus_indices(tmp_path):
    model = S.difflogic_model([50, 20], 16, 4, seed=4)
    sd = model.state_dict()
    assert not any("indices" in k for k in sd)  # the wiring really is missing
    with pytest.raises(InteropError, match=r"^model: layer '1': no wiring"):
        import_difflogic(sd, classes=4)
    idx = [m.indices for m in model if isinstance(m, S.LogicLayer)]
    net = import_difflogic(sd, indices=idx, classes=4, tau=10.0)
    _check_bits(net, model, 4, 16)
    # a dict keyed by layer name works as well, and the checkpoint round-trips
    net2 = import_difflogic(sd, indices={"1": idx[0], "2.weights": idx[1]}, classes=4)
    p = tmp_path / "m.pt"
    save_checkpoint(net2, p)
    _check_bits(load_checkpoint(p), model, 4, 16)


def test_difflogic_pickled_model_read_without_the_package(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg" / "difflogic"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "import torch\n"
        "class LogicLayer(torch.nn.Module):\n"
        "    def __init__(self, i, o, g):\n"
        "        super().__init__()\n"
        "        self.weights = torch.nn.Parameter(torch.randn(o, 16, generator=g))\n"
        "        c = torch.randint(0, i, (2, o), generator=g)\n"
        "        self.indices = (c[0], c[1]); self.in_dim = i; self.out_dim = o\n"
        "class GroupSum(torch.nn.Module):\n"
        "    def __init__(self, k, tau=1.0):\n"
        "        super().__init__(); self.k = k; self.tau = tau\n"
        "    def forward(self, x):\n"
        "        raise RuntimeError('foreign code must not run')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    import difflogic  # the fake package, only to write the pickle

    g = torch.Generator().manual_seed(5)
    model = nn.Sequential(nn.Flatten(), difflogic.LogicLayer(12, 30, g), difflogic.LogicLayer(30, 20, g),
                          difflogic.GroupSum(np.int64(4), np.float64(2.0)))  # numpy scalars pickle too
    p = tmp_path / "model.pt"
    torch.save(model, p)
    monkeypatch.delitem(sys.modules, "difflogic")
    net = import_difflogic(load_model_file(p))
    # the reference: the same weights through the stand-in formulas
    ref = nn.Sequential(*[S.LogicLayer(1, 1, g) for _ in range(2)])
    for dst, src in zip(ref, list(model)[1:3]):
        dst.weights = src.weights
        dst.indices = src.indices
    ref.append(S.GroupSum(4))
    _check_bits(net, ref, 4, 12)
    assert net.group_sum.tau == 2.0


def test_pickle_with_other_classes_refused(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"x": torch.zeros(2), "f": np.random.default_rng}, p)
    with pytest.raises(InteropError, match=r"not a difflogic/torchlogix/torch\.nn class"):
        load_model_file(p)


# -- torchlogix --------------------------------------------------------------

@pytest.mark.parametrize("parametrization,k", [("raw", 2), ("light", 2), ("light", 4), ("light", 6),
                                               ("walsh", 2), ("walsh", 4), ("walsh", 6)])
def test_torchlogix_parametrizations(parametrization, k):
    model = S.torchlogix_model([64, 40], 8, 3, 4, parametrization=parametrization, lut_rank=k, seed=k)
    net = import_torchlogix(model)
    assert all(layer.k == k for layer in net.layers)
    assert net.encoder is not None and net.encoder.thresholds.shape == (8, 3)
    assert net.group_sum.classes == 4 and net.group_sum.tau == 3.0 and net.group_sum.beta == 0.5
    assert net.metadata["parametrization"] == [parametrization]
    _check_features(net, model, 4, 8)


def test_torchlogix_global_thresholds_expand_per_feature():
    model = S.torchlogix_model([30, 20], 6, 4, 2, global_thresholds=True, seed=9)
    net = import_torchlogix(model)
    assert net.encoder.thresholds.shape == (6, 4)
    _check_features(net, model, 2, 6)


def test_torchlogix_walsh_exact_zero_sums():
    # residual-style coefficients give z == 0 exactly on some rows: output 0 (z < 0 is false)
    model = S.torchlogix_model([16, 8], 4, 2, 2, parametrization="walsh", seed=1)
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([0.5, 0.5, 0.0, 0.0]).repeat(16, 1))
    net = import_torchlogix(model)
    _check_features(net, model, 2, 4)


@pytest.mark.parametrize("parametrization", ["raw", "walsh"])
def test_torchlogix_legacy_layer(parametrization):
    g = torch.Generator().manual_seed(11)
    model = nn.Sequential(S.LegacyLogicDense(10, 24, g, parametrization),
                          S.LegacyLogicDense(24, 12, g, parametrization), S.GroupSum(3, 1.0))
    net = import_torchlogix(model)
    _check_bits(net, model, 3, 10)


def test_torchlogix_state_dict_needs_parametrization(caplog):
    model = S.torchlogix_model([32, 16], 4, 2, 4, parametrization="light", seed=2)
    sd = model.state_dict()
    idx = [m.connections.indices for m in model if isinstance(m, S.LogicDense)]
    with pytest.raises(InteropError, match=r"cannot tell the parametrization"):
        import_torchlogix(sd, indices=idx, classes=4)
    net = import_torchlogix(sd, indices=idx, parametrization="light", classes=4, tau=3.0, beta=0.5)
    _check_features(net, model, 4, 4)


def test_walsh_near_tie_warns(caplog):
    model = S.torchlogix_model([8, 4], 2, 2, 2, parametrization="walsh", seed=3)
    with torch.no_grad():
        # c_1 is the float32 just below 1: z = c_0 - c_1 is one ulp on two rows
        c1 = float(torch.tensor(1.0).nextafter(torch.tensor(0.0)))
        model[2].weight.copy_(torch.tensor([1.0, c1, 0.0, 0.0]).repeat(8, 1))
    with caplog.at_level(logging.WARNING, logger="lut2rtl.interop"):
        import_torchlogix(model)
    assert "float32 rounding" in caplog.text


# -- errors -----------------------------------------------------------------

def test_error_convolution_from_difflogic():
    """Convolutions are read from torchlogix models (tests/interop/test_import_conv.py), not difflogic's."""
    model = nn.Sequential(S.LogicConv2d(), S.GroupSum(2))
    with pytest.raises(InteropError, match=r"^model: convolutional layers are read from torchlogix models only"):
        import_difflogic(model)


def test_error_learnable_connections():
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(S.LogicDense(8, 4, g, learnable=True), S.GroupSum(2))
    with pytest.raises(InteropError, match=r"layer '0' \(LogicDense\): learnable connections are not supported"):
        import_torchlogix(model)


def test_error_unknown_parametrization():
    g = torch.Generator().manual_seed(0)
    layer = S.LogicDense(8, 4, g)

    class FancyLUTParametrization:
        lut_rank = 2

    layer.parametrization = FancyLUTParametrization()
    with pytest.raises(InteropError, match=r"layer '0' \(LogicDense\): unknown parametrization Fancy"):
        import_torchlogix(nn.Sequential(layer))


def test_error_mismatched_shapes():
    g = torch.Generator().manual_seed(0)
    layer = S.LogicDense(8, 4, g, parametrization="light", lut_rank=4)
    layer.weight = nn.Parameter(torch.randn(4, 8))
    with pytest.raises(InteropError, match=r"weights have shape \(4, 8\), expected \(4, 16\) for 'light'"):
        import_torchlogix(nn.Sequential(layer))
    model = S.difflogic_model([10, 6], 8, 2)
    model[2].indices = (model[2].indices[0][:3], model[2].indices[1][:3])
    with pytest.raises(InteropError, match=r"layer '2' \(LogicLayer\): indices has shape \(2, 3\), expected \(k, 6\)"):
        import_difflogic(model)


def test_error_index_out_of_range_and_in_dim():
    model = S.difflogic_model([10, 6], 8, 2)
    model[2].indices = (model[2].indices[0] + 10, model[2].indices[1])
    with pytest.raises(InteropError, match=r"^model: logic layer 1, neuron 0: input 0 is \d+, outside 0\.\.9$"):
        import_difflogic(model)


def test_error_group_sum_does_not_divide():
    model = S.difflogic_model([10, 6], 8, 4)
    with pytest.raises(InteropError, match=r"GroupSum k=4 does not divide the 6 outputs"):
        import_difflogic(model)


def test_error_learnable_thresholds_and_unknown_layer():
    model = S.torchlogix_model([8, 4], 2, 2, 2)

    class LearnableBinarization(nn.Module):
        def __init__(self):
            super().__init__()
            self.raw_diffs = nn.Parameter(torch.ones(2, 2))

    model[0] = LearnableBinarization()
    with pytest.raises(InteropError, match=r"layer '0' \(LearnableBinarization\): learnable thresholds"):
        import_torchlogix(model)
    with pytest.raises(InteropError, match=r"layer '1' \(ReLU\): unsupported layer type"):
        import_difflogic(nn.Sequential(S.difflogic_model([4], 4, 2)[1], nn.ReLU()))


def test_input_width_of_a_state_dict(caplog):
    model = S.difflogic_model([10, 6], 8, 2, seed=1)
    sd = model.state_dict()
    idx = [torch.stack(m.indices) % 5 for m in model if isinstance(m, S.LogicLayer)]  # inputs 5..7 unused
    with caplog.at_level(logging.WARNING, logger="lut2rtl.interop"):
        net = import_difflogic(sd, indices=idx, classes=2)
    assert net.n_inputs == 5 and "input width is not recorded" in caplog.text
    assert import_difflogic(sd, indices=idx, classes=2, n_inputs=8).n_inputs == 8
    with pytest.raises(InteropError, match=r"not the 9 inputs given"):
        import_difflogic(model, n_inputs=9)


def test_torch_layers_with_weights_are_not_logic():
    with pytest.raises(InteropError, match=r"layer '0' \(Linear\): unsupported layer type"):
        import_torchlogix(nn.Sequential(nn.Linear(4, 4)))


def test_error_not_a_model():
    with pytest.raises(InteropError, match=r"expected a model \(nn.Module\) or a state dict, got list"):
        import_difflogic([1, 2])
    with pytest.raises(InteropError, match=r"no logic layers found"):
        import_difflogic(nn.Sequential(nn.Flatten()))


def test_torchlogix_pickled_model_read_without_the_package(tmp_path, monkeypatch):
    # a fake torchlogix package with the current layout: parametrization objects
    # (plain classes) and a connections sub-module holding `indices` [k, n]
    pkg = tmp_path / "pkg" / "torchlogix"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "import torch\n"
        "class WalshLUTParametrization:\n"
        "    def __init__(self, k): self.lut_rank = k\n"
        "class FixedDenseConnections(torch.nn.Module):\n"
        "    def __init__(self, i, o, k, g):\n"
        "        super().__init__(); self.indices = torch.randint(0, i, (k, o), generator=g)\n"
        "class LogicDense(torch.nn.Module):\n"
        "    def __init__(self, i, o, k, g):\n"
        "        super().__init__()\n"
        "        self.in_dim, self.out_dim, self.lut_rank = i, o, k\n"
        "        self.parametrization = WalshLUTParametrization(k)\n"
        "        self.weight = torch.nn.Parameter(torch.randn(o, 1 << k, generator=g))\n"
        "        self.connections = FixedDenseConnections(i, o, k, g)\n"
        "class FixedBinarization(torch.nn.Module):\n"
        "    def __init__(self, t):\n"
        "        super().__init__(); self.register_buffer('thresholds', t); self.feature_dim = -2\n"
        "class GroupSum(torch.nn.Module):\n"
        "    def __init__(self, k, tau=1.0, beta=0.0):\n"
        "        super().__init__(); self.k, self.tau, self.beta = k, tau, beta\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    import torchlogix as tl  # the fake package, only to write the pickle

    g = torch.Generator().manual_seed(8)
    th = torch.sort(torch.rand(6, 3, generator=g) * 16, dim=-1).values
    model = nn.Sequential(tl.FixedBinarization(th), nn.Flatten(), tl.LogicDense(18, 24, 4, g),
                          tl.LogicDense(24, 12, 4, g), tl.GroupSum(3, 2.0, 1.0))
    p = tmp_path / "model.pt"
    torch.save(model, p)
    monkeypatch.delitem(sys.modules, "torchlogix")
    net = import_torchlogix(load_model_file(p))
    assert net.group_sum.tau == 2.0 and net.group_sum.beta == 1.0
    ref = S.torchlogix_model([24, 12], 6, 3, 3, parametrization="walsh", lut_rank=4)
    ref[0].thresholds = th
    for dst, src in zip(ref[2:4], model[2:4]):
        dst.weight = src.weight
        dst.connections.indices = src.connections.indices
    _check_features(net, ref, 3, 6)


def _trained_example():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples"
    for name in ("digits.pt", "random_digits.pt"):
        if (root / name).is_file():
            return load_checkpoint(root / name)
    pytest.fail("no example checkpoint in examples/")


def test_round_trip_of_a_trained_network():
    """examples/digits.pt written in difflogic's and torchlogix's layouts imports back identically."""
    net = _trained_example()
    assert net.is_layered() and all(layer.k == 2 for layer in net.layers)
    g = torch.Generator().manual_seed(0)
    dl = nn.Sequential(nn.Flatten())
    tl_sd = {"0.thresholds": torch.from_numpy(net.encoder.thresholds.copy())}
    tl_idx = []
    for l, layer in enumerate(net.layers):
        base = 0 if l == 0 else net.offsets[l - 1]
        local = torch.from_numpy(layer.inputs - base)
        logits = torch.randn(layer.size, 16, generator=g)  # argmax lands on the gate id
        logits[torch.arange(layer.size), torch.from_numpy(layer.tables.astype(np.int64))] = 10.0
        m = S.LogicLayer(1, 1, g)
        m.weights, m.indices = nn.Parameter(logits), (local[:, 0], local[:, 1])
        m.in_dim, m.out_dim = (net.n_inputs if l == 0 else net.layers[l - 1].size), layer.size
        dl.append(m)
        tl_sd[f"{l + 2}.weight"] = logits
        tl_idx.append(local.T.contiguous())
    gs = net.group_sum
    dl.append(S.GroupSum(gs.classes, gs.tau))
    back_dl = import_difflogic(dl)
    back_tl = import_torchlogix(tl_sd, indices=tl_idx, classes=gs.classes, tau=gs.tau, parametrization="raw")
    for back in (back_dl, back_tl):
        assert back.n_inputs == net.n_inputs and back.group_sum.classes == gs.classes
        for a, b in zip(net.layers, back.layers):
            assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.tables, b.tables)
    assert np.array_equal(back_tl.encoder.thresholds, net.encoder.thresholds)
    d = load_digits()
    assert np.array_equal(evaluate_features(back_tl, d.x_test).pred, evaluate_features(net, d.x_test).pred)

from __future__ import annotations

import numpy as np
import pytest
import torch

from lut2rtl.datasets import load_digits, thermometer_thresholds
from lut2rtl.netlist import rows_to_table, table_to_rows, truth_table_rows
from lut2rtl.nn.layers import (
    DLGNLayer,
    GroupSumLayer,
    GumbelLayer,
    LightLayer,
    ThermometerEncoder,
    WarpLayer,
    gate_coefficients,
    hadamard,
    table_to_walsh,
    walsh_to_table,
)
from tests.nn.reference_layers import _monomial_basis, _row_basis, _walsh_basis, mobius


def _corners(k: int) -> torch.Tensor:
    return torch.from_numpy(truth_table_rows(k).astype(np.float32))  # [2^k, k], row j


def test_gate_coefficients_reproduce_every_gate_on_all_corners():
    coef = gate_coefficients()
    r = truth_table_rows(2).astype(np.float64)
    for g in range(16):
        y = coef[g, 0] + coef[g, 1] * r[:, 0] + coef[g, 2] * r[:, 1] + coef[g, 3] * r[:, 0] * r[:, 1]
        assert np.array_equal(y.astype(bool), table_to_rows(g, 2)), g
    # spot-check the convention: AND = ab, OR = a + b - ab, A = a
    assert coef[1].tolist() == [0, 0, 0, 1]
    assert coef[7].tolist() == [0, 1, 1, -1]
    assert coef[3].tolist() == [0, 1, 0, 0]


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6])
def test_walsh_table_round_trip(k, rng):
    tables = rng.integers(0, 1 << (1 << k), size=50, dtype=np.uint64) if k < 6 else \
        rng.integers(0, np.iinfo(np.uint64).max, size=50, dtype=np.uint64, endpoint=True)
    c = table_to_walsh(tables, k)
    assert np.array_equal(walsh_to_table(c, k), tables)
    # and from coefficients: c -> T -> c' gives the same T
    c2 = rng.normal(size=(50, 1 << k))
    t2 = walsh_to_table(c2, k)
    assert np.array_equal(walsh_to_table(table_to_walsh(t2, k), k), t2)
    h = hadamard(k)
    assert np.array_equal(h @ h.T, (1 << k) * np.eye(1 << k))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
def test_multilinear_form_equals_row_expectation(k):
    """The Light layer evaluates sum_j omega_j basis_j(x) as a polynomial: same values on soft inputs."""
    gen = torch.Generator().manual_seed(k)
    x = torch.rand(20, 7, k, generator=gen, dtype=torch.float64)
    omega = torch.rand(7, 1 << k, generator=gen, dtype=torch.float64)
    direct = (_row_basis(x) * omega).sum(-1)
    poly = (_monomial_basis(x) * (omega @ torch.from_numpy(mobius(k)))).sum(-1)
    assert torch.allclose(direct, poly, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 4, 6])
def test_bases_on_corners(k):
    x = _corners(k)
    # the row basis at row j is the indicator of j
    assert torch.equal(_row_basis(x), torch.eye(1 << k))
    # the Walsh characters at the corners are the Hadamard matrix
    assert torch.equal(_walsh_basis(1 - 2 * x), torch.from_numpy(hadamard(k)).float())


def _layer(cls, k: int, n: int = 40, **kw):
    gen = np.random.default_rng(k)
    idx = np.stack([gen.permutation(k) for _ in range(n)])
    torch.manual_seed(k)
    return cls(idx, init="random", **kw)


@pytest.mark.parametrize("cls,k", [(DLGNLayer, 2), (GumbelLayer, 2), (LightLayer, 1), (LightLayer, 2),
                                   (LightLayer, 3), (LightLayer, 4), (LightLayer, 6), (WarpLayer, 2),
                                   (WarpLayer, 4), (WarpLayer, 6)])
def test_eval_forward_is_the_truth_table_exhaustively(cls, k):
    layer = _layer(cls, k)
    layer.eval()
    x = _corners(k)
    rows = table_to_rows(layer.tables(), k)  # [n, 2^k]
    for i in range(layer.n):
        # drive neuron i's sources with every row: source idx[i, m] carries x_m
        src = torch.zeros(x.shape[0], k)
        src[:, layer.idx[i]] = x
        out = layer(src)[:, i]
        assert set(out.tolist()) <= {0.0, 1.0}
        assert np.array_equal(out.numpy().astype(bool), rows[i]), i


@pytest.mark.parametrize("cls,k", [(DLGNLayer, 2), (LightLayer, 2), (LightLayer, 4), (LightLayer, 6)])
def test_soft_forward_at_corners_is_the_expected_table(cls, k):
    """At hard inputs the relaxation is the probability of each row's output."""
    layer = _layer(cls, k)
    layer.train()
    idx = np.arange(k)[None, :].repeat(layer.n, 0)
    layer.idx.copy_(torch.from_numpy(idx))
    x = _corners(k)
    y = layer(x)  # [2^k, n]
    if cls is LightLayer:
        expect = torch.sigmoid(layer.weight).t()
    else:
        rows = torch.from_numpy(table_to_rows(np.arange(16, dtype=np.uint64), 2)).float()
        expect = (torch.softmax(layer.weight, -1) @ rows).t()
    assert torch.allclose(y, expect, atol=1e-5)


@pytest.mark.parametrize("k", [2, 4, 6])
def test_warp_z_at_corners_matches_discretization(k):
    layer = _layer(WarpLayer, k)
    x = _corners(k)
    z = _walsh_basis(1 - 2 * x) @ layer.weight.detach().t()  # [2^k, n]
    assert np.array_equal((z < 0).t().numpy(), layer.table_rows().numpy())
    assert np.array_equal(rows_to_table((z < 0).t().numpy()), walsh_to_table(layer.weight.detach().numpy(), k))


def test_residual_inits_are_the_first_input():
    idx = np.array([[0, 1]] * 5)
    for layer in (DLGNLayer(idx), GumbelLayer(idx), LightLayer(idx), WarpLayer(idx)):
        assert (layer.tables() == 3).all(), type(layer).__name__  # gate id 3 = A
    idx6 = np.arange(6)[None].repeat(3, 0)
    for layer in (LightLayer(idx6), WarpLayer(idx6)):
        rows = table_to_rows(layer.tables(), 6)
        assert np.array_equal(rows, np.broadcast_to(truth_table_rows(6)[:, 0], rows.shape))


def test_gumbel_training_forward_is_hard_with_gradient():
    layer = _layer(GumbelLayer, 2)
    layer.train()
    x = torch.randint(0, 2, (64, 2)).float()
    y = layer(x)
    assert set(torch.unique(y.detach()).tolist()) <= {0.0, 1.0}
    y.sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_thermometer_matches_netlist_encoder():
    d = load_digits()
    for mode in ("uniform", "quantile"):
        thr = thermometer_thresholds(d.x_train, 3, mode=mode, feature_range=d.feature_range)
        enc = ThermometerEncoder(thr.thresholds)
        x = np.concatenate([d.x_test, thr.thresholds.T.astype(np.float32)])  # values at the thresholds
        got = enc(torch.from_numpy(x)).numpy().astype(bool)
        assert np.array_equal(got, thr.encode(x))


def test_group_sum():
    gs = GroupSumLayer(3, tau=2.0, beta=1.0)
    x = torch.tensor([[1, 1, 0, 0, 1, 1.0]])
    assert gs.counts(x).tolist() == [[2, 0, 2]]
    assert gs(x).tolist() == [[1.5, 0.5, 1.5]]
    with pytest.raises(ValueError):
        gs.counts(torch.ones(1, 4))


def test_layer_shape_errors():
    with pytest.raises(ValueError, match="fan-in 2"):
        DLGNLayer(np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="init"):
        LightLayer(np.array([[0, 1]]), init="bogus")

"""The fast layers of :mod:`lut2rtl.nn.layers` compute what the old formulas
(kept in :mod:`tests.nn.reference_layers`) computed: the same training outputs
and the same gradients (parameters and inputs), for every method and k, on
random soft inputs and with the same noise draws; and the same eval outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lut2rtl.nn import layers as fast
from tests.nn import reference_layers as ref

CASES = [("dlgn", 2), ("gumbel", 2)] + [(m, k) for m in ("light", "warp") for k in (1, 2, 3, 4, 5, 6)]
N_PREV, N, B = 37, 23, 19


def _pair(method: str, k: int, seed: int = 0, **opts: object) -> tuple[torch.nn.Module, torch.nn.Module]:
    idx = np.random.default_rng(seed).integers(0, N_PREV, size=(N, k))
    torch.manual_seed(seed)
    old = ref.make_layer(method, idx, init="random", **{k: v for k, v in opts.items() if k != "noise_table"})
    torch.manual_seed(seed)
    new = fast.make_layer(method, idx, init="random", **opts)
    with torch.no_grad():
        new.weight.copy_(old.weight)
    return old.double(), new.double()


def _run(layer: torch.nn.Module, x: torch.Tensor, seed: int,
         table: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    layer.zero_grad(set_to_none=True)
    xi = x.clone().requires_grad_()
    torch.manual_seed(seed)  # the same noise draws for both implementations
    if isinstance(layer, ref.WarpLayer):
        # the old WARP drew its uniforms [B, n] with rand_like(z), the new one reads its noise [n, B] from a
        # table window or draws it on a 16-bit grid (fast.logistic_noise): hand the old formula the uniforms
        # of the very noise the new layer uses for this seed (U = sigmoid(L); the old formula takes its logit)
        noise, sign = fast.logistic_noise((layer.n, x.shape[0]), dtype=x.dtype, device="cpu", table=table)
        u = torch.sigmoid(sign * noise)
        torch.manual_seed(seed)
        real = torch.rand_like
        torch.rand_like = lambda t, **kw: u.t().clone() if t.shape == u.t().shape else real(t, **kw)  # type: ignore[assignment]
        try:
            y = layer(xi)
        finally:
            torch.rand_like = real  # type: ignore[assignment]
    else:
        y = layer(xi)
    # a random linear read-out so every output carries a different gradient
    r = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=y.dtype)
    (y * r).sum().backward()
    assert layer.weight.grad is not None and xi.grad is not None
    return y.detach(), layer.weight.grad.clone(), xi.grad.clone()


def _opts(method: str) -> list[dict[str, object]]:
    if method == "warp":
        return [{"hard": True}, {"hard": False}, {"hard": False, "temperature": 0.3},
                {"hard": True, "noise_table": False}, {"hard": False, "temperature": 0.3, "noise_table": False}]
    if method == "gumbel":
        return [{"temperature": 1.0}, {"temperature": 0.5}]
    return [{}]


@pytest.mark.parametrize("method,k", CASES)
def test_training_outputs_and_gradients_equal_the_old_formulas(method, k):
    for opts in _opts(method):
        old, new = _pair(method, k, **opts)
        old.train()
        new.train()
        for seed in range(3):
            x = torch.rand(B, N_PREV, dtype=torch.float64, generator=torch.Generator().manual_seed(10 + seed))
            y0, gw0, gx0 = _run(old, x, seed, table=bool(opts.get("noise_table", True)))
            y1, gw1, gx1 = _run(new, x, seed)
            assert y1.shape == y0.shape == (B, N)
            assert torch.allclose(y1, y0, rtol=0, atol=1e-6), (opts, (y1 - y0).abs().max())
            assert torch.allclose(gw1, gw0, rtol=0, atol=1e-6), (opts, (gw1 - gw0).abs().max())
            assert torch.allclose(gx1, gx0, rtol=0, atol=1e-6), (opts, (gx1 - gx0).abs().max())
            assert gw0.abs().max() > 1e-3  # the comparison is not between two zero gradients


@pytest.mark.parametrize("method,k", CASES)
def test_float32_outputs_stay_close(method, k):
    """The default dtype: same values up to float32 rounding (a loose bound, scaled by |z|)."""
    old, new = _pair(method, k, **({"hard": False} if method == "warp" else {}))
    old.float().train()
    new.float().train()
    x = torch.rand(B, N_PREV, generator=torch.Generator().manual_seed(5))
    y0, gw0, _ = _run(old, x, 0)
    y1, gw1, _ = _run(new, x, 0)
    assert torch.allclose(y1, y0, rtol=1e-4, atol=1e-5)
    assert torch.allclose(gw1, gw0, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("method,k", CASES)
def test_eval_outputs_equal_exactly(method, k):
    old, new = _pair(method, k)
    old.eval()
    new.eval()
    x = (torch.rand(64, N_PREV, generator=torch.Generator().manual_seed(3)) > 0.5).double()
    assert torch.equal(new(x), old(x))
    assert np.array_equal(new.tables(), old.tables())


def test_negative_control_a_wrong_formula_is_caught():
    """The comparison above notices a change of one coefficient (here: the gradient scale of WARP's
    temperature) and a change of the noise stream."""
    old, new = _pair("warp", 4, hard=False)
    new.temperature = 1.01
    x = torch.rand(B, N_PREV, dtype=torch.float64)
    y0, gw0, _ = _run(old, x, 0)
    y1, gw1, _ = _run(new, x, 0)
    assert not torch.allclose(y1, y0, rtol=0, atol=1e-6)
    new.temperature = old.temperature
    y2, _, _ = _run(new, x, 1)  # other noise
    assert not torch.allclose(y2, y0, rtol=0, atol=1e-6)
    _, gw3, _ = _run(new, x, 0)
    assert torch.allclose(gw3, gw0, rtol=0, atol=1e-6)


def test_noise_free_warp_is_the_deterministic_sigmoid():
    idx = np.random.default_rng(0).integers(0, N_PREV, size=(N, 3))
    new = fast.WarpLayer(idx, init="random", hard=False, noise=False).double().train()
    x = torch.rand(B, N_PREV, dtype=torch.float64)
    xs = new.gather(x)
    y = new(x)
    assert torch.allclose(y, torch.sigmoid(-new.z(xs)).t())
    assert torch.equal(new(x), y)  # no noise: the same output twice
    hard = fast.WarpLayer(idx, init="random", hard=True, noise=False).double().train()
    assert torch.equal(hard(x), (hard.z(hard.gather(x)) < 0).double().t())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("method,k", CASES)
def test_cuda_layers_compute_what_the_cpu_layers_compute(method, k):
    """On a GPU the same layer gives the CPU's outputs (float64, 1e-9): eval mode for every method, and
    train mode with the gradients for the noise-free ones (Gumbel's and WARP's noise draw from a device's own RNG)."""
    opts: dict[str, object] = {"noise": False, "hard": False} if method == "warp" else {}
    idx = np.random.default_rng(0).integers(0, N_PREV, size=(N, k))
    torch.manual_seed(0)
    cpu = fast.make_layer(method, idx, init="random", **opts).double()
    gpu = fast.make_layer(method, idx, init="random", **opts).double()
    with torch.no_grad():
        gpu.weight.copy_(cpu.weight)
    gpu.cuda()
    modes = [False] if method == "gumbel" else [False, True]
    for train_mode in modes:
        cpu.train(train_mode)
        gpu.train(train_mode)
        x = torch.rand(B, N_PREV, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
        r = torch.randn(B, N, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
        got = []
        for layer, dev in ((cpu, "cpu"), (gpu, "cuda")):
            layer.zero_grad(set_to_none=True)
            xi = x.to(dev, copy=True).requires_grad_(train_mode)
            y = layer(xi)
            if train_mode:
                (y * r.to(dev)).sum().backward()
                got.append((y.detach().cpu(), layer.weight.grad.cpu(), xi.grad.cpu()))
            else:
                got.append((y.detach().cpu(),))
        for a, b in zip(*got):
            assert torch.allclose(a, b, rtol=0, atol=1e-9), (train_mode, (a - b).abs().max())

"""WARP's logistic noise draws its uniforms on a 16-bit grid, four per 64-bit draw
(:func:`lut2rtl.nn.layers.uniform16`): every sample must be on the grid, strictly inside (0, 1),
reproducible from torch's seed, and uniform in every one of the four 16-bit lanes of a draw. By default
the noise is a window of a fixed table of such values (:func:`lut2rtl.nn.layers.logistic_noise`): the
table must hold exactly those values, and each call must read a new window with a random sign."""

from __future__ import annotations

import math

import pytest
import torch

from lut2rtl.nn.layers import NOISE_TABLE_SEED, NOISE_TABLE_SIZE, logistic_noise, noise_table, uniform16

BINS = 64


def _lane_chi2(u: torch.Tensor) -> list[float]:
    """Chi-square statistic of the top 6 bits, per 16-bit lane (sample index mod 4)."""
    i = (u.double() * 65536 - 0.5).round().long().flatten()
    out = []
    for lane in range(4):
        h = torch.bincount(i[lane::4] >> 10, minlength=BINS).double()
        e = h.sum() / BINS
        out.append(float(((h - e) ** 2 / e).sum()))
    return out


def _chi2_bound(dof: int, z: float = 5.0) -> float:
    return dof + z * math.sqrt(2 * dof)  # about 5 standard deviations above the mean


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_on_the_grid_inside_the_unit_interval(dtype):
    torch.manual_seed(0)
    u = uniform16((301, 7), dtype=dtype, device="cpu")  # 2107 samples: not a multiple of 4
    assert u.shape == (301, 7) and u.dtype == dtype
    i = u.double() * 65536 - 0.5
    assert torch.equal(i, i.round())  # exactly (i + 1/2) / 2**16
    assert float(u.min()) > 0 and float(u.max()) < 1
    assert torch.isfinite(u.logit()).all()


def test_reproducible_from_the_seed():
    torch.manual_seed(3)
    a = uniform16((100, 10), dtype=torch.float32, device="cpu")
    torch.manual_seed(3)
    b = uniform16((100, 10), dtype=torch.float32, device="cpu")
    c = uniform16((100, 10), dtype=torch.float32, device="cpu")
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_every_lane_is_uniform_and_the_ends_are_reached():
    torch.manual_seed(1)
    u = uniform16((1 << 20,), dtype=torch.float32, device="cpu")
    assert max(_lane_chi2(u)) < _chi2_bound(BINS - 1)
    assert abs(float(u.mean()) - 0.5) < 0.002
    i = (u.double() * 65536 - 0.5).round().long()
    assert int(i.min()) == 0 and int(i.max()) == 65535  # the whole grid, both ends


def test_negative_control_a_biased_lane_is_caught():
    """torch's default int64 ``random_()`` range is [0, 2**63): the sign bit of every word is 0, so one
    lane never reaches the upper half. The lane check above must notice."""
    torch.manual_seed(1)
    words = torch.empty(1 << 18, dtype=torch.int64).random_()
    u = (words.view(torch.int16).double() + 32768.5) / 65536
    assert max(_lane_chi2(u)) > _chi2_bound(BINS - 1)


# --------------------------------------------------------------------------
# The noise table (lut2rtl.nn.layers.logistic_noise with table=True)


def test_the_table_is_a_constant_of_logistic_values_on_the_grid():
    t64 = noise_table(torch.float64, "cpu")
    assert t64.shape == (NOISE_TABLE_SIZE,) and noise_table(torch.float64, "cpu") is t64
    u = torch.sigmoid(t64)  # back to the uniforms: on the 16-bit grid, every lane uniform, both ends reached
    i = u * 65536 - 0.5
    assert float((i - i.round()).abs().max()) < 1e-6
    assert max(_lane_chi2(u)) < _chi2_bound(BINS - 1)
    assert int(i.round().min()) == 0 and int(i.round().max()) == 65535
    assert abs(float(t64.mean())) < 0.01 and abs(float(t64.var()) - math.pi ** 2 / 3) < 0.02  # logistic moments
    # the float32 table holds the same values, and a fresh process would build the same table (fixed seed)
    assert torch.equal(noise_table(torch.float32, "cpu"), t64.float())
    gen = torch.Generator().manual_seed(NOISE_TABLE_SEED)
    head = uniform16((NOISE_TABLE_SIZE,), dtype=torch.float64, device="cpu", generator=gen)[:1000].logit()
    assert torch.equal(head, t64[:1000])


def test_table_noise_is_a_window_at_a_random_offset_and_sign():
    table = noise_table(torch.float32, "cpu")
    torch.manual_seed(4)
    draws = [logistic_noise((100, 30), dtype=torch.float32, device="cpu") for _ in range(64)]
    offsets = []
    for noise, sign in draws:
        assert noise.shape == (100, 30) and sign in (1.0, -1.0)
        off = (noise.data_ptr() - table.data_ptr()) // table.element_size()
        assert 0 <= off <= NOISE_TABLE_SIZE - 3000 and torch.equal(noise.flatten(), table[off:off + 3000])
        offsets.append(off)
    assert len(set(offsets)) == 64  # a new window every call
    assert min(offsets) < NOISE_TABLE_SIZE // 8 and max(offsets) > NOISE_TABLE_SIZE * 7 // 8
    assert {s for _, s in draws} == {1.0, -1.0}
    torch.manual_seed(4)  # reproducible from torch's seed
    again, sign = logistic_noise((100, 30), dtype=torch.float32, device="cpu")
    assert torch.equal(again, draws[0][0]) and sign == draws[0][1]


def test_large_or_fresh_noise_is_drawn_fresh():
    table = noise_table(torch.float32, "cpu")
    n = NOISE_TABLE_SIZE // 4 + 1
    for shape, kw in (((n,), {}), ((100, 30), {"table": False})):
        torch.manual_seed(2)
        noise, sign = logistic_noise(shape, dtype=torch.float32, device="cpu", **kw)
        torch.manual_seed(2)
        assert sign == 1.0 and torch.equal(noise, uniform16(shape, dtype=torch.float32, device="cpu").logit())
        assert noise.untyped_storage().data_ptr() != table.untyped_storage().data_ptr()


def test_negative_control_the_window_check_sees_a_fixed_offset(monkeypatch):
    """The offset and sign checks above notice noise that does not move: torch's draw replaced by a constant."""
    monkeypatch.setattr(torch, "randint", lambda low, high, size, **kw: torch.full(size, 10, dtype=torch.int64))
    table = noise_table(torch.float32, "cpu")
    draws = [logistic_noise((100, 30), dtype=torch.float32, device="cpu") for _ in range(64)]
    offsets = {(noise.data_ptr() - table.data_ptr()) // table.element_size() for noise, _ in draws}
    assert offsets == {5} and {s for _, s in draws} == {1.0}

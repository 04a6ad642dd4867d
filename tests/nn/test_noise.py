"""WARP's logistic noise draws its uniforms on a 16-bit grid, four per 64-bit draw
(:func:`lut2rtl.nn.layers.uniform16`): every sample must be on the grid, strictly inside (0, 1),
reproducible from torch's seed, and uniform in every one of the four 16-bit lanes of a draw."""

from __future__ import annotations

import math

import pytest
import torch

from lut2rtl.nn.layers import uniform16

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

"""--augment: random image shifts in the conv training loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lut2rtl.nn.train import TrainConfig, TrainingError, shift_images


def test_shift_images_moves_each_image_by_its_own_offset():
    h, w, c = 5, 4, 2
    x = torch.rand(64, h * w * c)
    gen = torch.Generator().manual_seed(3)
    y = shift_images(x, (h, w, c), 1, gen).view(64, h, w, c).numpy()
    xi = x.view(64, h, w, c).numpy()
    seen = set()
    for b in range(64):
        # find the offset that explains output b (exactly one, with zero fill outside)
        fits = []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                want = np.zeros_like(xi[b])
                for r in range(h):
                    for q in range(w):
                        if 0 <= r - dy < h and 0 <= q - dx < w:
                            want[r, q] = xi[b, r - dy, q - dx]
                if np.array_equal(want, y[b]):
                    fits.append((dy, dx))
        assert len(fits) == 1, b
        seen.add(fits[0])
    assert len(seen) == 9  # every offset in -1..1 occurs over 64 images


def test_augment_option_is_checked():
    with pytest.raises(TrainingError, match=r"--augment -1: a shift in pixels, >= 0"):
        TrainConfig(arch="conv", augment=-1).check()

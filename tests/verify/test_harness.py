"""The C++ harness engine: word packing and the generated main (no tools needed)."""

from __future__ import annotations

import numpy as np

from lut2rtl.verify.harness import harness_cpp, pack_words, unpack_words
from lut2rtl.verify.vectors import stream_plan


def test_pack_roundtrip_widths() -> None:
    rng = np.random.default_rng(0)
    for width in (1, 7, 31, 32, 33, 64, 65, 200):
        bits = rng.integers(0, 2, size=(9, width), dtype=np.uint8)
        words = pack_words(bits, (width + 31) // 32)
        assert words.dtype == np.uint32
        np.testing.assert_array_equal(unpack_words(words, width), bits)
        # bit i is bit i % 32 of word i // 32
        i = width - 1
        assert ((words[:, i // 32] >> np.uint32(i % 32)) & 1).tolist() == bits[:, i].tolist()


def test_main_reads_every_output_port() -> None:
    text = harness_cpp({"clk": 1, "rst": 1, "in_valid": 1, "in_bits": 100, "out_valid": 1, "out_class": 4,
                        "out_counts": 70})
    assert "IN_W = 4, OUT_W = 5;" in text  # 1 valid + 1 class + 3 count words
    assert "get(top->out_class, o + 1, 1);" in text and "get(top->out_counts, o + 2, 3);" in text
    assert "out_bits" not in text


def test_stream_plan_flushes_and_is_seeded() -> None:
    a = stream_plan(50, 9, 3, 0.3, seed=4)
    b = stream_plan(50, 9, 3, 0.3, seed=4)
    np.testing.assert_array_equal(a.slots, b.slots)
    assert sorted(a.slots[a.slots >= 0].tolist()) == list(range(50))
    assert a.slots[-3:].tolist() == [-1, -1, -1] and a.garbage.shape[1] == 9
    assert a.cycles > 50  # idle slots were drawn

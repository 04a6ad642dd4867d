from __future__ import annotations

import numpy as np
import pytest

from lut2rtl.interop import conventions as conv
from lut2rtl.netlist import GATE_NAMES, table_to_rows, truth_table_rows

# difflogic functional.py, the table in its header: outputs for AB = 00, 01, 10, 11
DIFFLOGIC_TABLE = {
    0: "0000", 1: "0001", 2: "0010", 3: "0011", 4: "0100", 5: "0101", 6: "0110", 7: "0111",
    8: "1000", 9: "1001", 10: "1010", 11: "1011", 12: "1100", 13: "1101", 14: "1110", 15: "1111",
}


def test_gate_ids_match_difflogic_table_and_our_names():
    for gate, column in DIFFLOGIC_TABLE.items():
        logits = np.zeros((1, 16))
        logits[0, gate] = 1.0
        table = int(conv.gate_tables(logits)[0])
        rows = table_to_rows(table, 2)
        # our rows are (a, b) = 00, 01, 10, 11 in that order
        assert truth_table_rows(2).astype(int).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
        assert "".join("1" if r else "0" for r in rows) == column, GATE_NAMES[table]
    assert GATE_NAMES[int(conv.gate_tables(np.eye(16)[[1]])[0])] == "AND"
    assert GATE_NAMES[int(conv.gate_tables(np.eye(16)[[2]])[0])] == "A&~B"
    assert GATE_NAMES[int(conv.gate_tables(np.eye(16)[[11]])[0])] == "A|~B"


def test_argmax_tie_takes_first():
    logits = np.zeros((1, 16))
    logits[0, [4, 9]] = 2.0
    assert int(conv.gate_tables(logits)[0]) == 4


@pytest.mark.parametrize("k", [2, 4, 6])
def test_light_is_sign_of_logit_per_pattern(k):
    rng = np.random.default_rng(k)
    w = rng.normal(size=(5, 1 << k))
    rows = table_to_rows(conv.light_tables(w, k), k)  # [5, 2^k], our row order
    for r, x in enumerate(truth_table_rows(k)):
        j = sum(int(x[m]) << (k - 1 - m) for m in range(k))
        assert np.array_equal(rows[:, r], w[:, j] > 0)


@pytest.mark.parametrize("k", [2, 4, 6])
def test_walsh_inverse_transform_round_trip(k):
    # c = H (1 - 2T) / 2^k represents table T exactly (z = +-1 on every row)
    rng = np.random.default_rng(10 + k)
    want = rng.integers(0, 2, size=(7, 1 << k)).astype(bool)  # rows in our order
    x = truth_table_rows(k).astype(int)
    j = np.arange(1 << k)
    H = np.ones((1 << k, 1 << k))
    for m in range(k):
        H[:, ((j >> (k - 1 - m)) & 1).astype(bool)] *= (1 - 2 * x[:, m:m + 1])
    c = (1 - 2 * want.astype(float)) @ H / (1 << k)
    got = table_to_rows(conv.walsh_tables(c, k), k)
    assert np.array_equal(got, want)


def test_walsh_two_input_examples_from_torchlogix_table():
    # torchlogix functional.py ID_TO_WALSH_COEFFICIENTS (basis [1, B, A, AB], out z < 0)
    examples = {1: (0.5, 0.5, 0.5, -0.5), 3: (0, 0, 1, 0), 6: (0, 0, 0, 1), 7: (-0.5, 0.5, 0.5, 0.5),
                10: (0, -1, 0, 0), 13: (-0.5, 0.5, -0.5, -0.5), 15: (-1, 0, 0, 0), 0: (1, 0, 0, 0)}
    for gate, c in examples.items():
        assert int(conv.walsh_tables(np.array([c], dtype=float), 2)[0]) == gate


def test_walsh_zero_sum_is_false():
    assert int(conv.walsh_tables(np.zeros((1, 4)), 2)[0]) == 0
    assert int(conv.walsh_legacy_tables(np.zeros((1, 4)))[0]) == 0


def test_walsh_legacy_examples():
    # A = 2a - 1, B = 2b - 1, z = c0 + c1 A + c2 B + c3 AB, out z > 0
    assert GATE_NAMES[int(conv.walsh_legacy_tables(np.array([[0, 1.0, 0, 0]]))[0])] == "A"
    assert GATE_NAMES[int(conv.walsh_legacy_tables(np.array([[0, 0, 1.0, 0]]))[0])] == "B"
    assert GATE_NAMES[int(conv.walsh_legacy_tables(np.array([[-0.5, 0.5, 0.5, 0.5]]))[0])] == "AND"
    assert GATE_NAMES[int(conv.walsh_legacy_tables(np.array([[0, 0, 0, -1.0]]))[0])] == "XOR"


def test_ambiguous_rows_counted():
    c = np.array([[1.0, 1.0 - 1e-9, 0, 0]])  # z on rows where B flips sign: 1e-9
    assert conv.walsh_ambiguous_rows(c, 2) == 2
    assert conv.walsh_ambiguous_rows(np.array([[1.0, 0.5, 0, 0]]), 2) == 0

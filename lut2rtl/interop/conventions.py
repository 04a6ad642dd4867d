"""How difflogic and torchlogix encode a LUT, mapped onto lut2rtl's encoding.

This module is the one place that knows the other tools' conventions. Every
function turns trained parameters into lut2rtl truth tables by evaluating the
foreign definition on the rows of :func:`lut2rtl.netlist.truth_table_rows` and
packing the outputs with :func:`lut2rtl.netlist.rows_to_table`, so no second
truth-table convention exists here.

Facts taken from the public sources (difflogic ``functional.py`` ``bin_op``;
torchlogix ``functional.py`` / ``parametrization.py`` / ``layers/dense.py``):

* Wiring: input ``x_0`` of a neuron is ``indices[0]`` (difflogic's ``a``),
  ``x_1`` is ``indices[1]`` (``b``), ... -- the first input is our most
  significant row bit, as in both tools.
* Gate ids (difflogic ``LogicLayer.weights`` [n, 16]; torchlogix ``raw``):
  gate = argmax of the 16 logits (the first maximum on ties, as
  ``torch.argmax``), gate ``g`` computes ``bin_op(a, b, g)`` below.
* torchlogix ``light`` (2**k logits): the logit at index ``j`` belongs to the
  input pattern with ``x_m = bit (k-1-m) of j`` (first input most
  significant); the discrete LUT outputs ``logit > 0``.
* torchlogix ``walsh`` (the WARP parametrization, 2**k coefficients ``c``):
  ``x^_m = 1 - 2 x_m``; coefficient ``j`` multiplies the product of ``x^_m``
  over the inputs ``m`` whose bit ``k-1-m`` is set in ``j``; with
  ``z = sum_j c_j * basis_j`` the discrete LUT outputs ``z < 0``.
* torchlogix 0.1.0 (the first PyPI release) ``walsh``, k = 2 only: ``A = 2a - 1``,
  ``B = 2b - 1``, ``z = c_0 + c_1 A + c_2 B + c_3 A B``, output ``z > 0``
  (``WALSH_LEGACY``).

``z`` is computed here in float64; the tools compute it in float32 in an
implementation-specific order, so a coefficient vector whose ``z`` is within
rounding of zero on some row can discretize differently.
:func:`walsh_ambiguous_rows` counts such rows so the importer can warn.
"""

from __future__ import annotations

import numpy as np

from ..netlist import rows_to_table, truth_table_rows

__all__ = [
    "PARAMETRIZATIONS",
    "WALSH_LEGACY",
    "difflogic_gate",
    "gate_tables",
    "light_tables",
    "tables_from_parameters",
    "walsh_ambiguous_rows",
    "walsh_legacy_tables",
    "walsh_tables",
]

WALSH_LEGACY = "walsh-legacy"
# name -> accepted fan-ins
PARAMETRIZATIONS: dict[str, tuple[int, ...]] = {
    "raw": (2,),
    "light": (2, 4, 6),
    "walsh": (1, 2, 4, 6),
    WALSH_LEGACY: (2,),
}


def difflogic_gate(a: np.ndarray, b: np.ndarray, gate: int) -> np.ndarray:
    """difflogic's ``bin_op(a, b, gate)`` on 0/1 integer arrays (its real-valued
    formulas, which are exact on 0/1)."""
    ops = (
        lambda: a * 0,
        lambda: a * b,
        lambda: a - a * b,
        lambda: a,
        lambda: b - a * b,
        lambda: b,
        lambda: a + b - 2 * a * b,
        lambda: a + b - a * b,
        lambda: 1 - (a + b - a * b),
        lambda: 1 - (a + b - 2 * a * b),
        lambda: 1 - b,
        lambda: 1 - b + a * b,
        lambda: 1 - a,
        lambda: 1 - a + a * b,
        lambda: 1 - a * b,
        lambda: a * 0 + 1,
    )
    return np.asarray(ops[gate]())


def _gate_id_tables() -> np.ndarray:
    rows = truth_table_rows(2).astype(np.int64)
    a, b = rows[:, 0], rows[:, 1]
    outs = np.stack([difflogic_gate(a, b, g) for g in range(16)])  # [16 gates, 4 rows]
    return rows_to_table(outs.astype(bool))


# gate id -> lut2rtl table (it is the identity map; derived, not assumed, and
# pinned by a test)
_GATE_TABLES = _gate_id_tables()


def gate_tables(logits: np.ndarray) -> np.ndarray:
    """16 gate logits per neuron ``[n, 16]`` -> tables ``[n]`` (k = 2)."""
    w = np.asarray(logits)
    return _GATE_TABLES[np.argmax(w, axis=1)]


def _pattern_index(k: int) -> np.ndarray:
    """For each of our rows, the index ``sum_m x_m 2**(k-1-m)`` the tools use."""
    rows = truth_table_rows(k).astype(np.int64)
    return rows @ (1 << np.arange(k - 1, -1, -1))


def light_tables(logits: np.ndarray, k: int) -> np.ndarray:
    """torchlogix ``light`` logits ``[n, 2**k]`` -> tables ``[n]``."""
    w = np.asarray(logits, dtype=np.float64)
    return rows_to_table(w[:, _pattern_index(k)] > 0)


def _walsh_basis(k: int) -> np.ndarray:
    """``basis[r, j]`` for our row ``r``: product of ``1 - 2 x_m`` over the
    inputs selected by ``j`` (input ``m`` <-> bit ``k-1-m`` of ``j``)."""
    x = truth_table_rows(k).astype(np.int64)  # [rows, k]
    sign = 1 - 2 * x
    j = np.arange(1 << k)
    basis = np.ones((1 << k, 1 << k), dtype=np.float64)
    for m in range(k):
        uses = ((j >> (k - 1 - m)) & 1).astype(bool)  # [j]
        basis[:, uses] *= sign[:, m:m + 1]
    return basis


def _walsh_z(coeffs: np.ndarray, k: int) -> np.ndarray:
    c = np.asarray(coeffs, dtype=np.float64)
    return c @ _walsh_basis(k).T  # [n, rows]


def walsh_tables(coeffs: np.ndarray, k: int) -> np.ndarray:
    """torchlogix ``walsh`` coefficients ``[n, 2**k]`` -> tables ``[n]``."""
    return rows_to_table(_walsh_z(coeffs, k) < 0)


def walsh_ambiguous_rows(coeffs: np.ndarray, k: int, *, legacy: bool = False) -> int:
    """Number of (neuron, row) pairs whose ``z`` is within float32 rounding of 0."""
    c = np.asarray(coeffs, dtype=np.float64)
    z = _walsh_legacy_z(c) if legacy else _walsh_z(c, k)
    scale = np.abs(c).sum(axis=1, keepdims=True)
    tol = 4 * (1 << k) * np.finfo(np.float32).eps * scale
    return int(np.count_nonzero((np.abs(z) <= tol) & (z != 0)))


def _walsh_legacy_z(coeffs: np.ndarray) -> np.ndarray:
    x = truth_table_rows(2).astype(np.float64)
    A, B = 2 * x[:, 0] - 1, 2 * x[:, 1] - 1
    basis = np.stack([np.ones_like(A), A, B, A * B], axis=1)  # [rows, 4]
    return np.asarray(coeffs, dtype=np.float64) @ basis.T


def walsh_legacy_tables(coeffs: np.ndarray) -> np.ndarray:
    """torchlogix 0.1.0 ``walsh`` coefficients ``[n, 4]`` -> tables ``[n]`` (k = 2)."""
    return rows_to_table(_walsh_legacy_z(coeffs) > 0)


def tables_from_parameters(parametrization: str, weights: np.ndarray, k: int) -> np.ndarray:
    """Dispatch on the parametrization name (see :data:`PARAMETRIZATIONS`)."""
    if parametrization == "raw":
        return gate_tables(weights)
    if parametrization == "light":
        return light_tables(weights, k)
    if parametrization == "walsh":
        return walsh_tables(weights, k)
    if parametrization == WALSH_LEGACY:
        return walsh_legacy_tables(weights)
    raise ValueError(f"unknown parametrization {parametrization!r}")

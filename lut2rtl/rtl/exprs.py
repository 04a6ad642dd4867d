"""Plain-logic form of a LUT (``generic`` target): a small Boolean expression.

The truth table is Shannon-expanded on ``x_0, x_1, ...`` (the netlist's row
order) and simplified on the way (equal cofactors, AND/OR/XOR/NOT shapes), so
the 2-input gates read as ``a & b``, ``a ^ b``, ``~a | b`` ... and wider LUTs as
nested ``? :`` multiplexers. Expressions are cached per (k, table).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from ..netlist import table_to_rows

__all__ = ["lut_expr", "verilog_template", "amaranth_expr"]

Expr = tuple[Any, ...]  # ("c", 0|1) | ("v", m) | ("not", e) | ("and"|"or"|"xor", a, b) | ("mux", s, e1, e0)


def _build(rows: tuple[int, ...], m: int) -> Expr:
    if all(r == 0 for r in rows):
        return ("c", 0)
    if all(r == 1 for r in rows):
        return ("c", 1)
    half = len(rows) // 2
    f0, f1 = rows[:half], rows[half:]  # x_m = 0 / 1 (x_m is the row index's top bit here)
    if f0 == f1:
        return _build(f0, m + 1)
    x: Expr = ("v", m)
    e0, e1 = _build(f0, m + 1), _build(f1, m + 1)
    if e0 == ("c", 0) and e1 == ("c", 1):
        return x
    if e0 == ("c", 1) and e1 == ("c", 0):
        return ("not", x)
    if f1 == tuple(1 - r for r in f0):
        return ("xor", x, e0)
    if e0 == ("c", 0):
        return ("and", x, e1)
    if e1 == ("c", 0):
        return ("and", ("not", x), e0)
    if e1 == ("c", 1):
        return ("or", x, e0)
    if e0 == ("c", 1):
        return ("or", ("not", x), e1)
    return ("mux", x, e1, e0)


@lru_cache(maxsize=4096)
def lut_expr(table: int, k: int) -> Expr:
    """Expression tree of a k-input truth table (netlist encoding)."""
    rows = tuple(int(r) for r in table_to_rows(table, k))
    return _build(rows, 0)


def _render(e: Expr) -> str:
    op = e[0]
    if op == "c":
        return f"1'b{e[1]}"
    if op == "v":
        return "{" + str(e[1]) + "}"
    if op == "not":
        return f"~{_render(e[1])}"
    if op == "mux":
        return f"({_render(e[1])} ? {_render(e[2])} : {_render(e[3])})"
    sym = {"and": "&", "or": "|", "xor": "^"}[op]
    return f"({_render(e[1])} {sym} {_render(e[2])})"


@lru_cache(maxsize=4096)
def verilog_template(table: int, k: int) -> str:
    """Verilog expression with ``{0} .. {k-1}`` placeholders for the inputs."""
    s = _render(lut_expr(table, k))
    if s.startswith("(") and s.endswith(")") and _balanced(s[1:-1]):
        s = s[1:-1]
    return s


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def amaranth_expr(table: int, k: int, xs: Sequence[Any]) -> Any:
    """Amaranth value computing the table of inputs ``xs``."""
    from amaranth.hdl import C, Mux

    def go(e: Expr) -> Any:
        op = e[0]
        if op == "c":
            return C(e[1], 1)
        if op == "v":
            return xs[e[1]]
        if op == "not":
            return ~go(e[1])
        if op == "mux":
            return Mux(go(e[1]), go(e[2]), go(e[3]))
        a, b = go(e[1]), go(e[2])
        return a & b if op == "and" else a | b if op == "or" else a ^ b

    return go(lut_expr(int(table), k))

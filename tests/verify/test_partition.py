"""Cutting the structural fabric into pieces (no simulator needed): every line lands once."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from lut2rtl.compile import compile_netlist
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.partition import PartitionError, partition_design, split_modules


@pytest.fixture(scope="module")
def design(tmp_path_factory: pytest.TempPathFactory) -> str:
    net = random_netlist(7, 32, [120, 120, 120, 60], 2, classes=6, genuine=True)
    out = compile_netlist(net, tmp_path_factory.mktemp("d") / "d", target="ice40", pipeline=6, fabric="verilog",
                          name="net").out_dir
    return (Path(out) / "net.v").read_text()


def _fabric(text: str) -> str:
    mods, _ = split_modules(text)
    return next(t for n, t in mods if "// segment 0" in t)


def _logic_lines(text: str) -> Counter[str]:
    """Primitive instances, register assignments and output assignments."""
    return Counter(ln for ln in text.splitlines()
                   if re.match(r"^  SB_LUT4 |^    r\d+_\d+\[\d+\] <= |^  assign o\d+\[", ln))


def test_every_line_lands_in_exactly_one_piece(design: str) -> None:
    part = partition_design(design, "net", piece_luts=50)
    fabric = _fabric(design)
    got = sum((_logic_lines(p.verilog) for p in part.pieces), Counter())
    assert got == _logic_lines(fabric)
    assert part.luts == fabric.count("  SB_LUT4 ") == sum(p.luts for p in part.pieces)
    assert max(p.luts for p in part.pieces) <= 50
    assert any(p.clocked for p in part.pieces), "the design should have a fabric register boundary"
    # pieces read only what the fabric's inputs or earlier pieces give them
    given = {f"i0[{q}]" for q in range(32)}
    for p in part.pieces:
        assert set(p.inputs) <= given
        given |= set(p.outputs)
    widths = {c.fabric: c.width for c in part.fabric_out}
    assert {f"{o}[{q}]" for o, w in widths.items() for q in range(w)} <= given


def test_the_rest_has_cut_ports_instead_of_the_fabric(design: str) -> None:
    part = partition_design(design, "net", piece_luts=50)
    fname = next(n for n, t in split_modules(design)[0] if "// segment 0" in t)
    assert fname not in part.rest
    assert "SB_LUT4 " not in part.rest.split("module \\net.groupsum")[0]
    assert [c.name for c in part.fabric_in] == ["lut2rtl_fi0"]
    assert all(f"input wire [{c.width - 1}:0] {c.name};" in part.rest for c in part.fabric_out)
    # every other line of the design is kept
    rest_lines = Counter(part.rest.splitlines())
    outside = Counter(design.replace(_fabric(design), "").splitlines())
    missing = outside - rest_lines
    block = re.search(rf"^  {fname} fabric \(\n(?:    \..*\n)*  \);$", design, re.M)
    assert block is not None
    header = next(ln for ln in design.splitlines() if ln.startswith("module net("))
    assert missing == Counter([header, *block.group(0).splitlines()])


def test_an_unknown_line_is_refused(design: str) -> None:
    fabric = _fabric(design)
    bad = design.replace(fabric, fabric.replace("  // segment 0\n", "  // segment 0\n  initial $display(1);\n"))
    with pytest.raises(PartitionError, match="unexpected line"):
        partition_design(bad, "net")


def test_a_design_without_a_structural_fabric_is_not_cut(tmp_path: Path) -> None:
    net = random_netlist(7, 16, [40, 20], 2, classes=4)
    out = compile_netlist(net, tmp_path / "d", target="ice40", fabric="amaranth", name="net").out_dir
    with pytest.raises(PartitionError, match="no structural fabric"):
        partition_design((Path(out) / "net.v").read_text(), "net")

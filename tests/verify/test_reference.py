"""The independent reference emitter: checked against the reference evaluator in
simulation, and proved equal to Yosys-synthesized primitive versions of itself."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lut2rtl.errors import ToolError
from lut2rtl.families import FAMILIES
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Layer, Netlist, table_to_rows
from lut2rtl.tools.yosys import run_yosys
from lut2rtl.verify.compare import format_mismatches
from lut2rtl.verify.formal import prove_equivalence
from lut2rtl.verify.reference import NameHint, SumNode, _shannon, emit_reference_verilog, port_widths
from lut2rtl.verify.simulate import simulate
from lut2rtl.verify.vectors import expected_vectors, random_inputs

REPO = Path(__file__).resolve().parents[2]


def test_text_is_deterministic_and_uses_rows() -> None:
    net = random_netlist(5, 4, [3, 2], 2, classes=2)
    a = emit_reference_verilog(net, "m")
    assert a == emit_reference_verilog(net, "m")
    # a LUT is a ?: tree on its inputs, x_0 (the most significant row bit) outermost
    assert _shannon([0, 1, 1, 0], ["a", "b"]) == "(a ? (b ? 1'b0 : 1'b1) : (b ? 1'b1 : 1'b0))"
    assert _shannon([0, 0, 0, 1], ["a", "b"]) == "(a ? (b ? 1'b1 : 1'b0) : 1'b0)"
    assert _shannon([0, 1, 0, 1], ["a", "b"]) == "(b ? 1'b1 : 1'b0)"  # x_0 unused
    assert _shannon([1] * 8, ["a", "b", "c"]) == "1'b1"
    first = net.layers[0]
    rows = table_to_rows(first.tables, first.k)[0].tolist()
    sel = ", ".join(f"s{int(i)}" for i in first.inputs[0])
    assert f"wire s{net.offsets[0]} = {_shannon(rows, sel.split(', '))};" in a
    assert "module m (" in a and "    output wire out_class," in a
    with pytest.raises(ValueError):
        emit_reference_verilog(net, "1bad")


def test_port_widths_follow_contract() -> None:
    net = random_netlist(5, 6, [8, 10], 2, classes=5)
    assert port_widths(net) == {"clk": 1, "rst": 1, "in_valid": 1, "in_bits": 6, "out_valid": 1,
                                "out_class": 3, "out_counts": 5 * 2}
    assert port_widths(net, out_bits=True)["out_bits"] == 10
    plain = random_netlist(5, 6, [8, 3], 2)
    assert "out_class" not in port_widths(plain) and port_widths(plain)["out_bits"] == 3


# the argmax as a tournament (named winners; 3 classes: one match, then the winner against class 2)
TOURNAMENT = NameHint(winners=(("w.first",), (None,)))
# 11 classes: an odd round passes the last candidate on twice (11 -> 6 -> 3 -> 2 -> 1)
TOURNAMENT11 = NameHint(winners=(("w.a", None, "w.b", None, "w.c"), (None, "w.d", None), ("w.e",), (None,)))


@pytest.mark.verilator
@pytest.mark.parametrize("latency,classes,hint", [pytest.param(0, 3, None, marks=pytest.mark.slow), (3, 3, None),
                                                  (0, 3, TOURNAMENT), (0, 11, TOURNAMENT11)],
                         ids=["chain-0", "chain-3", "tournament-0", "tournament-11"])
def test_reference_matches_evaluator_in_simulation(tmp_path: Path, latency: int, classes: int,
                                                   hint: NameHint | None) -> None:
    # 4 (3) bits per class: equal counts (ties, to the lowest class) in many samples
    net = random_netlist(9, 20, [30, 24, 12 if classes == 3 else 33], [2, 3, 4], classes=classes)
    (tmp_path / "refm.v").write_text(emit_reference_verilog(net, "refm", latency=latency, out_bits=True,
                                                            hint=hint))
    vec = expected_vectors(net, random_inputs(20, 500, 1))
    res = simulate(tmp_path / "refm.v", "refm", port_widths(net, out_bits=True), latency, vec, family=None,
                   classes=classes, cache_dir=REPO / "sim_build")
    assert res.ok, "\n".join(format_mismatches(res.comparison))
    # a wrong latency claim is caught by the same run
    wrong = simulate(tmp_path / "refm.v", "refm", port_widths(net, out_bits=True), latency + 1, vec,
                     family=None, classes=classes, cache_dir=REPO / "sim_build")
    assert not wrong.ok and wrong.comparison.n_valid_errors > 0


@pytest.mark.verilator
@pytest.mark.parametrize("classes,hint", [(3, TOURNAMENT), (11, TOURNAMENT11)], ids=["3", "11"])
def test_a_tournament_that_breaks_ties_the_wrong_way_is_caught(tmp_path: Path, classes: int, hint: NameHint) -> None:
    # negative control for the test above: the same tournament, ties to the right candidate in every match
    net = random_netlist(9, 20, [30, 24, 12 if classes == 3 else 33], [2, 3, 4], classes=classes)
    text = emit_reference_verilog(net, "refm", hint=hint)
    assert text.count(" > ") == classes - 1, text
    (tmp_path / "refm.v").write_text(text.replace(" > ", " >= "))
    vec = expected_vectors(net, random_inputs(20, 500, 1))
    res = simulate(tmp_path / "refm.v", "refm", port_widths(net), 0, vec, family=None, classes=classes,
                   cache_dir=REPO / "sim_build")
    assert not res.ok and {m.port for m in res.comparison.mismatches} == {"out_class"}


@pytest.mark.yosys
@pytest.mark.parametrize("family", ["ice40", "ecp5", "xilinx", "gowin"])
def test_formal_proves_synthesized_reference(tmp_path: Path, family: str) -> None:
    net = random_netlist(4, 16, [24, 20], [2, 3], classes=4)
    (tmp_path / "src.v").write_text(emit_reference_verilog(net, "dut"))
    fam = FAMILIES[family]
    run_yosys(f"read_verilog src.v; {fam.synth_command} -top dut; write_verilog -noattr gate.v", cwd=tmp_path)
    res = prove_equivalence(net, tmp_path / "gate.v", "dut", family=fam, out_bits=False)
    assert res.proved, res.detail


@pytest.mark.parametrize("winners,match", [
    ((), "round 0 has 2 matches"),  # no rounds for 5 classes
    ((("a", None),), "round 1 has 1 matches"),  # one round of three
    ((("a",), ("b",), ("c",)), "round 0 has 2 matches"),
    ((("a", "b"), ("c",), (None,), (None,)), "4 rounds, 5 classes need 3"),  # one round too many
    ((("a", "b"), ("a",), (None,)), "same name"),
    ((("a", "cnt1"), ("c",), (None,)), "identifier"),  # a name the emitter uses itself
])
def test_bad_tournament_hints_are_rejected(winners: tuple[tuple[str | None, ...], ...], match: str) -> None:
    net = random_netlist(3, 8, [12, 10], 2, classes=5)
    emit_reference_verilog(net, "m", hint=NameHint(winners=((None, None), (None,), (None,))))  # 5 classes: 3 rounds
    with pytest.raises(ValueError, match=match):
        emit_reference_verilog(net, "m", hint=NameHint(winners=winners))


def _hint(nodes: tuple[SumNode, ...], classes: int) -> NameHint:
    return NameHint(bits="gs.bits", counts=tuple(f"gs.count{c}" for c in range(classes)),
                    sums=tuple(tuple(SumNode(f"c{c}.{nd.name}", nd.bits, nd.nodes) for nd in nodes)
                               for c in range(classes)))


# group of 5 bits: (0+1+2) and (3+4), then their sum
GOOD = (SumNode("a", (0, 1, 2)), SumNode("b", (3,), ()), SumNode("c", (4,), (1,)), SumNode("root", (), (0, 2)))


@pytest.mark.parametrize("nodes", [
    (SumNode("a", (0, 1, 2)), SumNode("root", (2, 3, 4), (0,))),  # bit 2 twice
    (SumNode("a", (0, 1, 2)), SumNode("root", (3,), (0,))),  # bit 4 missing
    (SumNode("a", (0, 1)), SumNode("b", (2,)), SumNode("root", (3, 4), (0,))),  # node b unused
    (SumNode("a", (0, 1), (1,)), SumNode("root", (2, 3, 4), (0,))),  # reads a later node
    (SumNode("a", (0, 1, 2, 3, 9)),),  # bit outside the group
    (SumNode("a", (0, 1, 2)), SumNode("e"), SumNode("root", (3, 4), (0, 1))),  # empty node
])
def test_bad_sum_hints_are_rejected(nodes: tuple[SumNode, ...]) -> None:
    net = random_netlist(3, 8, [12, 10], 2, classes=2)
    with pytest.raises(ValueError):
        emit_reference_verilog(net, "m", hint=_hint(nodes, 2))
    with pytest.raises(ValueError, match="classes"):
        emit_reference_verilog(net, "m", hint=NameHint(sums=(GOOD,)))
    with pytest.raises(ValueError, match="identifier"):
        emit_reference_verilog(net, "m", hint=NameHint(bits="has space"))


@pytest.mark.yosys
def test_named_reference_computes_the_same(tmp_path: Path) -> None:
    # names and partial sums change how the text is cut, not what it computes: the
    # hinted module, as a design, is proved equal to the netlist by the plain miter
    net = random_netlist(3, 8, [12, 10], 2, classes=2)
    text = emit_reference_verilog(net, "dut", hint=dataclasses.replace(_hint(GOOD, 2), winners=(("win",),)))
    assert "\\c1.root " in text and "\\gs.count0 " in text and "win = tg0_0 ? cnt1 : cnt0;" in text
    (tmp_path / "dut.v").write_text(text)
    res = prove_equivalence(net, tmp_path / "dut.v", "dut", family=None, out_bits=False, strategies=("miter",))
    assert res.proved, res.detail


@pytest.mark.yosys
@pytest.mark.parametrize("strategy", ["cut", "miter"])
def test_undefined_bit_is_not_a_dont_care(tmp_path: Path, strategy: str) -> None:
    # ABC (run before SAT) would read an x as "whatever makes the two sides agree";
    # the proof must treat it as any value: out = x where AND gives 0 is NOT proved
    net = Netlist(2, (Layer(2, [[0, 1]], [0b0001]),))  # row j is bit 3 - j: AND
    assert table_to_rows(net.layers[0].tables, 2)[0].astype(int).tolist() == [0, 0, 0, 1]
    text = emit_reference_verilog(net, "dut", out_bits=True)
    line = "    wire s2 = (s0 ? (s1 ? 1'b1 : 1'b0) : 1'b0);"
    assert line in text
    (tmp_path / "dut.v").write_text(text.replace(line, "    wire s2 = (s0 ? (s1 ? 1'b1 : 1'bx) : 1'b0);"))
    if strategy == "cut":  # the cut strategy alone proves or stays undecided
        with pytest.raises(ToolError, match="undecided"):
            prove_equivalence(net, tmp_path / "dut.v", "dut", family=None, out_bits=True, strategies=(strategy,))
    else:
        res = prove_equivalence(net, tmp_path / "dut.v", "dut", family=None, out_bits=True, strategies=(strategy,))
        assert not res.proved and "in_bits" in res.detail, res.detail
    (tmp_path / "dut.v").write_text(text)  # and the defined text is proved
    assert prove_equivalence(net, tmp_path / "dut.v", "dut", family=None, out_bits=True,
                             strategies=(strategy,)).proved

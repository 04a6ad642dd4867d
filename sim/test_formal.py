"""Formal equivalence of compiled examples with their netlists (``lut2rtl verify --formal``).

The default run proves the main digits example, compiled for iCE40 with a
4-stage pipeline, through the CLI: the registered design itself against the
netlist delayed by 4 cycles (lut2rtl/verify/pipelined.py), and checks that
the proof fails when one pipeline register is bypassed (one path a cycle
early) or one LUT bit of a pipelined design is flipped. Every example x
every target is under ``slow`` (40 proofs, 24 minutes here; digits_best
and digits_warp6 take one to three minutes each):
``pytest sim/test_formal.py -m slow``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from simlib import example_checkpoints, main_example

from lut2rtl.cli import main
from lut2rtl.compile import compile_checkpoint, compile_netlist
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.check import verify_build
from lut2rtl.verify.mutate import drop_register, flip_lut_init_bit

TARGETS = ["ice40", "ecp5", "xilinx", "gowin", "generic"]

pytestmark = pytest.mark.yosys


def test_main_example_proves_through_cli(tmp_path: Path) -> None:
    out = tmp_path / "digits"
    compile_checkpoint(main_example(), out, target="ice40", pipeline=4)
    r = CliRunner().invoke(main, ["verify", str(out), "--formal", "--no-sim", "--json"])
    assert r.exit_code == 0, r.output
    formal = json.loads(r.output)["formal"]
    assert formal["proved"] is True
    assert formal["subject"] == "this registered design against netlist.pt delayed by 4 cycles"
    assert "exactly 4" in formal["detail"] and "BMC" in formal["method"]

    # negative control: one register of the design bypassed -> the proof fails on timing
    v = out / "digits.v"
    text, what = drop_register(v.read_text(), 0)
    v.write_text(text)
    r = CliRunner().invoke(main, ["verify", str(out), "--formal", "--no-sim", "--json"])
    assert r.exit_code == 1, (what, r.output)
    formal = json.loads(r.output.splitlines()[0])["formal"]
    assert formal["proved"] is False and "not exactly 4" in formal["detail"], formal


@pytest.mark.parametrize("parallel", [False, True])
def test_pipelined_flipped_bit_fails_with_counterexample(tmp_path: Path, parallel: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # the function part of the pipelined proof can fail too: a flipped LUT bit in a registered design;
    # the same with the function proof running beside the timing and valid checks (large designs)
    import lut2rtl.verify.pipelined

    monkeypatch.setattr(lut2rtl.verify.pipelined, "PARALLEL_FROM", 0 if parallel else 10**9)
    net = random_netlist(11, 20, [40, 30, 20], 2, classes=4)
    out = compile_netlist(net, tmp_path / "p2", target="ice40", pipeline=2).out_dir
    good = verify_build(out, formal=True, simulate=False)
    assert good.ok and good.formal is not None and "exactly 2" in good.formal.detail
    v = next(out.glob("*.v"))
    v.write_text(flip_lut_init_bit(v.read_text(), 2)[0])
    bad = verify_build(out, formal=True, simulate=False)
    assert bad.formal is not None and not bad.formal.proved
    assert bad.formal.detail.startswith("function (registers as wires):") and "in_bits" in bad.formal.detail


@pytest.mark.parametrize("parallel", [False, True])
def test_pipelined_function_proof_reports_progress(tmp_path: Path, parallel: bool,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # the function proof's Yosys runs report to the caller's progress listener also when they run in a
    # thread of their own (large designs), where a 100,000-gate proof was silent for 10 minutes;
    # control: the timing and valid steps in the caller's thread report in both settings
    import threading

    import lut2rtl.tools._run
    import lut2rtl.verify.pipelined
    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.verify.check import formal_check

    monkeypatch.setattr(lut2rtl.verify.pipelined, "PARALLEL_FROM", 0 if parallel else 10**9)
    # every Yosys run of this small proof reports (run_yosys takes run_tool's default period; a run of
    # native Yosys, LUT2RTL_YOSYS=pyosys, lasts about 0.05 s here, so the period is shorter than that)
    monkeypatch.setattr(lut2rtl.tools._run.run_tool, "__kwdefaults__",
                        {**lut2rtl.tools._run.run_tool.__kwdefaults__, "every": 0.005})
    net = random_netlist(11, 20, [40, 30, 20], 2, classes=4)
    out = compile_netlist(net, tmp_path / "p2", target="ice40", pipeline=2).out_dir
    heard: list[tuple[str, str]] = []
    proof, _ = formal_check(read_build_folder(out),
                            progress=lambda m: heard.append((threading.current_thread().name, m)))
    assert proof.proved
    main = threading.current_thread().name
    beats = [(t, m) for t, m in heard if m.startswith("yosys: running")]
    assert any(t == main for t, _ in beats), heard
    if parallel:
        assert any(t != main for t, _ in beats), heard


@pytest.mark.parametrize("fabric", ["verilog", "amaranth"])
def test_valid_proof_negative_controls(tmp_path: Path, fabric: str) -> None:
    # the out_valid part proves the top's valid chain with the fabric and popcount modules as black
    # boxes: a missing reset fails it, and so does an out_valid that reads data (a black box's output
    # is free, so depending on one is never proved)
    import re

    net = random_netlist(12, 20, [40, 30, 20], 2, classes=4)
    out = compile_netlist(net, tmp_path / "p", target="ice40", pipeline=2, fabric=fabric).out_dir
    v = next(out.glob("*.v"))
    good = v.read_text()
    assert verify_build(out, formal=True, simulate=False).ok
    var = re.search(r"out_valid <= (\\\S+) ;", good).group(1)  # the process that drives out_valid
    block = re.compile(re.escape(var) + r"  = (valid_q\d+);\n    if \(rst\) begin\n      " + re.escape(var)
                       + r"  = 1'h0;\n    end")
    assert block.search(good), "unexpected shape of the valid chain"
    v.write_text(block.sub(lambda m: f"{var}  = {m.group(1)};", good, count=1))  # no reset
    bad = verify_build(out, formal=True, simulate=False)
    assert bad.formal is not None and not bad.formal.proved
    assert bad.formal.detail.startswith("valid:"), bad.formal.detail
    # reads data: the timing part already refuses it; the valid part on its own must too
    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.verify import pipelined

    reads = block.sub(lambda m: f"{var}  = {m.group(1)} & out_counts[0];\n    if (rst) begin\n      {var}  = 1'h0;"
                                "\n    end", good, count=1)
    m = read_build_folder(out).manifest
    ports = {n: w for n, (_, w) in m.ports.items()}
    for text, expect in ((good, True), (reads, False)):
        work = tmp_path / f"valid_{expect}"
        work.mkdir()
        (work / "design.v").write_text(text)
        assert pipelined._prove_valid(m.top, ports, 2, m.primitives, work, 300)[0] is expect
    v.write_text(good)


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("ckpt", example_checkpoints(), ids=lambda p: p.stem)
def test_every_example_every_target_proves(ckpt: Path, target: str, tmp_path: Path) -> None:
    out = tmp_path / f"{ckpt.stem}-{target}"
    compile_checkpoint(ckpt, out, target=target, pipeline=0)
    report = verify_build(out, formal=True, simulate=False)
    assert report.formal is not None and report.formal.proved, report.formal


def test_pyosys_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # LUT2RTL_YOSYS=pyosys: the same proofs through the native build (lut2rtl/tools/pyosys_cli.py):
    # a good pipelined design is proved, a flipped LUT bit is refuted with a counterexample
    pytest.importorskip("pyosys")
    monkeypatch.setenv("LUT2RTL_YOSYS", "pyosys")
    net = random_netlist(13, 20, [40, 30, 20], 2, classes=4)
    out = compile_netlist(net, tmp_path / "p", target="ice40", pipeline=2).out_dir
    good = verify_build(out, formal=True, simulate=False)
    assert good.ok and good.formal is not None and good.formal.proved, good.lines
    v = next(out.glob("*.v"))
    v.write_text(flip_lut_init_bit(v.read_text(), 2)[0])
    bad = verify_build(out, formal=True, simulate=False)
    assert bad.formal is not None and not bad.formal.proved
    assert bad.formal.detail.startswith("function (registers as wires):") and "in_bits" in bad.formal.detail


@pytest.mark.yosys
def test_leaf_counters_are_cut_and_a_wrong_leaf_fails(tmp_path: Path, sim_cache: Path) -> None:
    # the fused head's leaf counters (fabric LUTs whose bits also have the names of fabric outputs) are
    # cut points of the proof; a flipped bit in the LUT behind the head's first input (a leaf's low bit)
    # makes every cut attempt fail, never pass
    import re

    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.errors import ToolError
    from lut2rtl.families import FAMILIES
    from lut2rtl.verify.formal import prove_equivalence
    from lut2rtl.verify.simulate import simulate_design
    from lut2rtl.verify.vectors import expected_vectors, random_inputs

    net = random_netlist(31, 24, [60, 60], 2, classes=4)
    out = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=0, fabric="verilog", name="core").out_dir
    verilog = out / "core.v"
    text = verilog.read_text()
    proof = prove_equivalence(net, verilog, "core", family=FAMILIES["ice40"], out_bits=False,
                              strategies=("cut",), keep_dir=tmp_path / "proof")
    assert proof.proved and "leaf counters uncut" not in proof.method, proof.method
    ref = (tmp_path / "proof" / "reference_cut.v").read_text()
    assert re.search(r"wire \[1:0\] \\\S*gs_c\d+_n\d+ +=( o\[\d+\] \+){2} o\[\d+\];", ref)
    first = re.search(r"assign o0\[\d+\] = (n\d+);", text)  # the first head input a LUT drives unregistered
    assert first, "a fabric output driven by a LUT"
    lut = re.search(rf"SB_LUT4 #\(\.LUT_INIT\(16'h([0-9A-F]+)\)\) l{first.group(1)[1:]} ", text)
    assert lut
    bad = text[:lut.start(1)] + f"{int(lut.group(1), 16) ^ 0x0001:04X}" + text[lut.end(1):]
    verilog.write_text(bad)
    vectors = expected_vectors(net, random_inputs(net.n_inputs, 512, 5))
    assert not simulate_design(read_build_folder(out), vectors, cache_dir=sim_cache).ok  # the flip is observable
    with pytest.raises(ToolError, match="undecided"):
        prove_equivalence(net, verilog, "core", family=FAMILIES["ice40"], out_bits=False, strategies=("cut",))


@pytest.mark.yosys
def test_registered_leaf_counters_are_cut_and_a_wrong_leaf_fails(tmp_path: Path) -> None:
    # at --pipeline 4 some leaf counters are registered at the end of the fabric; with registers as wires
    # the register's net also has the fabric LUT's names, which the flattening must hide too, or the cut
    # at the leaf's name misses readers and the first cut attempts fail (the proof then fell back to
    # leaves uncut: digits_best.pt took 237 s instead of 102 s); a flipped bit in a leaf LUT still fails
    import re

    net = random_netlist(31, 24, [60, 60], 2, classes=4)
    out = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=4, fabric="verilog", name="core").out_dir
    good = verify_build(out, formal=True, simulate=False)
    assert good.ok and good.formal is not None, good.formal
    assert "(popcount cut points)" in good.formal.method, good.formal.method  # the first attempt proved
    verilog = out / "core.v"
    text = verilog.read_text()
    first = re.search(r"assign o0\[\d+\] = (n\d+);", text)  # the first head input a LUT drives unregistered
    assert first, "a fabric output driven by a LUT"
    lut = re.search(rf"SB_LUT4 #\(\.LUT_INIT\(16'h([0-9A-F]+)\)\) l{first.group(1)[1:]} ", text)
    assert lut
    verilog.write_text(text[:lut.start(1)] + f"{int(lut.group(1), 16) ^ 0x0001:04X}" + text[lut.end(1):])
    bad = verify_build(out, formal=True, simulate=False)
    assert bad.formal is not None and not bad.formal.proved


@pytest.mark.yosys
@pytest.mark.parametrize("third", [14, 6])
def test_a_leaf_whose_bits_are_complements_stays_uncut(tmp_path: Path, third: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # a leaf counter over a, b and NAND(a, b) (gate 14) always counts 1 or 2: its low bit is the inverse of
    # its high bit, and the compiled design builds it as an inverter of that LUT; a cut at the leaf then
    # leaves the inverter reading a free value and the first cut attempt fails (seen on a random
    # 30,000-gate network: 10 minutes of SAT before the fallback). The hint leaves such a leaf uncut and
    # cuts the others. Control: XOR of two other signals (gate 6) in third place, an ordinary leaf, is cut.
    import numpy as np

    from lut2rtl.families import FAMILIES
    from lut2rtl.netlist import GroupSum, Layer, Netlist
    from lut2rtl.verify.formal import prove_equivalence

    # the leaves are built from the group bits in index order: the head's packing order (popcount_pack) off
    monkeypatch.setitem(FAMILIES, "ice40", dataclasses.replace(FAMILIES["ice40"], popcount_pack=False))
    rng = np.random.default_rng(3)
    genuine = [1, 2, 4, 6, 7, 8, 9, 11, 13, 14]
    l1 = Layer(2, rng.permutation(np.arange(24).repeat(2)).reshape(24, 2), rng.choice(genuine, size=24))
    ins = rng.integers(24, 48, size=(18, 2))
    tabs = rng.choice(genuine, size=18)
    ins[0], ins[1], ins[2] = (24, 25), (26, 27), (24, 26) if third == 14 else (28, 29)
    tabs[0], tabs[1], tabs[2] = 3, 3, third  # outputs 0 and 1 copy signals 24 and 26
    net = Netlist(24, (l1, Layer(2, ins, tabs.astype(np.uint64))), group_sum=GroupSum(classes=2))
    out = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=0, fabric="verilog", name="core").out_dir
    proof = prove_equivalence(net, out / "core.v", "core", family=FAMILIES["ice40"], out_bits=False,
                              strategies=("cut",), keep_dir=tmp_path / "proof")
    assert proof.proved and proof.method == "yosys expose -cut (popcount cut points) + miter + sat", proof.method
    ref = (tmp_path / "proof" / "reference_cut.v").read_text()
    first = next(line for line in ref.splitlines() if line.endswith("= o[0] + o[1] + o[2];"))
    second = next(line for line in ref.splitlines() if line.endswith("= o[3] + o[4] + o[5];"))
    assert "gs_c0_n" in second  # an ordinary leaf is cut
    assert ("gs_c0_n" in first) is (third != 14), first


@pytest.mark.yosys
@pytest.mark.parametrize("cells", [True, False])
def test_tournament_winners_are_cut_and_a_wrong_winner_fails(tmp_path: Path, sim_cache: Path,
                                                            monkeypatch: pytest.MonkeyPatch, cells: bool) -> None:
    # the argmax tournament's winning counts are cut points (the reference then writes its argmax as a
    # tournament too): over hundreds of classes, proving the chain of compares equal to the tournament
    # was most of a proof's time. A match that keeps the smaller count fails every cut attempt, never
    # passes, and the fallback miter gives a counterexample. Both comparator styles: iCE40's carry + LUT
    # cells with the mux inside (rtl/lutcarry.py; the wrong winner: the mux LUTs' arms swapped) and ``>``
    # with a mux (the wrong winner: the mux's arms swapped in the Verilog)
    import dataclasses
    import re

    from lut2rtl.buildfolder import read_build_folder
    from lut2rtl.errors import ToolError
    from lut2rtl.families import FAMILIES
    from lut2rtl.verify.formal import prove_equivalence
    from lut2rtl.verify.simulate import simulate_design
    from lut2rtl.verify.vectors import expected_vectors, random_inputs

    fam = FAMILIES["ice40"]
    if not cells:
        monkeypatch.setitem(FAMILIES, "ice40", dataclasses.replace(fam, lut_carry=None))
    net = random_netlist(7, 24, [60, 60], 2, classes=12, genuine=True)  # 5 bits per class: many ties
    out = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=0, fabric="verilog", name="core").out_dir
    verilog = out / "core.v"
    text = verilog.read_text()
    assert ("gs_r2_1_gt_lc" in text) == cells
    proof = prove_equivalence(net, verilog, "core", family=fam, out_bits=False,
                              strategies=("cut",), keep_dir=tmp_path / "proof")
    assert proof.proved and proof.method == "yosys expose -cut (popcount cut points) + miter + sat", proof.method
    ref = (tmp_path / "proof" / "reference_cut.v").read_text()
    # 12 classes: 6 + 3 + 1 + 1 matches; the last winner's count is read by nothing and not named
    named = re.findall(r"wire \[\d+:0\] \\\S*(gs_r\d+_\d+_count) += tg", ref)
    assert len(named) == 10 and "gs_r1_0_count" in named, named
    if cells:  # the second match of the second round: each mux LUT gives gt ? a : b (in its polarity)
        verilog.write_text(_swap_cell_mux_arms(text, "gs_r2_1", 3))
    else:
        mux = re.search(r"assign gs_r2_1_count = (.+) \? (\S+) : (\S+);", text)
        assert mux, "the second match of the second round"
        verilog.write_text(text[:mux.start()] + f"assign gs_r2_1_count = {mux[1]} ? {mux[3]} : {mux[2]};"
                           + text[mux.end():])
    vectors = expected_vectors(net, random_inputs(net.n_inputs, 512, 5))
    assert not simulate_design(read_build_folder(out), vectors, cache_dir=sim_cache).ok  # the swap is observable
    with pytest.raises(ToolError, match="undecided"):
        prove_equivalence(net, verilog, "core", family=FAMILIES["ice40"], out_bits=False, strategies=("cut",))
    bad = verify_build(out, formal=True, simulate=False)
    assert bad.formal is not None and not bad.formal.proved and "in_bits" in bad.formal.detail  # an input


def _swap_cell_mux_arms(text: str, match: str, width: int) -> str:
    """The Verilog with match ``match``'s comparator-cell mux LUTs (rtl/lutcarry.py) giving ``gt ? a : b``
    instead of ``gt ? b : a``, each in its polarity: a match that keeps the smaller count."""
    import re

    import numpy as np

    from lut2rtl.families import FAMILIES
    from lut2rtl.rtl.lutcarry import lut_init

    fam = FAMILIES["ice40"]
    right = {lut_init(fam, lambda r, inv=inv: np.where(r[:, 0], r[:, 1], ~r[:, 2]) ^ inv):
             lut_init(fam, lambda r, inv=inv: np.where(r[:, 0], ~r[:, 2], r[:, 1]) ^ inv) for inv in (False, True)}
    luts = list(re.finditer(rf"\.LUT_INIT\(16'h([0-9a-f]+)\)\s*\) {match}_gt_lc__tern_lut\d+ ", text))
    assert len(luts) == width and all(int(x[1], 16) in right for x in luts), [x[1] for x in luts]
    for x in reversed(luts):
        text = text[:x.start(1)] + f"{right[int(x[1], 16)]:04x}" + text[x.end(1):]
    return text


@pytest.mark.yosys
@pytest.mark.verilator
def test_registered_comparator_cells_and_a_wrong_winner(tmp_path: Path, sim_cache: Path) -> None:
    # at --pipeline 1 the second round reads the first round's winners through registers that store their
    # complement, and its comparators are carry + LUT cells fed by them (rtl/lutcarry.py, groupsum's
    # _lut_carry_matches): the build simulates equal to the reference evaluator and proves. Control: the
    # same build with one of those matches keeping the smaller count fails both
    import re

    net = random_netlist(7, 24, [60, 60], 2, classes=12, genuine=True)  # 5 bits per class: many ties
    out = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=1, fabric="verilog", name="core").out_dir
    verilog = out / "core.v"
    text = verilog.read_text()
    assert re.search(r"gs_r1_0_count_n_q\d+", text) and "gs_r2_1_gt_lc__tern_lut" in text
    good = verify_build(out, extra_vectors=512, formal=True, cache_dir=sim_cache)
    assert good.ok and good.sim is not None and good.sim.ok and good.formal is not None and good.formal.proved
    verilog.write_text(_swap_cell_mux_arms(text, "gs_r2_1", 3))
    bad = verify_build(out, extra_vectors=512, formal=True, cache_dir=sim_cache)
    assert not bad.ok and bad.sim is not None and not bad.sim.ok
    bad = verify_build(out, formal=True, simulate=False)
    assert bad.formal is not None and not bad.formal.proved


@pytest.mark.yosys
@pytest.mark.parametrize("target", ["ice40", "ecp5", "xilinx"])
def test_registered_tournament_proves_with_winners_cut(tmp_path: Path, target: str) -> None:
    # registers between rounds (the comparator's operand stored inverted on iCE40) and every family's
    # comparator: the first cut attempt proves
    net = random_netlist(8, 24, [60, 60], 2, classes=12)
    out = compile_netlist(net, tmp_path / "b", target=target, pipeline=4, fabric="verilog", name="core").out_dir
    good = verify_build(out, formal=True, simulate=False)
    assert good.ok and good.formal is not None, good.formal
    assert "(popcount cut points)" in good.formal.method, good.formal.method

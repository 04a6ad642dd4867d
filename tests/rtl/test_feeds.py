"""Feed cells: fabric LUTs moved into the iCE40 cells that bring the head's carry-ins into their chains
(lut2rtl/rtl/lutcarry.py ``feed``, lut2rtl/rtl/network.py ``plan_feeds``)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import C, Module, Signal, Value

from lut2rtl.families import FAMILIES
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import rows_to_table, table_to_rows, truth_table_rows
from lut2rtl.rtl import lutcarry
from lut2rtl.rtl import network as nw
from lut2rtl.rtl.network import plan_network

from .simhelp import prove_with_models

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl._ir.UnusedElaboratable")

ICE40 = FAMILIES["ice40"]
CELLS = {"SB_LUT4", "SB_CARRY"}


def _table(f: object) -> int:
    return int(rows_to_table(np.asarray(f(truth_table_rows(2)), dtype=bool)))  # type: ignore[operator]


@pytest.mark.yosys
@pytest.mark.parametrize("control", ["none", "init", "carry_in"])
def test_feed_cells_give_the_bit_and_the_moved_lut(tmp_path: Path, control: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # a bit c that implies x (c = x & z, carry-in 0) and one that x implies (c = x | z, carry-in 1): the
    # carry-out equals c, and the cell's LUT equals the moved 2-input LUT, for every input (sat over Yosys's
    # SB_LUT4 / SB_CARRY models). Controls: one INIT bit flipped in the moved LUTs, the carry-in constants
    # flipped: both refuted
    if control == "init":
        real = lutcarry.feed_init
        monkeypatch.setattr(lutcarry, "feed_init", lambda fam, t, k: real(fam, t, k) ^ 1 << 9)
    m = Module()
    x, z, u, v = (Signal(name=n) for n in "xzuv")
    same: Value = C(1, 1)
    tables = [_table(lambda r: r[:, 0] & ~r[:, 1]), _table(lambda r: r[:, 0] ^ r[:, 1])]
    for i, (c_val, k, table) in enumerate([(x & z, 0, tables[0]), (x | z, 1, tables[1])]):
        c, o = Signal(name=f"c{i}"), Signal(name=f"o{i}")
        m.d.comb += c.eq(c_val)
        co = lutcarry.feed(m, f"f{i}", c, x, k ^ (control == "carry_in"), [u, v],
                           lutcarry.feed_init(ICE40, table, 2), o, ICE40)
        want = table_to_rows(np.uint64(table), 2)  # rows (u, v) = 00, 01, 10, 11
        lut = C(0, 1)
        for j, bit in enumerate(want.tolist()):
            if bit:
                lut = lut | ((u == (j >> 1)) & (v == (j & 1)))
        same = same & (co == c) & (o == lut)
    ok = Signal(name="ok")
    m.d.comb += ok.eq(same)
    assert prove_with_models(tmp_path, m, [x, z, u, v, ok], ICE40, CELLS) is (control == "none")


def test_feed_init_refuses_wide_luts() -> None:
    with pytest.raises(ValueError, match="at most 2 inputs"):
        lutcarry.feed_init(ICE40, 0x8000, 4)
    with pytest.raises(ValueError, match="no carry primitive"):
        lutcarry.feed_init(FAMILIES["ecp5"], 0x8, 2)


def _net() -> object:
    return random_netlist(1, 32, [120, 80], 2, classes=4, genuine=True)


def test_plan_moves_two_input_luts_where_the_carry_gives_the_bit() -> None:
    # every feed: a 2-input LUT of the last segment, moved once; its bit a carry-in that only its adder reads,
    # each net once; the partner an input of the bit's LUT that the bit implies (carry-in 0) or that implies
    # the bit (carry-in 1); the segment's order topological with the moved LUTs after the bit and the partner
    p = plan_network(_net(), "ice40")
    fab, last = p.fabric, p.segments[-1]
    assert p.feeds, "the network has feed cells"
    cins, _ = p.groupsum.feed_positions()
    n_in = fab.n_inputs
    order = {n_in + c: k for k, c in enumerate(last.cells.tolist())}
    assert sorted(order.values()) == list(range(last.cells.size))
    bits = [int(fab.outputs[f.position]) for f in p.feeds.values()]
    assert len(set(bits)) == len(bits)
    for c, f in p.feeds.items():
        assert fab.cell_k[c] == 2 and n_in + c in order
        assert f.position in cins
        d = bits[list(p.feeds).index(c)] - n_in
        k = int(fab.cell_k[d])
        m = list(fab.cell_inputs[d, :k]).index(f.partner)
        out, rows = table_to_rows(fab.cell_tables[d], k), truth_table_rows(k)
        assert (not out[~rows[:, m]].any()) if f.carry_in == 0 else out[rows[:, m]].all()
        for src in (n_in + d, f.partner):
            assert src not in order or order[src] < order[n_in + c]
        for r in fab.cell_inputs[c, :2].tolist():  # and the LUT's own inputs before it
            assert r not in order or order[r] < order[n_in + c]
    # every cell's inputs come before it in the new order
    for c in last.cells.tolist():
        for r in fab.cell_inputs[c, :fab.cell_k[c]].tolist():
            assert r not in order or order[r] < order[n_in + c]
    # other families and the plain design have none
    for target in ("generic", "ecp5", "xilinx"):
        assert not plan_network(_net(), target).feeds


@pytest.mark.parametrize("pipeline", [1, 4])
def test_pipelined_builds_move_no_lut_a_register_holds(pipeline: int) -> None:
    # feed cells only for carry-ins read without a register in between, and never a LUT whose output a
    # register holds (its flip-flop packs into the LUT's cell)
    p = plan_network(_net(), "ice40", pipeline=pipeline)
    cins, held = p.groupsum.feed_positions()
    outs = np.asarray(p.fabric.outputs).tolist()
    held_refs = {outs[q] for q in held}
    for c, f in p.feeds.items():
        assert f.position in cins and f.position not in held
        assert p.fabric.n_inputs + c not in held_refs


@pytest.mark.yosys
@pytest.mark.nextpnr
def test_feed_cells_save_one_logic_cell_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # nextpnr --pack-only on hx8k: the compiled design with feed cells takes one logic cell less per feed
    # cell than the same design without them (the control: plan_feeds finds none), and every feed carry
    # shares its cell with its LUT
    from lut2rtl.compile import compile_netlist
    from lut2rtl.tools._run import run_tool
    from lut2rtl.tools.nextpnr import find_nextpnr
    from lut2rtl.tools.yosys import run_yosys

    cells, feeds = {}, {}
    for name in ("feeds", "plain"):
        if name == "plain":
            monkeypatch.setattr(nw, "plan_feeds", lambda fab, last, gs, out_bits: ({}, last))
        out = compile_netlist(_net(), tmp_path / name, target="ice40", name="core").out_dir
        text = (out / "core.v").read_text()
        feeds[name] = len(re.findall(r"SB_CARRY \S+__tern_feedc", text))
        run_yosys("read_verilog -sv core.v; synth_ice40 -top core -json s.json", cwd=out)
        pack = run_tool([find_nextpnr(ICE40), "--hx8k", "--package", "ct256", "--json", "s.json", "--pack-only"],
                        cwd=out, what="nextpnr-ice40")
        log = pack.stderr + pack.stdout
        cells[name] = int(re.search(r"ICESTORM_LC:\s+(\d+)/", log).group(1))  # type: ignore[union-attr]
        feeds[name + "_carry_only"] = int(re.search(r"(\d+) LCs used as CARRY only", log).group(1))  # type: ignore[union-attr]
    assert feeds["feeds"] > 0 and feeds["plain"] == 0, feeds
    assert feeds["feeds_carry_only"] == feeds["plain_carry_only"], feeds
    assert cells["plain"] - cells["feeds"] == feeds["feeds"], (cells, feeds)


def test_feed_lines_are_one_piece_item(tmp_path: Path) -> None:
    # the structural Verilog fabric (fabric="verilog") writes each feed cell as lines the partitioner of big
    # designs reads: the moved LUT and the carry are cells of the piece they fall into
    from lut2rtl.verify.partition import partition_design

    p = plan_network(_net(), "ice40", fabric="verilog")
    assert p.feeds
    net = nw.LutNetwork(_net(), "ice40", fabric="verilog", clock_ports=True)
    text = net.to_verilog("core")
    assert text.count("__tern_feedc (") == len(p.feeds)
    part = partition_design(text, "core", piece_luts=100)
    assert part.luts == int(p.fabric.n_cells) + len(p.feeds)
    pieces = "\n".join(pc.verilog for pc in part.pieces)
    assert pieces.count("__tern_feedc (") == len(p.feeds)
    assert dataclasses.is_dataclass(part)


def test_moved_luts_that_would_close_loops_stay(tmp_path: Path) -> None:
    # the bench's 10K-gate, 100-class network: after optimization many 2-input LUTs sit below carry-in bits
    # whose fan-in they are not in, and together some of them close loops through one another's bits (the
    # first version of plan_feeds raised an internal error here). Those stay; the rest move, and in the
    # structural Verilog every feed cell comes after the LUTs that drive its carry's operands
    from lut2rtl.compile import compile_netlist

    out = compile_netlist(random_netlist(1, 256, [5000, 5000], 2, classes=100), tmp_path / "b", target="ice40",
                          name="core").out_dir
    text = (out / "core.v").read_text()
    driven = {m[1]: m.start() for m in re.finditer(r"\.O\((n\d+)\)\);", text)}
    carries = list(re.finditer(r"SB_CARRY \S+__tern_feedc \(\.I0\(([^)]+)\), \.I1\(([^)]+)\)", text))
    assert len(carries) > 100
    for m in carries:
        for net in (m[1], m[2]):
            assert net not in driven or driven[net] < m.start(), net


def test_no_feed_cell_for_an_adder_yosys_builds_from_luts() -> None:
    # an adder whose operands are one bit wide up to constant group bits (such as a leaf that always counts 2
    # or 3) is a sum of at most two bits once Yosys folds the constants, which it builds from LUTs: its
    # carry-in gets no feed cell (the carry-out would need a pass-out cell there). One operand's high bits
    # constant only keeps it
    from lut2rtl.rtl.groupsum import plan_groupsum

    plan = plan_groupsum(4 * 30, 4, ICE40)
    leaves = {st.out[0]: st for st in plan.steps if st.kind == "leaf"}
    add = next(st for st in plan.steps if st.kind == "add" and len(st.reads) == 3
               and all(r[0] in leaves for r in st.reads[:2]))
    cin = plan.inputs[add.reads[2][0]]
    assert cin in plan.feed_positions()[0]
    high = [[i for i in leaves[r[0]].bits[1:]] for r in add.reads[:2]]
    assert cin in plan.feed_positions(high[0])[0]
    assert cin not in plan.feed_positions(high[0] + high[1])[0]

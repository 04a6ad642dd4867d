"""Piecewise simulation (lut2rtl.verify.piecewise) is the whole design's simulation.

On a design with a fabric register boundary, cut into pieces of a few dozen
primitives: the piecewise run observes exactly what the whole-design run
observes, on the right design and on two wrong ones (a flipped LUT bit, a
bypassed fabric register), where both must report mismatches. A design whose
fabric reads its own outputs (through a register of the top) is refused.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from lut2rtl.buildfolder import BuildFolder, read_build_folder
from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.compile import compile_netlist
from lut2rtl.errors import ToolError
from lut2rtl.families import FAMILIES
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Netlist
from lut2rtl.verify.compare import Observed
from lut2rtl.verify.mutate import drop_register, flip_lut_init_bit, lut_inits
from lut2rtl.verify.partition import partition_design
from lut2rtl.verify.simulate import simulate, simulate_design
from lut2rtl.verify.vectors import Vectors, expected_vectors, random_inputs

PIECE = 60  # primitives per piece: a 200-primitive fabric in 4 pieces and a register piece


@pytest.fixture(scope="module")
def design(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Netlist]:
    net = random_netlist(7, 32, [120, 120, 120, 60], 2, classes=6, genuine=True)
    out = compile_netlist(net, tmp_path_factory.mktemp("pw") / "d", target="ice40", pipeline=6, fabric="verilog",
                          name="net").out_dir
    return Path(out), load_checkpoint(Path(out) / "netlist.pt")


def _same(a: Observed, b: Observed) -> None:
    for f in ("out_bits", "counts", "out_class", "valid_expected", "valid_got"):
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None) == (y is None), f
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=f)


def _variant(src: Path, dst: Path, text: str) -> BuildFolder:
    shutil.copytree(src, dst)
    (dst / "net.v").write_text(text)
    return read_build_folder(dst)


@pytest.mark.verilator
@pytest.mark.parametrize("mutation", ["none", "flipped LUT bit", "bypassed register"])
def test_piecewise_observes_what_the_whole_design_shows(design: tuple[Path, Netlist], mutation: str,
                                                        tmp_path: Path, sim_cache: Path) -> None:
    folder, net = design
    text = (folder / "net.v").read_text()
    if mutation == "flipped LUT bit":
        text, _ = flip_lut_init_bit(text, index=len(lut_inits(text)) // 2)  # a LUT in the middle piece
    elif mutation == "bypassed register":
        # the first fabric register that holds a LUT's output (one that holds an input bit may be read
        # where that bit is don't-care)
        regs = re.finditer(r"^\s*r\d+_\d+\[\d+\]\s*<=\s*([^;]+);", text, re.M)
        text, _ = drop_register(text, next(i for i, m in enumerate(regs) if m.group(1).startswith("n")))
    part = partition_design(text, "net", piece_luts=PIECE)
    assert sum(p.luts > 0 for p in part.pieces) >= 3 and any(p.clocked for p in part.pieces)
    d = _variant(folder, tmp_path / "d", text)
    vectors = expected_vectors(net, random_inputs(net.n_inputs, 300, 1))
    whole = simulate_design(d, vectors, cache_dir=sim_cache, piece_luts=0)
    pieces = simulate_design(d, vectors, cache_dir=sim_cache, piece_luts=PIECE)
    assert (whole.pieces, pieces.pieces) == (0, sum(1 for p in part.pieces if p.outputs))
    assert whole.ok == (mutation == "none")
    assert pieces.ok == whole.ok
    assert pieces.comparison.mismatched_vectors == whole.comparison.mismatched_vectors
    _same(whole.observed, pieces.observed)


@pytest.mark.verilator
def test_piecewise_with_feed_cells(tmp_path: Path, sim_cache: Path) -> None:
    # an iCE40 design at pipeline 0 whose structural fabric holds feed cells (rtl/lutcarry.py: a moved LUT and
    # a carry whose carry-out the head's adders read): the pieces observe what the whole design does, equal to
    # the reference evaluator. Control: one feed carry's carry-in constant flipped, which both runs report
    net = random_netlist(1, 32, [120, 80], 2, classes=4, genuine=True)
    out = Path(compile_netlist(net, tmp_path / "b", target="ice40", fabric="verilog", name="net").out_dir)
    text = (out / "net.v").read_text()
    carry = re.search(r"(SB_CARRY l\d+__tern_feedc \(.*?\.CI\(1'b)([01])", text)
    assert carry, "the design has feed cells"
    ref = load_checkpoint(out / "netlist.pt")
    piece = 25  # primitives per piece: the optimized fabric is small
    vectors = expected_vectors(ref, random_inputs(ref.n_inputs, 300, 1))
    for bad in (False, True):
        variant = text[:carry.end(1)] + str(1 - int(carry[2])) + text[carry.end():] if bad else text
        part = partition_design(variant, "net", piece_luts=piece)
        assert sum(p.luts > 0 for p in part.pieces) >= 3
        d = _variant(out, tmp_path / f"d{int(bad)}", variant)
        whole = simulate_design(d, vectors, cache_dir=sim_cache, piece_luts=0)
        pieces = simulate_design(d, vectors, cache_dir=sim_cache, piece_luts=piece)
        assert pieces.pieces > 1
        assert whole.ok is not bad and pieces.ok is not bad
        assert pieces.comparison.mismatched_vectors == whole.comparison.mismatched_vectors
        _same(whole.observed, pieces.observed)


_LOOP = """module top(rst, in_valid, in_bits, out_valid, out_bits, clk);
  input rst;
  input in_valid;
  input [1:0] in_bits;
  output out_valid;
  output [0:0] out_bits;
  input clk;
  reg q = 1'b0;
  wire [0:0] fo;
  wire [1:0] fi;
  assign fi = {FEEDBACK, in_bits[0]};
  always @(posedge clk) q <= fo[0];
  top__fabric fabric (
    .i0(fi),
    .o0(fo)
  );
  assign out_valid = in_valid;
  assign out_bits = fo;
endmodule

module top__fabric(i0, o0);
  input wire [1:0] i0;
  output wire [0:0] o0;
  // segment 0
  wire n2;
  SB_LUT4 #(.LUT_INIT(16'h6666)) l2 (.I0(i0[0]), .I1(i0[1]), .I2(1'b0), .I3(1'b0), .O(n2));
  assign o0[0] = n2;
endmodule
"""


@pytest.mark.verilator
@pytest.mark.parametrize("feedback", [False, True])
def test_a_fabric_that_reads_its_own_outputs_is_refused(feedback: bool, tmp_path: Path, sim_cache: Path) -> None:
    verilog = tmp_path / "top.v"
    verilog.write_text(_LOOP.replace("FEEDBACK", "q" if feedback else "1'b0"))
    in_bits = random_inputs(2, 64, 3)
    # (without feedback the output is in_bits[0]: the control passes)
    vectors = Vectors(in_bits=in_bits, out_bits=in_bits[:, :1].copy())
    ports = {"rst": 1, "in_valid": 1, "in_bits": 2, "out_valid": 1, "out_bits": 1, "clk": 1}
    kw = {"family": FAMILIES["ice40"], "classes": None, "cache_dir": sim_cache}
    if not feedback:
        res = simulate(verilog, "top", ports, 0, vectors, piece_luts=1, **kw)
        assert res.ok and res.pieces == 1
        return
    with pytest.raises(ToolError, match="depend on its outputs"):
        simulate(verilog, "top", ports, 0, vectors, piece_luts=1, **kw)

"""Feed cells (lut2rtl/rtl/lutcarry.py ``feed``) in compiled iCE40 designs: they simulate equal to the
reference evaluator and prove, and a feed cell whose carry gives a wrong bit fails both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lut2rtl.compile import compile_netlist
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.check import verify_build

pytestmark = [pytest.mark.yosys, pytest.mark.verilator]


@pytest.mark.parametrize("fabric", ["amaranth", "verilog"])
def test_feed_cells_simulate_and_prove_and_a_wrong_carry_in_fails(tmp_path: Path, sim_cache: Path,
                                                                  fabric: str) -> None:
    # both fabric writers (Amaranth instances, structural Verilog): the build with feed cells is equal to the
    # reference evaluator (vectors plus 512 random) and proves with every cut. Control: one feed carry's
    # constant carry-in flipped (maj(c, x, 1 - k) is c | x or c & x, not c): simulation and the proof fail
    net = random_netlist(1, 32, [120, 80], 2, classes=4, genuine=True)
    out = compile_netlist(net, tmp_path / "b", target="ice40", fabric=fabric, name="core").out_dir
    verilog = out / "core.v"
    text = verilog.read_text()
    carries = list(re.finditer(r"SB_CARRY (\S+__tern_feedc) \((.*?)\);", text, re.S))
    assert carries, "the build has feed cells"
    good = verify_build(out, extra_vectors=512, formal=True, cache_dir=sim_cache)
    assert good.ok, (good.sim, good.formal)
    assert good.formal is not None and "(popcount cut points)" in good.formal.method, good.formal.method
    first = carries[0]
    ci = re.search(r"\.CI\(1'[bh]([01])\)", first[2])
    assert ci, first[0]
    flipped = first[2][:ci.start(1)] + str(1 - int(ci[1])) + first[2][ci.end(1):]
    verilog.write_text(text[:first.start(2)] + flipped + text[first.end(2):])
    bad = verify_build(out, extra_vectors=512, cache_dir=sim_cache)
    assert bad.sim is not None and not bad.sim.ok
    bad = verify_build(out, formal=True, simulate=False)
    assert bad.formal is not None and not bad.formal.proved

"""compile.py: options checked once in library words, the folder it writes, estimates from the plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from amaranth.hdl import Fragment

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import check_options, compile_netlist, default_name
from lut2rtl.errors import CompileError, OptionError
from lut2rtl.netgen import random_netlist
from lut2rtl.rtl import LutNetwork


@pytest.mark.parametrize(("args", "option", "match"), [
    (("ice40", -1, 3, "auto", None), "pipeline", r"^pipeline must be a non-negative integer, got -1$"),
    (("ice40", 5000, 3, "auto", None), "pipeline", r"^pipeline 5000 is more than 1024 register stages$"),
    (("ice40", 0, 7, "auto", None), "opt", r"^opt must be one of 0, 1, 2, 3, got 7$"),
    (("ice40", 0, 3, "vhdl", None), "fabric", r"^fabric must be one of auto, amaranth, verilog, got 'vhdl'$"),
    (("ice40", 0, 3, "auto", "9x"), "name", r"^name '9x' is not a usable Verilog module name"),
    (("ice40", 0, 3, "auto", "lut2rtl_top"), "name", r"is not a usable Verilog module name"),
])
def test_bad_options(args: tuple, option: str, match: str) -> None:
    with pytest.raises(OptionError, match=match) as e:
        check_options(*args)
    assert e.value.option == option


def test_unknown_target_and_good_options() -> None:
    with pytest.raises(CompileError, match=r"^unknown target 'vhdl'"):
        check_options("vhdl", 0, 3, "auto", None)
    check_options("xilinx", 4, 0, "verilog", "top_1")


def test_bad_option_writes_nothing(tmp_path: Path) -> None:
    net = random_netlist(0, 8, [8], 2, classes=2)
    with pytest.raises(OptionError):
        compile_netlist(net, tmp_path / "b", pipeline=-2)
    assert not (tmp_path / "b").exists()


def test_default_name() -> None:
    assert default_name("a/b/my-net.v2.pt") == "my_net_v2"
    assert default_name("9lives.pt") == "m_9lives"
    assert default_name("module.pt") == "module_top"


@pytest.mark.parametrize(("pipeline", "out_bits", "fabric"), [(0, False, "amaranth"), (3, True, "amaranth"),
                                                               (6, False, "verilog"), (30, True, "verilog")])
def test_flip_flop_estimate_is_what_is_built(tmp_path: Path, pipeline: int, out_bits: bool, fabric: str) -> None:
    # the estimate comes from the plan; count the flip-flops the Amaranth design really has
    net = random_netlist(2, 12, [30, 20], 2, classes=4)
    core = LutNetwork(net, "ice40", pipeline, out_bits=out_bits, fabric=fabric)
    frag = Fragment.get(core, None)
    built = 0
    todo = [frag]
    while todo:
        f = todo.pop()
        built += sum(len(st.lhs) for st in f.statements.get("sync", []))
        todo += [sub for sub, _, _ in f.subfragments]
    if fabric == "verilog":  # the structural fabric's registers are Verilog, not Amaranth statements
        built += core.plan.stages.fabric_ffs
    assert core.ff_estimate == built


def test_folder_is_read_back(tmp_path: Path) -> None:
    net = random_netlist(1, 10, [12, 8], 2, classes=2)
    res = compile_netlist(net, tmp_path / "b", target="xilinx", pipeline=2, name="core")
    folder = read_build_folder(res.out_dir)
    assert folder.manifest == res.manifest
    assert folder.manifest.family.name == "xilinx" and folder.manifest.latency == 2
    assert res.files == ["core.core", "core.json", "core.v", "netlist.pt", "vectors.npz"]
    assert folder.netlist.n_luts == net.n_luts

"""The head leaves constant 0 bits out of each class's popcount (rtl/popcount.py: head_groups): the
formal proof still cuts at the partial sums, and a design that counts a wrong bit is refuted."""

from __future__ import annotations

from pathlib import Path

import pytest

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Layer, Netlist
from lut2rtl.passes.const import constant_outputs
from lut2rtl.rtl.groupsum import head_groups
from lut2rtl.verify.check import formal_check


def _with_zeros() -> Netlist:
    net = random_netlist(5, 24, [60, 90], 2, classes=3)
    tables = net.layers[1].tables.copy()
    tables[::4] = 0
    return net.replace(layers=(net.layers[0], Layer(k=2, inputs=net.layers[1].inputs, tables=tables)),
                       outputs=net.outputs)


@pytest.mark.yosys
@pytest.mark.parametrize(("target", "pipeline"), [("ice40", 0), ("ecp5", 2), ("xilinx", 1)])
def test_head_without_constant_zero_bits_proved_with_cuts(tmp_path: Path, target: str, pipeline: int) -> None:
    import torch

    from lut2rtl.checkpoint import netlist_to_dict

    net = _with_zeros()
    assert head_groups(net) is not None
    out = compile_netlist(net, tmp_path / "b", target=target, pipeline=pipeline, name="core").out_dir
    proof = formal_check(read_build_folder(out))[0]
    assert proof.proved and "yosys expose -cut" in proof.method, proof
    # negative control: the design against a netlist with one counted bit inverted (the same constants,
    # so the same head groups): refuted
    const = constant_outputs(net)
    live = next(i for i in range(net.n_outputs) if i not in const)
    tables = net.layers[1].tables.copy()
    tables[int(net.outputs[live]) - net.offsets[1]] ^= 15
    wrong = net.replace(layers=(net.layers[0], Layer(k=2, inputs=net.layers[1].inputs, tables=tables)),
                        outputs=net.outputs)
    assert head_groups(wrong) == head_groups(net)
    torch.save(netlist_to_dict(wrong), out / read_build_folder(out).manifest.files["netlist"])
    assert not formal_check(read_build_folder(out))[0].proved

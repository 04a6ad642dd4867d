"""The head leaves constant 0 bits out of each class's popcount (rtl/popcount.py: head_groups): the
formal proof still cuts at the partial sums, and a design that counts a wrong bit is refuted."""

from __future__ import annotations

from pathlib import Path

import pytest

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.compile import compile_netlist
from lut2rtl.families import FAMILIES
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


@pytest.mark.yosys
def test_head_order_follows_the_registers_and_the_proof_follows_the_build(tmp_path: Path) -> None:
    """iCE40 packs the head's group bits (popcount_pack) unless registers sit inside the fabric (a packed leaf
    would pass through a register of its own: a logic cell per bit); ECP5, whose flip-flops are a resource
    of their own, packs at any clock. The build folder records the order, and the formal proof cuts along
    it. Control: the same index-order build labelled 'packed', without its recorded groups (a folder from
    before compile recorded them), loses its cut points (the proof falls back to the uncut miter, still
    correct)."""
    import json

    net = random_netlist(5, 24, [60, 60, 60, 90], 2, classes=3)
    built = {}
    for tag, target, kw in (("p0", "ice40", {}), ("c200", "ice40", {"clock_mhz": 200, "device": "hx8k"}),
                            ("e250", "ecp5", {"clock_mhz": 250, "device": "ecp5-25k"})):
        built[tag] = compile_netlist(net, tmp_path / tag, target=target, name="core", **kw).out_dir
    order = {t: read_build_folder(d).manifest.options["head_order"] for t, d in built.items()}
    assert order == {"p0": "packed", "c200": "index", "e250": "packed"}
    assert head_groups(net, FAMILIES["ice40"]) != head_groups(net)  # packing changes this network's order
    proof = formal_check(read_build_folder(built["c200"]))[0]
    assert proof.proved and "yosys expose -cut" in proof.method, proof
    man = built["c200"] / "core.json"
    data = json.loads(man.read_text())
    plain = head_groups(net)  # index order, without the bits proved 0
    assert data["options"]["head_groups"] == (None if plain is None else [list(g) for g in plain])
    data["options"]["head_order"] = "packed"
    del data["options"]["head_groups"]
    man.write_text(json.dumps(data))
    wrong = formal_check(read_build_folder(built["c200"]))[0]
    assert wrong.proved and "yosys expose -cut" not in wrong.method, wrong


@pytest.mark.yosys
def test_the_proof_follows_the_recorded_head_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compile records the bits each class's tree counts, in the design's order (options.head_groups); the
    proof reads them there, so a later lut2rtl whose packing order differs (here: each group reversed) still
    cuts a folder built before. Control: without the record it recomputes the order and loses its cut
    points. A record that does not fit the netlist is refused in one line."""
    import json

    import lut2rtl.verify.formal as formal
    from lut2rtl.errors import BuildFolderError

    net = random_netlist(5, 24, [60, 60, 60, 90], 2, classes=3)
    out = compile_netlist(net, tmp_path / "p0", target="ice40", name="core").out_dir
    packed = head_groups(net, FAMILIES["ice40"])
    assert packed is not None and read_build_folder(out).manifest.options["head_groups"] == [list(g) for g in packed]
    real = formal.head_groups
    monkeypatch.setattr(formal, "head_groups", lambda n, f=None: tuple(tuple(reversed(g)) for g in real(n, f)))
    proof = formal_check(read_build_folder(out))[0]
    assert proof.proved and "yosys expose -cut" in proof.method, proof
    man = out / "core.json"
    data = json.loads(man.read_text())
    del data["options"]["head_groups"]
    man.write_text(json.dumps(data))
    old = formal_check(read_build_folder(out))[0]
    assert old.proved and "yosys expose -cut" not in old.method, old
    for bad in ([[0, 0]] * 3, [[0]], "x", [[0, 1.5]] * 3, [[-1]] * 3):
        data["options"]["head_groups"] = bad
        man.write_text(json.dumps(data))
        with pytest.raises(BuildFolderError, match="options.head_groups"):
            formal_check(read_build_folder(out))


@pytest.mark.yosys
def test_a_leaf_that_counts_to_a_network_input_stays_uncut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A leaf counter over p & q, p & ~q and p | q counts to 2p + (~p & q): its high bit is the network input
    p, which the optimizer wires straight through, so a cut there would cut the fabric's input too. The
    proof's name hint leaves such a leaf uncut (it compares leaf bits with every signal of the network,
    not only the group bits) and still cuts the rest, the other leaves included. Control: comparing with
    the group bits only, the first cut attempt fails and the proof falls back to leaving every leaf uncut."""
    import numpy as np

    import lut2rtl.verify.formal as formal
    from lut2rtl.netlist import GroupSum, rows_to_table, truth_table_rows

    def table(fn) -> int:  # type: ignore[no-untyped-def]
        rows = truth_table_rows(2)
        return int(rows_to_table(np.array([bool(fn(a, b)) for a, b in rows])[None, :])[0])

    # two classes of 7 bits (two leaves and a carry-in): class 0 starts with the three gates over inputs 0
    # and 1 (a leaf of their own: they read two signals together), then gates over pairs of other inputs
    others = [lambda p, q: p ^ q, lambda p, q: 1 - (p & q), lambda p, q: p | (1 - q)]
    fns = [lambda p, q: p & q, lambda p, q: p & (1 - q), lambda p, q: p | q] + [others[i % 3] for i in range(11)]
    ins = [[0, 1]] * 3 + [[2 + i, 3 + i] for i in range(11)]
    layer = Layer(k=2, inputs=np.array(ins, dtype=np.int64), tables=np.array([table(f) for f in fns], dtype=np.uint64))
    net = Netlist(n_inputs=14, layers=(layer,), outputs=np.arange(14, 28, dtype=np.int64),
                  group_sum=GroupSum(classes=2, tau=1.0))
    out = compile_netlist(net, tmp_path / "b", target="ice40", name="core").out_dir
    proof = formal_check(read_build_folder(out))[0]
    assert proof.proved and "yosys expose -cut (popcount cut points)" in proof.method, proof
    assert "leaf counters uncut" not in proof.method, proof
    monkeypatch.setattr(formal, "_signal_samples", lambda n, samples=512: formal._output_samples(n, samples))
    weak = formal_check(read_build_folder(out))[0]
    assert weak.proved and "leaf counters uncut" in weak.method, weak

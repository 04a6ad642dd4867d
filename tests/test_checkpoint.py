from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

from lut2rtl.checkpoint import load_checkpoint, netlist_from_dict, netlist_to_dict, save_checkpoint
from lut2rtl.errors import CheckpointError
from lut2rtl.evaluate import evaluate
from lut2rtl.netgen import random_netlist


def _same(a, b):
    assert a.n_inputs == b.n_inputs and len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert la.k == lb.k
        assert np.array_equal(la.inputs, lb.inputs) and np.array_equal(la.tables, lb.tables)
    assert np.array_equal(a.outputs, b.outputs)
    assert (a.group_sum is None) == (b.group_sum is None)
    if a.group_sum:
        assert (a.group_sum.classes, a.group_sum.tau, a.group_sum.beta) == (
            b.group_sum.classes, b.group_sum.tau, b.group_sum.beta)
    if a.encoder:
        assert np.array_equal(a.encoder.thresholds, b.encoder.thresholds)
    assert dict(a.metadata) == dict(b.metadata)


@pytest.mark.parametrize("dag", [False, True])
def test_roundtrip_exact(tmp_path, dag):
    net = random_netlist(7, 12, [10, 8, 6], [2, 6, 3], classes=3, dag=dag, encoder_features=4)
    net = net.replace(metadata={"method": "test", "accuracy": 0.5, "seed": 3, "tags": ["a", "b"]})
    p = tmp_path / "m.pt"
    save_checkpoint(net, p)
    back = load_checkpoint(p)
    _same(net, back)
    bits = np.random.default_rng(0).integers(0, 2, size=(100, 12)).astype(bool)
    assert np.array_equal(evaluate(net, bits).out_bits, evaluate(back, bits).out_bits)


def test_six_input_tables_keep_all_64_bits(tmp_path):
    net = random_netlist(1, 6, [5], 6)
    tables = net.layers[0].tables.copy()
    tables[0] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    tables[1] = np.uint64(0x8000_0000_0000_0001)
    net = net.replace(layers=(type(net.layers[0])(6, net.layers[0].inputs, tables),), outputs=net.outputs)
    save_checkpoint(net, tmp_path / "m.pt")
    assert np.array_equal(load_checkpoint(tmp_path / "m.pt").layers[0].tables, tables)


def test_layered_checkpoint_uses_local_indices():
    net = random_netlist(2, 5, [4, 3], 2)
    d = netlist_to_dict(net)
    assert d["layers"][1]["reads"] == "previous"
    assert int(d["layers"][1]["inputs"].max()) < 4
    assert "outputs" not in d


def test_save_is_deterministic(tmp_path):
    net = random_netlist(3, 8, [6, 4], 2, classes=2)
    save_checkpoint(net, tmp_path / "a.pt")
    save_checkpoint(net, tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch " + str(_Evil.marker),))


def test_pickled_code_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = marker
    p = tmp_path / "evil.pt"
    torch.save({"format": "lut2rtl-checkpoint", "payload": _Evil()}, p)
    with pytest.raises(CheckpointError, match="refused without running them"):
        load_checkpoint(p)
    assert not marker.exists()
    # a raw pickle (not a torch zip) too
    p2 = tmp_path / "evil.pkl"
    p2.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(CheckpointError):
        load_checkpoint(p2)
    assert not marker.exists()


def test_garbage_and_missing_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="not a loadable lut2rtl checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    with zipfile.ZipFile(tmp_path / "z.pt", "w") as z:
        z.writestr("x", "y")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "z.pt")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)


def _dict():
    return netlist_to_dict(random_netlist(4, 6, [4, 2], 2, classes=2, encoder_features=3))


@pytest.mark.parametrize("mutate, msg", [
    (lambda d: d.update(version=3), r"version 3 is not supported"),
    (lambda d: d.update(format="other"), r"'format' is 'other'"),
    (lambda d: d.pop("n_inputs"), r"missing key 'n_inputs'"),
    (lambda d: d.update(n_inputs=-1), r"'n_inputs'=-1 outside"),
    (lambda d: d.update(layers=[]), r"no layers"),
    (lambda d: d["layers"][0].update(k=7), r"layers\[0\]: 'k'=7 outside 1\.\.6"),
    (lambda d: d["layers"][0].update(k=0), r"layers\[0\]: 'k'=0 outside 1\.\.6"),
    (lambda d: d["layers"][1]["inputs"].__setitem__((1, 0), 9),
     r"layer 1, neuron 1: input 0 is 9, outside 0\.\.3 \(layer 0 has 4 outputs\)"),
    (lambda d: d["layers"][0].update(inputs=d["layers"][0]["inputs"].float()), r"expected an integer dtype"),
    (lambda d: d["layers"][0].update(inputs=d["layers"][0]["inputs"][:, :1]), r"has shape \(4, 1\), expected \(4, 2\)"),
    (lambda d: d["layers"][0].update(tables="abc"), r"'tables' is str, expected a tensor"),
    (lambda d: d["group_sum"].update(classes=3), r"3 classes do not divide the 2 outputs"),
    (lambda d: d["group_sum"].update(tau=float("nan")), r"'tau' is nan"),
    (lambda d: d["encoder"]["thresholds"].__setitem__((0, 0), float("inf")), r"threshold \[feature 0, 0\] is inf"),
    (lambda d: d["encoder"].update(kind="onehot"), r"encoder kind 'onehot' is not supported"),
    (lambda d: d.update(kind="float-baseline", format=None), r"float baseline"),
])
def test_validation_messages(mutate, msg):
    d = _dict()
    mutate(d)
    with pytest.raises(CheckpointError, match=msg):
        netlist_from_dict(d, where="m.pt")


def test_absurd_sizes_refused_before_allocation():
    d = _dict()
    d["n_inputs"] = 1 << 40
    with pytest.raises(CheckpointError, match="outside 1..16777216"):
        netlist_from_dict(d)
    d = _dict()
    big = torch.zeros(1, dtype=torch.int64).expand(1 << 27)  # a view: no memory
    d["layers"][0]["tables"] = big
    with pytest.raises(CheckpointError, match="LUTs exceeds the limit"):
        netlist_from_dict(d)

"""`--encoder hw`: the design takes integer features (in_features); Verilator
and the formal proof check it against the lowered netlist, whose equality
with the float64 software encoder tests/test_encoder.py shows exhaustively."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.cli import main
from lut2rtl.compile import compile_netlist
from lut2rtl.encoder import FeatureFormat
from lut2rtl.evaluate import evaluate
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Netlist, Thermometer
from lut2rtl.verify.mutate import flip_lut_init_bit

REPO = Path(__file__).resolve().parents[2]
ENV = {"LUT2RTL_SIM_CACHE": str(REPO / "sim_build")}


def _model(seed: int = 5) -> Netlist:
    rng = np.random.default_rng(seed)
    net = random_netlist(rng, 18, [30, 24], 2, classes=3, encoder_features=6)
    th = np.sort(rng.uniform(-40, 40, size=(6, 3)).round(1), axis=1)  # some integral, some outside 6-bit range
    return Netlist(n_inputs=net.n_inputs, layers=net.layers, group_sum=net.group_sum, encoder=Thermometer(th),
                   metadata=net.metadata)


def test_folder_ports_and_vectors(tmp_path: Path) -> None:
    net = _model()
    out = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=2, encoder="hw", feature_bits=6,
                          signed=True).out_dir
    b = read_build_folder(out)
    m = b.manifest
    assert m.input_port == "in_features" and m.width("in_features") == 6 * 6 and "in_bits" not in m.ports
    assert m.options["encoder"]["feature_bits"] == 6 and m.options["encoder"]["signed"] is True
    assert m.estimate["encoder_luts"] > 0
    with np.load(b.vectors_path) as z:
        feats, in_bits, counts = z["in_features"], z["in_bits"], z["counts"]
    fmt = FeatureFormat(6, True)
    assert feats.min() == fmt.lo and feats.max() == fmt.hi
    assert np.array_equal(in_bits, fmt.to_bits(feats))
    # the folder's expected outputs are the software path's: float64 encoder, then the source network
    assert np.array_equal(counts, evaluate(net, net.encoder.encode(feats)).counts)
    assert "in_features" in b.verilog.read_text()


@pytest.mark.verilator
@pytest.mark.yosys
@pytest.mark.parametrize("target,pipeline", [("ice40", 3), ("xilinx", 0)])
def test_verify_and_prove(tmp_path: Path, target: str, pipeline: int) -> None:
    out = compile_netlist(_model(), tmp_path / "b", target=target, pipeline=pipeline, encoder="hw",
                          feature_bits=6, signed=True).out_dir
    r = CliRunner().invoke(main, ["verify", str(out), "--formal", "--json", "--vectors", "300"], env=ENV)
    d = json.loads(r.output.splitlines()[0])
    assert r.exit_code == 0, r.output
    assert d["ok"] is True and d["simulation"]["mismatched_vectors"] == 0 and d["formal"]["proved"] is True


@pytest.mark.verilator
def test_wrong_comparator_is_caught(tmp_path: Path) -> None:
    # negative control: one flipped bit in one LUT of the design must be found from in_features
    out = compile_netlist(_model(), tmp_path / "b", target="ice40", pipeline=0, encoder="hw", feature_bits=6,
                          signed=True).out_dir
    v = next(out.glob("*.v"))
    v.write_text(flip_lut_init_bit(v.read_text(), 0)[0])
    r = CliRunner().invoke(main, ["verify", str(out), "--json", "--vectors", "2000"], env=ENV)
    assert r.exit_code == 1
    d = json.loads(r.output.splitlines()[0])
    assert d["simulation"]["mismatched_vectors"] > 0

"""The typed build folder: one reader, one error type, and a manifest that round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lut2rtl.buildfolder import Manifest, read_build_folder, write_build_folder
from lut2rtl.errors import BuildFolderError, OutputError
from lut2rtl.families import FAMILIES


def _manifest(**kw: object) -> Manifest:
    ports = {"clk": ("in", 1), "rst": ("in", 1), "in_valid": ("in", 1), "in_bits": ("in", 6),
             "out_valid": ("out", 1), "out_class": ("out", 2), "out_counts": ("out", 12)}
    args: dict = dict(name="m", family=FAMILIES["ecp5"], pipeline=2, opt=3, n_inputs=6, n_outputs=12, classes=4,
                      count_width=3, class_width=2, out_bits=False, ports=ports, checkpoint_sha256="ab" * 32, top="m",
                      latency=2, files={"verilog": "m.v", "netlist": "netlist.pt", "vectors": "vectors.npz"})
    args.update(kw)
    return Manifest(**args)


def _folder(tmp_path: Path, man: Manifest) -> Path:
    out = tmp_path / "b"
    write_build_folder(out, man, {"m.v": b"module m; endmodule\n", "netlist.pt": b"x", "vectors.npz": b"y"})
    return out


def test_round_trip(tmp_path: Path) -> None:
    man = _manifest()
    got = read_build_folder(_folder(tmp_path, man)).manifest
    assert got == man
    assert got.family is FAMILIES["ecp5"] and got.primitives is FAMILIES["ecp5"]
    assert got.latency == 2 and got.top == "m" and got.width("in_bits") == 6
    data = json.loads((tmp_path / "b" / "m.json").read_text())
    assert data["target"] == data["primitives"] == "ecp5"
    assert data["ports"]["out_counts"] == {"dir": "out", "width": 12}


def test_generic_has_no_primitives(tmp_path: Path) -> None:
    got = read_build_folder(_folder(tmp_path, _manifest(family=FAMILIES["generic"]))).manifest
    assert got.primitives is None
    assert json.loads((tmp_path / "b" / "m.json").read_text())["primitives"] is None


def test_write_refuses_an_existing_folder(tmp_path: Path) -> None:
    out = _folder(tmp_path, _manifest())
    with pytest.raises(OutputError, match=r"already exists"):
        write_build_folder(out, _manifest(), {})


@pytest.mark.parametrize(("edit", "match"), [
    ({"target": "altera"}, r"unknown target 'altera'"),
    ({"primitives": "ice40"}, r"primitives 'ice40' do not match the target 'ecp5'"),
    ({"latency": -1}, r"'latency' must be an integer >= 0, got -1"),
    ({"n_inputs": True}, r"'n_inputs' must be an integer >= 1, got True"),
    ({"files": {"verilog": "../x.v"}}, r"files\.verilog must be a plain file name in the folder"),
    ({"files": 7}, r"malformed 'files' entry"),
    ({"ports": {"clk": {"dir": "in", "width": 1}}}, r"port 'rst' is missing"),
    ({"ports": {"clk": {"dir": "sideways", "width": 1}}}, r"port 'clk' needs dir 'in' or 'out'"),
])
def test_broken_manifest(tmp_path: Path, edit: dict, match: str) -> None:
    out = _folder(tmp_path, _manifest())
    data = json.loads((out / "m.json").read_text())
    data.update(edit)
    (out / "m.json").write_text(json.dumps(data))
    with pytest.raises(BuildFolderError, match=r"^.*m\.json: " + match):
        read_build_folder(out)


def test_extra_input_port_refused(tmp_path: Path) -> None:
    out = _folder(tmp_path, _manifest())
    data = json.loads((out / "m.json").read_text())
    data["ports"]["in_extra"] = {"dir": "in", "width": 8}
    (out / "m.json").write_text(json.dumps(data))
    with pytest.raises(BuildFolderError, match=r"input ports no lut2rtl core has: in_extra"):
        read_build_folder(out)


def test_one_data_input(tmp_path: Path) -> None:
    # in_features replaces in_bits (the encoder in hardware); both, or neither, is a broken manifest
    out = _folder(tmp_path, _manifest())
    data = json.loads((out / "m.json").read_text())
    data["ports"]["in_features"] = {"dir": "in", "width": 8}
    (out / "m.json").write_text(json.dumps(data))
    with pytest.raises(BuildFolderError, match=r"exactly one data input, in_bits or in_features, got in_bits, "
                                                 r"in_features"):
        read_build_folder(out)
    del data["ports"]["in_bits"]
    (out / "m.json").write_text(json.dumps(data))
    assert read_build_folder(out).manifest.input_port == "in_features"


def test_missing_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(BuildFolderError, match=r"no such build folder"):
        read_build_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildFolderError, match=r"no manifest"):
        read_build_folder(tmp_path / "empty")
    out = _folder(tmp_path, _manifest())
    (out / "vectors.npz").unlink()
    with pytest.raises(BuildFolderError, match=r"vectors\.npz: file named by the manifest is missing"):
        read_build_folder(out)


def test_a_corrupt_netlist_names_its_path_once(tmp_path: Path) -> None:
    # the folder's netlist.pt is one byte of junk: one error, naming the file once
    folder = read_build_folder(_folder(tmp_path, _manifest()))
    with pytest.raises(BuildFolderError) as e:
        _ = folder.netlist
    msg = str(e.value)
    assert msg.count("netlist.pt") == 1 and "not a loadable lut2rtl checkpoint" in msg
    assert msg.startswith(str(tmp_path / "b" / "netlist.pt") + ": ")

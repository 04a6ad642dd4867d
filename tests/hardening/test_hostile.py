"""Hostile files: pickled code never runs, hostile build folders are refused cleanly.

A pickled callable here is ``open(<marker>, "w")``: if any reader unpickled it
with code execution enabled, the marker file would appear.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from lut2rtl.buildfolder import read_build_folder
from lut2rtl.checkpoint import netlist_to_dict, save_checkpoint
from lut2rtl.cli import main
from lut2rtl.errors import Lut2RtlError
from lut2rtl.netgen import random_netlist


class _Callable:
    """Pickles as a call of ``open(marker, "w")``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def hostile_checkpoint(path: Path, marker: Path, *, where: str) -> None:
    d = netlist_to_dict(random_netlist(4, 8, [6, 4], [2, 3], classes=2))
    if where == "top":
        d["evil"] = _Callable(marker)
    elif where == "metadata":
        d["metadata"] = {"note": _Callable(marker)}
    elif where == "layer":
        d["layers"][0]["tables"] = _Callable(marker)
    else:
        raise ValueError(where)
    buf = io.BytesIO()
    torch.save(d, buf)
    path.write_bytes(buf.getvalue())
    assert not marker.exists()


def outcome(args: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(main, args)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args} raised {type(r.exception).__name__}: {r.exception}")
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert "Traceback" not in r.output
    if r.exit_code:
        assert lines and lines[-1].startswith("error: ") and sum(ln.startswith("error: ") for ln in lines) == 1
    return r.exit_code, r.output


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    save_checkpoint(random_netlist(4, 8, [6, 4], [2, 3], classes=2), d / "tiny.pt")
    r = CliRunner().invoke(main, ["compile", str(d / "tiny.pt"), "--target", "generic", "-o", str(d / "build")])
    assert r.exit_code == 0, r.output
    return d / "build"


@pytest.mark.parametrize("where", ["top", "metadata", "layer"])
@pytest.mark.parametrize("cmd", ["info", "eval", "compile", "import-difflogic", "import-torchlogix"])
def test_pickled_callable_never_runs(tmp_path: Path, cmd: str, where: str) -> None:
    marker = tmp_path / "PWNED"
    ckpt = tmp_path / "evil.pt"
    hostile_checkpoint(ckpt, marker, where=where)
    if cmd == "compile":
        args = ["compile", str(ckpt), "-o", str(tmp_path / "b")]
    elif cmd.startswith("import"):
        args = ["import", cmd.split("-")[1], str(ckpt), "-o", str(tmp_path / "out.pt")]
    else:
        args = [cmd, str(ckpt)]
    code, out = outcome(args)
    assert code == 1, out
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.pt"]
    if not cmd.startswith("import"):
        assert "refused without running them" in out


def test_build_folder_with_hostile_netlist(tmp_path: Path, build: Path) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    marker = tmp_path / "PWNED"
    hostile_checkpoint(folder / "netlist.pt", marker, where="top")
    with pytest.raises(Lut2RtlError, match=r"netlist\.pt: .*refused without running them"):
        _ = read_build_folder(folder).netlist
    # verify does not read netlist.pt yet (see test_verify_checks_vectors_against_netlist):
    # whatever it answers, the pickled code must not run
    outcome(["verify", str(folder)])
    assert not marker.exists()


def _npy_header_only(shape: tuple[int, ...], descr: str = "|u1") -> bytes:
    # a .npy whose header claims ``shape`` but which holds 16 bytes of data
    hdr = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + repr(shape) + ", }"
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode() + bytes(16)


def _write_npz(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)


def test_vectors_with_pickled_objects_are_refused(tmp_path: Path, build: Path) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    marker = tmp_path / "PWNED"
    arr = np.empty(2, dtype=object)
    arr[0] = _Callable(marker)
    buf = io.BytesIO()
    np.savez(buf, in_bits=arr, out_bits=arr)
    (folder / "vectors.npz").write_bytes(buf.getvalue())
    with pytest.raises(Lut2RtlError, match=r"vectors\.npz: not a readable \.npz file"):
        read_build_folder(folder).vectors()
    outcome(["verify", str(folder)])
    assert not marker.exists()


def test_vectors_with_absurd_header_shape(tmp_path: Path, build: Path) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    _write_npz(folder / "vectors.npz", {"in_bits.npy": _npy_header_only((10**12, 8)),
                                        "out_bits.npy": _npy_header_only((10**12, 2))})
    try:
        read_build_folder(folder).vectors()
    except Lut2RtlError:
        return
    except MemoryError as e:
        raise AssertionError(f"MemoryError escaped: {e}") from None
    raise AssertionError("absurd vectors were accepted")


def test_vectors_truncated(tmp_path: Path, build: Path) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    data = (folder / "vectors.npz").read_bytes()
    (folder / "vectors.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(Lut2RtlError, match=r"vectors\.npz: "):
        read_build_folder(folder).vectors()


@pytest.mark.parametrize("key", ["verilog", "netlist", "vectors"])
@pytest.mark.parametrize("target", ["/etc/hostname", "../outside.pt"])
def test_manifest_files_outside_the_folder_are_refused(tmp_path: Path, build: Path, key: str, target: str) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    (tmp_path / "outside.pt").write_bytes((folder / "netlist.pt").read_bytes())
    man_path = next(folder.glob("*.json"))
    man = json.loads(man_path.read_text())
    man["files"][key] = target
    man_path.write_text(json.dumps(man))
    with pytest.raises(Lut2RtlError):
        read_build_folder(folder)


@pytest.mark.parametrize(("key", "value"), [("n_inputs", 10**15), ("n_outputs", -3), ("classes", 10**12),
                                            ("latency", -1), ("ports", {"clk": 1}), ("files", "x"),
                                            ("primitives", "vhdl")])
def test_manifest_absurd_values(tmp_path: Path, build: Path, key: str, value: Any) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    man_path = next(folder.glob("*.json"))
    man = json.loads(man_path.read_text())
    man[key] = value
    man_path.write_text(json.dumps(man))
    with pytest.raises(Lut2RtlError):
        d = read_build_folder(folder)
        d.vectors()
    outcome(["verify", str(folder)])


def test_compile_refuses_too_wide_ports_before_working(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lut2rtl import compile as compile_mod
    from lut2rtl.netlist import GroupSum, Layer, Netlist

    net = Netlist(n_inputs=1 << 24, layers=(Layer(k=2, inputs=np.array([[0, (1 << 24) - 1], [1, 2]]),
                                                  tables=np.array([6, 8], dtype=np.uint64)),),
                  group_sum=GroupSum(2, 1.0, 0.0))
    ckpt = tmp_path / "wide.pt"
    save_checkpoint(net, ckpt)

    def optimize(*_a: object, **_k: object) -> None:
        raise AssertionError("optimize ran on a network whose ports cannot be built")

    monkeypatch.setattr(compile_mod, "optimize", optimize)
    code, out = outcome(["compile", str(ckpt), "--target", "generic", "-o", str(tmp_path / "b")])
    assert code == 1
    assert re.search(r"^error: the network has 16777216 input bits; a port of the design can have at most 65535 ",
                     out, re.M), out


@pytest.mark.verilator
@pytest.mark.parametrize("swap", ["other-netlist", "empty-netlist"])
def test_verify_checks_vectors_against_netlist(tmp_path: Path, build: Path, swap: str) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    if swap == "other-netlist":
        save_checkpoint(random_netlist(5, 8, [6, 4], [2, 3], classes=2), folder / "netlist.pt")
    else:
        (folder / "netlist.pt").write_bytes(b"")
    code, out = outcome(["verify", str(folder)])
    assert code == 1, out


def _edit_manifest(folder: Path, **changes: Any) -> None:
    man_path = next(folder.glob("*.json"))
    man = json.loads(man_path.read_text())
    man.update(changes)
    man_path.write_text(json.dumps(man))


@pytest.mark.parametrize(("key", "value"), [("n_inputs", [1, 2]), ("n_outputs", "x"), ("classes", {"a": 1}),
                                            ("classes", 2.5)])
def test_manifest_number_types_are_checked(tmp_path: Path, build: Path, key: str, value: Any) -> None:
    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    _edit_manifest(folder, **{key: value})
    with pytest.raises(Lut2RtlError):
        read_build_folder(folder).vectors()


@pytest.mark.parametrize("damage", ["files-not-dict", "not-utf8"])
def test_synth_reads_hostile_manifest_cleanly(tmp_path: Path, build: Path, damage: str) -> None:

    folder = tmp_path / "b"
    shutil.copytree(build, folder)
    if damage == "files-not-dict":
        _edit_manifest(folder, files=7)
    else:
        man_path = next(folder.glob("*.json"))
        man_path.write_bytes(b'{"top": "\xff\xfe"}')
    with pytest.raises(Lut2RtlError):
        read_build_folder(folder)

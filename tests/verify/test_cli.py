from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lut2rtl.cli.main import main
from lut2rtl.netgen import random_netlist
from lut2rtl.verify.reference import emit_reference_verilog, port_widths
from lut2rtl.verify.vectors import expected_vectors, random_inputs

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["verify", *args], env=env)


def _fake_build(folder: Path, latency: int = 0) -> Path:
    """A build folder that follows the contract, its Verilog from the reference emitter."""
    from lut2rtl.checkpoint import save_checkpoint

    net = random_netlist(6, 10, [16, 8], 2, classes=2)
    folder.mkdir()
    (folder / "fake.v").write_text(emit_reference_verilog(net, "fake", latency=latency))
    save_checkpoint(net, folder / "netlist.pt")
    expected_vectors(net, random_inputs(10, 64, 0)).save(folder / "vectors.npz")
    manifest = {"name": "fake", "top": "fake", "target": "generic", "pipeline": latency, "latency": latency,
                "n_inputs": 10, "n_outputs": 8, "classes": 2, "out_bits": False, "primitives": None,
                "ports": {p: {"dir": "in" if p in ("clk", "rst", "in_valid", "in_bits") else "out", "width": w}
                          for p, w in port_widths(net).items()},
                "files": {"verilog": "fake.v", "vectors": "vectors.npz", "netlist": "netlist.pt"}}
    (folder / "fake.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return folder


def test_missing_folder(tmp_path: Path) -> None:
    r = _run(str(tmp_path / "nope"))
    assert r.exit_code == 1
    assert re.fullmatch(r"error: .*nope: no such build folder \(compile one with `lut2rtl compile`\)\n", r.output)


def test_missing_manifest(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    r = _run(str(tmp_path / "b"))
    assert r.exit_code == 1
    assert re.fullmatch(r"error: .*b: no manifest \(<name>\.json with 'top' and 'ports'\) in this folder\n", r.output)


def test_missing_file_named_by_manifest(tmp_path: Path) -> None:
    b = _fake_build(tmp_path / "b")
    (b / "vectors.npz").unlink()
    r = _run(str(b))
    assert r.exit_code == 1 and re.fullmatch(r"error: .*vectors\.npz: file named by the manifest is missing\n",
                                             r.output)


def test_tool_missing(tmp_path: Path) -> None:
    b = _fake_build(tmp_path / "b")
    r = _run(str(b), env={"LUT2RTL_VERILATOR": str(tmp_path / "no-verilator"), "LUT2RTL_SIM_CACHE": str(tmp_path)})
    assert r.exit_code == 1
    assert re.fullmatch(r"error: LUT2RTL_VERILATOR=.* is not an executable\n", r.output)


def test_no_sim_needs_formal(tmp_path: Path) -> None:
    r = _run(str(tmp_path), "--no-sim")
    assert r.exit_code == 2 and "--no-sim leaves nothing to check" in r.output


@pytest.mark.verilator
@pytest.mark.yosys
def test_verify_fake_build_ok_and_json(tmp_path: Path) -> None:
    b = _fake_build(tmp_path / "b", latency=2)
    r = _run(str(b), "--vectors", "100", "--json", env={"LUT2RTL_SIM_CACHE": str(REPO / "sim_build")})
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["ok"] and d["vectors"] == 164 and d["simulation"]["mismatched_vectors"] == 0


@pytest.mark.verilator
def test_verify_reports_mismatch(tmp_path: Path) -> None:
    b = _fake_build(tmp_path / "b", latency=2)  # the same Verilog as above: its model is cached
    # claim latency 3 for a latency-2 design: out_valid and the data arrive a cycle early
    m = json.loads((b / "fake.json").read_text())
    m["latency"] = 3
    (b / "fake.json").write_text(json.dumps(m))
    r = _run(str(b), env={"LUT2RTL_SIM_CACHE": str(REPO / "sim_build")})
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert re.fullmatch(r"error: .*b: \d+ of 64 vectors differ from the reference, out_valid wrong in \d+ cycles",
                        lines[-1])
    assert any(re.match(r"  vector \d+: out_(class|counts) expected", ln) for ln in lines)


@pytest.mark.verilator
def test_flipped_bit_formal_json_reports_simulation(tmp_path: Path) -> None:
    # a wrong design with --formal --json: the simulation's mismatches are reported, the proof is
    # skipped with its reason, and the exit status is 1 (never "could not run")
    from lut2rtl.compile import compile_netlist
    from lut2rtl.verify.mutate import flip_lut_init_bit

    net = random_netlist(6, 10, [16, 8], 2, classes=2)
    b = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=0).out_dir
    v = next(b.glob("*.v"))
    v.write_text(flip_lut_init_bit(v.read_text(), 0)[0])
    r = _run(str(b), "--formal", "--json", "--vectors", "200",
             env={"LUT2RTL_SIM_CACHE": str(REPO / "sim_build")})
    assert r.exit_code == 1
    out = r.output.splitlines()
    d = json.loads(out[0])
    assert d["ok"] is False and d["simulation"]["mismatched_vectors"] > 0
    assert d["simulation"]["mismatches"][0]["port"] in ("out_class", "out_counts")
    assert d["formal"]["proved"] is False and "simulation already found" in d["formal"]["skipped"]
    assert re.fullmatch(r"error: .*vectors differ from the reference", out[-1])


@pytest.mark.yosys
def test_formal_timeout_option(tmp_path: Path) -> None:
    # a proof cut short by --formal-timeout is a failure with a one-line error that names the option;
    # control: the same folder proves with the default limit, and with 0 (no limit)
    b = _fake_build(tmp_path / "b")
    r = _run(str(b), "--formal", "--no-sim", "--formal-timeout", "0.001")
    assert r.exit_code == 1, r.output
    last = r.output.splitlines()[-1]
    assert re.fullmatch(r"error: .*formal proof could not finish \(the proof did not finish within 0\.001 s; "
                        r"give it longer with --formal-timeout SECONDS \(0: no limit\)\)", last), last
    assert "Traceback" not in r.output
    for extra in ([], ["--formal-timeout", "0"]):
        r = _run(str(b), "--formal", "--no-sim", *extra)
        assert r.exit_code == 0, r.output
        assert "formal: proved equal to netlist.pt" in r.output


def test_json_on_broken_folder(tmp_path: Path) -> None:
    r = _run(str(tmp_path / "nope"), "--json")
    assert r.exit_code == 1
    first, last = r.output.splitlines()[0], r.output.splitlines()[-1]
    assert json.loads(first) == {"design": str(tmp_path / "nope"), "ok": False,
                                 "error": f"{tmp_path / 'nope'}: no such build folder (compile one with "
                                          "`lut2rtl compile`)"}
    assert last.startswith("error: ")


@pytest.mark.verilator
def test_print_sim_setup_is_enough_to_build(tmp_path: Path) -> None:
    # what --print-sim-setup prints lets Verilator read the design with its primitives; without the
    # printed model file the same lint fails (the primitives are instantiated, not defined)
    import os
    import subprocess

    from lut2rtl.compile import compile_netlist

    net = random_netlist(3, 10, [12, 6], 2, classes=2)
    b = compile_netlist(net, tmp_path / "b", target="ice40", pipeline=2, opt=1).out_dir
    r = _run(str(b), "--print-sim-setup", "--json")
    assert r.exit_code == 0, r.output
    setup = json.loads(r.output)
    assert setup["tops"] == [next(b.glob("*.json")).stem]
    assert [Path(s).name for s in setup["sources"]] == [f"{setup['tops'][0]}.v", "cells_sim.v"]
    env = {**os.environ, **setup["env"]}

    def lint(sources: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([setup["verilator"], "--lint-only", *setup["flags"], "--top-module", setup["tops"][0],
                               *sources], env=env, capture_output=True, text=True, timeout=300)

    ok = lint(setup["sources"])
    assert ok.returncode == 0, ok.stderr
    bad = lint(setup["sources"][:1])
    assert bad.returncode != 0 and "SB_LUT4" in bad.stderr
    text = _run(str(b), "--print-sim-setup")
    assert text.exit_code == 0 and "cells_sim.v" in text.output and "VERILATOR_ROOT" in text.output

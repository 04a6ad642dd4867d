"""Error messages and exit codes of every command, pinned with anchored regexes.

Library errors: exit 1 and exactly one line ``error: <message>`` on stderr (no
traceback). Click usage errors (an option value outside its choices/range):
exit 2 and click's ``Error: Invalid value for '<option>'`` line. Nothing is
written when a command fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.cli import main
from lut2rtl.netgen import random_netlist


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("errors")
    save_checkpoint(random_netlist(1, 8, [6, 4], [2, 3], classes=2), d / "tiny.pt")
    r = CliRunner().invoke(main, ["compile", str(d / "tiny.pt"), "--target", "generic", "-o", str(d / "build")])
    assert r.exit_code == 0, r.output
    return d


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(main, args, env=env)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args} raised {type(r.exception).__name__}: {r.exception}")
    assert "Traceback" not in r.output
    return r.exit_code, r.output


def expect_error(args: list[str], pattern: str, *, env: dict[str, str] | None = None) -> str:
    """Exit 1 and one ``error:`` line (the last line) matching ``pattern`` (anchored)."""
    code, out = run(args, env)
    lines = [ln for ln in out.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert code == 1, out
    assert len(errors) == 1 and lines[-1] == errors[0], out
    assert re.fullmatch(pattern, errors[0]), errors[0]
    return errors[0]


def expect_usage(args: list[str], option: str) -> None:
    code, out = run(args)
    assert code == 2, out
    assert re.search(rf"^Error: Invalid value for '{re.escape(option)}'", out, re.M), out


def leftovers(folder: Path, before: set[str]) -> set[str]:
    return {p.name for p in folder.iterdir()} - before


# -- info / eval ---------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["info", "eval"])
def test_missing_checkpoint(work: Path, cmd: str) -> None:
    expect_error([cmd, str(work / "nope.pt")], r"error: .*nope\.pt: no such file")


@pytest.mark.parametrize("cmd", ["info", "eval"])
def test_not_a_checkpoint(work: Path, cmd: str) -> None:
    p = work / "text.pt"
    p.write_text("hello")
    expect_error([cmd, str(p)], r"error: .*text\.pt: not a loadable lut2rtl checkpoint \(.+\)")


def test_eval_without_encoder(work: Path) -> None:
    expect_error(["eval", str(work / "tiny.pt")], r"error: the network has no input encoder: .+")


def test_eval_dataset_needs_data_dir(work: Path) -> None:
    expect_error(["eval", str(work / "tiny.pt"), "--dataset", "mnist"],
                 r"error: dataset 'mnist' needs --data-dir: .+")


def test_eval_unknown_dataset(work: Path) -> None:
    expect_usage(["eval", str(work / "tiny.pt"), "--dataset", "foo"], "--dataset")


def test_info_bad_lut_size(work: Path) -> None:
    expect_usage(["info", str(work / "tiny.pt"), "--passes", "--lut-size", "9"], "--lut-size")


# -- compile -------------------------------------------------------------------

def test_compile_missing_checkpoint(work: Path) -> None:
    before = {p.name for p in work.iterdir()}
    expect_error(["compile", str(work / "nope.pt"), "-o", str(work / "x")], r"error: .*nope\.pt: no such file")
    assert leftovers(work, before) == set()


def test_compile_existing_output_is_not_clobbered(work: Path) -> None:
    marker = work / "build" / "keep.txt"
    marker.write_text("mine")
    try:
        expect_error(["compile", str(work / "tiny.pt"), "-o", str(work / "build")],
                     r"error: .*build already exists \(use --force to replace it\)")
        assert marker.read_text() == "mine"
    finally:
        marker.unlink()


def test_compile_output_under_a_file(work: Path) -> None:
    before = {p.name for p in work.iterdir()}
    expect_error(["compile", str(work / "tiny.pt"), "-o", str(work / "tiny.pt" / "sub")],
                 r"error: cannot create .*tiny\.pt/sub: .+")
    assert leftovers(work, before) == set()


def test_compile_output_is_a_file_even_with_force(work: Path) -> None:
    f = work / "plain.txt"
    f.write_text("x")
    expect_error(["compile", str(work / "tiny.pt"), "-o", str(f), "--force"],
                 r"error: .*plain\.txt exists and is not a folder")
    assert f.read_text() == "x"


@pytest.mark.parametrize(("option", "value"), [("--target", "foo"), ("--pipeline", "-1"), ("--opt", "7"),
                                               ("--fabric", "vhdl"), ("--pipeline", "two")])
def test_compile_bad_option_values(work: Path, option: str, value: str) -> None:
    expect_usage(["compile", str(work / "tiny.pt"), "-o", str(work / "y"), option, value], option)
    assert not (work / "y").exists()


@pytest.mark.parametrize("name", ["module", "9lives", "a-b", "lut2rtl_x", ""])
def test_compile_bad_name(work: Path, name: str) -> None:
    expect_error(["compile", str(work / "tiny.pt"), "-o", str(work / "y"), "--name", name],
                 r"error: --name '.*' is not a usable Verilog module name .+")
    assert not (work / "y").exists()


def test_compile_absurd_pipeline_is_refused(work: Path) -> None:
    import signal

    def give_up(*_: object) -> None:
        raise TimeoutError("compile --pipeline 10**9 did not return within 20 s")

    # refused up front, not after building 10**9 register stages
    old = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(20)
    try:
        expect_error(["compile", str(work / "tiny.pt"), "-o", str(work / "y"), "--pipeline", str(10**9)],
                     r"error: --pipeline 1000000000 is more than \d+ register stages")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert not (work / "y").exists()


# -- import --------------------------------------------------------------------

def test_import_missing_source(work: Path) -> None:
    expect_error(["import", "difflogic", str(work / "nope.pt"), "-o", str(work / "i.pt")],
                 r"error: .*nope\.pt: no such file")
    assert not (work / "i.pt").exists()


def test_import_existing_output_is_not_clobbered(work: Path) -> None:
    out = work / "exists.pt"
    out.write_bytes(b"keep")
    expect_error(["import", "difflogic", str(work / "tiny.pt"), "-o", str(out)],
                 r"error: .*exists\.pt exists \(use --force to overwrite\)")
    assert out.read_bytes() == b"keep"


def test_import_unknown_tool(work: Path) -> None:
    expect_usage(["import", "foo", str(work / "tiny.pt"), "-o", str(work / "i.pt")], "{difflogic|torchlogix}")


def test_import_not_a_model(work: Path) -> None:
    p = work / "junk.bin"
    p.write_bytes(b"\x00junk")
    expect_error(["import", "difflogic", str(p), "-o", str(work / "i.pt")],
                 r"error: .*junk\.bin: not a loadable PyTorch file \(.+\)")
    assert not (work / "i.pt").exists()


# -- synth ---------------------------------------------------------------------

def test_synth_missing_build_folder(work: Path) -> None:
    expect_error(["synth", str(work / "nobuild"), "--device", "up5k"],
                 r"error: .*nobuild: no such build folder \(compile one with `lut2rtl compile`\)")


def test_synth_unknown_device(work: Path) -> None:
    expect_usage(["synth", str(work / "build"), "--device", "foo"], "--device")


@pytest.mark.parametrize("tool", ["LUT2RTL_YOSYS", "LUT2RTL_NEXTPNR_ICE40"])
def test_synth_missing_tool(work: Path, tool: str) -> None:
    before = {p.name for p in work.iterdir()}
    expect_error(["synth", str(work / "build"), "--device", "up5k", "-o", str(work / "rep")],
                 rf"error: {tool}='/nonexistent' is not an executable", env={tool: "/nonexistent"})
    assert leftovers(work, before) == set()


def test_synth_failing_tool(work: Path) -> None:
    fake = work / "fake-yosys.sh"
    fake.write_text("#!/bin/sh\necho 'fake yosys failure' >&2\nexit 1\n")
    fake.chmod(0o755)
    before = {p.name for p in work.iterdir()}
    expect_error(["synth", str(work / "build"), "--device", "up5k", "-o", str(work / "rep")],
                 r"error: yosys failed \(exit 1\): fake yosys failure", env={"LUT2RTL_YOSYS": str(fake)})
    assert leftovers(work, before) == set()


# -- verify --------------------------------------------------------------------

def test_verify_missing_folder(work: Path) -> None:
    expect_error(["verify", str(work / "nobuild")],
                 r"error: .*nobuild: no such build folder \(compile one with `lut2rtl compile`\)")


def test_verify_file_instead_of_folder(work: Path) -> None:
    expect_error(["verify", str(work / "tiny.pt")],
                 r"error: .*tiny\.pt: not a folder \(give the folder `lut2rtl compile` wrote\)")


def test_verify_bad_option(work: Path) -> None:
    expect_usage(["verify", str(work / "build"), "--vectors", "-1"], "--vectors")


def test_verify_missing_verilator(work: Path, tmp_path: Path) -> None:
    # a fresh simulation cache, so that verify must build
    env = {"LUT2RTL_VERILATOR": "/nonexistent", "LUT2RTL_SIM_CACHE": str(tmp_path / "cache")}
    before = {p.name for p in work.iterdir()}
    expect_error(["verify", str(work / "build")], r"error: LUT2RTL_VERILATOR='/nonexistent' is not an executable",
                 env=env)
    assert leftovers(work, before) == set()


def test_verify_failing_verilator(work: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake-verilator.sh"
    fake.write_text("#!/bin/sh\necho 'fake verilator failure' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = {"LUT2RTL_VERILATOR": str(fake), "LUT2RTL_SIM_CACHE": str(tmp_path / "cache")}
    before = {p.name for p in work.iterdir()}
    expect_error(["verify", str(work / "build")],
                 r"error: Verilator build of .*tiny(\.v)? failed.*: fake verilator failure", env=env)
    assert leftovers(work, before) == set()


# -- train ---------------------------------------------------------------------

@pytest.mark.parametrize(("args", "pattern"), [
    (["--steps", "0"], r"error: --steps 0: must be a positive integer"),
    (["--width", "-5"], r"error: --width -5: must be a positive integer"),
    (["--method", "light", "--k", "9"], r"error: --k 9: fan-in must be in 1\.\.6"),
    (["--dataset", "mnist"], r"error: dataset 'mnist' needs --data-dir: .+"),
])
def test_train_bad_options(work: Path, args: list[str], pattern: str) -> None:
    out = work / "t.pt"
    expect_error(["train", *args, "-q", "-o", str(out)], pattern)
    assert not out.exists()


def test_train_unknown_method(work: Path) -> None:
    expect_usage(["train", "--method", "foo"], "--method")

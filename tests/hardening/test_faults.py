"""Faults: disk full, unwritable output, Ctrl-C mid-compile, existing outputs.

Every failure is one ``error:`` line, a non-zero exit, and no partial output:
no build folder, no ``.<name>.*.tmp`` sibling, an existing output untouched.
Tests run as root, where chmod does not stop writes, so "not writable" is a
path under a regular file and "disk full" is ``OSError(ENOSPC)`` injected into
the write/rename calls.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lut2rtl import fileio
from lut2rtl.checkpoint import load_checkpoint, save_checkpoint
from lut2rtl.cli import main
from lut2rtl.errors import OutputError
from lut2rtl.netgen import random_netlist


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("faults") / "tiny.pt"
    save_checkpoint(random_netlist(2, 8, [6, 4], [2, 3], classes=2), p)
    return p


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def one_error(out: str) -> str:
    assert "Traceback" not in out, out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], out
    return errors[0]


def _enospc(*_a: object, **_k: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["rename", "mkdtemp"])
def test_compile_disk_full(tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    if where == "rename":
        monkeypatch.setattr(fileio.os, "replace", _enospc)
    else:
        monkeypatch.setattr(fileio.tempfile, "mkdtemp", _enospc)
    before = names(tmp_path)
    r = CliRunner().invoke(main, ["compile", str(tiny), "--target", "generic", "-o", str(tmp_path / "b")])
    assert r.exit_code == 1, r.output
    assert re.fullmatch(r"error: cannot (write|create) .*/b: No space left on device", one_error(r.output))
    assert names(tmp_path) == before


def test_compile_disk_full_while_writing_files(tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the third file written into the temporary folder fails: the folder
    # holding the first two must disappear
    real = Path.write_bytes
    calls = []

    def write_bytes(self: Path, data: bytes) -> int:
        calls.append(self.name)
        if len(calls) == 3:
            _enospc()
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    before = names(tmp_path)
    r = CliRunner().invoke(main, ["compile", str(tiny), "--target", "generic", "-o", str(tmp_path / "b")])
    assert len(calls) == 3
    assert r.exit_code == 1, r.output
    assert re.fullmatch(r"error: cannot write .*: No space left on device", one_error(r.output))
    assert names(tmp_path) == before


def test_compile_force_keeps_old_folder_when_rename_fails(tmp_path: Path, tiny: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "b"
    r = CliRunner().invoke(main, ["compile", str(tiny), "--target", "generic", "-o", str(out)])
    assert r.exit_code == 0, r.output
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.replace
    failed = []

    def replace(src: object, dst: object) -> None:
        # moving the old folder aside works; moving the new one in fails
        # once; moving the old one back works
        if Path(str(dst)) == out and not failed:
            failed.append(src)
            _enospc()
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(fileio.os, "replace", replace)
    r = CliRunner().invoke(main, ["compile", str(tiny), "--target", "ice40", "--force", "-o", str(out)])
    assert r.exit_code == 1, r.output
    one_error(r.output)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert names(tmp_path) == {"b"}


def test_checkpoint_write_disk_full_keeps_existing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "m.pt"
    p.write_bytes(b"old")
    monkeypatch.setattr(fileio.os, "replace", _enospc)
    with pytest.raises(OutputError, match=r"^cannot write .*m\.pt: No space left on device$"):
        save_checkpoint(random_netlist(0, 4, [3], 2), p)
    assert p.read_bytes() == b"old"
    assert names(tmp_path) == {"m.pt"}


def test_checkpoint_write_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match=r"^cannot write .*f/m\.pt: .+$"):
        save_checkpoint(random_netlist(0, 4, [3], 2), tmp_path / "f" / "m.pt")


def test_atomic_output_dir_cleans_up_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), fileio.atomic_output_dir(tmp_path / "d") as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("boom")
    assert names(tmp_path) == set()
    with pytest.raises(KeyboardInterrupt), fileio.atomic_output_dir(tmp_path / "d") as tmp:
        (tmp / "half.txt").write_text("half")
        raise KeyboardInterrupt
    assert names(tmp_path) == set()


def test_existing_build_folder_is_not_clobbered(tmp_path: Path, tiny: Path) -> None:
    out = tmp_path / "b"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    r = CliRunner().invoke(main, ["compile", str(tiny), "-o", str(out)])
    assert r.exit_code == 1
    assert one_error(r.output).endswith("already exists (use --force to replace it)")
    assert names(out) == {"mine.txt"}


def test_train_does_not_clobber_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "model.pt"
    out.write_bytes(b"keep")
    r = CliRunner().invoke(main, ["train", "--width", "20", "--steps", "1", "--eval-every", "1", "-q",
                                  "--device", "cpu", "-o", str(out)])
    assert r.exit_code != 0
    assert out.read_bytes() == b"keep"


def test_interrupted_compile(tmp_path: Path) -> None:
    """SIGINT to a `lut2rtl compile` subprocess mid-way: exit 130, `error: interrupted`, nothing left."""
    ckpt = tmp_path / "big.pt"
    save_checkpoint(random_netlist(3, 256, [4000, 4000, 2000], 4, classes=10), ckpt)
    out = tmp_path / "out" / "b"
    out.parent.mkdir()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # a test runner started as a background job inherits SIGINT ignored (POSIX shells do that for
    # `cmd &`); a user's Ctrl-C arrives with the default disposition, so the child gets that back
    proc = subprocess.Popen([sys.executable, "-m", "lut2rtl", "compile", str(ckpt), "--target", "ice40",
                             "--fabric", "amaranth", "--pipeline", "2", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 120
    # wait until compile reports the optimization step (the checkpoint is read and
    # work has started: about a minute of passes and ABC here), then interrupt it
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if "optimizing" in line:
            break
    time.sleep(3.0)
    assert proc.poll() is None, "".join(seen)
    proc.send_signal(signal.SIGINT)
    try:
        rest_out, rest_err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("compile did not stop within 60 s of SIGINT") from None
    err = "".join(seen) + rest_err
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert [ln for ln in err.splitlines() if ln.startswith("error: ")] == ["error: interrupted"], err
    assert names(out.parent) == set()


def test_interrupt_while_loading_checkpoint_keeps_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an interrupt inside the library surfaces as exit 130 from the CLI group
    ckpt = tmp_path / "m.pt"
    save_checkpoint(random_netlist(0, 4, [3], 2), ckpt)

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("lut2rtl.cli.cmd_info.load_checkpoint", interrupted)
    r = CliRunner().invoke(main, ["info", str(ckpt)])
    assert r.exit_code == 130
    assert one_error(r.output) == "error: interrupted"
    assert load_checkpoint(ckpt).n_luts == 3


def test_out_of_memory_is_one_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = tmp_path / "m.pt"
    save_checkpoint(random_netlist(0, 4, [3], 2), ckpt)

    def too_big(*_a: object, **_k: object) -> None:
        raise MemoryError("Unable to allocate 7.28 TiB for an array")

    monkeypatch.setattr("lut2rtl.cli.cmd_info.load_checkpoint", too_big)
    r = CliRunner().invoke(main, ["info", str(ckpt)])
    assert r.exit_code == 1
    assert one_error(r.output) == "error: out of memory: Unable to allocate 7.28 TiB for an array"


@pytest.mark.parametrize("what", ["cwd", "above-cwd", "home"])
def test_force_never_replaces_cwd_or_home(tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch,
                                          what: str) -> None:
    top = tmp_path / "top"
    (top / "sub").mkdir(parents=True)
    (top / "keep.txt").write_text("keep")
    if what == "cwd":
        monkeypatch.chdir(top)
        target = "."
    elif what == "above-cwd":
        monkeypatch.chdir(top / "sub")
        target = str(top)
    else:
        monkeypatch.setenv("HOME", str(top))
        target = str(top)
    r = CliRunner().invoke(main, ["compile", str(tiny), "--target", "generic", "--force", "-o", target])
    assert r.exit_code == 1, r.output
    assert re.fullmatch(r"error: .+ is the (current folder or contains it|home folder); refusing to replace it",
                        one_error(r.output))
    assert (top / "keep.txt").read_text() == "keep"
    # (.cache: tools may create their cache under a fresh HOME)
    assert sorted(p.name for p in top.iterdir() if p.name != ".cache") == ["keep.txt", "sub"]

"""compile_checkpoint / compile_netlist: the build folder of the hardware contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lut2rtl.checkpoint import load_checkpoint
from lut2rtl.compile import compile_checkpoint, compile_netlist, default_name
from lut2rtl.errors import CheckpointError, CompileError, OutputError
from lut2rtl.evaluate import evaluate
from lut2rtl.families import FAMILIES, get_family
from lut2rtl.netgen import random_netlist
from lut2rtl.tools.verilator import find_verilator, verilator_env
from lut2rtl.verify.simulate import verilator_sources

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RANDOM = EXAMPLES / "random_digits.pt"
DIGITS = EXAMPLES / "digits.pt"


def lint(folder: Path) -> None:
    man = json.loads(next(folder.glob("*.json")).read_text())
    files, flags = verilator_sources(get_family(man["target"]))
    if man["classes"] is not None:
        # Amaranth's Verilog for the GroupSum (lut2rtl/rtl/groupsum.py) has `a + b`
        # with operands of different widths (WIDTHEXPAND) and small lookups as
        # `casez` over a partly constant selector that covers every reachable
        # case (LATCH, CASEINCOMPLETE): correct Verilog; the fabric itself is linted strictly
        # in test_no_groupsum_lint_strict
        flags = [*flags, "-Wno-WIDTHEXPAND", "-Wno-LATCH", "-Wno-CASEINCOMPLETE"]
    cmd = [find_verilator(), "--lint-only", *flags, *map(str, files), str(folder / man["files"]["verilog"]),
           "--top-module", man["top"]]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **verilator_env()}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "%Warning" not in r.stderr, r.stderr[-3000:]


def _declared_ports(verilog: str, top: str) -> dict[str, tuple[str, int]]:
    body = verilog.split(f"module {top}(", 1)[1].split("endmodule", 1)[0]
    ports = {}
    for d, hi, name in re.findall(r"^\s*(input|output)\s+(?:\[(\d+):0\]\s+)?(\w+);", body, re.M):
        ports[name] = ("in" if d == "input" else "out", int(hi) + 1 if hi else 1)
    return ports


def _check_folder(folder: Path, pipeline: int, target: str) -> dict:
    name = folder.name
    man = json.loads((folder / f"{name}.json").read_text())
    assert man["latency"] == man["pipeline"] == pipeline
    assert man["target"] == target and man["top"] == name
    assert man["primitives"] == (None if target == "generic" else target)
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{name}.v", f"{name}.json", "netlist.pt",
                                                               "vectors.npz", f"{name}.core"])
    text = (folder / f"{name}.v").read_text()
    assert _declared_ports(text, name) == {p: (v["dir"], v["width"]) for p, v in man["ports"].items()}
    assert {"clk", "rst", "in_valid", "in_bits", "out_valid"} <= set(man["ports"])
    assert "/work" not in text and "/tmp" not in text  # no absolute paths
    if target != "generic":
        prim = FAMILIES[target].primitive_name(4)
        assert f"{prim} #(" in text or f"{prim} #(" in text.replace("\\", "")
        assert not re.search(rf"^module {prim}\b", text, re.M)  # primitives are not defined here
    return man


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    cache: dict[tuple, Path] = {}

    def get(ckpt: Path, target: str, pipeline: int, **kw) -> Path:
        key = (ckpt, target, pipeline, tuple(sorted(kw.items())))
        if key not in cache:
            d = tmp_path_factory.mktemp("b") / default_name(ckpt)
            compile_checkpoint(ckpt, d, target=target, pipeline=pipeline, **kw)
            cache[key] = d
        return cache[key]

    return get


FAST = [(RANDOM, t, 4) for t in sorted(FAMILIES)] + [(RANDOM, "ice40", 0), (RANDOM, "ice40", 1)]
FULL = [(c, t, p) for c in (RANDOM, DIGITS) for t in sorted(FAMILIES) for p in (0, 1, 4)]


@pytest.mark.verilator
@pytest.mark.parametrize(("ckpt", "target", "pipeline"), [
    *FAST,
    *[pytest.param(*c, marks=pytest.mark.slow) for c in FULL if c not in FAST],
], ids=lambda v: v.stem if isinstance(v, Path) else str(v))
def test_matrix_lint_manifest(built, ckpt: Path, target: str, pipeline: int) -> None:
    if not ckpt.exists():
        pytest.skip(f"{ckpt.name} not trained yet")
    folder = built(ckpt, target, pipeline)
    man = _check_folder(folder, pipeline, target)
    lint(folder)
    assert man["estimate"]["luts"] == man["estimate"]["fabric_luts"] + man["estimate"]["popcount_luts"]


@pytest.mark.verilator
@pytest.mark.parametrize("fabric", ["amaranth", "verilog"])
def test_no_groupsum_lint_strict(tmp_path: Path, fabric: str) -> None:
    net = random_netlist(1, 20, [30, 20, 10], [6, 3, 2])
    res = compile_netlist(net, tmp_path / "plain", target="ice40", pipeline=2, fabric=fabric, name="plain")
    man = _check_folder(tmp_path / "plain", 2, "ice40")
    assert man["classes"] is None and man["out_bits"] is True and "out_class" not in man["ports"]
    assert res.manifest.options["fabric_built"] == fabric
    lint(tmp_path / "plain")  # fabric + pipeline registers: no warnings at all


def test_byte_identical(tmp_path: Path) -> None:
    for target, fabric in (("ice40", "amaranth"), ("xilinx", "verilog")):
        a, b = tmp_path / f"{target}1" / "m", tmp_path / f"{target}2" / "m"
        compile_checkpoint(RANDOM, a, target=target, pipeline=3, fabric=fabric, name="m")
        compile_checkpoint(RANDOM, b, target=target, pipeline=3, fabric=fabric, name="m")
        for f in sorted(p.name for p in a.iterdir()):
            assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_vectors_and_netlist(tmp_path: Path) -> None:
    ckpt = DIGITS if DIGITS.exists() else RANDOM
    res = compile_checkpoint(ckpt, tmp_path / "d", target="generic", pipeline=0)
    src = load_checkpoint(ckpt)
    kept = load_checkpoint(tmp_path / "d" / "netlist.pt")
    assert kept.n_luts == src.n_luts and all(
        np.array_equal(a.tables, b.tables) and np.array_equal(a.inputs, b.inputs)
        for a, b in zip(kept.layers, src.layers))
    vec = np.load(tmp_path / "d" / "vectors.npz")
    assert sorted(vec.files) == ["counts", "in_bits", "out_bits", "out_class"]
    assert vec["in_bits"].dtype == np.uint8 and vec["counts"].dtype == np.int64
    ref = evaluate(src, vec["in_bits"].astype(bool))
    assert np.array_equal(ref.out_bits, vec["out_bits"].astype(bool))
    assert np.array_equal(ref.counts, vec["counts"]) and np.array_equal(ref.pred, vec["out_class"])
    # digits metadata: the test split (450 samples) plus 256 random vectors
    assert vec["in_bits"].shape == (450 + 256, src.n_inputs)
    assert res.manifest.checkpoint_sha256 and res.manifest.vectors == 706


def test_random_vectors_without_dataset(tmp_path: Path) -> None:
    net = random_netlist(0, 12, [8, 4], 2, classes=2)
    res = compile_netlist(net, tmp_path / "r", target="ice40", source_path="some-net.pt")
    vec = np.load(tmp_path / "r" / "vectors.npz")
    assert vec["in_bits"].shape == (1024, 12)
    assert res.manifest.name == "some_net" and (tmp_path / "r" / "some_net.v").exists()


def test_default_name() -> None:
    assert default_name("a/b/digits.pt") == "digits"
    assert default_name("my-model.v2.pt") == "my_model_v2"
    assert default_name("3layers.pt") == "m_3layers"
    assert default_name("module.pt") == "module_top"


def test_errors_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x"
    with pytest.raises(CompileError, match=r"^unknown target 'vhdl' \(choose from ecp5, generic, gowin"):
        compile_checkpoint(RANDOM, out, target="vhdl")
    with pytest.raises(CompileError, match=r"^pipeline must be a non-negative integer, got -2$"):
        compile_checkpoint(RANDOM, out, pipeline=-2)
    with pytest.raises(CompileError, match=r"^pipeline 1000000000 is more than 1024 register stages$"):
        compile_checkpoint(RANDOM, out, pipeline=10**9)
    with pytest.raises(CompileError, match=r"^opt must be one of 0, 1, 2, 3, got 5$"):
        compile_checkpoint(RANDOM, out, opt=5)
    with pytest.raises(CompileError, match=r"^fabric must be one of auto, amaranth, verilog"):
        compile_checkpoint(RANDOM, out, fabric="vhdl")
    with pytest.raises(CompileError, match=r"^name '1x' is not a usable Verilog module name"):
        compile_checkpoint(RANDOM, out, name="1x")
    with pytest.raises(CheckpointError, match=r"no such file$"):
        compile_checkpoint(tmp_path / "missing.pt", out)
    assert not out.exists()
    out.mkdir()
    with pytest.raises(OutputError, match=r"already exists \(use --force to replace it\)$"):
        compile_checkpoint(RANDOM, out)
    assert list(out.iterdir()) == []
    compile_checkpoint(RANDOM, out, force=True, target="generic")
    assert (out / "random_digits.v").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["x"]  # no temporary folders left


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_parent(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputError, match=r"^cannot (create|write)"):
            compile_checkpoint(RANDOM, ro / "b", target="generic")
    finally:
        ro.chmod(0o700)


def test_unwritable_target_is_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match=r"exists and is not a folder$"):
        compile_checkpoint(RANDOM, f, force=True)

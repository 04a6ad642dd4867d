"""Fuzz the CLI with damaged checkpoints: every outcome is a success or one
`error:` line with a non-zero exit — never a traceback, a hang or partial output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lut2rtl.cli import main

from .fuzzing import base_dict, mutate_bytes, mutate_dict, to_bytes

CORPUS = Path(__file__).with_name("corpus")
BASE = base_dict()
BASE_BYTES = to_bytes(BASE)
# Commands that read a checkpoint, run on each damaged file. Commands whose
# implementation is not in this version yet are still run: they must fail cleanly.
COMMANDS = [["info", "--json"], ["eval", "--json"]]

dict_ops = st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 10_000), st.integers(0, 1000)),
                    min_size=1, max_size=3)
byte_ops = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**7)), min_size=1, max_size=3)


def check_outcome(path: Path, args: list[str]) -> None:
    r = CliRunner().invoke(main, [args[0], str(path), *args[1:]], catch_exceptions=True)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args[0]} on {path.name} raised {type(r.exception).__name__}: {r.exception}")
    if r.exit_code != 0:
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert lines and lines[-1].startswith("error: "), r.output
        assert "Traceback" not in r.output
        errors = [ln for ln in lines if ln.startswith("error: ")]
        assert len(errors) == 1, r.output


def run_all(path: Path) -> None:
    for args in COMMANDS:
        check_outcome(path, args)


@settings(max_examples=int(os.environ.get("LUT2RTL_FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=dict_ops)
def test_fuzz_structural_mutations(tmp_path_factory, ops):
    p = tmp_path_factory.mktemp("fz") / "m.pt"
    p.write_bytes(to_bytes(mutate_dict(BASE, ops)))
    run_all(p)


@settings(max_examples=int(os.environ.get("LUT2RTL_FUZZ_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=byte_ops)
def test_fuzz_byte_damage(tmp_path_factory, ops):
    p = tmp_path_factory.mktemp("fz") / "m.pt"
    p.write_bytes(mutate_bytes(BASE_BYTES, ops))
    run_all(p)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=dict_ops)
def test_fuzz_structural_long(tmp_path_factory, ops):
    p = tmp_path_factory.mktemp("fz") / "m.pt"
    p.write_bytes(to_bytes(mutate_dict(BASE, ops)))
    run_all(p)


@pytest.mark.parametrize("case", sorted(CORPUS.glob("*.pt")), ids=lambda p: p.stem)
def test_corpus(case):
    run_all(case)

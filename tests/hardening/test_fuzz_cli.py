"""Fuzz the CLI with damaged checkpoints: every outcome is a success or one
`error:` line with a non-zero exit — never a traceback, a hang or partial output."""

from __future__ import annotations

import os
import re
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


# What `info` says about each corpus file: the message names the place
# (key, layer, neuron). Files not listed here load (they are odd but valid).
VALID = {"deep_metadata", "metadata_tensor"}
EXPECTED = {
    "beta_inf": r"group_sum: 'beta' is inf, expected a finite number",
    "bool_inputs": r"layers\[0\]: 'inputs' has unsupported dtype torch\.bool",
    "classes_not_dividing": r"group_sum: 3 classes do not divide the 20 outputs",
    "complex_thresholds": r"encoder: 'thresholds' has unsupported dtype torch\.complex64",
    "deep_format": r"'format' is a list of 1 items, expected 'lut2rtl-checkpoint' .*",
    "deep_reads": r"layers\[0\]\.reads is a list of 1 items, expected 'previous' or 'any'",
    "empty_file": r"not a loadable lut2rtl checkpoint \(.+\)",
    "empty_layer": r"layers\[1\] is empty \(0 LUTs\)",
    "empty_layers": r"'layers' is empty: the network has no layers",
    "encoder_kind_unknown": r"encoder kind 'onehot' is not supported \(expected 'thermometer'\)",
    "encoder_width_mismatch": r"encoder produces 9 bits but the network has 64 inputs",
    "float_baseline": r"this is a float baseline model .+",
    "float_tables": r"layers\[0\]: 'tables' has dtype torch\.float32, expected an integer dtype",
    "group_sum_not_dict": r"'group_sum' must be a dict or None, got list",
    "huge_classes": r"group_sum: 'classes'=1099511627776 outside 1\.\.\d+",
    "huge_format_string": r"'format' is 'x{56}\.\.\., expected .{0,80}",
    "huge_n_inputs": r"'n_inputs'=1099511627776 outside 1\.\.\d+",
    "index_past_end": r"layer 1, neuron 3: input 1 is 40, outside 0\.\.39 \(layer 0 has 40 outputs\)",
    "inf_threshold": r"encoder threshold \[feature 0, 0\] is inf \(must be finite\)",
    "k0": r"layers\[0\]: 'k'=0 outside 1\.\.6",
    "k7": r"layers\[0\]: 'k'=7 outside 1\.\.6",
    "layer_not_dict": r"layers\[0\] must be a dict, got list",
    "layers_not_list": r"'layers' must be a list, got dict",
    "metadata_not_dict": r"'metadata' must be a dict, got list",
    "missing_layers": r"missing key 'layers'",
    "missing_n_inputs": r"missing key 'n_inputs'",
    "missing_tables": r"layers\[1\]: missing key 'tables'",
    "n_inputs_float": r"'n_inputs' is float, expected an integer",
    "nan_threshold": r"encoder threshold \[feature 3, 0\] is nan \(must be finite\)",
    "negative_index": r"layer 0, neuron 0: input 0 is -5, outside 0\.\.63 .+",
    "not_a_zip": r"not a loadable lut2rtl checkpoint \(.+\)",
    "outputs_2d": r"'outputs' must be 1-D, got shape \(2, 2\)",
    "outputs_out_of_range": r"output 0 reads signal 1000000000, outside 0\.\.123",
    "pickled_callable": r"not a loadable lut2rtl checkpoint \(.*refused without running them\)",
    "raw_pickle_callable": r"not a loadable lut2rtl checkpoint \(.*refused without running them\)",
    "reads_bogus": r"layers\[0\]\.reads is 'next', expected 'previous' or 'any'",
    "sparse_tables": r"layers\[0\]: 'tables' has unsupported layout torch\.sparse_coo .*",
    "string_k": r"layers\[0\]: 'k' is str, expected an integer",
    "table_too_wide": r"layer 0, neuron 0: truth table 0x100000 is wider than 2\*\*2 = 4 bits",
    "tables_2d": r"layers\[0\]\.tables must be 1-D, got shape \(40, 1\)",
    "tau_nan": r"group_sum: 'tau' is nan, expected a finite number",
    "thresholds_1d": r"encoder\.thresholds must have shape \(features, m\), got \(64,\)",
    "truncated": r"not a loadable lut2rtl checkpoint \(.+\)",
    "version_99": r"checkpoint version 99 is not supported \(this lut2rtl reads versions 1, 2\)",
    "version_bool": r"'version' is True, expected an integer",
    "zero_tau": r"group_sum\.tau must be positive, got 0\.0",
}


def test_corpus_is_pinned():
    assert {p.stem for p in CORPUS.glob("*.pt")} == set(EXPECTED) | VALID


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_corpus_messages(stem):
    path = CORPUS / f"{stem}.pt"
    r = CliRunner().invoke(main, ["info", str(path)])
    assert r.exit_code == 1, r.output
    assert re.fullmatch(rf"error: {re.escape(str(path))}: {EXPECTED[stem]}", r.output.strip().splitlines()[-1])


@pytest.mark.parametrize("stem", sorted(VALID))
def test_corpus_valid_oddities_load(stem):
    r = CliRunner().invoke(main, ["info", str(CORPUS / f"{stem}.pt"), "--json"])
    assert r.exit_code == 0, r.output

"""The thermometer encoder lowered to LUT logic (lut2rtl.encoder): exhaustive
equality with the float64 software encoder on 8-bit features, the lowered
network against the software path, and the option errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner

from lut2rtl import encoder as enc_mod
from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.cli import main
from lut2rtl.encoder import FeatureFormat, encoder_netlist, integer_thresholds, lower_encoder
from lut2rtl.errors import OptionError, ShapeError
from lut2rtl.evaluate import evaluate
from lut2rtl.netgen import random_netlist
from lut2rtl.netlist import Thermometer


def _hostile_thresholds(fmt: FeatureFormat, rng: np.random.Generator, features: int) -> np.ndarray:
    """Every integer and half-integer around the range, values one ulp off
    integers, signed zeros, far outside values, and random reals; split over
    ``features`` features (each sorted, as training leaves them)."""
    lo, hi = fmt.lo, fmt.hi
    ints = np.arange(lo - 3, hi + 4, dtype=np.float64)
    vals = np.concatenate([
        ints, ints + 0.5, np.nextafter(ints, np.inf), np.nextafter(ints, -np.inf),
        [-0.0, 0.0, 1e300, -1e300, lo - 1e-9, hi + 1e-9],
        rng.uniform(lo - 5, hi + 5, size=64),
    ])
    vals = rng.permutation(vals)
    m = len(vals) // features
    return np.sort(vals[: m * features].reshape(features, m), axis=1)


def _exhaustive(fmt: FeatureFormat, th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    enc = Thermometer(th)
    x = np.repeat(np.arange(fmt.lo, fmt.hi + 1)[:, None], enc.features, axis=1)
    soft = enc.encode(x)
    hw = evaluate(encoder_netlist(enc, fmt), fmt.to_bits(x).astype(bool)).out_bits.astype(bool)
    return soft, hw


@pytest.mark.parametrize("signed", [False, True])
def test_exhaustive_8bit(signed: bool) -> None:
    fmt = FeatureFormat(8, signed)
    th = _hostile_thresholds(fmt, np.random.default_rng(3), features=4)
    soft, hw = _exhaustive(fmt, th)
    assert soft.shape == (256, th.size)
    # both sides see some ones and some zeros on many bits: not a vacuous comparison
    assert 0.2 < soft.mean() < 0.8
    assert np.array_equal(soft, hw)


def test_exhaustive_check_catches_an_off_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # negative control: ceil(t) instead of floor(t) + 1 is wrong exactly at integer thresholds
    fmt = FeatureFormat(8, False)
    th = _hostile_thresholds(fmt, np.random.default_rng(3), features=4)

    def wrong(t: np.ndarray, f: FeatureFormat) -> np.ndarray:
        return np.ceil(np.clip(t, f.lo - 1, f.hi)).astype(np.int64)

    monkeypatch.setattr(enc_mod, "integer_thresholds", wrong)
    soft, hw = _exhaustive(fmt, th)
    assert not np.array_equal(soft, hw)


@pytest.mark.parametrize("bits,signed", [(1, False), (1, True), (3, True), (5, False)])
def test_exhaustive_narrow(bits: int, signed: bool) -> None:
    fmt = FeatureFormat(bits, signed)
    th = _hostile_thresholds(fmt, np.random.default_rng(bits), features=2)
    soft, hw = _exhaustive(fmt, th)
    assert np.array_equal(soft, hw)


def test_integer_thresholds() -> None:
    fmt = FeatureFormat(4, False)  # 0..15
    t = np.array([[-7.0, -0.5, 0.0, 2.0, 2.5, 14.9, 15.0, 1e300]])
    # c = floor(t) + 1, clipped to lo .. hi+1: x >= 0 always, x >= 16 never
    assert integer_thresholds(t, fmt).tolist() == [[0, 0, 1, 3, 3, 15, 16, 16]]


def test_lowered_network_equals_software_path() -> None:
    rng = np.random.default_rng(7)
    net = random_netlist(rng, 24, [40, 30], 2, classes=3, encoder_features=6)
    # thresholds on an integer scale, some outside the 5-bit signed range
    th = np.sort(rng.uniform(-20, 20, size=(6, 4)), axis=1)
    th[0, 0] = 3.0  # an integer threshold: x > 3 starts at 4
    net = random_netlist(7, 24, [40, 30], 2, classes=3, encoder_features=6)
    net = type(net)(n_inputs=net.n_inputs, layers=net.layers, group_sum=net.group_sum,
                    encoder=Thermometer(th), metadata=net.metadata)
    fmt = FeatureFormat(5, True)
    low = lower_encoder(net, fmt)
    assert low.n_inputs == 6 * 5 and low.encoder is None
    assert low.metadata["encoder_hw"]["feature_bits"] == 5
    x = rng.integers(fmt.lo, fmt.hi, size=(3000, 6), endpoint=True)
    a = evaluate(net, net.encoder.encode(x))
    b = evaluate(low, fmt.to_bits(x).astype(bool))
    assert np.array_equal(a.out_bits, b.out_bits) and np.array_equal(a.counts, b.counts)


def test_errors() -> None:
    with pytest.raises(OptionError, match="1..32"):
        FeatureFormat(0)
    with pytest.raises(ShapeError, match=r"integers in 0\.\.15"):
        FeatureFormat(4).to_bits(np.array([[16]]))
    with pytest.raises(ShapeError, match="integers"):
        FeatureFormat(4).to_bits(np.array([[1.5]]))
    with pytest.raises(OptionError, match="thermometer encoder"):
        lower_encoder(random_netlist(0, 8, [4], 2), FeatureFormat(4))


@pytest.mark.parametrize("args,message", [
    (["--encoder", "hw"], r"error: --encoder hw needs --feature-bits N"),
    (["--feature-bits", "8"], r"error: --feature-bits needs --encoder hw"),
    (["--signed"], r"error: --signed needs --encoder hw"),
    (["--axis-counts"], r"error: --axis-counts needs --interface axis"),
])
def test_cli_option_errors(tmp_path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    ck = tmp_path / "m.pt"
    save_checkpoint(random_netlist(0, 8, [6], 2, classes=2, encoder_features=4), ck)
    r = CliRunner().invoke(main, ["compile", str(ck), "-o", str(tmp_path / "b"), *args])
    assert r.exit_code == 1
    assert re.fullmatch(message + r".*\n", r.output)
    assert not (tmp_path / "b").exists()


def test_cli_encoder_hw_needs_an_encoder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ck = tmp_path / "m.pt"
    save_checkpoint(random_netlist(0, 8, [6], 2, classes=2), ck)
    r = CliRunner().invoke(main, ["compile", str(ck), "-o", str(tmp_path / "b"), "--encoder", "hw",
                                  "--feature-bits", "4"])
    assert r.exit_code == 1
    assert re.fullmatch(r"error: --encoder hw needs a checkpoint with a thermometer encoder.*\n", r.output)
    assert not (tmp_path / "b").exists()

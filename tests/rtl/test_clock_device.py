"""--device scales the family's delay model (--clock-mhz on a slower part of the same family)."""

from __future__ import annotations

import pytest

from lut2rtl.errors import OptionError
from lut2rtl.families import DEVICES
from lut2rtl.netgen import random_netlist
from lut2rtl.passes import optimize
from lut2rtl.rtl.network import plan_network


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return optimize(random_netlist(4, 48, [120, 120, 60], 2, classes=3), 2, lut_size=4)


def test_device_scales_the_model(net) -> None:  # type: ignore[no-untyped-def]
    hx = plan_network(net, "ice40", 3, device="hx8k")
    up = plan_network(net, "ice40", 3, device="up5k")
    plain = plan_network(net, "ice40", 3)
    assert hx.period_ns == plain.period_ns  # hx8k is the part the model is fitted on
    assert up.period_ns == pytest.approx(DEVICES["up5k"].delay_scale * hx.period_ns)
    # the same clock needs more stages on the slower part, and each part's plan meets it by its model
    f = 1000.0 / up.period_ns  # a clock the slower part reaches with a few stages
    a = plan_network(net, "ice40", clock_mhz=f, device="hx8k")
    b = plan_network(net, "ice40", clock_mhz=f, device="up5k")
    assert b.latency > a.latency
    assert a.period_ns <= 1000.0 / f and b.period_ns <= 1000.0 / f


def test_device_of_another_family(net) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OptionError, match=r"'xc7a35t' is not one of the ice40 parts \(up5k, hx8k\)"):
        plan_network(net, "ice40", 0, device="xc7a35t")

"""GroupSum head with constant group bits: lut2rtl's ECP5 head against Yosys from a behavioural ``sum()``.

Gates that fold to constants are common in random networks (40 % of the last layer of the bench's random
50K-gate network) and rare in trained ones. The head's ECP5 adders are ``CCU2C`` chains that lut2rtl
instantiates, so Yosys cannot fold a constant operand bit out of them; a behavioural ``sum()`` it folds. The
head leaves out the bits constant propagation proves 0; those proved 1 it counts. This measures the
effect alone: two classes of 1,000 bits, each bit one AND gate of two inputs, with none or a share of the
gates replaced by constants (half 0, half 1), compiled ``--target ecp5`` (p0) and as the behavioural design,
Yosys ``synth_ecp5`` counts with and without ``-nowidelut``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "GroupSum head with constant group bits (ECP5, 2 classes x 1,000 bits, Yosys counts)"
SHARES = (0.0, 0.23)


def _net(share: float, n: int, classes: int, seed: int = 0) -> Any:
    import numpy as np

    from lut2rtl.netlist import GroupSum, Layer, Netlist

    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, n, size=(n, 2))
    tables = np.full(n, 8, dtype=np.uint64)  # AND of the two inputs
    const = rng.random(n) < share
    tables[const] = np.where(rng.random(int(const.sum())) < 0.5, 0, 15)
    return Netlist(n_inputs=n, layers=(Layer(k=2, inputs=inputs, tables=tables),), outputs=np.arange(n, 2 * n),
                   group_sum=GroupSum(classes=classes, tau=1.0))


def _finding(rows: list[dict[str, Any]]) -> str:
    """What the rows say about the CCU2C chains and the constants (under -nowidelut)."""
    by = {r["constant share"]: r for r in rows if r["yosys"] == "-nowidelut"}
    lo, hi = by[SHARES[0]], by[SHARES[-1]]
    return (f"With {hi['constant share']:.0%} constant bits the behavioural design shrinks by "
            f"{1 - hi['behavioural lut_eq'] / lo['behavioural lut_eq']:.0%} and ours by "
            f"{1 - hi['ours lut_eq'] / lo['ours lut_eq']:.0%}; our CCU2C count goes from {lo['ours CCU2C']} to "
            f"{hi['ours CCU2C']}, and the ratio from {lo['ours / behavioural']} to {hi['ours / behavioural']}. "
            f"The head leaves the bits proved 0 out of each class's tree (rtl/popcount.py: head_groups); the "
            f"bits proved 1 it still counts, in chain cells that Yosys cannot fold out of the primitives.")


def run(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.bench_head import _behavioural_build, _build, _yosys

    classes, group = 2, (200 if quick else 1000)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_head_constants_") as tmp:
        for share in SHARES:
            t0 = time.perf_counter()
            net = _net(share, classes * group, classes)
            work = Path(tmp, f"s{share}")
            ours, _ = _build(net, work, "o", "ecp5")
            beh = _behavioural_build(net, work, "b")
            for extra in ("", "-nowidelut"):
                o, b = _yosys(ours, "core", "ecp5", extra), _yosys(beh, "core", "ecp5", extra)
                rows.append({"constant share": share, "yosys": extra or "default", "ours lut_eq": o["lut_eq"],
                             "ours LUT4": o["luts"], "ours CCU2C": o["carry"], "behavioural lut_eq": b["lut_eq"],
                             "ours / behavioural": round(o["lut_eq"] / b["lut_eq"], 3),
                             "seconds": round(time.perf_counter() - t0, 1)})
                print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    return {
        "columns": ["constant share", "yosys", "ours lut_eq", "ours LUT4", "ours CCU2C", "behavioural lut_eq",
                    "ours / behavioural", "seconds"],
        "rows": rows,
        "notes": (f"{classes} classes of {group} bits, each bit an AND of two of the {classes * group} inputs; "
                  "*constant share*: the gates replaced by constants (half 0, half 1). *ours*: `lut2rtl compile "
                  "--target ecp5` at p0 (the head's adders as CCU2C chains); *behavioural*: the same fabric with "
                  "each class's count a plain `sum()`. `lut_eq`: LUT4s plus two per CCU2C, Yosys `synth_ecp5` "
                  "`stat` (0.70 through pyosys with `LUT2RTL_YOSYS=pyosys`). " + _finding(rows)),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))

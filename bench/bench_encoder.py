"""The thermometer encoder in hardware (`--encoder hw`): its LUT cost, side by side.

For ``examples/digits.pt`` (64 features, 3 thresholds each, 5-bit features),
per target in one run:

- ``ours_encoder``: the encoder alone as lut2rtl maps it (the lowered
  comparators through the same ``--opt 3`` passes: the manifest's
  ``estimate.encoder_luts``);
- ``yosys_plain``: Yosys from plain logic: a module of ``assign b = x >= c;``
  for the same integer constants, ``synth_<family>``'s LUT count (carry cells
  counted apart in ``yosys_carry``);
- ``design_with`` / ``design_without``: the whole design's compile estimate
  (fabric + popcount) with ``--encoder hw`` and with software-encoded bits.

``ratio`` = ours_encoder / (yosys_plain + yosys_carry) (an iCE40 SB_CARRY takes a
logic cell); ``added`` = design_with - design_without (what the encoder costs
once ABC has merged it with the first layer).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "Encoder in hardware: comparator LUTs vs Yosys from plain logic (digits)"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "digits.pt"
BITS = 5
COLUMNS = ["target", "ours_encoder", "yosys_plain", "yosys_carry", "ratio", "design_without", "design_with", "added",
           "seconds"]
TARGETS = ["ice40", "xilinx"]


def plain_verilog(constants: Any, bits: int) -> str:
    """``b[f*m + i] = x[f] >= c[f, i]`` written as plain Verilog (what a user would write)."""
    n_feat, m = constants.shape
    lines = [f"module enc(input wire [{n_feat * bits - 1}:0] x, output wire [{n_feat * m - 1}:0] b);"]
    for f in range(n_feat):
        for i in range(m):
            c = int(constants[f, i])
            lines.append(f"  assign b[{f * m + i}] = x[{f * bits + bits - 1}:{f * bits}] >= {bits + 1}'d{c};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def yosys_plain(constants: Any, family: Any, bits: int) -> dict[str, int]:
    from lut2rtl.tools.reports import parse_yosys_stat
    from lut2rtl.tools.yosys import run_yosys, synth_script

    with tempfile.TemporaryDirectory(prefix="lut2rtl-bench-enc-") as tmp:
        (Path(tmp) / "enc.v").write_text(plain_verilog(constants, bits))
        run_yosys(synth_script(family, "enc", ["enc.v"], stat_out="stat.json"), cwd=tmp, log_file="synth.log")
        counts = parse_yosys_stat(Path(tmp) / "stat.json")
    return {"luts": counts.luts, "carry": counts.carry}


def run(quick: bool) -> dict[str, Any]:
    import json

    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.compile import compile_checkpoint
    from lut2rtl.encoder import FeatureFormat, integer_thresholds
    from lut2rtl.families import get_family

    net = load_checkpoint(EXAMPLE)
    assert net.encoder is not None
    constants = integer_thresholds(net.encoder.thresholds, FeatureFormat(BITS))
    rows = []
    for target in TARGETS:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="lut2rtl-bench-enc-") as tmp:
            est = {}
            for label, kw in (("with", {"encoder": "hw", "feature_bits": BITS}), ("without", {})):
                res = compile_checkpoint(EXAMPLE, Path(tmp) / label, target=target, **kw)
                est[label] = json.loads(json.dumps(res.manifest.estimate))
        plain = yosys_plain(constants, get_family(target), BITS)
        ours = int(est["with"]["encoder_luts"])
        rows.append({"target": target, "ours_encoder": ours, "yosys_plain": plain["luts"],
                     "yosys_carry": plain["carry"], "ratio": round(ours / max(1, plain["luts"] + plain["carry"]), 3),
                     "design_without": est["without"]["luts"], "design_with": est["with"]["luts"],
                     "added": est["with"]["luts"] - est["without"]["luts"],
                     "seconds": round(time.perf_counter() - t0, 1)})
    return {
        "columns": COLUMNS,
        "rows": rows,
        "notes": (f"`examples/digits.pt`, {constants.size} thresholds over {constants.shape[0]} {BITS}-bit "
                  "features. `ours_encoder`: the lowered comparators alone through the --opt 3 passes (compile "
                  "estimate); `yosys_plain`: `synth_<family>` of `assign b = x >= c;` per threshold, LUTs (its "
                  "carry cells in `yosys_carry`: on iCE40 Yosys maps `>=` onto SB_CARRY chains, each carry "
                  "taking a logic cell); `ratio` = ours / (Yosys LUTs + carry cells). `design_*`: the whole design's "
                  "compile estimate (fabric + popcount) with and without `--encoder hw`; `added` their difference."),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))

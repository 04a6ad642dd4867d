"""Hardware: LUTs, FFs, Fmax and latency after synthesis and place-and-route.

For each model, device and pipeline depth, the model is compiled twice — our
flow (``--opt 2``, the device family's LUT primitives) and plain logic for
Yosys to map (``--target generic --opt 0``) — and each build goes through
``lut2rtl.synth.synthesize`` with the measurement harness (serial-in shift
register, registered outputs), so nextpnr times every path through the core.
Both flows are measured in the same run with the same tools and seed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import progress

TITLE = "Hardware: synthesis and place-and-route (Yosys + nextpnr, harness top)"

ROOT = Path(__file__).resolve().parent.parent
FAMILY_TARGET = {"ice40": "ice40", "ecp5": "ecp5", "xilinx": "xilinx"}
FREQ = {"ice40": 100.0, "ecp5": 200.0, "xilinx": 200.0}  # ambitious targets: nextpnr reports what it reaches

COLUMNS = ["model", "device", "pipeline", "live gates", "core LUTs (ours)", "core LUTs (Yosys, generic)",
           "core FFs (ours)", "LUTs/live gate (ours)", "Fmax MHz (ours)", "Fmax MHz (Yosys)", "latency ns (ours)",
           "latency ns (Yosys)", "seconds"]


def _models(quick: bool) -> list[tuple[str, Any]]:
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.netgen import random_netlist

    models = []
    if not quick:
        for name in ("digits.pt", "random_digits.pt"):
            p = ROOT / "examples" / name
            if p.exists():
                models.append((f"examples/{name}", load_checkpoint(p)))
                break
        models.append(("random 256 in, 3x800 k=2, 10 classes", random_netlist(0, 256, [800, 800, 800], 2,
                                                                                   classes=10)))
    else:
        models.append(("random 64 in, 2x200 k=2, 4 classes", random_netlist(0, 64, [200, 200], 2, classes=4)))
    return models


def _one(net: Any, work: Path, tag: str, device: str, target: str, pipeline: int, opt: int) -> dict[str, Any]:
    from lut2rtl.compile import compile_netlist
    from lut2rtl.families import DEVICE_FAMILY
    from lut2rtl.synth import synthesize

    build = compile_netlist(net, work / f"{tag}-build", target=target, pipeline=pipeline, opt=opt, name="core").out_dir
    fam = DEVICE_FAMILY[device].name
    rep = synthesize(build, device, top="harness", freq_mhz=FREQ[fam] if fam != "xilinx" else None,
                     out_dir=work / f"{tag}-synth").report
    return rep


def run(quick: bool) -> dict[str, Any]:
    try:
        import lut2rtl.compile  # noqa: F401
    except ImportError as e:
        return {"columns": ["note"], "rows": [{"note": f"lut2rtl.compile is not available: {e}"}], "notes": ""}
    from lut2rtl.errors import Lut2RtlError
    from lut2rtl.families import DEVICE_FAMILY

    devices = ["up5k"] if quick else ["up5k", "hx8k", "ecp5-25k", "xc7a35t"]
    rows: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="lut2rtl-bench-hw-"))
    try:
        for mname, net in _models(quick):
            live = int(net.live_mask()[net.n_inputs:].sum())
            for device in devices:
                fam = DEVICE_FAMILY[device].name
                for pipeline in ((4,) if quick else (0, 4)):
                    t0 = time.perf_counter()
                    tag = f"{len(rows)}"
                    row: dict[str, Any] = {"model": mname, "device": device, "pipeline": pipeline,
                                           "live gates": live}
                    try:
                        ours = _one(net, work, tag + "o", device, FAMILY_TARGET[fam], pipeline, 2)
                        ys = _one(net, work, tag + "y", device, "generic", pipeline, 0)
                    except Lut2RtlError as e:
                        row["core LUTs (ours)"] = f"error: {e}"
                        rows.append(row)
                        progress(f"{row}")
                        continue
                    row.update({
                        "core LUTs (ours)": ours["core_luts"], "core LUTs (Yosys, generic)": ys["core_luts"],
                        "core FFs (ours)": ours["core_ffs"],
                        "LUTs/live gate (ours)": round(ours["core_luts"] / max(1, live), 3),
                        "Fmax MHz (ours)": ours["fmax_mhz"], "Fmax MHz (Yosys)": ys["fmax_mhz"],
                        "latency ns (ours)": ours["latency_ns"], "latency ns (Yosys)": ys["latency_ns"],
                        "seconds": round(time.perf_counter() - t0, 1),
                    })
                    rows.append(row)
                    progress(f"{row}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    notes = (
        "Core LUTs/FFs: Yosys `synth_<family>` of the compiled core alone (LUT primitives: SB_LUT4, LUT4, "
        "LUT1-6; carry cells and wide muxes not counted). They include the LUT layers, the GroupSum popcount "
        "and the argmax, and the pipeline registers. Fmax: nextpnr (`--timing-allow-fail`, seed 1) on the "
        "core inside the harness (serial-in shift register, registered outputs; its FFs are outside the core "
        "figures), target "
        f"{FREQ['ice40']:g} MHz iCE40 / {FREQ['ecp5']:g} MHz ECP5; Xilinx has no open place-and-route "
        "(counts from `synth_xilinx`; `lut2rtl synth` writes a Vivado script). Latency: pipeline cycles / "
        "Fmax, or for pipeline 0 the register-to-register period through the core. 'ours' = `--opt 2` with the "
        "family's LUT primitives; 'Yosys' = `--target generic --opt 0` (plain logic mapped by Yosys/ABC)."
    )
    return {"columns": COLUMNS, "rows": rows, "notes": notes}


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    print(json.dumps(run(ap.parse_args().quick), indent=2))

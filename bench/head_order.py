"""The head's packed group order on the bench's random networks: Yosys counts at pipeline 0, in one run.

``python bench/head_order.py OUT MODELS [FAMILIES]``: MODELS from ``10K`` (256 inputs, 2 x 5,000 2-input gates,
100 classes) and ``50K`` (5 x 10,000, 10 classes), comma-separated; FAMILIES from ``ice40`` (``synth_ice40``) and
``ecp5`` (``synth_ecp5 -nowidelut``), default ``ice40``. Each network is compiled three times: lut2rtl's own build
(``packed``: each class's group bits ordered for the LUT4s, rtl/popcount.py: pack_order), the same with
``popcount_pack`` off (``index``: the order before the packing), and the generic build at ``--opt 0`` (Yosys from
plain logic, the bench's baseline). ``lut_eq`` counts ECP5's two LUT4s per ``CCU2C``. OUT gets the build folders
and ``results.json``; it is written as ``OUT.partial`` and renamed at the end (an existing OUT is refused). These
networks do not fit the parts, so there is no place and route (bench/bench_head.py's rows have the rest).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODELS = {"10K": ((1, 256, [5000, 5000]), 100), "50K": ((2, 256, [10000] * 5), 10)}
FAMILIES = {"ice40": "", "ecp5": "-nowidelut"}


def measure(net: Any, work: Path, model: str, family: str) -> list[dict[str, Any]]:
    from bench.bench_head import _build, _yosys
    from lut2rtl import families

    rows: list[dict[str, Any]] = []
    for design in ("packed", "index", "generic"):
        t0 = time.time()
        saved = families.FAMILIES[family]
        if design == "index":
            families.FAMILIES[family] = dataclasses.replace(saved, popcount_pack=False)
        try:
            folder, _ = _build(net, work, f"{model}-{family}-{design}", "generic" if design == "generic" else family,
                               **({"opt": 0} if design == "generic" else {}))
        finally:
            families.FAMILIES[family] = saved
        row = {"model": model, "family": family + (f" {FAMILIES[family]}" if FAMILIES[family] else ""),
               "design": design, **_yosys(folder, "core", family, FAMILIES[family]),
               "seconds": round(time.time() - t0, 1)}
        rows.append(row)
        print(row, flush=True)
    gen = rows[-1]["lut_eq"]
    for r in rows[:2]:
        r["ratio_to_generic"] = round(r["lut_eq"] / gen, 3)
    return rows


def main() -> None:
    from bench import script_options

    if script_options("python bench/head_order.py OUT MODELS[,...] [FAMILIES[,...]]", __doc__):
        return
    if len(sys.argv) not in (3, 4):
        sys.exit("error: usage: python bench/head_order.py OUT MODELS[,...] [FAMILIES[,...]]")
    out = Path(sys.argv[1])
    models, fams = sys.argv[2].split(","), (sys.argv[3] if len(sys.argv) == 4 else "ice40").split(",")
    bad = [m for m in models if m not in MODELS] + [f for f in fams if f not in FAMILIES]
    if bad:
        sys.exit(f"error: unknown {', '.join(map(repr, bad))} (models: {', '.join(MODELS)}; families: "
                 f"{', '.join(FAMILIES)})")
    if out.exists():
        sys.exit(f"error: {out} exists (give a new folder)")
    from lut2rtl.errors import Lut2RtlError
    from lut2rtl.netgen import random_netlist

    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.time()
    rows: list[dict[str, Any]] = []
    try:
        for m in models:
            args, classes = MODELS[m]
            net = random_netlist(*args, 2, classes=classes)
            for f in fams:
                rows += measure(net, work, m, f)
    except Lut2RtlError as e:
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(f"error: {e}")
    result = {"title": "The head's packed group order on random networks (Yosys counts, p0)",
              "date": time.strftime("%Y-%m-%d"), "wall_s": round(time.time() - t0, 1), "rows": rows}
    (work / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    work.rename(out)
    print(f"wrote {out}/results.json", file=sys.stderr)


if __name__ == "__main__":
    main()

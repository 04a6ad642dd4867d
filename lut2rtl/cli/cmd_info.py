"""`lut2rtl info`: what a checkpoint holds."""

from __future__ import annotations

import json

import click

from ..checkpoint import load_checkpoint
from ..report import netlist_summary


@click.command("info")
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(checkpoint: str, as_json: bool) -> None:
    """Show layers, fan-in, gate types, live LUTs and classes of CHECKPOINT.

    \b
    Examples:
      lut2rtl info examples/digits.pt
      lut2rtl info examples/digits.pt --json
    """
    s = netlist_summary(load_checkpoint(checkpoint))
    if as_json:
        click.echo(json.dumps(s, sort_keys=True))
        return
    click.echo(f"{checkpoint}: {s['inputs']} input bits -> {s['depth']} layers, "
               f"{s['luts']} LUTs ({s['live_luts']} live) -> {s['outputs']} outputs")
    if s["classes"] is not None:
        click.echo(f"GroupSum: {s['classes']} classes of {s['outputs'] // s['classes']} bits, "
                   f"tau={s['tau']:g}, beta={s['beta']:g}")
    if s["encoder"] is not None:
        e = s["encoder"]
        click.echo(f"encoder: thermometer, {e['features']} features x {e['bits_per_feature']} thresholds")
    if s["metadata"]:
        click.echo("metadata: " + ", ".join(f"{k}={v}" for k, v in sorted(s["metadata"].items())))
    click.echo(f"{'layer':>5} {'k':>2} {'LUTs':>8} {'live':>8} {'const':>6} {'wires':>6}  gates")
    for layer in s["layers"]:
        gates = " ".join(f"{g}:{c}" for g, c in layer["gates"].items())
        click.echo(f"{layer['index']:>5} {layer['k']:>2} {layer['luts']:>8} {layer['live']:>8} "
                   f"{layer['constant']:>6} {layer['wires']:>6}  {gates}")

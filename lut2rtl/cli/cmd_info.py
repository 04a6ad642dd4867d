"""`lut2rtl info`: what a checkpoint holds."""

from __future__ import annotations

import json
from typing import Any

import click

from ..checkpoint import load_checkpoint, load_conv_net
from ..lowering import conv_summary
from ..report import netlist_summary, pass_report


@click.command("info")
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--passes", "show_passes", is_flag=True,
              help="Also run the optimization passes and show the size after each.")
@click.option("--opt", type=click.IntRange(1, 3), default=3, show_default=True,
              help="Optimization level whose passes --passes runs.")
@click.option("--lut-size", type=click.IntRange(3, 6), default=4, show_default=True,
              help="LUT inputs of the target, for the packing pass (4: iCE40/ECP5/Gowin, 6: Xilinx).")
def command(checkpoint: str, as_json: bool, show_passes: bool, opt: int, lut_size: int) -> None:
    """Show layers, fan-in, gate types, live LUTs and classes of CHECKPOINT.

    \b
    Examples:
      lut2rtl info examples/digits.pt
      lut2rtl info examples/digits.pt --json
      lut2rtl info examples/digits.pt --passes --lut-size 6
      lut2rtl info examples/digits_conv.pt --passes
    """
    net = load_checkpoint(checkpoint)
    s = netlist_summary(net)
    conv = load_conv_net(checkpoint)
    s["stages"] = None if conv is None else conv_summary(conv)
    if show_passes:
        s["passes"] = pass_report(net, opt, lut_size=lut_size)
        s["dedupe_merged"] = dedupe_merged(s["passes"])
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
    if s["stages"] is not None:
        click.echo("stages (checkpoint version 2, lowered to the layers below):")
        for st in s["stages"]:
            click.echo("  " + _stage_line(st))
    click.echo(f"{'layer':>5} {'k':>2} {'LUTs':>8} {'live':>8} {'const':>6} {'wires':>6}  gates")
    for layer in s["layers"]:
        gates = " ".join(f"{g}:{c}" for g, c in layer["gates"].items())
        click.echo(f"{layer['index']:>5} {layer['k']:>2} {layer['luts']:>8} {layer['live']:>8} "
                   f"{layer['constant']:>6} {layer['wires']:>6}  {gates}")
    if show_passes:
        click.echo(f"passes (--opt {opt}, LUT size {lut_size}):")
        click.echo(f"{'pass':>8} {'LUTs':>8} {'live':>8} {'depth':>5} {'max k':>5} {'inputs':>8} {'time s':>7}")
        for row in s["passes"]:
            click.echo(f"{row['pass']:>8} {row['luts']:>8} {row['live_luts']:>8} {row['depth']:>5} "
                       f"{row['max_k']:>5} {row['lut_inputs']:>8} {row['seconds']:>7.3f}")
        click.echo(f"dedupe merged {s['dedupe_merged']} LUTs (equal functions of equal signals)")


def dedupe_merged(rows: list[dict[str, Any]]) -> int:
    """LUTs the dedupe pass removed, summed over its runs in a pass report."""
    return sum(prev["luts"] - row["luts"] for prev, row in zip(rows, rows[1:]) if row["pass"] == "dedupe")


def _stage_line(st: dict[str, Any]) -> str:
    if st["kind"] == "conv":
        return (f"{st['stage']}: conv {st['in_shape']} -> {st['out_shape']}, "
                f"kernel {st['kernel'][0]}x{st['kernel'][1]} stride {st['stride']} padding {st['padding']}, "
                f"trees of k={st['k']} depth {st['depth']}: "
                f"{st['shared_luts']} shared LUTs, {st['luts']} after lowering")
    if st["kind"] == "or_pool":
        return (f"{st['stage']}: or_pool {st['in_shape']} -> {st['out_shape']}, window {st['kernel'][0]}x"
                f"{st['kernel'][1]} stride {st['stride']}: {st['luts']} LUTs")
    return f"{st['stage']}: dense k={st['k']}: {st['luts']} LUTs"

"""`lut2rtl synth`: build folder -> LUTs, FFs, Fmax, latency (Yosys + nextpnr)."""

from __future__ import annotations

import json
import time

import click

from ..synth import BOARDS, DEVICES, TOPS, render_markdown, synthesize


@click.command("synth")
@click.argument("build_dir", type=click.Path(file_okay=False, path_type=str))
@click.option("--device", default=None, type=click.Choice(list(DEVICES)),
              help="FPGA part: iCE40 (up5k, hx8k) and ECP5 are placed and routed with nextpnr; "
                   "xc7a35t gets Yosys counts and a Vivado script. Default: the part the folder was compiled "
                   "for (compile --device).")
@click.option("--top", type=click.Choice(TOPS), default=None,
              help="What to synthesize: the core alone, the measurement harness (serial-in shift register, "
                   "registered outputs), the same harness around the AXI4-Stream wrapper (a build compiled with "
                   "--interface axis) or the UART board top. Default: uart with --board, else the core when "
                   "its ports fit the package's pins, else the harness.")
@click.option("--board", type=click.Choice(list(BOARDS)), default=None,
              help="Board of the UART top (pins and clock from constraints/).")
@click.option("--freq", "freq_mhz", type=click.FloatRange(min=0, min_open=True), default=None,
              help="nextpnr target clock in MHz (default: the board clock, else a per-family target).")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Place and route with seeds 1..N and keep the best Fmax.")
@click.option("--baud", type=click.IntRange(min=1), default=115200, show_default=True, help="UART baud rate.")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=str), default=None,
              help="Report folder (default: <BUILD_DIR>-synth-<device>).")
@click.option("--force", is_flag=True, help="Replace an existing report folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def command(build_dir: str, device: str | None, top: str | None, board: str | None, freq_mhz: float | None, seeds: int,
            baud: int, out_dir: str | None, force: bool, as_json: bool) -> None:
    """Synthesize the compiled BUILD_DIR for an FPGA and report LUTs, FFs,
    carry cells, utilization, Fmax and latency (what the count includes is
    listed). Reports land in the report folder as report.json and report.md,
    with the tools' logs and raw reports.

    \b
    Examples:
      lut2rtl synth build/digits --device up5k
      lut2rtl synth build/digits --device ecp5-25k --seeds 4 --freq 150
      lut2rtl synth build/digits --device up5k --board icebreaker -o build/icebreaker
      lut2rtl synth build/digits --device xc7a35t --json
      lut2rtl synth build/digits --device hx8k --top axis
      lut2rtl synth build/digits_up5k          # compiled with --device up5k
    """
    t0 = time.monotonic()

    def progress(msg: str) -> None:
        if not as_json:
            click.echo(f"[{time.monotonic() - t0:6.1f}s] {msg}", err=True)

    res = synthesize(build_dir, device, top=top, board=board, freq_mhz=freq_mhz, seeds=seeds, out_dir=out_dir,
                     force=force, baud=baud, progress=progress)
    if as_json:
        click.echo(json.dumps(res.report, sort_keys=True))
        return
    click.echo(render_markdown(res.report), nl=False)
    click.echo(f"report: {res.out_dir}/report.json, {res.out_dir}/report.md")

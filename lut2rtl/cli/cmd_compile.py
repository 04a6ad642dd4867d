"""`lut2rtl compile`: checkpoint -> build folder (Verilog, manifest, vectors)."""

from __future__ import annotations

import json
import time

import click

from ..compile import ENCODERS, INTERFACES, compile_checkpoint, default_out_dir
from ..encoder import MAX_FEATURE_BITS
from ..families import DEFAULT_FAMILY, DEVICE_FAMILY, DEVICES, FAMILIES
from ..rtl.network import FABRICS


@click.command("compile")
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--output", "out_dir", default=None, type=click.Path(path_type=str),
              help="Build folder to write (must not exist unless --force). Default: build/<checkpoint stem>.")
@click.option("--target", default=None, type=click.Choice(sorted(FAMILIES)),
              help=f"FPGA family whose LUT primitives are instantiated; 'generic' writes plain logic. "
                   f"[default: the --device's family, else {DEFAULT_FAMILY.name}]")
@click.option("--pipeline", default=0, show_default=True, type=click.IntRange(min=0),
              help="Register stages (latency in cycles); 0 is combinational.")
@click.option("--clock-mhz", type=float, default=None,
              help="Instead of --pipeline: the fewest register stages that meet this clock by the family's "
                   "delay model (check it with `lut2rtl synth`).")
@click.option("--device", type=click.Choice(sorted(DEVICES)), default=None,
              help="The part (e.g. up5k): --clock-mhz uses its speed (the family's delay model is fitted on "
                   "hx8k / ecp5-25k).")
@click.option("--opt", default=3, show_default=True, type=click.IntRange(0, 3),
              help="Optimization level: 0 none, 1 clean-ups, 2 + LUT packing, 3 + the better of the packer's "
                   "and ABC's LUT cover (Yosys).")
@click.option("--name", default=None, help="Top module name (default: the checkpoint's file stem).")
@click.option("--out-bits", is_flag=True, help="Also expose the raw output bits when the model has a GroupSum.")
@click.option("--force", is_flag=True, help="Replace an existing build folder.")
@click.option("--fabric", default="auto", show_default=True, type=click.Choice(FABRICS),
              help="Build the LUT fabric in Amaranth or as structural Verilog (auto: by size).")
@click.option("--interface", default="none", show_default=True, type=click.Choice(INTERFACES),
              help="'axis': add an AXI4-Stream wrapper <name>_axis (s_axis_* in, m_axis_* out, backpressure) "
                   "around the core.")
@click.option("--axis-counts", is_flag=True, help="With --interface axis: m_axis_tdata also carries the class counts.")
@click.option("--encoder", default="none", show_default=True, type=click.Choice(ENCODERS),
              help="'hw': the thermometer encoder in the design; the core takes in_features (integer features, "
                   "--feature-bits wide) instead of in_bits.")
@click.option("--feature-bits", type=click.IntRange(1, MAX_FEATURE_BITS), default=None,
              help="With --encoder hw: the width of each integer feature.")
@click.option("--signed", is_flag=True, help="With --encoder hw: features are two's complement.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as one JSON object.")
def command(checkpoint: str, out_dir: str | None, target: str | None, pipeline: int, clock_mhz: float | None,
            device: str | None, opt: int,
            name: str | None, out_bits: bool, force: bool, fabric: str, interface: str, axis_counts: bool,
            encoder: str, feature_bits: int | None, signed: bool, as_json: bool) -> None:
    """Compile CHECKPOINT into a build folder: <name>.v, <name>.json (manifest),
    vectors.npz (test vectors), netlist.pt (the reference netlist) and
    <name>.core (FuseSoC core description).

    \b
    Without -o the folder is build/<checkpoint stem> (build/digits below).

    \b
    Examples:
      lut2rtl compile examples/digits.pt --target ice40 --pipeline 4
      lut2rtl compile examples/digits.pt --target xilinx --pipeline 4 --interface axis -o build/digits_axis
      lut2rtl compile examples/digits.pt --target ice40 --encoder hw --feature-bits 5 -o build/digits_hw
      lut2rtl compile examples/digits.pt --target generic -o build/generic --force
      lut2rtl compile examples/digits.pt --target ice40 --clock-mhz 150 -o build/digits150
      lut2rtl compile examples/digits.pt --device up5k --clock-mhz 24 -o build/digits_up5k
      lut2rtl compile big.pt --target xilinx --pipeline 8 --fabric verilog -o build/big
    """
    t0 = time.monotonic()

    def progress(msg: str) -> None:
        if not as_json:
            click.echo(f"[{time.monotonic() - t0:6.1f}s] {msg}", err=True)

    if out_dir is None:
        out_dir = str(default_out_dir(checkpoint))
    if target is None:
        target = DEVICE_FAMILY[device].name if device else DEFAULT_FAMILY.name
    res = compile_checkpoint(checkpoint, out_dir, target=target, pipeline=pipeline, opt=opt, name=name,
                             out_bits=out_bits, force=force, fabric=fabric, clock_mhz=clock_mhz, interface=interface,
                             axis_counts=axis_counts, encoder=encoder, feature_bits=feature_bits, signed=signed,
                             device=device, progress=progress)
    man = res.manifest.to_json()
    if as_json:
        click.echo(json.dumps(man, sort_keys=True))
        return
    est = man["estimate"]
    click.echo(f"{checkpoint} -> {res.out_dir}/ ({man['target']}, top module {man['top']}, "
               f"{time.monotonic() - t0:.1f}s)")
    click.echo(f"{'layer':>7} {'LUTs':>9}")
    for l, n in enumerate(est["layer_luts"]):
        click.echo(f"{l:>7} {n:>9}")
    if man["classes"] is not None:
        click.echo(f"{'popcnt':>7} {est['popcount_luts']:>9}  ({man['classes']} classes, "
                   f"counts {man['count_width']} bits)")
    click.echo(f"{'total':>7} {est['luts']:>9}  LUTs (estimate), {est['ffs']} flip-flops")
    if "encoder_luts" in est:
        e = man["options"]["encoder"]
        click.echo(f"encoder in hardware: {e['features']} features x {e['feature_bits']} bits "
                   f"({'signed' if e['signed'] else 'unsigned'}), {e['thresholds_per_feature']} thresholds each; "
                   f"{est['encoder_luts']} LUTs alone (included above)")
    fill = est.get("device_fill")
    if fill:
        click.echo(f"device {fill['device']}: the estimate fills {fill['luts_pct']:g} % of its {fill['device_luts']} "
                   f"LUTs and {fill['ffs_pct']:g} % of its {fill['device_ffs']} flip-flops")
        if fill["status"] == "too_big":
            click.echo(f"warning: the design does not fit the {fill['device']} (estimate); `lut2rtl synth` will fail "
                       "to place it", err=True)
        elif fill["status"] == "nearly_full":
            click.echo("warning: the part is nearly full, which makes placing and routing harder; the delay "
                       "model does not see it (docs/hardware.md)", err=True)
    lv = est["levels"]
    cuts = est["register_cuts"]
    tm = est["timing"]
    click.echo(f"timing (delay model): stage {tm['model_period_ns']} ns ({tm['model_fmax_mhz']} MHz), latency "
               f"{tm['latency_ns']} ns" + (f" at {clock_mhz:g} MHz" if clock_mhz else ""))
    if tm.get("beyond_fit"):
        click.echo(f"warning: the delay model was fitted on a design of about {tm['model_fitted_luts']} LUTs and "
                   f"this one has {est['luts']}: its routes are longer than the model assumes, so the timing above "
                   "is optimistic (docs/hardware.md, Timing); `lut2rtl synth` gives nextpnr's figure", err=True)
    click.echo(f"latency {man['latency']} cycles; logic depth {lv['fabric']} fabric + {lv['groupsum']} "
               f"popcount/argmax levels; registers after fabric levels {cuts['fabric']}, "
               f"popcount levels {cuts['groupsum']}, {cuts['outputs']} on the outputs")
    ports = ", ".join(f"{p}[{v['width']}]" for p, v in man["ports"].items())
    click.echo(f"ports: {ports}")
    if man.get("interface"):
        ax = man["interface"]
        ax_ports = ", ".join(f"{p}[{v['width']}]" for p, v in ax["ports"].items())
        click.echo(f"AXI4-Stream wrapper {ax['top']}: latency {ax['latency']} cycles (handshake to handshake), "
                   f"output FIFO of {ax['fifo_depth']}; ports: {ax_ports}")
    click.echo("files: " + ", ".join(res.files))

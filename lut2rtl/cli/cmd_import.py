"""`lut2rtl import`: convert a difflogic / torchlogix model into a lut2rtl checkpoint."""

from __future__ import annotations

import click

from ..interop import TOOLS, import_file
from ..interop.conventions import PARAMETRIZATIONS


@click.command("import")
@click.argument("tool", type=click.Choice(TOOLS))
@click.argument("src", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The lut2rtl checkpoint to write (model.pt).")
@click.option("--indices", "indices", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Wiring file: torch.save of one index pair / [k, n] tensor per logic layer "
                   "(needed for difflogic state dicts).")
@click.option("--parametrization", type=click.Choice([*PARAMETRIZATIONS, "warp"]), default=None,
              help="torchlogix: parametrization of every logic layer, where a state dict cannot tell.")
@click.option("--classes", type=click.IntRange(min=1), default=None,
              help="GroupSum class count (state dicts carry none; overrides the model's).")
@click.option("--tau", type=float, default=None, help="GroupSum tau (default: the model's, else 1).")
@click.option("--beta", type=float, default=None, help="GroupSum beta (default: the model's, else 0).")
@click.option("--inputs", "n_inputs", type=click.IntRange(min=1), default=None,
              help="Input bits of the first logic layer, where a state dict does not record it.")
@click.option("--dataset", default=None, help="Record the dataset name in the checkpoint metadata "
                                             "(e.g. digits: compile then adds its test split to the vectors).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def command(tool: str, src: str, output: str, indices: str | None, parametrization: str | None,
            classes: int | None, tau: float | None, beta: float | None, n_inputs: int | None,
            dataset: str | None, force: bool) -> None:
    """Convert a model trained with TOOL (difflogic or torchlogix) into a lut2rtl checkpoint.

    SRC is a whole pickled model (torch.save(model, ...); read with inert
    stand-ins, no difflogic/torchlogix code runs) or a state dict. Dense logic
    layers, GroupSum and fixed thermometer thresholds are supported, and
    torchlogix LogicConv2d / OrPooling2d (the whole pickled model: a state
    dict lacks the geometry), written as checkpoint version 2.

    \b
    Examples:
      lut2rtl import difflogic model.pt -o digits.pt
      lut2rtl import difflogic sd.pt --indices idx.pt --inputs 192 --classes 10 --tau 10 -o digits.pt
      lut2rtl import torchlogix model.pt -o digits.pt --dataset digits
      lut2rtl import torchlogix sd.pt --indices idx.pt --parametrization walsh --classes 10 -o m.pt
    """
    meta = {"dataset": dataset} if dataset else {}
    net = import_file(tool, src, output, indices_file=indices, force=force, parametrization=parametrization,
                      classes=classes, tau=tau, beta=beta, n_inputs=n_inputs, metadata=meta)
    gs = net.group_sum
    tail = f", GroupSum {gs.classes} classes (tau={gs.tau:g})" if gs is not None else ""
    enc = net.encoder
    head = f"thermometer {enc.features}x{enc.thresholds.shape[1]} -> " if enc is not None else ""
    click.echo(f"{output}: {head}{net.n_inputs} input bits -> {net.depth} layers, {net.n_luts} LUTs "
               f"(k={'/'.join(str(k) for k in sorted({layer.k for layer in net.layers}))})"
               f" -> {net.n_outputs} outputs{tail}")

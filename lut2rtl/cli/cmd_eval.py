"""`lut2rtl eval`: accuracy of a checkpoint with the reference evaluator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..checkpoint import load_checkpoint
from ..compile import write_npz
from ..datasets import DATASETS, load_dataset
from ..errors import OutputError
from ..evaluate import evaluate, read_bits_file, score_dataset
from ..fileio import atomic_write_bytes
from ..netlist import Netlist


@click.command("eval")
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=str))
@click.option("--dataset", type=click.Choice(DATASETS), default="digits", show_default=True,
              help="Dataset to score on (digits is bundled; the others need --data-dir).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder with the IDX files of mnist / fashion-mnist.")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--bits", "bits_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Evaluate raw input bits instead: an .npz with 'in_bits' [N, n_inputs] (0/1) and optionally "
                   "'labels' [N] (a build folder's vectors.npz is one).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="With --bits: write out_bits, counts and out_class (as in vectors.npz) to this .npz.")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(checkpoint: str, dataset: str, data_dir: str | None, split: str, bits_file: str | None,
            out_file: str | None, force: bool, as_json: bool) -> None:
    """Score CHECKPOINT on a dataset with the bit-packed reference evaluator,
    or evaluate it on raw input bits (--bits).

    \b
    Examples:
      lut2rtl eval examples/digits.pt
      lut2rtl eval model.pt --dataset mnist --data-dir ~/data/mnist --json
      lut2rtl eval model.pt --bits build/model/vectors.npz --out outputs.npz
    """
    if out_file is not None and bits_file is None:
        raise click.UsageError("--out needs --bits")
    net = load_checkpoint(checkpoint)
    if bits_file is not None:
        _eval_bits(net, checkpoint, bits_file, out_file, force, as_json)
        return
    result = score_dataset(net, load_dataset(dataset, data_dir), split)
    result["checkpoint"] = checkpoint
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(f"{checkpoint}: {result['dataset']} {split} accuracy {100 * result['accuracy']:.2f}% "
                   f"({result['correct']}/{result['samples']})")


def _eval_bits(net: Netlist, checkpoint: str, bits_file: str, out_file: str | None, force: bool,
               as_json: bool) -> None:
    if out_file is not None and Path(out_file).exists() and not force:
        raise OutputError(f"{out_file} exists (use --force to replace it)")
    bits, labels = read_bits_file(bits_file, net.n_inputs)
    r = evaluate(net, bits)
    result: dict[str, Any] = {"checkpoint": checkpoint, "bits": bits_file, "samples": int(bits.shape[0])}
    if labels is not None and r.pred is not None:
        result["correct"] = int((r.pred == labels).sum())
        result["accuracy"] = result["correct"] / max(1, int(labels.shape[0]))
    if out_file is not None:
        arrays = {"out_bits": r.out_bits.astype(np.uint8)}
        if r.counts is not None and r.pred is not None:
            arrays["counts"] = r.counts.astype(np.int64)
            arrays["out_class"] = r.pred.astype(np.int64)
        atomic_write_bytes(out_file, write_npz(arrays))
        result["out"] = out_file
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
        return
    what = f"{result['samples']} samples"
    if "accuracy" in result:
        what += f", accuracy {100 * result['accuracy']:.2f}% ({result['correct']}/{result['samples']})"
    elif r.pred is not None:
        what += ", predicted classes " + " ".join(f"{c}:{n}" for c, n in enumerate(np.bincount(
            r.pred, minlength=net.group_sum.classes if net.group_sum else 1)))
    click.echo(f"{checkpoint}: {bits_file}: {what}" + (f"; wrote {out_file}" if out_file else ""))

"""`lut2rtl eval`: accuracy of a checkpoint with the reference evaluator."""

from __future__ import annotations

import json

import click

from ..checkpoint import load_checkpoint
from ..datasets import DATASETS, load_dataset
from ..evaluate import score_dataset


@click.command("eval")
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=str))
@click.option("--dataset", type=click.Choice(DATASETS), default="digits", show_default=True,
              help="Dataset to score on (digits is bundled; the others need --data-dir).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder with the IDX files of mnist / fashion-mnist.")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(checkpoint: str, dataset: str, data_dir: str | None, split: str, as_json: bool) -> None:
    """Score CHECKPOINT on a dataset with the bit-packed reference evaluator.

    \b
    Examples:
      lut2rtl eval examples/digits.pt
      lut2rtl eval model.pt --dataset mnist --data-dir ~/data/mnist --json
    """
    net = load_checkpoint(checkpoint)
    result = score_dataset(net, load_dataset(dataset, data_dir), split)
    result["checkpoint"] = checkpoint
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(f"{checkpoint}: {result['dataset']} {split} accuracy {100 * result['accuracy']:.2f}% "
                   f"({result['correct']}/{result['samples']})")

"""`lut2rtl train`: train a logic network (or a float baseline) and save the checkpoint."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ..datasets import DATASETS, load_dataset


def _progress_printer(enabled: bool, steps: int) -> Any:
    tty = sys.stderr.isatty()
    state = {"last": None}

    def show(event: dict[str, Any]) -> None:
        if not enabled:
            return
        kind = event["event"]
        if kind == "start":
            click.echo(f"training {event['params']} parameters on {event['device']}"
                       + (f" (process {event['rank']} of {event['world_size']})" if event["world_size"] > 1 else "")
                       + ("" if event["tau"] is None else f", GroupSum tau={event['tau']:g}"), err=True)
        elif kind == "eval":
            line = (f"step {event['step']:>6}/{steps}  loss {event['loss']:.4f}  "
                    f"train {100 * event['train_acc']:5.1f}%  test {100 * event['test_acc']:5.1f}%  "
                    f"soft {100 * event['soft_acc']:5.1f}%  gap {100 * event['gap']:+5.1f}  "
                    + (f"val {100 * event['val_acc']:5.1f}%  " if "val_acc" in event else "")
                    + f"{event['seconds']:.0f}s")
            if tty:
                click.echo("\r" + line, err=True, nl=False)
                state["last"] = line
            else:
                click.echo(line, err=True)
        elif kind == "step" and tty and event["step"] % 10 == 0 and state["last"] is None:
            click.echo(f"\rstep {event['step']:>6}/{steps}  loss {event['loss']:.4f}", err=True, nl=False)
        elif kind == "done" and tty:
            click.echo("", err=True)

    return show


def _channels(text: str) -> tuple[int, ...]:
    from ..nn.train import TrainingError

    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise TrainingError(f"--channels {text!r}: comma-separated positive integers, e.g. 16 or 16,32") from None


@click.command("train")
@click.option("--method", type=click.Choice(["dlgn", "gumbel", "light", "warp", "mlp", "dlgn-halfspace"]),
              default="dlgn", show_default=True,
              help="Logic method, or a float baseline (mlp, dlgn-halfspace: accuracy only, not compilable).")
@click.option("--k", "k", type=int, default=2, show_default=True, help="LUT fan-in (dlgn/gumbel: 2; light/warp: 1..6).")
@click.option("--dataset", type=click.Choice(DATASETS), default="digits", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder with the IDX files of mnist / fashion-mnist, or the Python batches of cifar10.")
@click.option("--width", type=int, default=1000, show_default=True, help="LUTs per layer.")
@click.option("--depth", type=int, default=2, show_default=True, help="Number of logic layers.")
@click.option("--steps", type=int, default=2000, show_default=True, help="Optimizer steps.")
@click.option("--tau", type=float, default=None, help="GroupSum temperature [default: sqrt(width/classes)/3].")
@click.option("--lr", type=float, default=None, help="Adam learning rate [default: per method, see below].")
@click.option("--batch-size", type=int, default=128, show_default=True, help="Global batch size.")
@click.option("--wiring", type=click.Choice(["random", "unique"]), default="random", show_default=True)
@click.option("--bits-per-feature", type=int, default=3, show_default=True, help="Thermometer thresholds per feature.")
@click.option("--encoding", type=click.Choice(["uniform", "quantile"]), default="uniform", show_default=True,
              help="Thermometer thresholds evenly in the feature range, or at training-data quantiles.")
@click.option("--init", type=click.Choice(["auto", "random", "residual"]), default="auto", show_default=True,
              help="Parameter init; residual (every LUT starts as its first input) keeps deep networks trainable; "
                   "auto: residual above 2 layers, else random.")
@click.option("--temperature", type=float, default=None,
              help="Gumbel softmax temperature (gumbel) or sigmoid temperature (warp) [default: 1].")
@click.option("--noise/--no-noise", default=False, show_default=True,
              help="warp: logistic noise in the training forward (--no-noise: deterministic sigmoid(-z/T)).")
@click.option("--noise-source", type=click.Choice(["table", "fresh"]), default="table", show_default=True,
              help="warp --noise: windows of a fixed table of logistic values at random offsets, or fresh "
                   "draws every step (slower, the same accuracy on digits).")
@click.option("--forward", "forward_mode", type=click.Choice(["hard", "soft"]), default="soft", show_default=True,
              help="warp: training forward is the sigmoid, or the hard threshold with a straight-through gradient.")
@click.option("--arch", type=click.Choice(["dense", "conv"]), default="dense", show_default=True,
              help="dense: --depth logic layers of --width; conv: logic convolutions and OR pooling first "
                   "(--channels, --kernel-size, --stride, --tree-depth, --pool), then --depth dense layers of --width.")
@click.option("--channels", default="16", show_default=True,
              help="conv: output channels of each conv block, comma-separated (one block per entry).")
@click.option("--kernel-size", type=int, default=3, show_default=True,
              help="conv: receptive field kh = kw (padding kernel_size // 2).")
@click.option("--stride", type=int, default=1, show_default=True,
              help="conv: step between the output positions of every convolution (2 halves the image).")
@click.option("--tree-depth", type=int, default=2, show_default=True,
              help="conv: levels of each kernel's LUT tree; it reads k**tree_depth receptive-field bits "
                   "(--k 2 --tree-depth 2: LogicTreeNet's 3-gate kernel; --tree-depth 1: one k-input LUT).")
@click.option("--pool", type=int, default=2, show_default=True,
              help="conv: OR pooling window (and stride) after each conv block; 1: no pooling.")
@click.option("--augment", type=int, default=0, show_default=True,
              help="conv: shift each training image by a random 0..N pixels (zero fill); 0: no augmentation.")
@click.option("--val-fraction", type=float, default=0.0, show_default=True,
              help="Hold out this share of the training rows (per class, fixed) as a validation split, scored "
                   "at every evaluation; select models by it, not by the test split. 0: train on every row.")
@click.option("--keep-best", is_flag=True,
              help="Save the parameters of the evaluation with the best validation accuracy (needs --val-fraction).")
@click.option("--lr-schedule", type=click.Choice(["constant", "cosine"]), default="constant", show_default=True,
              help="cosine: the learning rate decays from --lr to 0 over --steps.")
@click.option("--label-smoothing", type=float, default=0.0, show_default=True,
              help="Cross-entropy label smoothing.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--eval-every", type=int, default=250, show_default=True,
              help="Steps between accuracy reports (discrete, soft and gap).")
@click.option("--threads", type=int, default=1, show_default=True,
              help="torch CPU threads (these layers are small: one thread is usually fastest).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Checkpoint to write (atomically; an existing file needs --force).")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the result.")
def command(method: str, k: int, dataset: str, data_dir: str | None, width: int, depth: int, steps: int,
            tau: float | None, lr: float | None, batch_size: int, wiring: str, bits_per_feature: int, encoding: str,
            init: str, temperature: float | None, noise: bool, noise_source: str, forward_mode: str, arch: str,
            channels: str, kernel_size: int, stride: int, tree_depth: int, pool: int, augment: int,
            val_fraction: float, keep_best: bool,
            lr_schedule: str, label_smoothing: float, seed: int, device: str,
            eval_every: int, threads: int,
            output: str | None, force: bool, quiet: bool, as_json: bool) -> None:
    """Train a logic-gate / LUT network and save its discretized checkpoint.

    The reported accuracy is the discrete test accuracy of the saved netlist,
    computed with the reference evaluator (what `lut2rtl eval` prints). Under
    `torchrun` training runs data-parallel (DDP); process 0 writes the file.
    Evaluations (--eval-every) do not change the trained model.

    \b
    Defaults per method (measured on digits, bench/results/training_lr_sweep.json):
      method   --lr    note
      dlgn     0.2
      gumbel   0.5     sampled hard gates need large steps (0.1 is 3x slower)
      light    0.2
      warp     0.1     --no-noise --forward soft: trains deeper than the papers' mode
                       (--noise --forward hard), which failed at depth 12;
                       --noise-source table: the same accuracy as fresh draws over 20
                       paired seeds, 0.78x the step time
      mlp      0.005   float baselines (dlgn-halfspace too)
      --init auto: residual above 2 layers (2x fewer steps for gumbel, warp at depth 6), else random
      --tau: sqrt(width/classes)/3, grows with the outputs per class (3.3 at width 1000, 10 classes)

    \b
    Examples:
      lut2rtl train -o model.pt
      lut2rtl train --method gumbel --width 2000 --steps 3000 -o gumbel.pt
      lut2rtl train --method warp --k 4 --width 1000 -o warp4.pt --json
      lut2rtl train --method warp --k 6 --noise --forward hard -o warp6.pt
      lut2rtl train --method mlp --width 256
      lut2rtl train --arch conv --method light --k 4 --tree-depth 1 --channels 32 --depth 1 -o conv.pt
      lut2rtl train --val-fraction 0.15 --keep-best --lr-schedule cosine -o selected.pt
      torchrun --nproc_per_node 2 -m lut2rtl train --steps 2000 -o ddp.pt
    """
    # imported here so `lut2rtl --help` stays fast
    from ..nn.train import TrainConfig, TrainingError, end_distributed, train

    cfg = TrainConfig(method=method, k=k, width=width, depth=depth, steps=steps, tau=tau, lr=lr,
                      batch_size=batch_size, wiring=wiring, bits_per_feature=bits_per_feature, encoding=encoding,
                      seed=seed, device=device, eval_every=eval_every, init=None if init == "auto" else init,
                      temperature=temperature, noise=noise, noise_source=noise_source, hard=forward_mode == "hard",
                      arch=arch,
                      channels=_channels(channels), kernel_size=kernel_size, stride=stride,
                      tree_depth=tree_depth, pool=pool,
                      augment=augment, val_fraction=val_fraction, keep_best=keep_best, lr_schedule=lr_schedule,
                      label_smoothing=label_smoothing)
    cfg.check()
    if output is not None and os.path.exists(output) and not force:
        from ..errors import OutputError

        raise OutputError(f"{output} already exists (use --force to replace it)")
    if threads < 1:
        raise TrainingError(f"--threads {threads}: must be a positive integer")
    import torch

    torch.set_num_threads(threads)
    data = load_dataset(dataset, data_dir)
    is_main = int(os.environ.get("RANK", "0")) == 0
    result = train(cfg, data, _progress_printer(is_main and not quiet, steps))
    end_distributed(result)
    if not is_main:
        return
    if output is not None:
        result.save(output)
    summary: dict[str, Any] = {
        "method": method, "dataset": dataset, "accuracy": result.accuracy,
        "luts": None if result.net is None else result.net.n_luts,
        "checkpoint": output, "world_size": result.world_size,
        **{key: result.metrics.get(key) for key in ("soft_acc", "gap", "train_acc", "train_seconds", "step_ms",
                                                   "params", "torch_discrete_acc", "val_acc", "best_step")},
        "lr": result.config.lr, "init": result.config.init,
    }
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
        return
    what = "float baseline, not compilable" if result.net is None else f"{result.net.n_luts} LUTs"
    click.echo(f"{method} ({what}): {dataset} test accuracy {100 * result.accuracy:.2f}%"
               + ("" if result.net is None else " (discrete, reference evaluator)")
               + (f"; wrote {output}" if output else ""))

"""The training entry point: ``train(config, data, callback)``.

One loop for the four logic methods and the float baselines. Deterministic for
a seed: torch's RNG is seeded with ``config.seed``, the wiring comes from
``numpy.random.default_rng(config.seed)`` and batches from a torch ``Generator``
with the same seed on every process.

Multi-process: under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the
model is wrapped in ``DistributedDataParallel`` (gloo on CPU, nccl on CUDA);
every process draws the same global batch and trains on its share of it, so the
global batch size is ``config.batch_size`` whatever the process count.

The periodic evaluations run on a forked RNG: the train-mode ("soft") accuracy
of gumbel and warp draws noise, and those draws must not shift the training
noise, so the trained model does not depend on ``eval_every``.

On CUDA the loop does not synchronize with the host on every step: the loss
stays on the device and is read every ``LOSS_READ_EVERY`` steps (and at
evaluations); batches are indexed on the device.

The library never prints: progress goes to ``callback(event)`` where ``event``
is a plain dict (see the keys in :func:`train`).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from ..checkpoint import save_checkpoint
from ..datasets import Dataset, stratified_split, thermometer_thresholds
from ..errors import Lut2RtlError, NetlistError
from ..evaluate import score_dataset
from ..fileio import atomic_write_bytes
from ..lowering import ConvNet
from ..netlist import Netlist
from .baselines import BASELINES, make_baseline
from .conv import ConvLogicNet, build_conv_net
from .layers import METHODS
from .model import LogicNet, build_logic_net

__all__ = [
    "ALL_METHODS",
    "DEFAULT_LR",
    "LOSS_READ_EVERY",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "default_init",
    "default_tau",
    "end_distributed",
    "shift_images",
    "train",
]

log = logging.getLogger(__name__)

ALL_METHODS = METHODS + BASELINES
_TRAIN_EVAL_SAMPLES = 5000
LOSS_READ_EVERY = 10  # steps between host reads of the loss (a device sync on CUDA)
# Adam learning rates measured on digits (bench/results/training_lr_sweep.json, `python -m bench.bench_training
# --sweep`): width 1000, depths 2 and 6, both inits, 300 steps; per method the lr with the fewest steps to 90 %
# discrete test accuracy summed over the four runs, or, within 15 % of that, the better mean final accuracy.
# gumbel's sampled hard gates need larger steps to move the argmax; the float baselines smaller ones.
DEFAULT_LR = {"dlgn": 0.2, "gumbel": 0.5, "light": 0.2, "warp": 0.1, "mlp": 0.005, "dlgn-halfspace": 0.005}


_CONV_OPTIONS = ("arch", "channels", "kernel_size", "tree_depth", "pool", "augment")
# options added later: left out of the training record while at their default, so a run that does not use
# them writes the same checkpoint bytes as before they existed
_LATER_OPTIONS = {"val_fraction": 0.0, "lr_schedule": "constant", "keep_best": False, "label_smoothing": 0.0,
                  "stride": 1}
# the validation rows do not depend on --seed: runs with different seeds are compared on the same rows
VAL_SPLIT_SEED = 0


class TrainingError(Lut2RtlError):
    """Bad training options (names the option)."""


@dataclass
class TrainConfig:
    """Options of one training run (CLI names in parentheses)."""

    method: str = "dlgn"
    k: int = 2
    width: int = 1000
    depth: int = 2
    steps: int = 2000
    tau: float | None = None  # GroupSum tau; None -> default_tau(width, classes)
    lr: float | None = None  # None -> DEFAULT_LR[method]
    batch_size: int = 128
    wiring: str = "random"
    bits_per_feature: int = 3
    encoding: str = "uniform"
    seed: int = 0
    device: str = "auto"
    eval_every: int = 250
    init: str | None = None  # None -> default_init(method, depth)
    temperature: float | None = None  # gumbel tau_g / warp tau
    weight_decay: float = 0.0
    # architecture: "dense" (logic layers only) or "conv" (conv blocks, then `depth` dense layers of `width`)
    arch: str = "dense"
    channels: tuple[int, ...] = (16,)  # conv: output channels of each conv block
    kernel_size: int = 3  # conv: kh = kw; padding kernel_size // 2
    stride: int = 1  # conv: step of every convolution between output positions
    tree_depth: int = 2  # conv: levels of each kernel's LUT tree (k**tree_depth receptive-field bits)
    pool: int = 2  # conv: OR pooling window after each conv block (1: none)
    augment: int = 0  # conv: shift each training image by up to this many pixels (zero fill); 0: none
    # warp's training forward: logistic noise (--noise) and the hard threshold with a straight-through gradient
    # (--forward hard) are the papers' mode; without both, WARP reached 90 % in fewer steps at depths 2 and 6 and
    # still trained at depth 12, where the noisy hard mode did not (bench/RESULTS.md, training section)
    noise: bool = False
    hard: bool = False
    # --noise-source: windows of a fixed table of logistic values at random offsets ("table"), or fresh
    # draws every step ("fresh": a slower step, the same accuracy; bench/RESULTS.md, training section)
    noise_source: str = "table"
    # model selection without the test split: a fixed, per-class share of the training rows is held out
    # (not trained on) and scored at every evaluation as ``val_acc``
    val_fraction: float = 0.0
    lr_schedule: str = "constant"  # "cosine": the lr decays from --lr to 0 over the steps
    keep_best: bool = False  # with val_fraction: keep the parameters of the evaluation with the best val_acc
    label_smoothing: float = 0.0  # cross-entropy label smoothing

    def resolved(self) -> TrainConfig:
        """A copy with every ``None`` default filled in (what the run really used; ``tau`` needs the
        number of classes and stays as given)."""
        return dataclasses.replace(
            self,
            lr=self.lr if self.lr is not None else DEFAULT_LR.get(self.method),
            init=self.init if self.init is not None else default_init(self.method, self.depth),
        )

    def check(self) -> None:
        """Raise :class:`TrainingError` naming the first bad option."""
        if self.method not in ALL_METHODS:
            raise TrainingError(f"--method {self.method!r}: choose from {', '.join(ALL_METHODS)}")
        if self.method in ("dlgn", "gumbel") and self.k != 2:
            raise TrainingError(f"--k {self.k}: method {self.method} has 2-input gates only (use light or warp)")
        if not 1 <= self.k <= 6:
            raise TrainingError(f"--k {self.k}: fan-in must be in 1..6")
        for name in ("width", "depth", "steps", "batch_size", "bits_per_feature", "eval_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise TrainingError(f"--{name.replace('_', '-')} {v!r}: must be a positive integer")
        for name in ("lr", "tau", "temperature"):
            v = getattr(self, name)
            if v is not None and (not math.isfinite(v) or v <= 0):
                raise TrainingError(f"--{name} {v!r}: must be a positive number")
        if self.wiring not in ("random", "unique"):
            raise TrainingError(f"--wiring {self.wiring!r}: random or unique")
        if self.encoding not in ("uniform", "quantile"):
            raise TrainingError(f"--encoding {self.encoding!r}: uniform or quantile")
        if self.init not in (None, "residual", "random"):
            raise TrainingError(f"--init {self.init!r}: residual or random")
        if self.noise_source not in ("table", "fresh"):
            raise TrainingError(f"--noise-source {self.noise_source!r}: table or fresh")
        if self.arch not in ("dense", "conv"):
            raise TrainingError(f"--arch {self.arch!r}: dense or conv")
        if self.arch == "conv":
            if self.method in BASELINES:
                raise TrainingError(f"--arch conv: method {self.method} is a float baseline (use a logic method)")
            if not self.channels or any(not isinstance(c, int) or c < 1 for c in self.channels):
                raise TrainingError(f"--channels {self.channels!r}: positive integers, one per conv block")
            if not isinstance(self.augment, int) or self.augment < 0:
                raise TrainingError(f"--augment {self.augment!r}: a shift in pixels, >= 0")
            for name in ("kernel_size", "stride", "tree_depth", "pool"):
                v = getattr(self, name)
                if not isinstance(v, int) or v < 1:
                    raise TrainingError(f"--{name.replace('_', '-')} {v!r}: must be a positive integer")
        if not (isinstance(self.val_fraction, (int, float)) and 0.0 <= self.val_fraction < 1.0):
            raise TrainingError(f"--val-fraction {self.val_fraction!r}: a share of the training rows in [0, 1)")
        if self.lr_schedule not in ("constant", "cosine"):
            raise TrainingError(f"--lr-schedule {self.lr_schedule!r}: constant or cosine")
        if self.keep_best and self.val_fraction <= 0:
            raise TrainingError("--keep-best needs a validation split (--val-fraction > 0)")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise TrainingError(f"--label-smoothing {self.label_smoothing!r}: must be in [0, 1)")
        if self.device not in ("auto", "cpu", "cuda"):
            raise TrainingError(f"--device {self.device!r}: auto, cpu or cuda")


@dataclass
class TrainResult:
    """What a run produced. ``net`` is None for float baselines."""

    config: TrainConfig
    net: Netlist | None
    model: nn.Module
    accuracy: float  # discrete test accuracy (reference evaluator) or baseline eval accuracy
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    rank: int = 0
    world_size: int = 1
    compact: ConvNet | None = None  # conv networks: the compact form (what the checkpoint stores, version 2)

    def baseline_dict(self) -> dict[str, Any]:
        """The file content of a float baseline (no ``format`` key: not compilable)."""
        return {
            "kind": "float-baseline",
            "method": self.config.method,
            "config": asdict(self.config),
            "accuracy": self.accuracy,
            "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the result atomically: the discretized checkpoint with its ``training`` record, or the
        state file of a float baseline."""
        if self.net is None:
            buf = io.BytesIO()
            torch.save(self.baseline_dict(), buf)
            atomic_write_bytes(path, buf.getvalue())
        else:
            save_checkpoint(self.compact if self.compact is not None else self.net, path,
                            extra={"training": self.training_record()})

    def training_record(self) -> dict[str, Any]:
        """Plain data saved under the checkpoint's ``training`` key (no wall times: a rerun with the
        same seed writes the same bytes)."""
        timing = ("seconds", "train_seconds", "step_ms")
        config = asdict(self.config)
        if self.config.arch == "dense":
            # the conv options do not apply: a dense run records what it did before they existed
            for key in (*_CONV_OPTIONS, "stride"):
                config.pop(key)
        for key, default in _LATER_OPTIONS.items():
            if key in config and config[key] == default:
                config.pop(key)
        return {
            "config": config,
            "history": [{k: v for k, v in h.items() if k not in timing} for h in self.history],
            "metrics": {k: v for k, v in self.metrics.items() if k not in timing},
        }


def end_distributed(result: TrainResult) -> None:
    """Under ``torchrun``: wait until every process has finished, then tear the process group
    down (call it before process 0 writes its file and exits). Nothing to do in one process."""
    if result.world_size <= 1:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def default_init(method: str, depth: int) -> str:
    """``residual`` for networks deeper than 2 layers (random init makes deep DLGN and WARP fail to
    train), else ``random``; the float baselines ignore it."""
    return "residual" if depth > 2 else "random"


def default_tau(width: int, classes: int) -> float:
    """GroupSum tau that scales with the group size (about 10 for 800-bit groups)."""
    return round(max(1.0, math.sqrt(width / classes) / 3.0), 2)


def split_validation(data: Dataset, fraction: float, seed: int = VAL_SPLIT_SEED) -> tuple[Dataset, Any, Any]:
    """``data`` with a share ``fraction`` of its training rows taken out (per class, a fixed permutation
    from ``seed``), and those rows ``(x_val, y_val)``. The test split is untouched."""
    tr, va = stratified_split(data.y_train, data.classes, fraction, seed)
    if va.size == 0:
        raise TrainingError(f"--val-fraction {fraction}: holds out no training row")
    return (dataclasses.replace(data, x_train=data.x_train[tr], y_train=data.y_train[tr]),
            data.x_train[va], data.y_train[va])


def _resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA device is available")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _dist_env() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


def _setup_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    rank, world = _dist_env()
    if world <= 1:
        return 0, 1, device
    import torch.distributed as dist

    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


@torch.no_grad()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, train_mode: bool, chunk: int = 4096) -> float:
    was = model.training
    model.train(train_mode)
    correct = 0
    for lo in range(0, x.shape[0], chunk):
        out = model(x[lo:lo + chunk].float())
        correct += int((out.argmax(-1) == y[lo:lo + chunk]).sum())
    model.train(was)
    return correct / max(1, x.shape[0])


def train(
    config: TrainConfig,
    data: Dataset,
    callback: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train one model on ``data``.

    ``callback`` receives ``{"event": "start", "steps", "params", ...}``, then every
    step ``{"event": "step", "step", "loss"}`` (``loss`` is a float every
    ``LOSS_READ_EVERY`` steps and None on the others: reading it is a device sync)
    and every ``eval_every`` steps (and at the end) ``{"event": "eval", "step", "loss",
    "train_acc", "test_acc", "soft_acc", "gap"}`` (discrete train/test accuracy, soft =
    train-mode test accuracy, gap = soft - discrete; train accuracy on the first 5000
    training samples; ``loss`` an exponential moving average), and finally
    ``{"event": "done", ...}``. Options left ``None`` in ``config`` take the per-method
    defaults (:meth:`TrainConfig.resolved`; ``result.config`` is the resolved copy).
    """
    config.check()
    config = config.resolved()
    assert config.init is not None and config.lr is not None
    cb = callback or (lambda event: None)
    device = _resolve_device(config.device)
    rank, world, device = _setup_distributed(device)
    torch.manual_seed(config.seed)
    baseline = config.method in BASELINES
    x_val_raw = y_val_raw = None
    if config.val_fraction > 0:
        data, x_val_raw, y_val_raw = split_validation(data, config.val_fraction)

    thresholds = None
    if baseline:
        lo, hi = data.feature_range
        scale = 1.0 / (hi - lo) if hi > lo else 1.0
        x_tr = torch.from_numpy((data.x_train - lo) * scale).float().to(device)
        x_te = torch.from_numpy((data.x_test - lo) * scale).float().to(device)
        x_va = None if x_val_raw is None else torch.from_numpy((x_val_raw - lo) * scale).float().to(device)
        model: nn.Module = make_baseline(config.method, data.features, config.width, config.depth, data.classes)
        tau = None
    else:
        thr = thermometer_thresholds(
            data.x_train, config.bits_per_feature, mode=config.encoding,
            feature_range=data.feature_range if config.encoding == "uniform" else None,
        )
        thresholds = thr.thresholds
        tau = config.tau if config.tau is not None else default_tau(config.width, data.classes)
        if config.width % data.classes:
            raise TrainingError(f"--width {config.width}: must be a multiple of the {data.classes} classes")
        layer_options = {"init": config.init, "temperature": config.temperature, "noise": config.noise,
                         "hard": config.hard, "noise_table": config.noise_source == "table"}
        try:
            if config.arch == "conv":
                if data.image_shape is None:
                    raise TrainingError(f"--arch conv: dataset {data.name} is not an image")
                h, w, v = data.image_shape
                model = build_conv_net(
                    config.method, (h, w, v * config.bits_per_feature), config.channels,
                    [config.width] * config.depth, classes=data.classes, tau=tau, kernel=config.kernel_size,
                    stride=config.stride, k=config.k, depth=config.tree_depth, pool=config.pool, thresholds=thresholds,
                    wiring=config.wiring, seed=config.seed, layer_options=layer_options,
                )
            else:
                model = build_logic_net(
                    config.method, thr.n_bits, [config.width] * config.depth, config.k,
                    classes=data.classes, tau=tau, thresholds=thresholds, wiring=config.wiring, seed=config.seed,
                    layer_options=layer_options,
                )
        except (ValueError, NetlistError) as e:
            raise TrainingError(str(e)) from None
    model.to(device)
    # the encoder is fixed: encode the dataset once
    if isinstance(model, LogicNet):
        with torch.no_grad():
            # kept as bytes (MNIST's 60000 x 2352 bits would be 0.5 GB as float32)
            x_tr = model.encode(torch.from_numpy(data.x_train).to(device)).to(torch.uint8)
            x_te = model.encode(torch.from_numpy(data.x_test).to(device)).to(torch.uint8)
            x_va = None if x_val_raw is None else model.encode(torch.from_numpy(x_val_raw).to(device)).to(torch.uint8)
        fwd_model: nn.Module = _BitsForward(model)
    else:
        fwd_model = model
    y_tr = torch.from_numpy(data.y_train).to(device)
    y_te = torch.from_numpy(data.y_test).to(device)
    y_va = None if y_val_raw is None else torch.from_numpy(y_val_raw).to(device)

    step_model = fwd_model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        step_model = DDP(fwd_model, device_ids=[device.index] if device.type == "cuda" else None)
    lr = config.lr
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=config.weight_decay)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.steps)
             if config.lr_schedule == "cosine" else None)
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None  # --keep-best: (val_acc, step, parameters)
    gen = torch.Generator().manual_seed(config.seed)  # same batches on every rank
    # --augment: random shifts of the encoded image, drawn from their own stream (the batches stay as without)
    aug_gen = torch.Generator().manual_seed(config.seed + 1)
    shift_shape = None
    if config.augment and isinstance(model, ConvLogicNet):
        shift_shape = model.layers[0].in_shape
    n_params = sum(p.numel() for p in model.parameters())
    cb({"event": "start", "steps": config.steps, "params": n_params, "tau": tau, "device": str(device),
        "rank": rank, "world_size": world, "method": config.method, "lr": lr})

    history: list[dict[str, Any]] = []
    n_train = x_tr.shape[0]
    bs = min(config.batch_size, n_train)
    # one host-to-device copy per epoch, not per step (a pageable copy waits for the device)
    perm = torch.randperm(n_train, generator=gen).to(device)
    pos = 0
    t0 = time.perf_counter()
    loss_ema: torch.Tensor | None = None  # on the device
    eval_seconds = 0.0
    for step in range(1, config.steps + 1):
        if pos + bs > n_train:
            perm = torch.randperm(n_train, generator=gen).to(device)
            pos = 0
        batch = perm[pos:pos + bs]
        pos += bs
        if world > 1:
            batch = batch[rank::world]
        step_model.train()
        xb = x_tr[batch].float()
        if shift_shape is not None:
            xb = shift_images(xb, shift_shape, config.augment, aug_gen)
        out = step_model(xb)
        loss = nn.functional.cross_entropy(out, y_tr[batch], label_smoothing=config.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        with torch.no_grad():
            loss_ema = loss.detach().clone() if loss_ema is None else loss_ema.mul_(0.9).add_(loss.detach(), alpha=0.1)
        cb({"event": "step", "step": step,
            "loss": float(loss.detach()) if step % LOSS_READ_EVERY == 0 else None})
        if step % config.eval_every == 0 or step == config.steps:
            te = time.perf_counter()
            # train accuracy on a fixed subset: a full pass over a large training set each time would dominate
            rec = _evaluate(fwd_model, x_tr[:_TRAIN_EVAL_SAMPLES], y_tr[:_TRAIN_EVAL_SAMPLES], x_te, y_te, step,
                            float(loss_ema), te - t0, device)
            if x_va is not None:
                assert y_va is not None
                rec["val_acc"] = round(_accuracy(fwd_model, x_va, y_va, train_mode=False), 6)
                # strictly better only: of equal scores the earliest evaluation is kept
                if config.keep_best and (best is None or rec["val_acc"] > best[0]):
                    best = (rec["val_acc"], step, {k: v.detach().clone() for k, v in model.state_dict().items()})
            history.append(rec)
            eval_seconds += time.perf_counter() - te
            cb({"event": "eval", **rec})
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # the wall time below covers the queued steps
    train_seconds = time.perf_counter() - t0

    if best is not None:
        model.load_state_dict(best[2])
    model.eval()
    compact: ConvNet | None = None
    metrics: dict[str, Any] = {"train_seconds": round(train_seconds, 3), "params": n_params,
                               # optimizer steps only (the periodic evaluations excluded)
                               "step_ms": round(1000 * (train_seconds - eval_seconds) / config.steps, 3)}
    if history:
        metrics.update({k: history[-1][k] for k in ("soft_acc", "gap", "train_acc")})
        if "val_acc" in history[-1]:
            metrics["val_acc"] = history[-1]["val_acc"]
    if best is not None:
        metrics["val_acc"], metrics["best_step"] = best[0], best[1]
    net: Netlist | None = None
    if isinstance(model, LogicNet):
        metadata = {
            "method": config.method, "dataset": data.name, "seed": config.seed, "k": config.k,
            "width": config.width, "depth": config.depth, "steps": config.steps, "tau": tau,
            "bits_per_feature": config.bits_per_feature, "encoding": config.encoding, "wiring": config.wiring,
        }
        if isinstance(model, ConvLogicNet):
            metadata.update({"arch": "conv", "channels": list(config.channels), "kernel_size": config.kernel_size,
                             "tree_depth": config.tree_depth, "pool": config.pool})
            if config.stride != 1:
                metadata["stride"] = config.stride
        net = model.to_netlist(metadata)
        scored = score_dataset(net, data, "test")
        accuracy = float(scored["accuracy"])
        net = net.replace(metadata={**metadata, "accuracy": round(accuracy, 6)})
        if isinstance(model, ConvLogicNet):
            compact = model.to_conv_net({**metadata, "accuracy": round(accuracy, 6)})
        metrics["torch_discrete_acc"] = history[-1]["test_acc"] if history else None
        if best is not None:
            metrics["torch_discrete_acc"] = next(h["test_acc"] for h in history if h["step"] == best[1])
    else:
        accuracy = _accuracy(model, x_te, y_te, train_mode=False)
    metrics["accuracy"] = accuracy
    cb({"event": "done", "accuracy": accuracy, **metrics})
    return TrainResult(config, net, model, accuracy, history, metrics, rank, world, compact)


def shift_images(x: torch.Tensor, shape: tuple[int, ...], max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Each image of ``x [B, H*W*C]`` (channel-innermost bits) moved by its own random ``(dy, dx)`` in
    ``-max_shift .. max_shift``, the uncovered border filled with 0 (the conv padding value)."""
    h, w, c = shape
    b = x.shape[0]
    s = max_shift
    shifts = torch.randint(-s, s + 1, (b, 2), generator=gen).to(x.device)
    padded = torch.nn.functional.pad(x.view(b, h, w, c), (0, 0, s, s, s, s))  # [B, H+2s, W+2s, C]
    rows = (torch.arange(h, device=x.device)[None, :] + s - shifts[:, :1])  # [B, H]: source row of each row
    cols = (torch.arange(w, device=x.device)[None, :] + s - shifts[:, 1:])  # [B, W]
    bi = torch.arange(b, device=x.device)[:, None, None]
    return padded[bi, rows[:, :, None], cols[:, None, :]].reshape(b, -1)


def _evaluate(model: nn.Module, x_tr: torch.Tensor, y_tr: torch.Tensor, x_te: torch.Tensor, y_te: torch.Tensor,
              step: int, loss: float | None, seconds: float, device: torch.device) -> dict[str, Any]:
    test_acc = _accuracy(model, x_te, y_te, train_mode=False)
    # the train-mode forward of gumbel and warp draws noise: fork the RNG so the evaluation leaves the
    # training stream where it was (the trained model must not depend on eval_every)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        soft_acc = _accuracy(model, x_te, y_te, train_mode=True)
    return {
        "step": step,
        "loss": None if loss is None else round(loss, 5),
        "train_acc": round(_accuracy(model, x_tr, y_tr, train_mode=False), 6),
        "test_acc": round(test_acc, 6),
        "soft_acc": round(soft_acc, 6),
        "gap": round(soft_acc - test_acc, 6),
        "seconds": round(seconds, 3),
    }


class _BitsForward(nn.Module):
    """Wraps a LogicNet so the training loop feeds pre-encoded bits."""

    def __init__(self, net: LogicNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, bits: torch.Tensor) -> torch.Tensor:
        return self.net.forward_bits(bits)

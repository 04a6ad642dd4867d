"""Five-fold cross-validation of conv recipes for the digits example, on the training split only.

``python bench/conv_cv.py OUT WORKERS RECIPE[,RECIPE...]`` trains each recipe of ``RECIPES`` (changes to
``BASE``, the example's recipe with a cosine schedule) on four fifths of the 1,347 training rows and
scores it on the fifth left out, for each of the five folds (stratified by class, fixed seed; the
training seed is the fold number), in ``WORKERS`` processes of one thread each. Every row of the
training split is scored exactly once per recipe, so a recipe's total is out of 1,347 rows instead of
the 201 of ``--val-fraction 0.15`` (``bench/conv_search.py``). The test split is never read (except by
``--seeds``, below). Each run
appends one line to ``OUT/results.jsonl``; ``python bench/conv_cv.py --summary OUT`` prints the totals
and each recipe's difference from ``ref`` on the same folds. docs/conv.md gives the results.

Two recipes add input noise to the training batches, an experiment that is not a ``lut2rtl train``
option: ``flip`` inverts each input bit with probability p, ``pixdrop`` clears all bits of a pixel with
probability p. They reach the training loop through its augmentation hook: the run sets ``--augment 1``
and replaces ``lut2rtl.nn.train.shift_images`` (the shift augmentation) with the noise.

Two recipes train the last part of the run straight-through, also not a ``lut2rtl train`` option: from
step ``f * steps`` on (``st0.67``, ``st0.9``), every light LUT's training forward is its discrete table on
the thresholded inputs (``LogicLayer.hard``), and the gradient is still the soft forward's.

Each fold run also records its per-row class counts; ``python bench/conv_cv.py --overlap OUT A,B`` counts the
fold errors that recipes ``A`` and ``B`` share, and those left when their counts are added per class.

``python bench/conv_cv.py --seeds OUT WORKERS RECIPE[,...] 1-5`` is a measurement of the spread, not a
selection: each recipe trained on the whole training split with each seed of the range and scored on the test
split, to show how far one run's test accuracy moves with the seed alone (``--seeds-summary OUT``: mean,
standard deviation, extremes; ``--write`` also writes ``bench/results/conv_seeds.json``, a section of
bench/RESULTS.md). Nothing is chosen from those runs.

``python bench/conv_cv.py --splits OUT WORKERS RECIPE[,...] 1-8`` asks whether a recipe's test accuracy is a
property of the recipe or of the 450 rows that ``load_digits`` holds out: each recipe trained with seed 0 on the
training rows of another stratified split (``load_digits(split_seed=s)``, s in the range; lut2rtl's split is
``s = 0``) and scored on that split's test rows; ``--splits-summary OUT`` prints, per recipe, the rows correct per
split and the difference from ``dense_best`` on the same split. Also a measurement: nothing is chosen from it.

Two recipes distil a float teacher, also not a ``lut2rtl train`` option: ``kd<a>`` first trains a ReLU MLP (two
hidden layers of 512; Adam, 2,000 steps of 128 rows, seed = fold) on the same fold's training rows, thermometer
encoded exactly as the logic network's inputs, and then trains the logic network on ``(1 - a) * CE + a * T**2 *
KL(teacher || student)`` at temperature ``T = 4``, the teacher reading the same batch of input bits (the batch
reaches it through the augmentation hook, which returns it unchanged). ``kdcnn<a>`` does the same with a float
CNN teacher over the encoded image (two 3x3 conv layers of 32 and 64 channels, 2x2 max pooling, a hidden layer of
128).

Two recipes keep an exponential moving average of the parameters (``ema<d>``, decay d per step), also not a
``lut2rtl train`` option: the run replaces ``torch.optim.Adam`` with a subclass that updates the average after
every step and copies it into the parameters after the last one, so the checkpoint is the average's discretization.

Three recipes (``px``, ``px5b``, ``nopool5b_px``) draw each kernel's four leaves at distinct pixels of its
field, a random threshold each (:func:`draw_leaves_at_pixels`, put in place of ``lut2rtl.nn.conv.draw_leaves``
for the run), also not a ``lut2rtl train`` option; ``k5``, ``k5_5b`` and ``nopool5b_k5`` use 5x5 fields
(``--kernel-size 5``). ``ll``, ``ll5b`` and ``nopool5b_k5_ll`` learn every conv leaf
(:func:`build_learned_leaves`: a logit per receptive-field bit, straight-through argmax; the checkpoint's leaves
are the chosen bits), also not a ``lut2rtl train`` option; each worker first runs :func:`check_learned_leaves`.
``lc`` and ``nopool5b_k5_lc`` learn the dense layers' wiring among ``CANDIDATES`` wires per LUT input
(:func:`build_learned_connections`; checked by :func:`check_learned_connections`).

Five recipes (``nopool5b_k5_aff``, ``nopool5b_k5_affs``, ``ref_aff``, and the first two at 6,000 steps) train
on each fold's rows and ``AFFINE_COPIES`` warped copies of them (:func:`affine_copies`: small rotations, scalings
and sub-pixel shifts of the raw image, bilinear), also not a ``lut2rtl train`` option; the scored rows are not
warped.

Two recipes (``nopool5b_k5_mix0.2``, ``nopool5b_k5_mix0.4``) train with mixup, also not a ``lut2rtl train``
option: the augmentation hook replaces each batch by ``lam * x + (1 - lam) * x[perm]`` (one ``lam ~ Beta(a, a)``
per batch, ``perm`` a permutation of its rows; the bits become probabilities, which every method's soft forward
reads), and the loss is ``lam * CE(y) + (1 - lam) * CE(y[perm])`` (:func:`mixed_loss`). Two (``s2k5_5b_ch128``,
``s2k3_5b_ch128``) use ``--stride 2``: 4x4 positions of 128 channels, the conv LUTs of ``nopool5b_k5``.

Two recipes add a skip connection, an architecture that lut2rtl does not build: ``skip`` (and ``skip5b``, with 5
thresholds per pixel) lets the dense layer read the encoded input bits beside the pooled conv features (one
vector, random balanced wiring over both; the same LUT count as ``ref``). The run replaces
``lut2rtl.nn.train.build_conv_net`` with :func:`build_skip`. Its discrete network is lowered here (:class:`SkipNet`:
the conv stages by ``lut2rtl.lowering.lower``, the dense layer's reads of input bits mapped to the input ids, which
the Netlist IR allows), so a run's accuracy is the reference evaluator's, as for every recipe. Each worker first
checks that lowering against the torch forward on random parameters (:func:`check_skip`), and that a lowering with
the input bits read one place off is caught.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import multiprocessing as mp
import os
import queue
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

BASE = dict(arch="conv", method="light", k=4, tree_depth=1, channels=(32,), width=3000, depth=1, steps=3000,
            lr=0.01, lr_schedule="cosine", eval_every=500)
# name: (TrainConfig changes, input noise or None)
RECIPES: dict[str, tuple[dict, tuple[str, Any] | None]] = {
    "ref": ({}, None),
    "5bits": ({"bits_per_feature": 5}, None),
    "flip0.02": ({"augment": 1}, ("flip", 0.02)),
    "flip0.05": ({"augment": 1}, ("flip", 0.05)),
    "pixdrop0.1": ({"augment": 1}, ("pixdrop", 0.1)),
    "wd1e-4": ({"weight_decay": 1e-4}, None),
    "nopool": ({"pool": 1}, None),
    "nopool5b": ({"pool": 1, "bits_per_feature": 5}, None),
    "k4d2ch8": ({"tree_depth": 2, "channels": (8,)}, None),
    "6000": ({"steps": 6000}, None),
    "shift1x6000": ({"augment": 1, "steps": 6000}, None),
    "ls0.05": ({"label_smoothing": 0.05}, None),
    "ls0.1": ({"label_smoothing": 0.1}, None),
    "st0.67": ({}, ("st", 2 / 3)),
    "st0.9": ({}, ("st", 0.9)),
    "nopool5b6000": ({"pool": 1, "bits_per_feature": 5, "steps": 6000}, None),
    "skip": ({}, None),
    "skip5b": ({"bits_per_feature": 5}, None),
    "kd0.5": ({"augment": 1}, ("kd", 0.5)),
    "kd0.9": ({"augment": 1}, ("kd", 0.9)),
    "kdcnn0.5": ({"augment": 1}, ("kdcnn", 0.5)),
    "ema0.99": ({}, ("ema", 0.99)),
    "ema0.999": ({}, ("ema", 0.999)),
    "quantile": ({"encoding": "quantile"}, None),
    "quantile4b": ({"encoding": "quantile", "bits_per_feature": 4}, None),
    "k5": ({"kernel_size": 5}, None),
    "k5_5b": ({"kernel_size": 5, "bits_per_feature": 5}, None),
    "nopool5b_k5": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5}, None),
    "nopool5b_k5_ch40": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "channels": (40,)}, None),
    "nopool5b_k5_ch48": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "channels": (48,)}, None),
    "nopool4b_k5": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 4}, None),
    "nopool6b_k5": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 6}, None),
    "nopool5b_k7": ({"kernel_size": 7, "pool": 1, "bits_per_feature": 5}, None),
    "nopool5b_k5_lr0.02": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "lr": 0.02}, None),
    "nopool5b_k5_aff": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5}, ("affine", (10.0, 0.1, 0.5))),
    "nopool5b_k5_affs": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5}, ("affine", (5.0, 0.05, 0.3))),
    "nopool5b_k5_aff6000": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "steps": 6000},
                            ("affine", (10.0, 0.1, 0.5))),
    "nopool5b_k5_affs6000": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "steps": 6000},
                             ("affine", (5.0, 0.05, 0.3))),
    "ref_aff": ({}, ("affine", (10.0, 0.1, 0.5))),
    "nopool5b_k5_w3600": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "width": 3600}, None),
    "nopool5b_k5_lc": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5}, None),
    "lc": ({}, None),
    "ll": ({}, None),
    "ll5b": ({"bits_per_feature": 5}, None),
    "nopool5b_k5_ll": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5}, None),
    "px": ({}, None),
    "px5b": ({"bits_per_feature": 5}, None),
    "nopool5b_px": ({"pool": 1, "bits_per_feature": 5}, None),
    # GroupSum temperature, batch size and a second dense layer around nopool5b_k5 (its default tau is 5.77)
    "nopool5b_k5_tau4": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "tau": 4.0}, None),
    "nopool5b_k5_tau8": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "tau": 8.0}, None),
    "nopool5b_k5_bs64": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "batch_size": 64, "steps": 6000},
                         None),
    "nopool5b_k5_bs256": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "batch_size": 256}, None),
    "nopool5b_k5_d2": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "width": 2000, "depth": 2}, None),
    "nopool5b_k5_mix0.2": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "augment": 1}, ("mixup", 0.2)),
    "nopool5b_k5_mix0.4": ({"kernel_size": 5, "pool": 1, "bits_per_feature": 5, "augment": 1}, ("mixup", 0.4)),
    "s2k5_5b_ch128": ({"kernel_size": 5, "stride": 2, "pool": 1, "bits_per_feature": 5, "channels": (128,)}, None),
    "s2k3_5b_ch128": ({"kernel_size": 3, "stride": 2, "pool": 1, "bits_per_feature": 5, "channels": (128,)}, None),
    # not a conv recipe: examples/make_examples.py's recipe of digits_best.pt (dense, 3000 x 3000 LUT4s), scored
    # on the same folds for scale
    "dense_best": ({"arch": "dense", "k": 4, "width": 3000, "depth": 2, "steps": 600, "lr": 0.05,
                    "bits_per_feature": 4, "lr_schedule": "constant", "init": "random", "eval_every": 100}, None),
    # the first conv example's recipe (until 2026-12-06) as make_examples.py ran it (constant lr, random init);
    # the example is now nopool5b_k5
    "conv_example": ({"lr_schedule": "constant", "init": "random", "eval_every": 100}, None),
}
SKIP = ("skip", "skip5b")  # recipes built by build_skip
PIXELS = ("px", "px5b", "nopool5b_px")  # recipes whose kernels read distinct pixels (draw_leaves_at_pixels)
LEARNED = ("ll", "ll5b", "nopool5b_k5_ll")  # recipes whose kernels learn their leaves (build_learned_leaves)
CONNECT = ("lc", "nopool5b_k5_lc")  # recipes whose dense layers learn their wiring (build_learned_connections)
CANDIDATES = 8  # wires a dense LUT input chooses from
AFFINE_COPIES = 4  # warped copies of every training image (``affine`` recipes)
FOLDS = 5


def _lines(path: Path) -> int:
    return sum(1 for _ in open(path)) if path.is_file() else 0


def folds(y: np.ndarray, k: int = FOLDS, seed: int = 123) -> np.ndarray:
    """Fold number of every row: each class's rows shuffled, then dealt round-robin."""
    rng = np.random.default_rng(seed)
    f = np.zeros(len(y), dtype=int)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        f[idx] = np.arange(len(idx)) % k
    return f


def _noise(kind: str, p: float):  # type: ignore[no-untyped-def]
    import torch

    def apply(x, shape, _max_shift, gen):  # type: ignore[no-untyped-def]
        if kind == "mixup":  # one weight per batch, the partner rows a permutation of the batch
            lam = float(_MIX["rng"].beta(p, p))
            perm = torch.randperm(x.shape[0], generator=gen)
            _MIX.update(lam=lam, perm=perm)
            return lam * x + (1 - lam) * x[perm]
        if kind == "flip":
            return torch.where(torch.rand(x.shape, generator=gen) < p, 1 - x, x)
        h, w, c = shape  # pixdrop
        drop = torch.rand((x.shape[0], h * w, 1), generator=gen) < p
        return x.view(x.shape[0], h * w, c).masked_fill(drop, 0).reshape(x.shape[0], -1)
    return apply


# straight-through phase ("st", f): from step f * steps on, every LUT's training forward is its discrete
# table on the thresholded inputs (LogicLayer.hard), the gradient still the soft one's
_ST = {"from": None, "step": 0}
# distillation ("kd", a): the teacher, its weight a, and the current training batch's input bits
_KD: dict = {"teacher": None, "alpha": 0.0, "xb": None}
KD_T = 4.0
# mixup ("mixup", a): the batch's weight lam ~ Beta(a, a) and partner permutation, drawn by the augmentation hook
_MIX: dict = {"rng": None, "lam": None, "perm": None}


def mixed_loss(ce, out, y, **kw):  # type: ignore[no-untyped-def]
    """Mixup's loss for the batch the hook mixed last: ``ce`` against both rows' labels, weighted as their
    inputs were; it uses the mix up, so a second loss without a new mix is an error."""
    lam, perm = _MIX["lam"], _MIX["perm"]
    assert lam is not None and perm.shape[0] == out.shape[0], "mixup: the batch was not mixed"
    _MIX.update(lam=None, perm=None)
    return lam * ce(out, y, **kw) + (1 - lam) * ce(out, y[perm], **kw)


def _straight_through() -> None:
    import torch

    from lut2rtl.nn.layers import LightLayer
    soft, ce = LightLayer.soft, torch.nn.functional.cross_entropy

    def st_soft(self, xs):  # type: ignore[no-untyped-def]
        s = soft(self, xs)
        if _ST["from"] is None or _ST["step"] < _ST["from"]:
            return s
        return s + (self.hard(xs) - s).detach()

    def counting_ce(*a, **kw):  # type: ignore[no-untyped-def]
        _ST["step"] += 1  # one training loss per optimizer step
        if _MIX["lam"] is not None:
            return mixed_loss(ce, a[0], a[1], **kw)
        loss = ce(*a, **kw)
        if _KD["teacher"] is None:
            return loss
        out, xb = a[0], _KD["xb"]
        assert xb is not None and xb.shape[0] == out.shape[0], "distillation: the batch was not captured"
        with torch.no_grad():
            soft = torch.softmax(_KD["teacher"](xb) / KD_T, dim=1)
        kl = torch.nn.functional.kl_div(torch.log_softmax(out / KD_T, dim=1), soft, reduction="batchmean")
        return (1 - _KD["alpha"]) * loss + _KD["alpha"] * KD_T ** 2 * kl
    LightLayer.soft = st_soft
    torch.nn.functional.cross_entropy = counting_ce


def _skip_net_class():  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    from lut2rtl.lowering import ConvNet, lower
    from lut2rtl.netlist import GroupSum, Layer, Netlist, Thermometer
    from lut2rtl.nn.model import LogicNet

    class SkipNet(LogicNet):
        """A conv net whose first dense layer reads ``[conv features, input bits]``."""

        def __init__(self, base: LogicNet, dense_from: int, shift: int = 0) -> None:
            nn.Module.__init__(self)
            self.n_inputs, self.encoder, self.group_sum = base.n_inputs, base.encoder, base.group_sum
            self.layers, self.dense_from = base.layers, dense_from
            self.shift = shift  # the negative control's wrong lowering: input bit j read as j + shift

        def output_bits(self, bits):  # type: ignore[no-untyped-def]
            h = bits
            for i, layer in enumerate(self.layers):
                h = layer(torch.cat([h, bits], dim=1) if i == self.dense_from else h)
            return h

        def to_netlist(self, metadata=None):  # type: ignore[no-untyped-def]
            low = lower(ConvNet(self.n_inputs, tuple(la.to_stage() for la in self.layers[:self.dense_from])))
            ids = np.concatenate([np.asarray(low.outputs), (np.arange(self.n_inputs) + self.shift) % self.n_inputs])
            layers, prev = list(low.layers), None
            for layer in self.layers[self.dense_from:]:
                idx = layer.idx.cpu().numpy()
                layers.append(Layer(k=int(idx.shape[1]), inputs=ids[idx] if prev is None else idx + prev,
                                    tables=layer.tables()))
                prev = self.n_inputs + sum(la.size for la in layers[:-1])
            enc = None if self.encoder is None else Thermometer(self.encoder.thresholds.cpu().numpy())
            gs = GroupSum(self.group_sum.classes, self.group_sum.tau, self.group_sum.beta)
            return Netlist(n_inputs=self.n_inputs, layers=tuple(layers), group_sum=gs, encoder=enc,
                           metadata=dict(metadata or {}))
    return SkipNet


def build_skip(method, in_shape, conv_channels, widths, **kw):  # type: ignore[no-untyped-def]
    """``build_conv_net``'s network with its dense layers redrawn over ``[conv features, input bits]``."""
    from lut2rtl.nn.conv import build_conv_net
    from lut2rtl.nn.model import dense_layers, options_for
    base = build_conv_net(method, in_shape, conv_channels, widths, **kw)
    dense_from = len(base.layers) - len(widths)
    n_feat = int(np.prod(base.layers[dense_from - 1].out_shape))
    rng = np.random.default_rng(1000 + int(kw.get("seed", 0)))
    new = dense_layers([method] * len(widths), n_feat + base.n_inputs, widths, [kw.get("dense_k") or kw.get("k", 2)]
                       * len(widths), rng, kw.get("wiring", "random"), options_for(method, dict(kw.get("layer_options")
                                                                                                  or {})))
    for j, layer in enumerate(new):
        base.layers[dense_from + j] = layer
    return _skip_net_class()(base, dense_from)


def _check_lowering(net, what: str, spoiled) -> None:  # type: ignore[no-untyped-def]
    """``net.to_netlist()`` equals ``net``'s torch forward (eval mode) on random parameters and inputs, and the
    netlist ``spoiled()`` returns (a lowering with a deliberate error) does not."""
    import torch

    from lut2rtl.evaluate import evaluate
    torch.manual_seed(0)
    with torch.no_grad():
        for prm in net.parameters():
            prm.normal_()
    net.eval()
    x = torch.rand(256, net.n_inputs, generator=torch.Generator().manual_seed(0)) > 0.5
    with torch.no_grad():
        want = net.output_bits(x.float()).numpy().astype(bool)
    # a check, not an invariant: raised, so that `python -O` keeps it
    if not np.array_equal(evaluate(net.to_netlist(), x.numpy()).out_bits, want):
        raise RuntimeError(f"the {what} lowering differs from the torch forward")
    if np.array_equal(evaluate(spoiled(), x.numpy()).out_bits, want):
        raise RuntimeError(f"the {what} check's control was not caught")


def check_skip() -> None:
    """The skip lowering equals the torch forward; one that reads the input bits one place off does not."""
    net = build_skip("light", (8, 8, 3), (8,), [400], classes=10, tau=10.0, k=4, depth=1, pool=2, seed=0)

    def spoiled():  # type: ignore[no-untyped-def]
        net.shift = 1
        return net.to_netlist()
    _check_lowering(net, "skip", spoiled)


def _learned_leaf_class():  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    from lut2rtl.lowering import ConvStage
    from lut2rtl.nn.conv import LogicConv2d

    class LearnedLeafConv2d(LogicConv2d):
        """A :class:`LogicConv2d` whose leaves are learned: every leaf holds a logit per receptive-field bit
        and reads the bit of the largest (straight-through: the forward selects that bit, the gradient
        flows through the softmax of the logits). The first tree level reads the selected bits in leaf
        order, so the discretized kernel is the plain one with ``leaves = argmax(logits)``."""

        def learn_leaves(self, init: float = 0.5, noise: float = 0.01) -> None:
            leaves = self.levels[0].idx.reshape(-1)
            n_field = self.kernel[0] * self.kernel[1] * self.in_shape[2]
            logits = noise * torch.randn(len(leaves), n_field)
            logits[torch.arange(len(leaves)), leaves] += init  # starts at the drawn leaves
            self.leaf_logits = nn.Parameter(logits)
            self.levels[0].idx.copy_(torch.arange(len(leaves)).reshape(self.levels[0].idx.shape))

        def chosen(self) -> torch.Tensor:
            return self.leaf_logits.argmax(dim=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b = x.shape[0]
            xe = torch.cat([x, x.new_zeros(b, 1)], dim=1)
            h = xe[:, self.patch_index].reshape(b * self.positions, -1)
            hard = nn.functional.one_hot(self.chosen(), h.shape[1]).to(h.dtype)
            if self.training:
                soft = torch.softmax(self.leaf_logits, dim=1)
                hard = hard + soft - soft.detach()
            h = h @ hard.t()
            for level in self.levels:
                h = level(h)
            return h.reshape(b, self.positions * self.channels)

        def to_stage(self) -> ConvStage:
            leaves = self.chosen().cpu().numpy().reshape(self.channels, -1)
            tables = tuple(level.tables().reshape(self.channels, -1) for level in self.levels)
            return ConvStage(self.in_shape, self.kernel, self.stride, self.padding, self.k, self.depth, leaves,
                             tables)

    return LearnedLeafConv2d


def build_learned_leaves(method, in_shape, conv_channels, widths, **kw):  # type: ignore[no-untyped-def]
    """``build_conv_net``'s network with every convolution's leaves learned (:func:`_learned_leaf_class`)."""
    from lut2rtl.nn.conv import LogicConv2d, build_conv_net
    net = build_conv_net(method, in_shape, conv_channels, widths, **kw)
    cls = _learned_leaf_class()
    for layer in net.layers:
        if type(layer) is LogicConv2d:
            layer.__class__ = cls
            layer.learn_leaves()
    return net


def check_learned_leaves() -> None:
    """With learned leaves, the lowering (leaves = argmax of the logits) equals the torch forward; one whose
    leaves read their neighbours' bits does not."""
    import torch
    net = build_learned_leaves("light", (8, 8, 3), (8,), [400], classes=10, tau=10.0, k=4, depth=1, pool=2, seed=0)
    conv = net.layers[0]

    def spoiled():  # type: ignore[no-untyped-def]
        chosen = conv.chosen
        conv.chosen = lambda: torch.roll(chosen(), 1)
        try:
            return net.to_netlist()
        finally:
            del conv.chosen
    _check_lowering(net, "learned-leaf", spoiled)


def learn_connections(layer, n_prev: int, candidates: int, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    """Make the dense LogicLayer ``layer`` learn its wiring: every input of every LUT chooses one of
    ``candidates`` wires (its drawn wire first, the others drawn at random from the ``n_prev`` signals)
    by a logit each, straight-through (the forward reads the wire of the largest logit, the gradient flows
    through the softmax). ``idx`` always holds the chosen wires, so the discretized layer is the plain one."""
    import torch
    from torch import nn

    n, k = layer.idx.shape
    cand = torch.from_numpy(rng.integers(0, n_prev, (n, k, candidates)))
    cand[:, :, 0] = layer.idx
    logits = 0.01 * torch.randn(n, k, candidates)
    logits[:, :, 0] += 0.5  # starts at the drawn wiring
    layer.register_buffer("cand", cand)
    layer.wire_logits = nn.Parameter(logits)

    def gather(x: torch.Tensor) -> list[torch.Tensor]:
        xt = x.t()
        choice = layer.wire_logits.argmax(dim=2)
        with torch.no_grad():
            layer.idx.copy_(torch.gather(layer.cand, 2, choice[..., None])[..., 0])
        if not layer.training:
            return [xt.index_select(0, col) for col in layer.idx.t()]
        hard = nn.functional.one_hot(choice, candidates).to(x.dtype)
        soft = torch.softmax(layer.wire_logits, dim=2)
        w = hard + soft - soft.detach()  # [n, k, C]
        vals = xt[layer.cand]  # [n, k, C, B]
        sel = torch.einsum("nkcb,nkc->nkb", vals, w)
        return [sel[:, j] for j in range(k)]
    layer.gather = gather


def build_learned_connections(method, in_shape, conv_channels, widths, **kw):  # type: ignore[no-untyped-def]
    """``build_conv_net``'s network with every dense layer's wiring learned (:func:`learn_connections`)."""
    from lut2rtl.nn.conv import LogicConv2d, OrPool2d, build_conv_net
    net = build_conv_net(method, in_shape, conv_channels, widths, **kw)
    rng = np.random.default_rng(2000 + int(kw.get("seed", 0)))
    prev = None
    for layer in net.layers:
        if isinstance(layer, (LogicConv2d, OrPool2d)):
            prev = int(np.prod(layer.out_shape))
        else:
            learn_connections(layer, prev, CANDIDATES, rng)
            prev = layer.n
    return net


def check_learned_connections() -> None:
    """With learned wiring, the lowering (wires of the largest logits) equals the torch forward after a
    training-mode step has moved the logits; one that keeps the drawn wiring does not."""
    import torch
    net = build_learned_connections("light", (8, 8, 3), (8,), [400], classes=10, tau=10.0, k=4, depth=1, pool=2,
                                    seed=0)
    dense = net.layers[-1]
    drawn = dense.cand[:, :, 0].clone()

    def spoiled():  # type: ignore[no-untyped-def]
        chosen = dense.idx.clone()
        dense.idx.copy_(drawn)
        dense.gather, gather = (lambda x: [x.t().index_select(0, col) for col in drawn.t()]), dense.gather
        try:
            return net.to_netlist()
        finally:
            dense.idx.copy_(chosen)
            dense.gather = gather
    torch.manual_seed(1)
    with torch.no_grad():
        dense.wire_logits.normal_()  # the argmax moves most wires off the drawn ones
    _check_lowering(net, "learned-connection", spoiled)


def _cnn_teacher(shape, classes: int):  # type: ignore[no-untyped-def]
    from torch import nn
    h, w, c = shape

    class CNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1),
                                      nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                      nn.Linear(64 * (h // 2) * (w // 2), 128), nn.ReLU(), nn.Linear(128, classes))

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.body(x.view(x.shape[0], h, w, c).permute(0, 3, 1, 2))
    return CNN()


def train_teacher(data, config, seed: int, kind: str = "kd"):  # type: ignore[no-untyped-def]
    """The distillation teacher: a float MLP (``kd``) or CNN (``kdcnn``) on the fold's training rows, encoded as
    the logic network's inputs."""
    import torch

    from lut2rtl.nn.baselines import MLP
    from lut2rtl.nn.layers import ThermometerEncoder
    from lut2rtl.nn.train import thermometer_thresholds
    thr = thermometer_thresholds(data.x_train, config.bits_per_feature, mode=config.encoding,
                                 feature_range=data.feature_range if config.encoding == "uniform" else None)
    with torch.no_grad():
        x = ThermometerEncoder(thr.thresholds)(torch.from_numpy(data.x_train)).float()
    y = torch.from_numpy(data.y_train)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    if kind == "kdcnn":
        h, w, v = data.image_shape
        net = _cnn_teacher((h, w, v * config.bits_per_feature), data.classes)
    else:
        net = MLP(x.shape[1], 512, 2, data.classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(2000):
        b = torch.randint(0, x.shape[0], (128,), generator=gen)
        loss = torch.nn.functional.cross_entropy(net(x[b]), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return net


def _ema_adam(decay: float, steps: int):  # type: ignore[no-untyped-def]
    """Adam that keeps an average of the parameters and leaves it in them after step ``steps``."""
    import torch

    class EmaAdam(torch.optim.Adam):
        def __init__(self, params, **kw) -> None:  # type: ignore[no-untyped-def]
            super().__init__(params, **kw)
            self.n = 0
            self.avg = [p.detach().clone() for g in self.param_groups for p in g["params"]]

        @torch.no_grad()
        def step(self, closure=None):  # type: ignore[no-untyped-def]
            loss = super().step(closure)
            self.n += 1
            ps = [p for g in self.param_groups for p in g["params"]]
            for a, p in zip(self.avg, ps):
                a.mul_(decay).add_(p, alpha=1 - decay)
            if self.n == steps:
                for a, p in zip(self.avg, ps):
                    p.copy_(a)
            return loss
    return EmaAdam


def affine_copies(x: np.ndarray, side: int, copies: int, rot_deg: float, scale: float, shift: float, *,
                  seed: int) -> np.ndarray:
    """``copies`` randomly warped versions of every image of ``x [N, side*side]`` (raw intensities), copy by
    copy: a rotation in +-``rot_deg`` degrees, a scale in 1 +- ``scale`` and a shift in +-``shift`` pixels
    per axis, about the image centre, bilinear interpolation, 0 outside the image. ``[copies*N, side*side]``."""
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    img = x.reshape(n, side, side)
    c = (side - 1) / 2
    yy, xx = np.meshgrid(np.arange(side) - c, np.arange(side) - c, indexing="ij")
    bi = np.arange(n)[:, None, None]
    out = []
    for _ in range(copies):
        th = np.deg2rad(rng.uniform(-rot_deg, rot_deg, n))[:, None, None]
        s = rng.uniform(1 - scale, 1 + scale, n)[:, None, None]
        ty, tx = (rng.uniform(-shift, shift, n)[:, None, None] for _ in range(2))
        u, v = (yy - ty) / s, (xx - tx) / s  # each output pixel's source, by the inverse map
        sy, sx = np.cos(th) * u + np.sin(th) * v + c, -np.sin(th) * u + np.cos(th) * v + c
        y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
        acc = np.zeros((n, side, side))
        for dy, wy in ((0, 1 - (sy - y0)), (1, sy - y0)):
            for dx, wx in ((0, 1 - (sx - x0)), (1, sx - x0)):
                yi, xi = y0 + dy, x0 + dx
                inside = (yi >= 0) & (yi < side) & (xi >= 0) & (xi < side)
                acc += np.where(inside, img[bi, np.clip(yi, 0, side - 1), np.clip(xi, 0, side - 1)], 0.0) * wy * wx
        out.append(acc.reshape(n, -1))
    return np.concatenate(out).astype(x.dtype)


def draw_leaves_at_pixels(pixels: int):  # type: ignore[no-untyped-def]
    """``draw_leaves`` for fields of ``pixels`` pixels: a kernel's leaves read distinct pixels (a random
    threshold of each) where the field has enough pixels. Random distinct bits (``draw_leaves``) often put two
    leaves on one pixel, whose thermometer bits are ordered (of their four values one cannot occur)."""
    from lut2rtl.nn.conv import draw_leaves

    def draw(rng, field_bits: int, channels: int, n_leaves: int):  # type: ignore[no-untyped-def]
        c = field_bits // pixels
        if c * pixels != field_bits or n_leaves > pixels:
            return draw_leaves(rng, field_bits, channels, n_leaves)
        return np.stack([rng.choice(pixels, n_leaves, replace=False) * c + rng.integers(0, c, n_leaves)
                         for _ in range(channels)]).astype(np.int64)
    return draw


def _capture(x, shape, _max_shift, gen):  # type: ignore[no-untyped-def]
    _KD["xb"] = x
    return x


def work(tasks, out: str) -> None:  # type: ignore[no-untyped-def]
    import torch
    torch.set_num_threads(1)
    _straight_through()
    from lut2rtl.datasets import load_digits
    from lut2rtl.evaluate import evaluate_features
    from lut2rtl.nn.train import TrainConfig, train
    train_module = sys.modules["lut2rtl.nn.train"]  # the package exports a function of the same name
    shift, build = train_module.shift_images, train_module.build_conv_net
    conv_module = sys.modules["lut2rtl.nn.conv"]
    draw_leaves = conv_module.draw_leaves
    adam = torch.optim.Adam
    check_skip()
    check_learned_leaves()
    check_learned_connections()
    full = load_digits()
    fold_of = folds(full.y_train)
    while True:
        try:
            name, fold, seed, split = tasks.get_nowait()
        except queue.Empty:
            return
        changes, noise = RECIPES[name]
        st = noise is not None and noise[0] == "st"
        kd = noise is not None and noise[0] in ("kd", "kdcnn")
        aff = noise is not None and noise[0] == "affine"
        own_hook = noise is not None and not (st or aff or noise[0] == "ema")  # input noise through the hook
        train_module.shift_images = _capture if kd else _noise(*noise) if own_hook else shift
        train_module.build_conv_net = (build_skip if name in SKIP else build_learned_leaves if name in LEARNED
                                       else build_learned_connections if name in CONNECT else build)
        kernel = {**BASE, **changes}.get("kernel_size", 3)
        conv_module.draw_leaves = draw_leaves_at_pixels(kernel * kernel) if name in PIXELS else draw_leaves
        ema = noise is not None and noise[0] == "ema"
        torch.optim.Adam = _ema_adam(noise[1], {**BASE, **changes}["steps"]) if ema else adam
        steps = {**BASE, **changes}["steps"]
        _ST.update({"from": round(noise[1] * steps) if st else None, "step": 0})
        _MIX.update(rng=np.random.default_rng(seed) if noise is not None and noise[0] == "mixup" else None,
                    lam=None, perm=None)
        if fold is None:  # --seeds, --splits: the whole training split (of split seed `split`), scored on its test
            # split
            data = full if split == 0 else load_digits(split_seed=split)
            n_scored = len(data.y_test)
        else:
            held = fold_of == fold
            data = dataclasses.replace(full, x_train=full.x_train[~held], y_train=full.y_train[~held],
                                       x_test=full.x_train[held], y_test=full.y_train[held])
            n_scored = int(held.sum())
        if aff:  # the training rows and their warped copies (the scored rows stay as they are)
            side = int(round(np.sqrt(data.x_train.shape[1])))
            warped = affine_copies(data.x_train, side, AFFINE_COPIES, *noise[1], seed=seed)
            data = dataclasses.replace(data, x_train=np.concatenate([data.x_train, warped]),
                                       y_train=np.tile(data.y_train, AFFINE_COPIES + 1))
        t0 = time.time()
        rec: dict = {"name": name, "fold": fold, "seed": seed, "n": n_scored}
        if split:
            rec["split"] = split
        try:
            config = TrainConfig(**{**BASE, **changes, "seed": seed})
            _KD.update(teacher=None, xb=None)
            if kd:
                teacher = train_teacher(data, config, seed, noise[0])
                with torch.no_grad():  # the teacher's score on the held-out fold, for the record
                    xt = train_module.thermometer_thresholds(
                        data.x_train, config.bits_per_feature, mode=config.encoding,
                        feature_range=data.feature_range if config.encoding == "uniform" else None)
                    from lut2rtl.nn.layers import ThermometerEncoder
                    pred = teacher(ThermometerEncoder(xt.thresholds)(torch.from_numpy(data.x_test)).float())
                    rec["teacher_correct"] = int((pred.argmax(1).numpy() == data.y_test).sum())
                _KD.update(teacher=teacher, alpha=noise[1])
                _ST["step"] = 0
            res = train(config, data)
            n = rec["n"]
            # "test" is the held-out fold here
            rec.update(correct=round(res.metrics["accuracy"] * n), soft=round(res.metrics["soft_acc"] * n),
                       hist=[(h["step"], round(h["test_acc"] * n)) for h in res.history],
                       step_ms=res.metrics.get("step_ms"))
            if fold is not None and res.net is not None:  # per held-out row (in fold order): for --overlap
                counts = evaluate_features(res.net, data.x_test).counts
                if int((counts.argmax(1) == data.y_test).sum()) != rec["correct"]:
                    raise RuntimeError("the per-row counts disagree with the run's accuracy")
                rec["counts"] = counts.tolist()
        except Exception:  # noqa: BLE001 (a failed run is recorded; the others go on)
            rec["error"] = traceback.format_exc()[-800:]
        _KD.update(teacher=None, xb=None)
        rec["wall_s"] = round(time.time() - t0, 1)
        with open(f"{out}/results.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(name, fold if split == 0 else f"split {split}", rec.get("correct"), rec["n"], rec["wall_s"], flush=True)


def summary(out: str) -> None:
    by: dict[str, dict[int, tuple[int, int]]] = collections.defaultdict(dict)
    for line in open(f"{out}/results.jsonl"):
        r = json.loads(line)
        if "correct" in r and r["fold"] is not None:
            by[r["name"]][r["fold"]] = (r["correct"], r["n"])
    ref = by.get("ref", {})
    print("| recipe | folds | correct | % | vs ref, same folds | per fold |")
    print("|---|---|---|---|---|---|")
    for name, d in by.items():
        fs = sorted(d)
        c, n = sum(d[f][0] for f in fs), sum(d[f][1] for f in fs)
        shared = [f for f in fs if f in ref]  # no `ref` run in OUT: no difference to show
        diff = f"{sum(d[f][0] - ref[f][0] for f in shared):+d}" if shared else "–"
        print(f"| {name} | {len(fs)} | {c} / {n} | {100 * c / n:.2f} | {diff} | "
              f"{', '.join(str(d[f][0]) for f in fs)} |")


def overlap(out: str, a: str, b: str) -> dict[str, int]:
    """Fold errors of recipes ``a`` and ``b`` (runs with per-row counts in ``OUT``): each one's, those they share,
    and those of the two networks' counts added per class (one GroupSum over both, twice the LUTs)."""
    from lut2rtl.datasets import load_digits
    from lut2rtl.evaluate import predict
    runs: dict[tuple[str, int], dict] = {}
    for line in open(f"{out}/results.jsonl"):
        r = json.loads(line)
        if r.get("fold") is not None and "counts" in r and r["name"] in (a, b):
            runs[r["name"], r["fold"]] = r
    fold_of = folds(load_digits().y_train)
    y = load_digits().y_train
    shared = [f for f in range(FOLDS) if (a, f) in runs and (b, f) in runs]
    if not shared:
        sys.exit(f"error: --overlap OUT: no fold with per-row counts of both {a!r} and {b!r} in {out}")
    tot = {"folds": len(shared), "rows": 0, a: 0, b: 0, "both": 0, "sum": 0}
    for f in shared:
        yt = y[fold_of == f]
        ca, cb = (np.asarray(runs[n, f]["counts"]) for n in (a, b))
        wa, wb = predict(ca) != yt, predict(cb) != yt
        tot["rows"] += len(yt)
        tot[a] += int(wa.sum())
        tot[b] += int(wb.sum())
        tot["both"] += int((wa & wb).sum())
        tot["sum"] += int((predict(ca + cb) != yt).sum())
    print(f"| folds | rows | errors of {a} | errors of {b} | errors of both | errors of the summed counts |")
    print("|---|---|---|---|---|---|")
    print(f"| {tot['folds']} | {tot['rows']} | {tot[a]} | {tot[b]} | {tot['both']} | {tot['sum']} |")
    return tot


SEEDS_TITLE = "Conv vs dense on the test split: accuracy over training seeds (digits)"
SEEDS_COLUMNS = ["recipe", "seeds", "test_correct", "n", "mean_pct", "sd_pct", "min_pct", "max_pct", "train_s",
                 "run"]


def seeds_rows(out: str) -> list[dict]:
    """One row per recipe of the ``--seeds`` runs in ``OUT``: test rows correct per seed, mean, sd, extremes."""
    by: dict[str, dict[int, dict]] = collections.defaultdict(dict)
    for line in open(f"{out}/results.jsonl"):
        r = json.loads(line)
        if "correct" in r and r["fold"] is None and not r.get("split"):
            by[r["name"]][r["seed"]] = r
    rows = []
    for name, d in by.items():
        ks = sorted(d)
        acc = np.array([100 * d[k]["correct"] / d[k]["n"] for k in ks])
        rows.append({"recipe": name, "seeds": ", ".join(map(str, ks)),
                     "test_correct": ", ".join(str(d[k]["correct"]) for k in ks), "n": d[ks[0]]["n"],
                     "mean_pct": round(float(acc.mean()), 2),
                     "sd_pct": round(float(acc.std(ddof=1)), 2) if len(acc) > 1 else 0.0,
                     "min_pct": round(float(acc.min()), 2), "max_pct": round(float(acc.max()), 2),
                     "train_s": round(float(np.mean([d[k]["wall_s"] for k in ks])), 1),
                     "run": time.strftime("%Y-%m-%d")})
    return rows


def splits_rows(out: str) -> list[dict]:
    """One row per recipe of the ``--splits`` runs in ``OUT``: test rows correct per split (seed 0), mean, and
    per split the difference from ``dense_best`` where it ran on the same split."""
    by: dict[str, dict[int, dict]] = collections.defaultdict(dict)
    for line in open(f"{out}/results.jsonl"):
        r = json.loads(line)
        if "correct" in r and r["fold"] is None and r.get("split"):
            by[r["name"]][r["split"]] = r
    dense = by.get("dense_best", {})
    rows = []
    for name, d in by.items():
        ks = sorted(d)
        acc = np.array([100 * d[k]["correct"] / d[k]["n"] for k in ks])
        shared = [k for k in ks if k in dense]
        rows.append({"recipe": name, "splits": ", ".join(map(str, ks)),
                     "test_correct": ", ".join(str(d[k]["correct"]) for k in ks), "n": d[ks[0]]["n"],
                     "mean_pct": round(float(acc.mean()), 2), "min_pct": round(float(acc.min()), 2),
                     "max_pct": round(float(acc.max()), 2),
                     "at_least_98": int((acc >= 98.0).sum()),
                     "vs_dense_best": ", ".join(f"{d[k]['correct'] - dense[k]['correct']:+d}" for k in shared)
                     if shared and name != "dense_best" else "–"})
    return rows


SPLITS_TITLE = "Conv vs dense on other train/test splits of digits (seed 0)"
SPLITS_COLUMNS = ["recipe", "splits", "test_correct", "n", "mean_pct", "min_pct", "max_pct", "at_least_98",
                  "vs_dense_best"]


def _print_table(columns: list[str], rows: list[dict]) -> None:
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in columns) + " |")


def _write_section(path: Path, title: str, columns: list[str], rows: list[dict], wall_s: float, notes: str) -> None:
    """A bench/results JSON that ``python -m bench --render-only`` renders as a RESULTS.md section."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.__main__ import machine_facts
    result = {"title": title, "status": "ok", "quick": False, "date": time.strftime("%Y-%m-%d"),
              "machine": machine_facts(), "wall_s": round(wall_s, 1), "columns": columns, "rows": rows,
              "notes": notes}
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path}", file=sys.stderr)


def splits_summary(out: str, write: bool = False, path: Path | None = None) -> None:
    """Test accuracy on other splits per recipe (``--splits`` runs); with ``write``, also
    ``bench/results/conv_splits.json`` (all of it from ``OUT``)."""
    rows = splits_rows(out)
    _print_table(SPLITS_COLUMNS, rows)
    if not write:
        return
    recs = [json.loads(line) for line in open(f"{out}/results.jsonl")]
    wall = sum(r.get("wall_s", 0) for r in recs if r.get("fold") is None and r.get("split")) / 2
    notes = ("`python bench/conv_cv.py --splits OUT 2 conv_example,nopool5b_k5,dense_best 1-8`, then "
             "`--splits-summary OUT --write`: each recipe trained with seed 0 on the training rows of "
             "`load_digits(split_seed=s)` (stratified, 1,347 training and 450 test rows like lut2rtl's own split, "
             "s = 0) and scored on that split's test rows (reference evaluator). `at_least_98`: splits at 98.0 % "
             "or more (441 rows); `vs_dense_best`: rows correct minus `dense_best`'s on the same split. "
             "`dense_best` is `examples/digits_best.pt`'s recipe, `nopool5b_k5` `examples/digits_conv.pt`'s (the "
             "conv recipe that leads the cross-validation, docs/conv.md), `conv_example` the first conv example's "
             "(until 2026-12-06: 3x3 fields, 2x2 OR pooling, 3 thresholds per pixel). On split 0 (the seeds "
             "section) seed 0 of these recipes scores 442, 439 and 438. A measurement, fixed before the runs: "
             "nothing is chosen from it. `wall_s`: half the sum of the runs' seconds (two at once on 2 cores).")
    _write_section(path or Path(__file__).resolve().parent / "results" / "conv_splits.json", SPLITS_TITLE,
                   SPLITS_COLUMNS, rows, wall, notes)


def seeds_summary(out: str, write: bool = False, path: Path | None = None) -> None:
    """Test accuracy over seeds per recipe (``--seeds`` runs) as a markdown table; with ``write``, also
    ``bench/results/conv_seeds.json`` (a RESULTS.md section after ``python -m bench --render-only``)."""
    rows = seeds_rows(out)
    _print_table(SEEDS_COLUMNS, rows)
    if not write:
        return
    path = path or Path(__file__).resolve().parent / "results" / "conv_seeds.json"
    # rows of recipes not in OUT stay (the table grows recipe by recipe); a recipe run again is replaced
    earlier = json.loads(path.read_text()) if path.is_file() else {"rows": [], "wall_s": 0}
    names = {r["recipe"] for r in rows}
    kept = [r for r in earlier["rows"] if r["recipe"] not in names]
    recs = [json.loads(line) for line in open(f"{out}/results.jsonl")]
    wall = sum(r.get("wall_s", 0) for r in recs if r.get("fold") is None and r.get("name") in names) / 2
    _write_section(
        path, SEEDS_TITLE, SEEDS_COLUMNS, sorted(kept + rows, key=lambda r: -r["mean_pct"]),
        wall + sum(r["train_s"] * len(r["seeds"].split(", ")) for r in kept) / 2,
        ("`python bench/conv_cv.py --seeds OUT 2 RECIPE[,RECIPE...] 0-5`, then `--seeds-summary OUT "
         "--write` (a recipe already in the table is replaced, the others kept): each recipe trained on "
         "the whole training split with each seed and scored on the 450 test rows (reference "
         "evaluator). `dense_best`: `examples/digits_best.pt`'s recipe (dense, 2 x 3,000 LUT4s); "
         "`nopool5b_k5`: `examples/digits_conv.pt`'s; `conv_example`: the first conv example's (until "
         "2026-12-06); the other rows are conv recipes of `bench/conv_cv.py` (docs/conv.md). Seed 0 of "
         "`dense_best` and `nopool5b_k5` reproduces `digits_best.pt` and `digits_conv.pt` (and of "
         "`conv_example` the first conv example); their LUT counts are in the conv section. A measurement "
         "of the spread, fixed "
         "before the runs: nothing is selected from these rows. `train_s`: mean seconds per run, two "
         "runs at once on 2 cores; `wall_s` above: half their sum. `run`: the date of the row's "
         "`--seeds-summary --write` (the header's date is the latest)."))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--overlap":
        if len(sys.argv) != 4 or len(sys.argv[3].split(",")) != 2:
            sys.exit("error: usage: conv_cv.py --overlap OUT RECIPE,RECIPE")
        if not (Path(sys.argv[2]) / "results.jsonl").is_file():
            sys.exit(f"error: --overlap OUT: no {Path(sys.argv[2]) / 'results.jsonl'} (run the recipes into OUT first)")
        overlap(sys.argv[2], *sys.argv[3].split(","))
        sys.exit()
    if len(sys.argv) > 1 and sys.argv[1] in ("--summary", "--seeds-summary", "--splits-summary"):
        results = Path(sys.argv[2] if len(sys.argv) > 2 else "") / "results.jsonl"
        extra = sys.argv[3:] if sys.argv[1] == "--summary" else [a for a in sys.argv[3:] if a != "--write"]
        if extra:
            sys.exit(f"error: {sys.argv[1]} OUT: unexpected argument {' '.join(map(repr, extra))}")
        if len(sys.argv) < 3 or not results.is_file():
            sys.exit(f"error: {sys.argv[1]} OUT: no {results} (run the recipes into OUT first)")
        if sys.argv[1] == "--summary":
            summary(sys.argv[2])
        else:
            summarize = seeds_summary if sys.argv[1] == "--seeds-summary" else splits_summary
            summarize(sys.argv[2], write="--write" in sys.argv[3:])
        sys.exit()
    by_split = len(sys.argv) > 1 and sys.argv[1] == "--splits"
    by_seed = by_split or (len(sys.argv) > 1 and sys.argv[1] == "--seeds")
    if by_seed:
        sys.argv.pop(1)
    usage = ("usage: conv_cv.py [--seeds|--splits] OUT WORKERS RECIPE[,RECIPE...] [FIRST-LAST, with --seeds or "
             "--splits] | --summary OUT | --seeds-summary OUT [--write] | --splits-summary OUT [--write] | "
             "--overlap OUT RECIPE,RECIPE")
    if len(sys.argv) > (5 if by_seed else 4):  # a seed range without --seeds would be ignored
        sys.exit(f"error: unexpected argument {' '.join(map(repr, sys.argv[5 if by_seed else 4:]))} ({usage})")
    try:  # every argument checked before OUT is created
        out, n_workers, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
        unknown = [n for n in names if n not in RECIPES]
        if unknown:
            sys.exit(f"error: unknown recipe {', '.join(map(repr, unknown))} (choose from {', '.join(RECIPES)})")
        if n_workers < 1:
            sys.exit(f"error: WORKERS {n_workers}: at least 1")
        if by_seed:
            lo, _, hi = sys.argv[4].partition("-")
            seeds = range(int(lo), int(hi or lo) + 1)
            if not seeds or seeds[0] < (1 if by_split else 0):
                what = "splits" if by_split else "seeds"
                sys.exit(f"error: {what} {sys.argv[4]!r}: a range FIRST-LAST of {what} >= {int(by_split)}, "
                         "FIRST <= LAST")
    except (IndexError, ValueError):
        sys.exit(f"error: {usage}")
    os.makedirs(out, exist_ok=True)
    ctx = mp.get_context("spawn")
    tasks = ctx.Queue()
    if by_split:  # the range is of split seeds; training seed 0
        for split in seeds:
            for name in names:
                tasks.put((name, None, 0, split))
    elif by_seed:
        for seed in seeds:
            for name in names:
                tasks.put((name, None, seed, 0))
    else:
        for fold in range(FOLDS):
            for name in names:
                tasks.put((name, fold, fold, 0))  # the training seed is the fold number
    total = len(names) * (len(seeds) if by_seed else FOLDS)
    results = Path(out) / "results.jsonl"
    before = _lines(results)
    procs = [ctx.Process(target=work, args=(tasks, out)) for _ in range(n_workers)]
    for p in procs:
        p.start()
    t_start = time.time()
    while any(p.is_alive() for p in procs):  # a run takes minutes: say where the batch is every 10 s
        for p in procs:
            p.join(timeout=10 / len(procs))
        if any(p.is_alive() for p in procs):
            print(f"conv_cv: {_lines(results) - before} of {total} runs done, {time.time() - t_start:.0f} s",
                  file=sys.stderr, flush=True)

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lut2rtl.datasets import load_digits
from lut2rtl.evaluate import evaluate_features
from lut2rtl.nn.train import TrainConfig, TrainingError, train


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _small(**kw) -> TrainConfig:
    base = dict(width=100, depth=2, steps=40, batch_size=64, eval_every=20, device="cpu", bits_per_feature=2, lr=0.05)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("method,k", [("dlgn", 2), ("gumbel", 2), ("light", 3), ("warp", 4)])
def test_train_produces_bit_exact_netlist(method, k, digits):
    events = []
    steps = 100 if method == "gumbel" else 40  # hard sampled gates start slower
    res = train(_small(method=method, k=k, steps=steps, lr=None), digits, events.append)  # per-method lr
    net = res.net
    assert net is not None and net.n_luts == 200 and [layer.k for layer in net.layers] == [k, k]
    assert net.metadata["method"] == method and net.metadata["accuracy"] == round(res.accuracy, 6)
    # the reported accuracy is the reference evaluator's on the netlist ...
    pred = evaluate_features(net, digits.x_test).pred
    assert res.accuracy == float((pred == digits.y_test).mean())
    # ... and equals the torch eval-mode (discrete) forward
    res.model.eval()
    with torch.no_grad():
        tpred = res.model(torch.from_numpy(digits.x_test)).argmax(-1).numpy()
    assert np.array_equal(tpred, pred)
    assert res.metrics["torch_discrete_acc"] == round(res.accuracy, 6)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.count("eval") == steps // 20 and kinds.count("step") == steps
    assert res.accuracy > 0.25  # it learned something in 40 steps


def test_deterministic_for_a_seed(digits):
    a = train(_small(method="gumbel", steps=15, seed=3), digits)
    b = train(_small(method="gumbel", steps=15, seed=3), digits)
    c = train(_small(method="gumbel", steps=15, seed=4), digits)
    for la, lb in zip(a.net.layers, b.net.layers):
        assert np.array_equal(la.tables, lb.tables) and np.array_equal(la.inputs, lb.inputs)
    assert not np.array_equal(a.net.layers[0].inputs, c.net.layers[0].inputs)
    assert a.history == [{**h, "seconds": a.history[i]["seconds"]} for i, h in enumerate(b.history)]


@pytest.mark.parametrize("method", ["mlp", "dlgn-halfspace"])
def test_float_baselines(method, digits):
    res = train(_small(method=method, width=32, steps=100), digits)
    assert res.net is None and res.accuracy > 0.5
    d = res.baseline_dict()
    assert d["kind"] == "float-baseline" and "format" not in d and d["method"] == method


@pytest.mark.parametrize("opts,msg", [
    (dict(method="dlgn", k=4), r"--k 4: method dlgn has 2-input gates only"),
    (dict(method="light", k=7), r"--k 7"),
    (dict(width=0), r"--width 0"),
    (dict(lr=-1.0), r"--lr -1.0"),
    (dict(method="cnn"), r"--method 'cnn'"),
    (dict(width=105), r"--width 105: must be a multiple of the 10 classes"),
])
def test_config_errors(opts, msg, digits):
    with pytest.raises(TrainingError, match=msg):
        train(_small(**opts), digits)


def test_unique_wiring_and_quantile_encoding(digits):
    res = train(_small(wiring="unique", encoding="quantile", steps=5), digits)
    inputs = np.sort(res.net.layers[0].inputs, axis=1)
    assert len({tuple(r) for r in inputs.tolist()}) == inputs.shape[0]
    assert not np.allclose(res.net.encoder.thresholds, res.net.encoder.thresholds[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ddp_two_cpu_processes_end_identical(tmp_path):
    worker = Path(__file__).with_name("_ddp_worker.py")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), str(worker), str(tmp_path), "gumbel"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    s0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    s1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert s0["state"].keys() == s1["state"].keys()
    for key in s0["state"]:
        assert torch.equal(s0["state"][key], s1["state"][key]), key
    assert s0["accuracy"] == s1["accuracy"]
    # the run really trained: parameters moved away from a fresh model's
    fresh = train(_small(method="gumbel", width=100, steps=1, batch_size=64), load_digits())
    w = "net.layers.0.weight" if "net.layers.0.weight" in s0["state"] else "layers.0.weight"
    assert not torch.equal(s0["state"][w], fresh.model.state_dict()["layers.0.weight"])


@pytest.mark.parametrize("method,k", [("gumbel", 2), ("warp", 2), ("warp", 4)])
def test_trained_model_does_not_depend_on_eval_every(method, k, digits):
    """The soft (train-mode) evaluation draws noise on a forked RNG: evaluating every 10 steps or
    only at the end trains the very same model."""
    cfg = dict(method=method, k=k, steps=30, seed=5, noise=True, hard=True)  # warp's noisy mode
    a = train(_small(eval_every=10, **cfg), digits)
    b = train(_small(eval_every=1000, **cfg), digits)
    assert len(a.history) == 3 and len(b.history) == 1
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    assert a.history[-1] == {**b.history[-1], "seconds": a.history[-1]["seconds"]}


def test_negative_control_soft_evaluation_consumes_the_global_rng(digits):
    """Why the fork is needed: a train-mode forward of a gumbel net advances torch's global RNG, so
    without the fork the test above would see two different models."""
    res = train(_small(method="gumbel", steps=2, eval_every=1000), digits)
    model = res.model.train()
    before = torch.random.get_rng_state()
    with torch.no_grad():
        model(torch.from_numpy(digits.x_test[:8]))
    assert not torch.equal(before, torch.random.get_rng_state())


def test_no_host_sync_on_every_step(digits, monkeypatch):
    """The loss is read from the device every LOSS_READ_EVERY steps only (float() on a tensor is a
    device sync on CUDA); counted on CPU, where the code path is the same."""
    import sys

    from lut2rtl.nn.train import LOSS_READ_EVERY

    reads = [0]
    real_float, real_item = torch.Tensor.__float__, torch.Tensor.item

    def count() -> None:
        # Adam reads its step counter, a CPU tensor on every device (no sync): not counted
        if not sys._getframe(2).f_globals.get("__name__", "").startswith("torch.optim"):
            reads[0] += 1

    def counting_float(self: torch.Tensor) -> float:
        count()
        return real_float(self)

    def counting_item(self: torch.Tensor) -> float:
        count()
        return real_item(self)

    monkeypatch.setattr(torch.Tensor, "__float__", counting_float)
    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    seen: list[int] = []

    def cb(event: dict) -> None:
        if event["event"] == "step":
            seen.append(reads[0])
            assert (event["loss"] is None) == (event["step"] % LOSS_READ_EVERY != 0)

    steps = 50
    train(_small(method="warp", k=2, steps=steps, eval_every=1000, noise=True, hard=True), digits, cb)
    assert len(seen) == steps
    assert seen[-1] - seen[0] <= steps // LOSS_READ_EVERY
    # negative control: the counter does see a read
    before = reads[0]
    float(torch.ones(()))
    assert reads[0] == before + 1


def test_defaults_resolve_per_method_and_depth():
    from lut2rtl.nn.train import DEFAULT_LR, default_init

    deep = TrainConfig(method="warp", depth=6).resolved()
    assert deep.init == "residual" and deep.lr == DEFAULT_LR["warp"]
    assert TrainConfig(method="dlgn", depth=2).resolved().init == default_init("dlgn", 2)
    assert TrainConfig(method="gumbel", lr=0.01).resolved().lr == 0.01  # an explicit value wins


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("method,k", [("dlgn", 2), ("gumbel", 2), ("light", 3), ("warp", 6)])
def test_cuda_smoke(method, k, digits):
    """On a GPU: trains, the eval-mode torch accuracy equals the reference evaluator's, and the result
    is reproducible for a seed."""
    res = train(_small(method=method, k=k, steps=40, device="cuda"), digits)
    assert res.net is not None and res.metrics["torch_discrete_acc"] == round(res.accuracy, 6)
    assert next(res.model.parameters()).is_cuda
    again = train(_small(method=method, k=k, steps=40, device="cuda"), digits)
    for la, lb in zip(res.net.layers, again.net.layers):
        assert np.array_equal(la.tables, lb.tables)


def test_warp_noise_option_changes_training(digits):
    """--no-noise really reaches the layers and trains another model than with noise (this failed while
    build_logic_net dropped the option)."""
    a = train(_small(method="warp", k=2, steps=10, seed=1, noise=True), digits)
    b = train(_small(method="warp", k=2, steps=10, seed=1, noise=False), digits)
    assert all(not layer.noise for layer in b.model.layers)
    assert any(not torch.equal(pa, pb) for pa, pb in zip(a.model.parameters(), b.model.parameters()))


def test_warp_noise_source_reaches_the_layers(digits):
    """--noise-source fresh gives layers that draw fresh noise, and another model than the table's."""
    a = train(_small(method="warp", k=2, steps=10, seed=1, noise=True), digits)
    b = train(_small(method="warp", k=2, steps=10, seed=1, noise=True, noise_source="fresh"), digits)
    assert all(layer.noise_table for layer in a.model.layers)
    assert all(not layer.noise_table for layer in b.model.layers)
    assert any(not torch.equal(pa, pb) for pa, pb in zip(a.model.parameters(), b.model.parameters()))
    with pytest.raises(TrainingError, match="--noise-source"):
        _small(method="warp", noise_source="gaussian").check()

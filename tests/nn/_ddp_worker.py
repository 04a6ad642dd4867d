"""Run by tests/nn/test_train.py under torchrun: trains a tiny model with DDP
and saves this rank's parameters to <out>/rank<R>.pt."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from lut2rtl.datasets import load_digits
from lut2rtl.nn.train import TrainConfig, end_distributed, train

if __name__ == "__main__":
    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    method = sys.argv[2] if len(sys.argv) > 2 else "gumbel"
    cfg = TrainConfig(method=method, width=100, depth=2, steps=30, batch_size=64, eval_every=30, device="cpu")
    res = train(cfg, load_digits())
    assert res.world_size == 2, res.world_size
    state = {k: v.detach().cpu() for k, v in res.model.state_dict().items()}
    torch.save({"state": state, "accuracy": res.accuracy}, out / f"rank{res.rank}.pt")
    end_distributed(res)
    assert not torch.distributed.is_initialized()

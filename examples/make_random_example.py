"""Write examples/random_digits.pt: an untrained random network shaped for digits.

It exists so that every command can be tried before training anything; its
accuracy is chance level. Trained examples come from examples/make_examples.py.

    python examples/make_random_example.py
"""

from __future__ import annotations

from pathlib import Path

from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.datasets import load_digits, thermometer_thresholds
from lut2rtl.netgen import random_netlist


def main() -> None:
    data = load_digits()
    enc = thermometer_thresholds(data.x_train, 3, mode="uniform", feature_range=data.feature_range)
    net = random_netlist(0, enc.n_bits, [400, 400, 200], 2, classes=10)
    net = net.replace(encoder=enc, metadata={"method": "random", "dataset": "digits", "seed": 0})
    out = Path(__file__).with_name("random_digits.pt")
    save_checkpoint(net, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

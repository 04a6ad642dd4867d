"""Plain-data summaries of netlists and their accuracy, for the CLI and benchmarks."""

from __future__ import annotations

from typing import Any

import numpy as np

from .netlist import Netlist, gate_name, table_depends_on


def netlist_summary(net: Netlist) -> dict[str, Any]:
    """Layers, fan-in, gate-type histogram, live LUTs and classes of a netlist."""
    live = net.live_mask()
    layers = []
    for l, layer in enumerate(net.layers):
        lo = net.offsets[l]
        live_l = live[lo:lo + layer.size]
        tables, counts = np.unique(layer.tables, return_counts=True)
        hist = {gate_name(int(t), layer.k): int(c) for t, c in zip(tables, counts)}
        # the 'top' gate types, most frequent first (a full histogram for k = 2)
        top = dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))[: 16 if layer.k == 2 else 8])
        n_dep = table_depends_on(layer.tables, layer.k).sum(axis=1)
        layers.append({
            "index": l,
            "k": int(layer.k),
            "luts": int(layer.size),
            "live": int(live_l.sum()),
            "constant": int((n_dep == 0).sum()),
            "wires": int((n_dep == 1).sum()),
            "distinct_tables": int(tables.size),
            "gates": top,
        })
    return {
        "inputs": int(net.n_inputs),
        "outputs": int(net.n_outputs),
        "depth": net.depth,
        "luts": int(net.n_luts),
        "live_luts": int(live[net.n_inputs:].sum()),
        "layered": net.is_layered(),
        "classes": None if net.group_sum is None else int(net.group_sum.classes),
        "tau": None if net.group_sum is None else float(net.group_sum.tau),
        "beta": None if net.group_sum is None else float(net.group_sum.beta),
        "encoder": None if net.encoder is None else {
            "kind": "thermometer",
            "features": net.encoder.features,
            "bits_per_feature": int(net.encoder.thresholds.shape[1]),
        },
        "metadata": dict(net.metadata),
        "layers": layers,
    }


def pass_report(net: Netlist, level: int = 2, *, lut_size: int = 4) -> list[dict[str, Any]]:
    """Size of the network after each pass of an optimization level: one row
    per pass (``"input"`` first) with LUTs, live LUTs, depth, the LUT inputs
    the tables depend on, and the pass's run time in seconds."""
    import time

    from .passes import run_pipeline

    rows: list[dict[str, Any]] = []
    clock = [time.perf_counter()]

    def trace(name: str, n: Netlist) -> None:
        now = time.perf_counter()
        live = n.live_mask()
        deps = sum(int(table_depends_on(layer.tables, layer.k).sum()) for layer in n.layers)
        rows.append({
            "pass": name,
            "luts": int(n.n_luts),
            "live_luts": int(live[n.n_inputs:].sum()),
            "depth": n.depth,
            "max_k": max((layer.k for layer in n.layers), default=0),
            "lut_inputs": deps,
            "seconds": 0.0 if name == "input" else round(now - clock[0], 4),
        })
        clock[0] = time.perf_counter()

    run_pipeline(net, level, lut_size=lut_size, trace=trace)
    return rows

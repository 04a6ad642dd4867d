"""iCE40: carry-ins that are AND or OR gates, computed by the carry chain itself (an experiment).

``python bench/ice40_cin_gates.py OUT [CHECKPOINT]`` (default ``examples/digits.pt``).

Every adder of the iCE40 head takes one group bit as its carry-in. nextpnr brings a carry-in from logic
into the chain through a feed-in logic cell whose ``SB_CARRY`` computes ``maj(I0, I1, CI)`` with a constant
``CI`` at the chain's start: ``I0 & I1`` with ``CI = 0``, ``I0 | I1`` with ``CI = 1``. So where the carry-in
bit is an AND or OR of two nets, that cell can compute it, and the LUT that computed it goes away: one
logic cell less per such bit.

The experiment measures the gain without building it into the head. It compiles the checkpoint twice
for ``--target ice40`` (pipeline 0): as it is, and with each class's group reordered (a popcount does
not depend on the order) so that the group bits that are an AND or OR of two network inputs sit where
the head's plan reads carry-ins (:func:`permute_for_cins`). Each is synthesized by ``lut2rtl synth
--device hx8k --top harness``. Then :func:`absorb` rewrites Yosys's netlist: each ``SB_LUT4`` that
drives only a carry-in (and the sum LUT of that chain position, which reads it as ``I3``) and computes
an AND or OR of two of its inputs becomes an ``SB_CARRY`` of those two with a constant carry-in. nextpnr
(default router) places and routes the rewritten netlist; the table gives logic cells and Fmax of
each. The rewrite replaces a truth table by the same function (checked per cell by
:func:`lut_function`; tests/test_ice40_cin_gates.py simulates it, with a control).
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

AND, OR = (0, 0, 0, 1), (0, 1, 1, 1)  # outputs at (p, q) = 00, 10, 01, 11


def lut_function(init: int) -> tuple[list[int], tuple[int, ...]]:
    """The pins (0..3) an ``SB_LUT4`` with ``LUT_INIT = init`` depends on and, for two pins ``p < q``, its
    outputs at (p, q) = 00, 10, 01, 11 (bit ``i`` of ``init``: the output when pin ``m`` is bit ``m`` of ``i``)."""
    tt = [(init >> i) & 1 for i in range(16)]
    pins = [m for m in range(4) if any(tt[i] != tt[i ^ (1 << m)] for i in range(16))]
    if len(pins) != 2:
        return pins, ()
    return pins, tuple(tt[(a << pins[0]) | (b << pins[1])] for b in (0, 1) for a in (0, 1))


def absorb(module: dict[str, Any]) -> collections.Counter[str]:
    """Rewrite a Yosys JSON module in place (see the module docstring); returns what drove each carry-in."""
    cells = module["cells"]
    driver: dict[int, tuple[str, str]] = {}
    users: dict[int, list[tuple[str, str]]] = collections.defaultdict(list)
    for name, c in cells.items():
        for port, bits in c["connections"].items():
            for b in bits:
                if isinstance(b, int):
                    if c["port_directions"][port] == "output":
                        driver[b] = (name, port)
                    else:
                        users[b].append((name, port))
    for p in module["ports"].values():
        for b in p["bits"]:
            if isinstance(b, int) and p["direction"] != "input":
                users[b].append(("", "port"))
    kinds: collections.Counter[str] = collections.Counter()
    for name, c in list(cells.items()):
        if c["type"] != "SB_CARRY":
            continue
        ci = c["connections"]["CI"][0]
        if not isinstance(ci, int) or ci not in driver:
            kinds["constant or port"] += 1
            continue
        dn = driver[ci][0]
        if cells[dn]["type"] != "SB_LUT4":
            kinds[cells[dn]["type"]] += 1
            continue
        others = [u for u in users[ci] if u != (name, "CI") and not (u[1] == "I3" and cells[u[0]]["type"] == "SB_LUT4")]
        init = cells[dn]["parameters"]["LUT_INIT"]
        pins, f = lut_function(int(init, 2) if isinstance(init, str) else int(init))
        if others or f not in (AND, OR):
            kinds["SB_LUT4, other readers" if others else f"SB_LUT4 of {len(pins)} inputs" if len(pins) != 2
                  else "SB_LUT4, another 2-input function"] += 1
            continue
        kinds["AND" if f == AND else "OR"] += 1
        p, q = (cells[dn]["connections"][f"I{m}"][0] for m in pins)
        del cells[dn]
        cells[f"cin_gate_{dn}"] = {
            "hide_name": 0, "type": "SB_CARRY", "parameters": {}, "attributes": {},
            "port_directions": {"I0": "input", "I1": "input", "CI": "input", "CO": "output"},
            "connections": {"I0": [p], "I1": [q], "CI": ["0" if f == AND else "1"], "CO": [ci]}}
    return kinds


def permute_for_cins(net: Any) -> tuple[Any, int]:
    """``net`` with each class's group reordered so that bits that are an AND or OR of two network inputs
    (after ``optimize(net, 3)``) sit at the plan's carry-in positions; the number of such positions filled."""
    from lut2rtl.families import FAMILIES
    from lut2rtl.netlist import truth_table_rows
    from lut2rtl.passes import optimize
    from lut2rtl.rtl.popcount import class_popcounts, group_size, head_groups

    opt = optimize(net, 3, lut_size=4)
    where = {}
    base = opt.n_inputs
    for layer in opt.layers:
        for j in range(len(layer.tables)):
            where[base + j] = (layer, j)
        base += len(layer.tables)

    def gate(s: int) -> bool:
        if s not in where:
            return False
        layer, j = where[s]
        rows = truth_table_rows(layer.k)
        col = (int(layer.tables[j]) >> (2 ** layer.k - 1 - np.arange(2 ** layer.k))) & 1
        sup = [m for m in range(layer.k) if any(col[r] != col[r ^ (1 << (layer.k - 1 - m))] for r in range(len(col)))]
        if len(sup) != 2 or any(int(layer.inputs[j][m]) >= opt.n_inputs for m in sup):
            return False
        f = tuple(int(col[next(r for r in range(len(col)) if rows[r, sup[0]] == a and rows[r, sup[1]] == b)])
                  for b in (0, 1) for a in (0, 1))
        return f in (AND, OR)

    good = np.array([gate(int(s)) for s in np.asarray(opt.outputs)])
    outs = np.array(net.outputs if net.outputs is not None else
                    np.arange(net.n_signals - net.layers[-1].size, net.n_signals))
    classes = int(net.group_sum.classes)
    g = group_size(net.n_outputs, classes)
    groups = head_groups(net)
    filled = 0
    for c, pc in enumerate(class_popcounts(net.n_outputs, classes, FAMILIES["ice40"], groups)):
        pos = list(range(g)) if groups is None else list(groups[c])
        cin_ops = [op for op in pc.ops if op.kind == "add" and len(op.args) == 3]
        cins = [pos[op.args[2]] for op in cin_ops]
        spare = [p for p in pos if p not in cins and good[c * g + p]]
        for dst in cins:
            if not good[c * g + dst] and spare:
                a, b = c * g + dst, c * g + spare.pop()
                outs[a], outs[b] = outs[b], outs[a]
                good[a], good[b] = good[b], good[a]
            filled += int(good[c * g + dst])
    return net.replace(outputs=outs), filled


def _synth(net: Any, out: Path, tag: str) -> dict[str, Any]:
    from lut2rtl.compile import compile_netlist
    from lut2rtl.families import FAMILIES
    from lut2rtl.tools.nextpnr import find_nextpnr

    compile_netlist(net, out / tag, target="ice40", pipeline=0)
    rep = out / f"{tag}_report"
    subprocess.run(["lut2rtl", "synth", str(out / tag), "--device", "hx8k", "--top", "harness", "-o", str(rep)],
                   check=True, stdout=subprocess.DEVNULL)
    design = json.loads((rep / "synth.json").read_text())
    (top,) = [m for m in design["modules"].values() if m.get("attributes", {}).get("top")]
    kinds = absorb(top)
    (rep / "absorbed.json").write_text(json.dumps(design))
    row: dict[str, Any] = {"design": tag, "absorbed": kinds["AND"] + kinds["OR"]}
    for what, log in (("", rep / "nextpnr_seed1.log"), ("absorbed_", rep / "absorbed.log")):
        if what:
            print(f"{tag}: nextpnr on the rewritten netlist", file=sys.stderr, flush=True)
            with open(log, "w") as f:
                subprocess.run([find_nextpnr(FAMILIES["ice40"]), "--hx8k", "--package", "ct256", "--json",
                                "absorbed.json", "--freq", "100", "--seed", "1", "--timing-allow-fail"],
                               cwd=rep, stdout=f, stderr=subprocess.STDOUT, check=True)
        text = log.read_text()
        row[f"{what}lc"] = int(re.search(r"ICESTORM_LC:\s+(\d+)/", text).group(1))  # type: ignore[union-attr]
        row[f"{what}fmax_mhz"] = float(re.findall(r"Max frequency for clock[^:]*: ([\d.]+) MHz", text)[-1])
    return row


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python bench/ice40_cin_gates.py OUT [CHECKPOINT]")
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.errors import Lut2RtlError

    out = Path(sys.argv[1])
    try:
        net = load_checkpoint(sys.argv[2] if len(sys.argv) == 3 else "examples/digits.pt")
        if net.group_sum is None:
            sys.exit("error: the network has no GroupSum, so its head has no carry-ins")
        perm, filled = permute_for_cins(net)
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        for tag, n in (("as_is", net), ("reordered", perm)):
            print(f"{tag}: compile and synthesize (about a minute)", file=sys.stderr, flush=True)
            rows.append(_synth(n, out, tag))
    except Lut2RtlError as e:
        sys.exit(f"error: {e}")
    except subprocess.CalledProcessError as e:
        sys.exit(f"error: {' '.join(map(str, e.cmd[:2]))} failed (exit {e.returncode}); its log is in {out}")
    print(f"carry-in positions holding an AND/OR of two inputs after reordering: {filled}")
    cols = ["design", "lc", "fmax_mhz", "absorbed", "absorbed_lc", "absorbed_fmax_mhz"]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()

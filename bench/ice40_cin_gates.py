"""iCE40: carry-ins that are AND or OR gates, computed by the carry chain itself (an experiment).

``python bench/ice40_cin_gates.py OUT [CHECKPOINT]`` (default ``examples/digits.pt``).

Every adder of the iCE40 head takes one group bit as its carry-in. nextpnr brings a carry-in from logic
into the chain through a feed-in logic cell whose ``SB_CARRY`` computes ``maj(I0, I1, CI)`` with a constant
``CI`` at the chain's start: ``I0 & I1`` with ``CI = 0``, ``I0 | I1`` with ``CI = 1``. So where the carry-in
bit is an AND or OR of two nets, that cell can compute it, and the LUT that computed it goes away: one
logic cell less per such bit.

The experiment measures the gain without building it into the head. It compiles the checkpoint twice
for ``--target ice40`` (pipeline 0): in the order the head packs its group bits (:func:`bake_packed_order`,
so ``as_is`` is lut2rtl's own build), and with each class's group reordered further (a popcount does not
depend on the order) so that the group bits that are an AND or OR of two network inputs sit where the
head's plan reads carry-ins (:func:`permute_for_cins`; only bits outside the leaf counters that the packing
filled move). Each is synthesized by ``lut2rtl synth
--device hx8k --top harness``. Then :func:`absorb` rewrites Yosys's netlist: each ``SB_LUT4`` that
drives only a carry-in (and the sum LUT of that chain position, which reads it as ``I3``) and computes
an AND or OR of two of its inputs becomes an ``SB_CARRY`` of those two with a constant carry-in. nextpnr
(default router) places and routes the rewritten netlist; the table gives logic cells and Fmax of
each. The rewrite replaces a truth table by the same function (per cell by :func:`lut_function`, which reads
``LUT_INIT`` through lut2rtl.netlist's encoding); every run also simulates both netlists on 4,096 random vectors
(:func:`mismatches`: every output and flip-flop input must agree) and checks that a control, one rewritten
cell's carry-in constant flipped, is caught. The reordered network's class counts are checked against the
checkpoint's with the reference evaluator. OUT gets both builds, ``results.json`` and ``RESULTS.md``; it is
written as ``OUT.partial`` and renamed when every step has passed (an existing OUT is refused).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

AND, OR = (0, 0, 0, 1), (0, 1, 1, 1)  # outputs at (p, q) = 00, 10, 01, 11


def gate_function(table: int, k: int) -> tuple[list[int], tuple[int, ...]]:
    """The inputs a ``k``-input truth table (lut2rtl.netlist's encoding) depends on and, where they are two
    inputs ``p < q``, its outputs at (x_p, x_q) = 00, 10, 01, 11."""
    from lut2rtl.netlist import table_depends_on, table_to_rows, truth_table_rows

    deps = [int(m) for m in np.flatnonzero(table_depends_on(table, k))]
    if len(deps) != 2:
        return deps, ()
    rows, out = truth_table_rows(k), table_to_rows(table, k)
    return deps, tuple(int(out[np.flatnonzero((rows[:, deps[0]] == a) & (rows[:, deps[1]] == b))[0]])
                       for b in (0, 1) for a in (0, 1))


def lut_function(init: int) -> tuple[list[int], tuple[int, ...]]:
    """:func:`gate_function` of an ``SB_LUT4`` from its ``LUT_INIT`` (pin ``I_m`` is input ``x_m``)."""
    from lut2rtl.netlist import init_to_table

    return gate_function(int(init_to_table(init, 4)), 4)


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


def bake_packed_order(net: Any) -> Any:
    """``net`` with each class's group bits in the order the iCE40 head packs them (``head_groups`` with the
    family's ``popcount_pack``), so that a build with packing off (:func:`_synth`) reads them in index order."""
    from lut2rtl.families import FAMILIES
    from lut2rtl.rtl.popcount import group_size, head_groups

    packed = head_groups(net, FAMILIES["ice40"])
    if packed is None:
        return net
    classes = int(net.group_sum.classes)
    g = group_size(net.n_outputs, classes)
    src = np.asarray(net.outputs)
    outs = src.copy()
    for c, order in enumerate(packed):
        for dst, pos in zip(sorted(order), order):
            outs[c * g + dst] = src[c * g + pos]
    return net.replace(outputs=outs)


def permute_for_cins(net: Any) -> tuple[Any, int]:
    """``net`` (in the packed order, :func:`bake_packed_order`) with each class's group reordered so that bits
    that are an AND or OR of two network inputs (after ``optimize(net, 3)``) sit at the plan's carry-in
    positions, each swapped with a bit that is neither a carry-in nor in a leaf counter whose three bits fit one
    LUT (the packing's gain stays); the number of such positions filled."""
    from lut2rtl.families import FAMILIES
    from lut2rtl.passes import optimize
    from lut2rtl.rtl.popcount import _bit_supports, class_popcounts, group_size, head_groups

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
        deps, f = gate_function(int(layer.tables[j]), layer.k)
        return f in (AND, OR) and all(int(layer.inputs[j][m]) < opt.n_inputs for m in deps)

    good = np.array([gate(int(s)) for s in np.asarray(opt.outputs)])
    sup = [b[0] for b in _bit_supports(optimize(net, 2, lut_size=4), 4)]
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
        kept = set()  # positions in a leaf whose bits fit one LUT4
        for op in pc.ops:
            if op.kind == "count":
                s3 = [sup[c * g + pos[a]] for a in op.args]
                if all(x is not None for x in s3) and len(frozenset().union(*s3)) <= 4:
                    kept.update(pos[a] for a in op.args)
        spare = [p for p in pos if p not in cins and p not in kept and good[c * g + p]]
        for dst in cins:
            if not good[c * g + dst] and spare:
                a, b = c * g + dst, c * g + spare.pop()
                outs[a], outs[b] = outs[b], outs[a]
                good[a], good[b] = good[b], good[a]
            filled += int(good[c * g + dst])
    out = net.replace(outputs=outs)
    from lut2rtl.evaluate import evaluate
    x = np.random.default_rng(0).random((512, net.n_inputs)) < 0.5
    if not np.array_equal(evaluate(out, x).counts, evaluate(net, x).counts):  # a check, kept under python -O
        raise RuntimeError("the reordered network's class counts differ from the checkpoint's")
    return out, filled


def simulate(module: dict[str, Any], words: int = 64, seed: int = 0) -> dict[tuple[str, str], np.ndarray]:
    """Random bit-parallel simulation of a synthesized iCE40 module (``SB_LUT4``, ``SB_CARRY``; flip-flops cut:
    their outputs are random, like the input ports, drawn per net id). Returns the values (``words`` x 64
    vectors) at every observation point: each output port bit and each flip-flop input pin."""
    cells = module["cells"]
    ones = np.full(words, np.uint64(0xFFFFFFFFFFFFFFFF))
    val: dict[Any, np.ndarray] = {"0": np.zeros(words, np.uint64), "1": ones, "x": np.zeros(words, np.uint64)}

    def free(bit: int) -> None:
        val[bit] = np.random.default_rng([seed, bit]).integers(0, 2**63, words, dtype=np.uint64) * np.uint64(2) \
            + np.random.default_rng([seed, bit, 1]).integers(0, 2, words, dtype=np.uint64)

    for port in module["ports"].values():
        if port["direction"] == "input":
            for b in port["bits"]:
                if isinstance(b, int):
                    free(b)
    comb, driver_of = [], {}
    for name, c in cells.items():
        if c["type"].startswith("SB_DFF"):
            free(c["connections"]["Q"][0])
        elif c["type"] in ("SB_LUT4", "SB_CARRY"):
            comb.append(name)
            driver_of[c["connections"]["O" if c["type"] == "SB_LUT4" else "CO"][0]] = name
        elif c["type"] != "$scopeinfo":  # (hierarchy names kept after flattening: no logic)
            raise ValueError(f"cell {name}: {c['type']} is not simulated here")
    done: set[str] = set()

    def ins(c: dict[str, Any]) -> list[Any]:
        return [c["connections"][p][0] for p in (("I0", "I1", "I2", "I3") if c["type"] == "SB_LUT4"
                                                  else ("I0", "I1", "CI"))]

    order, stack = [], [(n, False) for n in comb]  # depth-first topological order
    while stack:
        name, expanded = stack.pop()
        if name in done:
            continue
        if expanded:
            done.add(name)
            order.append(name)
            continue
        stack.append((name, True))
        stack.extend((driver_of[b], False) for b in ins(cells[name]) if b in driver_of and driver_of[b] not in done)
    for name in order:
        c = cells[name]
        x = [val[b] for b in ins(c)]
        if c["type"] == "SB_CARRY":
            val[c["connections"]["CO"][0]] = (x[0] & x[1]) | (x[0] & x[2]) | (x[1] & x[2])
            continue
        init = c["parameters"]["LUT_INIT"]
        init = int(init, 2) if isinstance(init, str) else int(init)
        o = np.zeros(words, np.uint64)
        for i in range(16):
            if init >> i & 1:
                term = ones
                for m in range(4):
                    term = term & (x[m] if i >> m & 1 else ~x[m])
                o |= term
        val[c["connections"]["O"][0]] = o
    seen = {(f"port {n}", str(k)): val[b] for n, p in module["ports"].items() if p["direction"] == "output"
            for k, b in enumerate(p["bits"])}
    seen.update({(f"cell {n}", pin): val[bits[0]] for n, c in cells.items() if c["type"].startswith("SB_DFF")
                 for pin, bits in c["connections"].items() if c["port_directions"][pin] == "input"})
    return seen


def mismatches(gold: dict[str, Any], gate: dict[str, Any], words: int = 64) -> int:
    """Observation points (:func:`simulate`) where the two modules differ on some vector."""
    a, b = simulate(gold, words), simulate(gate, words)
    if a.keys() != b.keys():
        raise ValueError("the two modules have different ports or flip-flops")
    return sum(int(np.any(a[k] != b[k])) for k in a)


def _synth(net: Any, out: Path, tag: str) -> dict[str, Any]:
    from lut2rtl import families
    from lut2rtl.compile import compile_netlist
    from lut2rtl.families import FAMILIES
    from lut2rtl.tools.nextpnr import find_nextpnr

    # the networks come in the head's packed order already (bake_packed_order): packing off keeps that order
    saved = families.FAMILIES["ice40"]
    families.FAMILIES["ice40"] = dataclasses.replace(saved, popcount_pack=False)
    try:
        compile_netlist(net, out / tag, target="ice40", pipeline=0)
    finally:
        families.FAMILIES["ice40"] = saved
    rep = out / f"{tag}_report"
    subprocess.run(["lut2rtl", "synth", str(out / tag), "--device", "hx8k", "--top", "harness", "-o", str(rep)],
                   check=True, stdout=subprocess.DEVNULL)
    design = json.loads((rep / "synth.json").read_text())
    (top,) = [m for m in design["modules"].values() if m.get("attributes", {}).get("top")]
    gold = copy.deepcopy(top)
    kinds = absorb(top)
    # the rewrite keeps every output and flip-flop input on 4,096 random vectors; the control (one carry-in gate's
    # constant flipped) must be caught
    if mismatches(gold, top):
        raise RuntimeError(f"{tag}: the rewritten netlist differs from Yosys's")
    made = [n for n in top["cells"] if n.startswith("cin_gate_")]
    if made:
        spoiled = copy.deepcopy(top)
        ci = spoiled["cells"][made[0]]["connections"]["CI"]
        ci[0] = "1" if ci[0] == "0" else "0"
        if not mismatches(gold, spoiled):
            raise RuntimeError(f"{tag}: the check's control (a flipped carry-in constant) was not caught")
    (rep / "absorbed.json").write_text(json.dumps(design))
    row: dict[str, Any] = {"design": tag, "absorbed": kinds["AND"] + kinds["OR"], "checked": "4096 vectors"}
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


COLUMNS = ["design", "lc", "fmax_mhz", "absorbed", "absorbed_lc", "absorbed_fmax_mhz", "checked"]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench import script_options

    if script_options("python bench/ice40_cin_gates.py OUT [CHECKPOINT]", __doc__):
        return
    if len(sys.argv) not in (2, 3):
        sys.exit("error: usage: python bench/ice40_cin_gates.py OUT [CHECKPOINT]")
    from lut2rtl.checkpoint import load_checkpoint
    from lut2rtl.errors import Lut2RtlError

    out = Path(sys.argv[1])
    if out.exists():
        sys.exit(f"error: {out} exists (give a new folder)")
    work = out.with_name(out.name + ".partial")  # renamed to OUT when every step has passed
    source = sys.argv[2] if len(sys.argv) == 3 else "examples/digits.pt"
    t0 = time.time()
    try:
        net = load_checkpoint(source)
        if net.group_sum is None:
            sys.exit("error: the network has no GroupSum, so its head has no carry-ins")
        net = bake_packed_order(net)  # the head's order: the "as_is" build equals lut2rtl's own
        perm, filled = permute_for_cins(net)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        rows = []
        for tag, n in (("as_is", net), ("reordered", perm)):
            print(f"{tag}: compile and synthesize (about a minute)", file=sys.stderr, flush=True)
            rows.append(_synth(n, work, tag))
    except (Lut2RtlError, RuntimeError, ValueError) as e:  # a tool error, or a check of the rewrite that failed
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(f"error: {e}")
    except subprocess.CalledProcessError as e:
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(f"error: {' '.join(map(str, e.cmd[:2]))} failed (exit {e.returncode})")
    table = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n" + "".join(
        "| " + " | ".join(str(r[c]) for c in COLUMNS) + " |\n" for r in rows)
    result = {"title": "iCE40: AND/OR carry-ins computed by the chain (experiment)", "checkpoint": source,
              "date": time.strftime("%Y-%m-%d"), "wall_s": round(time.time() - t0, 1), "columns": COLUMNS,
              "rows": rows, "cin_gates_after_reordering": filled,
              "notes": "hx8k, harness top, nextpnr-ice40 default router, seed 1; `lc`: ICESTORM_LC. See the module "
                       "docstring of bench/ice40_cin_gates.py."}
    (work / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (work / "RESULTS.md").write_text(f"# {result['title']}\n\n{table}\n{result['notes']}\n")
    work.rename(out)
    print(f"carry-in positions holding an AND/OR of two inputs after reordering: {filled}")
    print(table, end="")
    print(f"wrote {out}/results.json and {out}/RESULTS.md", file=sys.stderr)


if __name__ == "__main__":
    main()

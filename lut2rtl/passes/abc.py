"""A second LUT cover from ABC, and the better of it and lut2rtl's packer.

:func:`abc_cover` hands the network to ABC (through Yosys: ``read_blif``,
``techmap`` into an AND-inverter graph, ``abc -lut K`` with the script
below) and reads the K-input LUTs back. The script restructures the logic
below the granularity of the network's LUTs (``&synch2``: balancing and
rewriting with structural choices), maps with choices (``&if``) and
resynthesizes each LUT with the don't-cares of its neighbourhood
(``&mfs``), twice; then SAT-based remapping of small windows without
adding delay (``&satlut -d``). That is what lut2rtl's packer cannot do, as
it only groups whole LUTs into cones. (Measured alternatives: ``&if -a``
finds fewer LUTs but up to twice the depth; ``&dch`` instead of
``&synch2`` and a third round gave no fewer LUTs.)

:func:`best_cover` runs both and keeps ABC's cover when it has fewer LUTs
and no more LUT levels than the packer's (the pipeline's register stages
follow the LUT levels, so depth is latency), else the packer's. ABC's cover
is accepted only after the reference evaluator gives the same outputs on
random vectors; it is a synthesis step like any other, and the compiled
design is covered by ``lut2rtl verify`` (simulation and the formal proof)
as before. When Yosys is missing, fails or times out, the packer's cover is
used and the reason is logged: the compile never depends on it. Networks of
more than :data:`ABC_MAX_LUTS` LUTs are left to the packer (run time).
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from ..errors import ToolError
from ..netlist import Netlist, table_to_rows, truth_table_rows
from ._flat import CONST0, CONST1, KMAX, NO_INPUT, ONES, Flat, from_netlist, levels, to_netlist, widen

log = logging.getLogger(__name__)

__all__ = ["ABC_SCRIPT", "abc_cover", "best_cover"]

ABC_SCRIPT = ("&get -n", "&st", "&synch2", "&if -K {K}", "&mfs", "&st", "&synch2", "&if -K {K}", "&mfs",
              "&satlut -d", "&put")

# networks larger than this (after the clean-ups) are left to the packer
# alone: ABC takes a few ms per LUT here (digits_warp6 split into LUT4s, 14K
# LUTs: 42 s; a 50K-gate random network: 211 s on a busy 2-core machine,
# and no fewer LUTs than the packer)
ABC_MAX_LUTS = 20_000
# random vectors that ABC's cover must agree on before it is used
_CHECK_VECTORS = 4096


def _blif(net: Netlist) -> str:
    """The network as BLIF: one ``.names`` per LUT (its on-set rows), inputs
    ``s0..``, outputs ``o0..`` (buffers of the output signals)."""
    lines = [".model top", ".inputs " + " ".join(f"s{i}" for i in range(net.n_inputs))]
    outs = np.asarray(net.outputs).tolist()
    lines.append(".outputs " + " ".join(f"o{i}" for i in range(len(outs))))
    for l, layer in enumerate(net.layers):
        rows = table_to_rows(layer.tables, layer.k)
        pattern = ["".join("1" if b else "0" for b in r) for r in truth_table_rows(layer.k)]
        base = net.offsets[l]
        for n in range(layer.size):
            on = np.flatnonzero(rows[n]).tolist()
            if not on:  # constant 0 (a cover with inputs and no rows reads as x)
                lines.append(f".names s{base + n}")
                continue
            lines.append(".names " + " ".join(f"s{int(i)}" for i in layer.inputs[n]) + f" s{base + n}")
            lines.extend(f"{pattern[j]} 1" for j in on)
    for i, s in enumerate(outs):
        lines.append(f".names s{s} o{i}\n1 1")
    lines.append(".end")
    return "\n".join(lines) + "\n"


def _read_cover(design: dict, net: Netlist) -> Netlist:
    """ABC's ``$lut`` cells (Yosys JSON) as a netlist with ``net``'s inputs,
    outputs, GroupSum, encoder and metadata."""
    mod = design["modules"]["top"]
    n_in = net.n_inputs
    sig_of_bit: dict[object, int] = {}
    for i in range(n_in):
        (bit,) = mod["ports"][f"s{i}"]["bits"]
        sig_of_bit[bit] = i
    cells = [c for c in mod["cells"].values()]
    if any(c["type"] != "$lut" for c in cells):
        raise ToolError(f"ABC left cells other than $lut: {sorted({c['type'] for c in cells})}")
    # topological order: a cell is placed when all its inputs are known
    driver = {c["connections"]["Y"][0]: j for j, c in enumerate(cells)}
    order: list[int] = []
    placed = [False] * len(cells)
    for root in range(len(cells)):
        stack = [(root, False)]
        while stack:
            j, expanded = stack.pop()
            if placed[j]:
                continue
            if expanded:
                placed[j] = True
                order.append(j)
                continue
            stack.append((j, True))
            stack.extend((driver[b], False) for b in cells[j]["connections"]["A"]
                         if b in driver and not placed[driver[b]])
    n = len(cells)
    k = np.zeros(n, dtype=np.int64)
    fanin = np.full((n, KMAX), NO_INPUT, dtype=np.int64)
    tt = np.zeros(n, dtype=np.uint64)
    raw = np.zeros(n, dtype=np.uint64)  # 2^k-bit position tables
    for pos, j in enumerate(order):
        sig_of_bit[cells[j]["connections"]["Y"][0]] = n_in + pos
    for pos, j in enumerate(order):
        cell = cells[j]
        ins = cell["connections"]["A"]
        width = len(ins)
        if width > KMAX or any(b in ("0", "1", "x") for b in ins):
            raise ToolError("ABC returned a LUT wider than 6 inputs or with a constant input")
        bits = cell["parameters"]["LUT"]  # MSB first: bit p is the output for A = p
        raw[pos] = int(bits[-(1 << width):], 2) if width else int(bits[-1])
        k[pos] = width
        fanin[pos, :width] = [sig_of_bit[b] for b in ins]
    for width in range(KMAX + 1):
        sel = k == width
        if width == 0:  # a constant LUT
            tt[sel] = np.where(raw[sel] != 0, ONES, np.uint64(0))
        elif sel.any():
            tt[sel] = widen(raw[sel], width)
    outputs = []
    for i in range(net.n_outputs):
        (bit,) = mod["ports"][f"o{i}"]["bits"]
        if bit not in ("0", "1") and bit not in sig_of_bit:
            raise ToolError(f"ABC's cover leaves output {i} undefined")
        outputs.append(CONST0 if bit == "0" else CONST1 if bit == "1" else sig_of_bit[bit])
    # groups: LUT levels (a node reads inputs and nodes of lower levels only)
    level = np.zeros(n_in + n, dtype=np.int64)
    for pos in range(n):
        f = fanin[pos, : k[pos]]
        level[n_in + pos] = 1 + (int(level[f].max()) if f.size else 0)
    by_level = np.argsort(level[n_in:], kind="stable")
    new_id = np.arange(n_in + n, dtype=np.int64)
    new_id[n_in + by_level] = n_in + np.arange(n)
    fanin = np.where(fanin >= 0, new_id[np.maximum(fanin, 0)], NO_INPUT)[by_level]
    out = np.asarray(outputs, dtype=np.int64)
    out = np.where(out >= 0, new_id[np.maximum(out, 0)], out)
    flat = Flat(n_inputs=n_in, k=k[by_level], fanin=fanin, tt=tt[by_level], group=level[n_in:][by_level],
                outputs=out, alive=np.ones(n, dtype=bool))
    return to_netlist(flat, net)


def abc_cover(net: Netlist, lut_size: int, *, timeout: float | None = 600.0) -> Netlist:
    """ABC's ``lut_size``-input LUT cover of ``net`` (see the module docstring).

    Raises :class:`ToolError` when Yosys is missing, fails or times out."""
    from ..tools.yosys import run_yosys

    with tempfile.TemporaryDirectory(prefix="lut2rtl-abc-") as tmp:
        work = Path(tmp)
        (work / "net.blif").write_text(_blif(net))
        (work / "map.abc").write_text("\n".join(ABC_SCRIPT).format(K=lut_size) + "\n")
        script = ["read_blif net.blif", "hierarchy -top top", "techmap", "opt -fast",
                  f"abc -lut {lut_size} -script map.abc", "opt_clean", "write_json cover.json"]
        run_yosys("\n".join(script), cwd=work, log_file="abc.log", timeout=timeout)
        design = json.loads((work / "cover.json").read_text())
    return _read_cover(design, net)


def _depth(net: Netlist) -> int:
    lv = levels(from_netlist(net))
    return int(lv.max(initial=0))


def _same_function(a: Netlist, b: Netlist, vectors: int = _CHECK_VECTORS) -> bool:
    from ..evaluate import evaluate

    x = np.random.default_rng(0).integers(0, 2, (vectors, a.n_inputs)).astype(bool)
    return bool(np.array_equal(evaluate(a, x).out_bits, evaluate(b, x).out_bits))


def best_cover(net: Netlist, lut_size: int, *, max_luts: int = ABC_MAX_LUTS) -> Netlist:
    """The packer's cover of ``net`` or ABC's, whichever has fewer LUTs
    without more LUT levels (see the module docstring). ABC is not run on
    networks of more than ``max_luts`` LUTs (its run time grows with them)."""
    from . import drop_unused_inputs, merge_duplicates, remove_dead
    from .pack import pack_luts

    ours = remove_dead(merge_duplicates(drop_unused_inputs(pack_luts(net, lut_size=lut_size))))
    if net.n_luts > max_luts:
        log.info("ABC cover skipped: %d LUTs > %d; using the packer's", net.n_luts, max_luts)
        return ours
    try:
        theirs = abc_cover(net, lut_size)
    except (ToolError, OSError, ValueError, KeyError) as e:
        log.warning("ABC cover skipped (%s); using the packer's", str(e).splitlines()[0] if str(e) else e)
        return ours
    if theirs.n_luts >= ours.n_luts or _depth(theirs) > _depth(ours):
        log.info("LUT cover: the packer's (%d LUTs; ABC's %d)", ours.n_luts, theirs.n_luts)
        return ours
    if not _same_function(net, theirs):
        log.error("ABC's cover differs from the network on random inputs; using the packer's")
        return ours
    log.info("LUT cover: ABC's (%d LUTs; the packer's %d)", theirs.n_luts, ours.n_luts)
    return theirs

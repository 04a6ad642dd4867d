"""LUT-level cut points for the formal proof of large networks.

The design is built from the optimized netlist, not from ``netlist.pt``, so
its LUTs are not the source's LUTs one for one; but most of them compute a
signal the source also computes (the optimizer keeps, merges or packs
LUTs). :func:`lut_cut_names` finds those pairs by *random simulation*:

- Yosys reads the design (primitives as black boxes) and writes its netlist;
  each LUT primitive is evaluated on 256 random input vectors from its
  ``INIT`` (``O = INIT[{I_{n-1}..I_0}]``), registers taken as wires;
- the source netlist is evaluated on the same vectors, every signal;
- a design LUT output wire with a single name, whose 256-bit signature is
  neither constant nor shared with another design wire, is paired with a
  source signal of the same signature.

The pairs are only *names* given to the reference's wires (a
:class:`~lut2rtl.verify.reference.NameHint`); the proof
(:func:`lut2rtl.verify.formal.prove_equivalence`, ``cut`` strategy) cuts
both circuits at every named wire and proves each cut wire's driver, and
every output, equal for all values of all cut wires. That proves the designs
equal (module docstring of :mod:`.formal`); a pair that is wrong (equal
signatures, different functions) makes the proof fail, never pass. So
neither the random simulation nor this reading of ``INIT`` is trusted: they
only choose where to cut. With a cut at (almost) every LUT, each step of the
proof is a LUT-sized problem that ABC's fraiging settles locally, instead of
one SAT problem over the whole fabric.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ..buildfolder import data_input
from ..families import Family
from ..netlist import Netlist, table_to_rows
from ..tools.yosys import run_yosys
from .primitives import instantiated_modules, primitive_library

log = logging.getLogger(__name__)

__all__ = ["SAMPLES", "lut_cut_names", "source_signatures"]

SAMPLES = 256  # random vectors per signature (Python ints of this many bits)
_MASK = (1 << SAMPLES) - 1


def _random_inputs(n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 1 << 63, size=(n, SAMPLES // 63 + 1), dtype=np.int64)
    out = []
    for row in words.tolist():
        v = 0
        for w in row:
            v = (v << 63) | int(w)
        out.append(v & _MASK)
    return out


def source_signatures(net: Netlist, inputs: list[int]) -> list[int]:
    """Signature (a ``SAMPLES``-bit int) of every signal of ``net`` on ``inputs``."""
    sig = list(inputs)
    for layer in net.layers:
        rows = table_to_rows(layer.tables, layer.k)  # [n, 2^k], row j = {x_0 (msb) .. x_{k-1}}
        for n in range(layer.size):
            xs = [sig[int(i)] for i in layer.inputs[n]]
            out = 0
            for j in np.flatnonzero(rows[n]).tolist():
                term = _MASK
                for m, x in enumerate(xs):
                    term &= x if (j >> (layer.k - 1 - m)) & 1 else ~x
                out |= term
            sig.append(out & _MASK)
    return sig


def _design_json(top: str, family: Family | None, work: Path, timeout: float | None) -> dict:
    text = (work / "design.v").read_text(errors="replace")
    reads = []
    if family is not None and family.primitive is not None:
        (work / "prims_lib.v").write_text(primitive_library(family, instantiated_modules(text)))
        reads.append("read_verilog -lib -DNO_INCLUDES prims_lib.v")
    script = [*reads, "read_verilog design.v", f"hierarchy -check -top {top}", "proc", "flatten", "opt_clean",
              "write_json luts.json"]
    run_yosys("\n".join(script), cwd=work, log_file="luts.log", timeout=timeout)
    data = json.loads((work / "luts.json").read_text())
    return data["modules"][top]


def _lut_cells(family: Family) -> tuple[set[str], str, tuple[str, ...], str]:
    assert family.primitive is not None
    names = {family.primitive_name(k) for k in range(1, family.lut_size + 1)} if family.per_k \
        else {family.primitive}
    return names, family.init_param, family.input_ports, family.output_port


def lut_cut_names(net: Netlist, top: str, family: Family | None, work: Path, *,
                  timeout: float | None = None, seed: int = 0) -> dict[int, str]:
    """Source signal id -> the design wire it is paired with (see the module docstring).

    ``work`` holds ``design.v``. Empty for plain-logic designs (no LUT primitives)."""
    if family is None or family.primitive is None:
        return {}
    mod = _design_json(top, family, work, timeout)
    lut_types, init_param, in_ports, out_port = _lut_cells(family)
    inputs = _random_inputs(net.n_inputs, seed)
    value: dict[object, int] = {"0": 0, "1": _MASK}
    for i, b in enumerate(mod["ports"][data_input(mod["ports"])]["bits"]):
        value[b] = inputs[i]
    driver: dict[int, tuple[str, int]] = {}
    cells = mod["cells"]
    for name, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            if dirs.get(port) == "output" or port == "Q":
                for i, b in enumerate(bits):
                    if isinstance(b, int):
                        driver[b] = (name, i)

    def evaluate(root: int) -> int | None:
        # iterative: LUT cells and D flip-flops (as wires) only; anything else is unknown
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            bit, ready = stack.pop()
            if bit in value:
                continue
            if not isinstance(bit, int) or bit not in driver:
                value[bit] = -1  # x, z or undriven: unknown
                continue
            cell, i = driver[bit]
            c = cells[cell]
            if c["type"] == "$dff":
                srcs = [c["connections"]["D"][i]]
            elif c["type"] in lut_types:
                srcs = [c["connections"][p][0] for p in in_ports if p in c["connections"]]
            else:
                value[bit] = -1
                continue
            if not ready:
                stack.append((bit, True))
                stack.extend((s, False) for s in srcs if s not in value)
                continue
            vals = [value[s] for s in srcs]
            if any(v < 0 for v in vals):
                value[bit] = -1
            elif c["type"] == "$dff":
                value[bit] = vals[0]
            else:
                init = c["parameters"][init_param]
                if isinstance(init, int):
                    init = format(init, "b")
                bits = [int(ch) for ch in reversed(init)]  # JSON: most significant bit first
                out = 0
                for row, on in enumerate(bits):
                    if not on or row >= 1 << len(vals):
                        continue
                    term = _MASK
                    for m, x in enumerate(vals):
                        term &= x if (row >> m) & 1 else ~x
                    out |= term
                value[bit] = out & _MASK
        return value[root] if value[root] >= 0 else None

    names_of: dict[int, list[str]] = {}
    for name, nn in mod["netnames"].items():
        if nn.get("hide_name"):
            continue
        for b in nn["bits"]:
            if isinstance(b, int):
                names_of.setdefault(b, []).append(name if len(nn["bits"]) == 1 else "")
    design_sig: dict[int, str] = {}  # signature -> wire name (one name, one net)
    dup: set[int] = set()
    for cell in cells.values():
        if cell["type"] not in lut_types:
            continue
        b = cell["connections"][out_port][0]
        names = names_of.get(b, [])
        # a net with several names (a port alias, a slice of a vector) is not cut: expose -cut
        # would cut one alias and leave the readers of the others uncut
        if len(names) != 1 or not names[0]:
            continue
        s = evaluate(b)
        if s is None or s in (0, _MASK):
            continue
        if s in design_sig:
            dup.add(s)
        design_sig[s] = names[0]
    src = source_signatures(net, inputs)
    # a function the source computes twice is not cut at all: the design computes it once, and
    # readers of the uncut copy would see a different value than readers of the cut one
    seen: set[int] = set()
    for s in src[net.n_inputs:]:
        if s in seen:
            dup.add(s)
        seen.add(s)
    taken: set[int] = set()
    out: dict[int, str] = {}
    outputs = set(np.asarray(net.outputs).tolist())
    for i in range(net.n_inputs, len(src)):
        s = src[i]
        if s in dup or s in taken or i in outputs:
            continue
        name = design_sig.get(s)
        if name is not None:
            out[i] = name
            taken.add(s)
    log.info("formal: %d of %d source LUTs paired with design wires as cut points", len(out),
             len(src) - net.n_inputs)
    return out

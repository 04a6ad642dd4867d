"""A stand-in build folder (the hardware contract's layout) written by a tiny
Verilog text writer, so the synthesis flow and the board top can be tested
without `lut2rtl.compile`. When the real compiler is importable, the
fixtures use it instead (:func:`make_build`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from lut2rtl.checkpoint import save_checkpoint
from lut2rtl.evaluate import evaluate
from lut2rtl.netlist import Netlist, table_to_rows


def standin_verilog(net: Netlist, name: str, pipeline: int) -> str:
    """Plain Verilog of the contract's ports: LUTs as indexed constants,
    GroupSum as a sum of bits, argmax with ties to the lowest class, and
    ``pipeline`` output register stages (the contract's timing)."""
    n_in, n_sig = net.n_inputs, net.n_signals
    gs = net.group_sum
    lines = [f"module {name}(input clk, input rst, input in_valid, input [{n_in - 1}:0] in_bits,",
             "  output out_valid"]
    if gs is not None:
        group = net.n_outputs // gs.classes
        cw, clw = group.bit_length(), max(1, (gs.classes - 1).bit_length())
        lines[-1] += f", output [{clw - 1}:0] out_class, output [{gs.classes * cw - 1}:0] out_counts);"
    else:
        lines[-1] += f", output [{net.n_outputs - 1}:0] out_bits);"
    lines.append(f"  wire [{n_sig - 1}:0] s;")
    lines.append(f"  assign s[{n_in - 1}:0] = in_bits;")
    for l, layer in enumerate(net.layers):
        rows = table_to_rows(layer.tables, layer.k)  # [n, 2^k]: output of row j
        for i in range(layer.size):
            sid = net.offsets[l] + i
            lit = "".join(str(int(b)) for b in rows[i][::-1])  # bit j = row j
            sel = ", ".join(f"s[{int(x)}]" for x in layer.inputs[i])
            lines.append(f"  wire [{(1 << layer.k) - 1}:0] t{sid} = {1 << layer.k}'b{lit};")
            lines.append(f"  assign s[{sid}] = t{sid}[{{{sel}}}];")
    outs = [int(o) for o in net.outputs]
    if gs is not None:
        lines.append(f"  reg [{cw - 1}:0] cnt [0:{gs.classes - 1}];")
        lines.append(f"  reg [{clw - 1}:0] cls; reg [{cw - 1}:0] best; integer c;")
        lines.append("  always @* begin")
        for c in range(gs.classes):
            terms = " + ".join(f"{cw}'(s[{o}])" for o in outs[c * group:(c + 1) * group])
            lines.append(f"    cnt[{c}] = {terms};")
        lines.append("    cls = 0; best = cnt[0];")
        lines.append(f"    for (c = 1; c < {gs.classes}; c = c + 1) if (cnt[c] > best) begin best = cnt[c]; "
                     f"cls = c[{clw - 1}:0]; end")
        lines.append("  end")
        payload = ["cls"] + [f"cnt[{c}]" for c in reversed(range(gs.classes))]
        width = clw + gs.classes * cw
    else:
        payload = [f"s[{o}]" for o in reversed(outs)]
        width = net.n_outputs
    lines.append(f"  wire [{width}:0] p0 = {{in_valid, {', '.join(payload)}}};")
    for st in range(1, pipeline + 1):
        lines.append(f"  reg [{width}:0] p{st};")
        lines.append(f"  always @(posedge clk) p{st} <= rst ? {width + 1}'d0 : p{st - 1};")
    last = f"p{pipeline}"
    lines.append(f"  assign out_valid = {last}[{width}];")
    if gs is not None:
        lines.append(f"  assign out_class = {last}[{width - 1}:{width - clw}];")
        lines.append(f"  assign out_counts = {last}[{gs.classes * cw - 1}:0];")
    else:
        lines.append(f"  assign out_bits = {last}[{width - 1}:0];")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def write_standin_build(net: Netlist, out_dir: Path, *, name: str = "core", pipeline: int = 0,
                        n_vectors: int = 64) -> Path:
    """Write a build folder for ``net`` following the hardware contract."""
    out_dir.mkdir(parents=True)
    (out_dir / f"{name}.v").write_text(standin_verilog(net, name, pipeline))
    save_checkpoint(net, out_dir / "netlist.pt")
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(n_vectors, net.n_inputs), dtype=np.uint8)
    r = evaluate(net, bits.astype(bool))
    vec: dict[str, Any] = {"in_bits": bits, "out_bits": r.out_bits.astype(np.uint8)}
    gs = net.group_sum
    ports: dict[str, Any] = {"clk": {"dir": "in", "width": 1}, "rst": {"dir": "in", "width": 1},
                             "in_valid": {"dir": "in", "width": 1},
                             "in_bits": {"dir": "in", "width": net.n_inputs},
                             "out_valid": {"dir": "out", "width": 1}}
    if gs is not None:
        group = net.n_outputs // gs.classes
        cw, clw = group.bit_length(), max(1, (gs.classes - 1).bit_length())
        ports["out_class"] = {"dir": "out", "width": clw}
        ports["out_counts"] = {"dir": "out", "width": gs.classes * cw}
        vec["counts"] = r.counts.astype(np.int64)
        vec["out_class"] = r.pred.astype(np.int64)
    else:
        ports["out_bits"] = {"dir": "out", "width": net.n_outputs}
        cw = clw = 0
    np.savez(out_dir / "vectors.npz", **vec)
    manifest = {
        "name": name, "top": name, "target": "generic", "pipeline": pipeline, "latency": pipeline, "opt": 0,
        "n_inputs": net.n_inputs, "n_outputs": net.n_outputs, "classes": None if gs is None else gs.classes,
        "count_width": cw or None, "class_width": clw or None, "out_bits": gs is None, "ports": ports,
        "files": {"verilog": f"{name}.v", "vectors": "vectors.npz", "netlist": "netlist.pt"},
        "primitives": None, "checkpoint_sha256": "", "lut2rtl_version": "standin",
        "estimate": {"luts": net.n_luts, "ffs": 0, "popcount_luts": 0}, "options": {},
    }
    (out_dir / f"{name}.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return out_dir


def make_build(net: Netlist, out_dir: Path, *, name: str = "core", pipeline: int = 0,
               target: str = "generic") -> Path:
    """A build folder from the real compiler when it exists, else the stand-in
    (``LUT2RTL_TEST_STANDIN=1`` forces the stand-in)."""
    try:
        from lut2rtl.compile import compile_netlist
    except ImportError:
        compile_netlist = None
    if compile_netlist is None or os.environ.get("LUT2RTL_TEST_STANDIN") == "1":
        return write_standin_build(net, out_dir, name=name, pipeline=pipeline)
    return compile_netlist(net, out_dir, target=target, pipeline=pipeline, name=name).out_dir

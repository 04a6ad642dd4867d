"""Test helper: simulate a compiled build folder with Verilator and a small C++ testbench."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

from lut2rtl.families import get_family
from lut2rtl.tools.verilator import find_verilator, verilator_env
from lut2rtl.verify.simulate import verilator_sources

_TB = r"""
#include "V{top}.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

static unsigned hexval(char c) {{ return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }}

template <typename W> static void set_wide(W& w, int nwords, const std::string& hex) {{
  for (int i = 0; i < nwords; i++) w[i] = 0;
  int n = (int)hex.size();
  for (int d = 0; d < n; d++) {{  // d-th hex digit from the right
    unsigned v = hexval(hex[n - 1 - d]);
    if (d / 8 < nwords) w[d / 8] |= v << (4 * (d % 8));
  }}
}}

int main(int argc, char** argv) {{
  Verilated::commandArgs(argc, argv);
  V{top}* top = new V{top};
  top->clk = 0; top->rst = 1; top->in_valid = 0; top->eval();
  top->clk = 1; top->eval(); top->clk = 0; top->rst = 0; top->eval();
  std::string valid, hex;
  while (std::cin >> valid >> hex) {{
    top->in_valid = valid == "1";
    {set_in}
    top->eval();
    if ({latency} > 0) {{ top->clk = 1; top->eval(); }}
    {print_out}
    printf("\n");
    if ({latency} > 0) {{ top->clk = 0; top->eval(); }}
  }}
  delete top;
  return 0;
}}
"""


def _set_in(width: int) -> str:
    if width <= 64:
        return "top->in_bits = strtoull(hex.c_str(), nullptr, 16);"
    return f"set_wide(top->in_bits, {(width + 31) // 32}, hex);"


def _print(port: str, width: int) -> str:
    if width <= 64:
        return f'printf("{port}=%llx ", (unsigned long long)top->{port});'
    words = (width + 31) // 32
    return (f'printf("{port}="); for (int i = {words - 1}; i >= 0; i--) printf("%08x", top->{port}[i]); '
            f'printf(" ");')


def build_sim(folder: Path, work: Path) -> Path:
    """Build a Verilator executable for a build folder; returns its path."""
    man = json.loads((folder / f"{_top(folder)}.json").read_text())
    top = man["top"]
    outs = [(p, v["width"]) for p, v in man["ports"].items() if v["dir"] == "out"]
    tb = _TB.format(top=top, latency=man["latency"], set_in=_set_in(man["ports"]["in_bits"]["width"]),
                    print_out=" ".join(_print(p, w) for p, w in outs))
    work.mkdir(parents=True, exist_ok=True)
    (work / "tb.cpp").write_text(tb)
    files, flags = verilator_sources(get_family(man["target"]))
    cmd = [find_verilator(), "--cc", "--exe", "--build", "-j", "2", "-Wno-fatal", *flags,
           *map(str, files), str((folder / man["files"]["verilog"]).resolve()), str(work / "tb.cpp"),
           "--top-module", top, "-o", "sim", "--Mdir", str(work / "obj"), "-CFLAGS", "-O1"]
    env = {**os.environ, **verilator_env()}
    r = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=env, timeout=600)
    if r.returncode:
        raise RuntimeError(f"verilator build failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return work / "obj" / "sim"


def _top(folder: Path) -> str:
    js = [p for p in folder.glob("*.json")]
    assert len(js) == 1, js
    return js[0].stem


def run_sim(exe: Path, in_bits: np.ndarray, latency: int, *, gaps: bool = True) -> dict[str, list[int]]:
    """Stream vectors (idle cycles between some), return outputs seen with out_valid,
    plus ``cycle``: output cycle minus input cycle + 1 (== latency when correct)."""
    lines, presented = [], []
    for i, row in enumerate(np.asarray(in_bits, dtype=bool)):
        if gaps and i % 3 == 1:
            lines.append("0 5a5a")
        presented.append(len(lines))
        v = int("".join("1" if b else "0" for b in row[::-1]) or "0", 2)
        lines.append(f"1 {v:x}")
    lines += ["0 0"] * (latency + 1)
    r = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(f"simulation failed: {r.stderr[-2000:]}")
    got: dict[str, list[int]] = {"cycle": []}
    for t, line in enumerate(r.stdout.splitlines()):
        vals = dict(kv.split("=") for kv in line.split())
        if int(vals["out_valid"], 16):
            for k, v in vals.items():
                got.setdefault(k, []).append(int(v, 16))
            got["cycle"].append(t - presented[len(got["cycle"])] + (1 if latency else 0))
    return got

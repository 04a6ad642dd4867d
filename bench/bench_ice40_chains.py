"""iCE40 popcount: explicit carry chains with shared feed cells, against the lower bound.

An experiment for the GroupSum head (not yet what ``lut2rtl compile`` builds).
One class of ``N`` bits, the tree the head built until 2026-12-05 (3:2 leaf
counters, then a balanced tree of adders that each absorb one group bit as
carry-in; the head now searches its tree, rtl/popcount.py: 173 cells for
this class), written four ways as Verilog:

- ``behavioural``: one ``sum()`` (Yosys builds its own compressor);
- ``tree``: one ``+`` per adder with ``keep`` (what the head built;
  nextpnr adds a feed-in cell for each carry-in from logic and a feed-out cell
  for each carry-out read by logic);
- ``chains``: the same adders as explicit ``SB_LUT4`` + ``SB_CARRY`` cells, one
  chain per adder, feed cells written out (no row: it packed like ``tree`` in a first run and did not route);
- ``shared cap C``: the adders of one tree level concatenated into chains of at
  most ``C`` cells (0: unlimited); between two adders one cell passes the lower
  adder's carry-out through its LUT (its feed-out) while its ``SB_CARRY``
  (``I0 = I1 = cin``: ``CO = cin``) starts the next adder (its feed-in), so an
  adder costs its width plus one cell instead of plus two. The carry path
  through that cell is false but static timing sees it, hence the cap.

Finding (2026-12-02): the shared feed cells pack into 10 % fewer logic cells
than the tree, but nextpnr-ice40's default router (``router1``) does not
converge on them (about 360 nets stay overused; not finished in 120 s, where
the tree routes in 5 s; the one-chain-per-adder design did not route in 11
minutes either, because of its chain-start cells ``SB_CARRY(c, c, 0)``:
without them nextpnr inserts its own feed-ins and it routes at 96 MHz).
Finding (2026-12-04): ``--router router2`` routes every shared design in
seconds. The cost is speed: static timing follows the carry through the
shared cells (a false path: their carry-out is their ``I0 = I1`` input), so
the longer the chains, the lower the Fmax (table: ``fmax_router2_mhz``).
Against the tree (93.7 MHz, 177 cells): cap 9 saves 6 % of the cells for
16 % of the Fmax (78.6 MHz), cap 13 8 % for 24 % (70.9 MHz), no cap 10 % for
35 % (60.7 MHz). The head does not build them: at every cap the speed lost
is larger than the cells saved, and they would need ``router2``.

Each design is checked against ``popcount(x)`` before it is measured: Yosys
``eval`` of the flattened design (Yosys's ``SB_LUT4``/``SB_CARRY`` simulation
models) on all-zeros, all-ones and random vectors; a negative control flips one
LUT_INIT bit of a chain cell and must be caught. Measured: Yosys
``synth_ice40`` ``stat`` (SB_LUT4, SB_CARRY), nextpnr ``--pack-only`` logic
cells of the combinational design, and nextpnr place-and-route Fmax (hx8k,
seed 1) of the design between a serial-in shift register and output registers.

``bound`` is a lower bound on logic cells for a compressor tree of weighted
bits built from 3:2 LUT counters and adders on the carry chain (a 4:3 counter
of three LUT4s does better at 4 bits; :func:`legal_bound`, an integer program
that has it and nextpnr's feed cells, is the sharper bound): a cell either reads at most
two bits of one column into the chain plus the carry-in, or is a LUT; bits of
column 0 can only leave through a LUT counter (a 3:2 counter: two cells for
two bits) or a chain position whose carry-in is a bit too (which needs a feed
cell, so again two cells for two bits, or one cell for one with a constant
carry-in), so column 0 costs at least one cell per removed bit (``N - 1``);
column ``j >= 1`` receives ``floor(N / 2**j)`` bits and a chain position removes
at most two of them, so it costs at least ``ceil((floor(N / 2**j) - 1) / 2)``.
"""

from __future__ import annotations

import math
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "iCE40 popcount: shared-feed carry chains vs the head's adder tree (one class, experiment)"
N = 100
CAPS = (9, 13, 0)
PNR_TIMEOUT = 90  # seconds
COLUMNS = ["design", "sb_lut4", "sb_carry", "lc", "lc_per_bit", "ratio_vs_tree", "fmax_mhz", "fmax_router2_mhz",
           "note", "checked", "seconds"]


def _init(fn: Any) -> int:
    """SB_LUT4 LUT_INIT of ``fn(x)`` over the inputs x[:, 0..3] (I0..I3), through the netlist's truth-table encoding."""
    from lut2rtl.netlist import rows_to_table, table_to_init, truth_table_rows

    return int(table_to_init(rows_to_table(fn(truth_table_rows(4))), 4))


XOR3 = _init(lambda x: x[:, 1] ^ x[:, 2] ^ x[:, 3])  # the sum bit of a chain position
PASS3 = _init(lambda x: x[:, 3])  # a feed-out: the carry-in through the LUT


def lower_bound(n: int) -> int:
    """Logic cells any weighted-bit compressor tree needs for an ``n``-bit popcount (module docstring)."""
    cells, j = n - 1, 1
    while n >> j:
        cells += -(-((n >> j) - 1) // 2)
        j += 1
    return cells


def legal_bound(n: int, feed_in: float = 1.0, pass_out: float = 1.0) -> int:
    """Logic cells the cheapest weighted-bit compressor needs for an ``n``-bit popcount once nextpnr-ice40
    legalises its chains (module docstring: ``bound`` ignores the feed cells). An integer program over
    counts of operations (``scipy.optimize.milp``; scipy comes with scikit-learn): a LUT counter of at most
    four bits over at most three columns (one cell per output bit), or a chain over columns ``s..e`` whose
    positions read one or two bits of their column, a carry-in bit at ``s`` (a feed-in cell, ``feed_in``) or
    none, and a carry-out into column ``e + 1`` (a pass-out cell, ``pass_out``: every reader of a carry-out
    that is not the next carry-in needs one; none past the top column, where the carry is 0). Every column
    ends with at most one bit. The program ignores the order of the operations, so it is a lower bound; the
    head's searched trees come within 3 cells of it (tests/rtl/test_groupsum.py). With ``feed_in = pass_out
    = 0.5`` it bounds ECP5's ``CCU2C`` chains in LUT4s: there one half passes a carry-out to logic and
    takes a carry-in from it, so such a half serves at most one of each."""
    import itertools

    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    top = max(n.bit_length() - 1, 0)
    cols = top + 2
    ops: list[tuple[float, list[int]]] = []  # (cells, change of each column's bit count)
    for ins in itertools.product(range(5), repeat=3):  # LUT counters: bits read from columns j, j+1, j+2
        if not 2 <= sum(ins) <= 4:
            continue
        low = next(i for i, k in enumerate(ins) if k)
        outs = (sum(k << i for i, k in enumerate(ins))).bit_length() - low
        if outs >= sum(ins):
            continue  # removes nothing
        for j in range(cols - low - outs + 1):
            d = [0] * cols
            for i, k in enumerate(ins):
                if j + i < cols:
                    d[j + i] -= k
            for i in range(outs):
                d[j + low + i] += 1
            if j + 2 < cols or not ins[2]:
                ops.append((outs, d))
    for s in range(cols - 1):
        for length in range(1, cols - s):
            for pat in itertools.product((1, 2), repeat=length):
                for cin in (0, 1):
                    d = [0] * cols
                    for i, p in enumerate(pat):
                        d[s + i] -= p - 1
                    d[s] -= cin
                    out = s + length <= top
                    if out:
                        d[s + length] += 1
                    ops.append((length + cin * feed_in + out * pass_out, d))
    a = np.array([d for _, d in ops], dtype=float).T
    start = np.zeros(cols)
    start[0] = n
    hi = np.array([1.0] * (top + 1) + [0.0]) - start
    res = milp(np.array([c for c, _ in ops], dtype=float), constraints=LinearConstraint(a, -start, hi),
               integrality=np.ones(len(ops)), bounds=Bounds(0, np.inf))
    if not res.success:
        raise RuntimeError(f"the integer program for {n} bits has no solution: {res.message}")
    return math.ceil(res.fun - 1e-6)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.n = 0

    def fresh(self, p: str) -> str:
        self.n += 1
        return f"{p}{self.n}"

    def wire(self, width: int = 1, keep: bool = False) -> str:
        name = self.fresh("w")
        self.lines.append(f"  {'(* keep *) ' if keep else ''}wire [{width - 1}:0] {name};")
        return name

    def lut(self, init: int, i1: str, i2: str, i3: str, o: str) -> None:
        self.lines.append(f"  SB_LUT4 #(.LUT_INIT(16'h{init:04x})) {self.fresh('lut')} "
                          f"(.I0(1'b0), .I1({i1}), .I2({i2}), .I3({i3}), .O({o}));")

    def carry(self, i0: str, i1: str, ci: str) -> str:
        co = self.wire()
        self.lines.append(f"  SB_CARRY {self.fresh('cy')} (.I0({i0}), .I1({i1}), .CI({ci}), .CO({co}));")
        return co


def popcount_verilog(n: int, style: str, cap: int = 0) -> str:
    """Module ``pc(input [n-1:0] x, output [w-1:0] y)`` in ``style`` (module docstring)."""
    ow = n.bit_length()
    if style == "behavioural":
        return (f"module pc(input [{n - 1}:0] x, output [{ow - 1}:0] y);\n  integer i; reg [{ow - 1}:0] s;\n"
                f"  always @* begin s = 0; for (i = 0; i < {n}; i = i + 1) s = s + x[i]; end\n"
                "  assign y = s;\nendmodule\n")
    w = _Writer()
    n_leaves = max(1, (n + 1) // 4)
    vals = []  # (wire, width, max)
    for i in range(n_leaves):
        s = w.wire(2, keep=True)
        w.lines.append(f"  assign {s} = x[{3 * i}] + x[{3 * i + 1}] + x[{3 * i + 2}];")
        vals.append((s, 2, 3))
    spare = [f"x[{k}]" for k in range(3 * n_leaves, n)]
    while len(vals) > 1 or spare:
        if len(vals) == 1:  # group bits left over: one more adder, vals[0] + 0 + bit
            vals.append(("{1'b0}", 0, 0))
        adders, nxt = [], []
        for i in range(0, len(vals) - 1, 2):
            a, b = vals[i], vals[i + 1]
            c = spare.pop() if spare else "1'b0"
            mx = a[2] + b[2] + (c != "1'b0")
            s = w.wire(mx.bit_length(), keep=True)
            adders.append((s, mx.bit_length(), a, b, c))
            nxt.append((s, mx.bit_length(), mx))
        if len(vals) % 2:
            nxt.append(vals[-1])
        if style == "tree":
            for s, _, a, b, c in adders:
                w.lines.append(f"  assign {s} = {a[0]} + {b[0]} + {c};")
        else:
            _chains(w, adders, cap if style == "shared" else 1)
        vals = nxt
    body = "\n".join(w.lines)
    return f"module pc(input [{n - 1}:0] x, output [{ow - 1}:0] y);\n{body}\n  assign y = {vals[0][0]};\nendmodule\n"


def _chains(w: _Writer, adders: list, cap: int) -> None:
    """Adders as explicit cells; consecutive adders share a feed cell while the chain stays within ``cap``
    cells (cap 1: every adder alone; 0: no limit)."""
    pending: tuple[str, str] | None = None  # (MSB wire bit, carry) of the last adder, not yet fed out
    run = 0
    for s, width, a, b, c in adders:
        positions = min(width, max(a[1], b[1]))  # the top bit is the carry-out unless the sum fits
        if pending is not None and (cap == 0 or run + positions + 1 <= cap) and cap != 1:
            msb, co = pending
            w.lut(PASS3, c, c, co, msb)  # feed-out of the last adder ...
            ci = w.carry(c, c, co)  # ... and feed-in of this one: CO = maj(c, c, CI) = c
        else:
            if pending is not None:
                msb, co = pending
                w.lut(PASS3, "1'b0", "1'b0", co, msb)
            ci = w.carry(c, c, "1'b0")
            run = 0
        for p in range(positions):
            ab = f"{a[0]}[{p}]" if p < a[1] else "1'b0"
            bb = f"{b[0]}[{p}]" if p < b[1] else "1'b0"
            w.lut(XOR3, ab, bb, ci, f"{s}[{p}]")
            ci = w.carry(ab, bb, ci)
        run += positions + 1
        pending = (f"{s}[{positions}]", ci) if positions < width else None
    if pending is not None:
        msb, co = pending
        w.lut(PASS3, "1'b0", "1'b0", co, msb)


def _registered(text: str, n: int) -> str:
    """The design between registers: a serial-in shift register (one input pin) and registered outputs."""
    ow = n.bit_length()
    return text.replace("module pc(", "module pc_core(") + (
        f"module pc(input clk, input din, output reg [{ow - 1}:0] y);\n"
        f"  reg [{n - 1}:0] x; wire [{ow - 1}:0] yy;\n  pc_core u(.x(x), .y(yy));\n"
        f"  always @(posedge clk) begin x <= {{x[{n - 2}:0], din}}; y <= yy; end\nendmodule\n")


def check(text: str, n: int, work: Path, vectors: int = 64, seed: int = 0) -> int:
    """Mismatches of the design against popcount on all-zeros, all-ones and random vectors (Yosys eval)."""
    from lut2rtl.families import get_family
    from lut2rtl.tools.yosys import run_yosys
    from lut2rtl.verify.primitives import primitive_library

    rng = random.Random(seed)
    xs = [0, (1 << n) - 1] + [rng.getrandbits(n) & rng.getrandbits(n) if i % 3 == 0 else rng.getrandbits(n)
                               for i in range(vectors)]
    (work / "prims.v").write_text(primitive_library(get_family("ice40"), {"SB_LUT4", "SB_CARRY"}))
    (work / "dut.v").write_text(text)
    evals = "\n".join(f"eval -set x {n}'h{x:x} -show y" for x in xs)
    run_yosys("read_verilog prims.v dut.v; hierarchy -top pc; proc; flatten; opt_clean\n" + evals, cwd=work,
              log_file="check.log")
    log = (work / "check.log").read_text()
    got = [int(v.replace("x", "0"), 2) for v in re.findall(r"Eval result: \\y = \d+'([01x]+)\.", log)]
    if len(got) != len(xs):
        raise RuntimeError(f"yosys eval gave {len(got)} results for {len(xs)} vectors (see {work}/check.log)")
    return sum(g != bin(x).count("1") for g, x in zip(got, xs))


def measure(text: str, n: int, work: Path) -> dict[str, Any]:
    from lut2rtl.errors import ToolError
    from lut2rtl.families import get_family
    from lut2rtl.tools._run import run_tool
    from lut2rtl.tools.nextpnr import find_nextpnr
    from lut2rtl.tools.yosys import run_yosys

    (work / "pc.v").write_text(text)
    (work / "pcr.v").write_text(_registered(text, n))
    out: dict[str, Any] = {}
    for name in ("pc", "pcr"):
        run_yosys(f"read_verilog {name}.v; synth_ice40 -top pc -json {name}.json; tee -q -o {name}.stat stat",
                  cwd=work, log_file=f"{name}.synth.log")
    stat = (work / "pc.stat").read_text()
    for cell, key in (("SB_LUT4", "sb_lut4"), ("SB_CARRY", "sb_carry")):
        m = re.search(rf"(\d+)\s+{cell}\b|{cell}\s+(\d+)", stat)
        out[key] = int(next(g for g in m.groups() if g)) if m else 0
    exe = find_nextpnr(get_family("ice40"))
    pack = run_tool([exe, "--hx8k", "--package", "ct256", "--json", "pc.json", "--pack-only"], cwd=work,
                    what="nextpnr-ice40")
    m = re.search(r"ICESTORM_LC:\s+(\d+)/", pack.stderr + pack.stdout)
    out["lc"] = int(m.group(1)) if m else None
    notes = []
    for router, key in (("router1", "fmax_mhz"), ("router2", "fmax_router2_mhz")):
        try:
            pnr = run_tool([exe, "--hx8k", "--package", "ct256", "--json", "pcr.json", "--freq", "100", "--seed",
                            "1", "--timing-allow-fail", "--router", router], cwd=work, what="nextpnr-ice40",
                           timeout=PNR_TIMEOUT)
        except ToolError:
            out[key] = None
            notes.append(f"{router} did not finish in {PNR_TIMEOUT} s")
            continue
        f = re.findall(r"Max frequency for clock '[^']*': ([\d.]+) MHz", pnr.stderr + pnr.stdout)
        out[key] = float(f[-1]) if f else None
        notes.append(f"{router} routed")
    out["note"] = "; ".join(notes)
    return out


def _flip_one_chain_bit(text: str) -> str:
    """The negative control: one LUT_INIT bit of the first sum cell of a chain flipped."""
    i = text.index(f"16'h{XOR3:04x}")
    return text[:i] + f"16'h{XOR3 ^ (1 << 6):04x}" + text[i + len(f"16'h{XOR3:04x}"):]


def run(quick: bool) -> dict[str, Any]:
    # (the "chains" style, one chain per adder, packs into the same cells as "tree": 170 at N = 100 with
    # nextpnr --pack-only; its place-and-route ran for over 10 minutes, so it is not a row)
    designs = [("behavioural", "behavioural", 0), ("balanced tree (the head until 2026-12-05)", "tree", 0)]
    designs += [(f"shared feed cells, cap {c or 'none'}", "shared", c) for c in CAPS]
    rows, tree_lc = [], None
    with tempfile.TemporaryDirectory(prefix="lut2rtl-bench-chains-") as tmp:
        control = _flip_one_chain_bit(popcount_verilog(N, "shared", 0))
        cdir = Path(tmp, "control")
        cdir.mkdir()
        caught = check(control, N, cdir)
        if not caught:
            raise RuntimeError("negative control: a flipped LUT_INIT bit in a chain was not caught")
        for label, style, cap in designs:
            t0 = time.perf_counter()
            work = Path(tmp, f"{style}{cap}")
            work.mkdir()
            text = popcount_verilog(N, style, cap)
            bad = check(text, N, work)
            if bad:
                raise RuntimeError(f"{label}: {bad} vectors disagree with popcount")
            r = measure(text, N, work)
            if style == "tree":
                tree_lc = r["lc"]
            rows.append({"design": label, **r, "lc_per_bit": round(r["lc"] / N, 3) if r["lc"] else None,
                         "checked": "66 vectors", "seconds": round(time.perf_counter() - t0, 1)})
            print(f"  {label}: {r}", file=sys.stderr, flush=True)
    for r in rows:
        r["ratio_vs_tree"] = round(r["lc"] / tree_lc, 3) if r["lc"] and tree_lc else None
    bound = lower_bound(N)
    rows.append({"design": "lower bound (3:2 counters and chains, feed cells free)", "lc": bound,
                 "lc_per_bit": round(bound / N, 3), "ratio_vs_tree": round(bound / tree_lc, 3) if tree_lc else None})
    legal = legal_bound(N)
    rows.append({"design": "lower bound (LUT counters of up to 4 bits and chains, feed cells counted)", "lc": legal,
                 "lc_per_bit": round(legal / N, 3), "ratio_vs_tree": round(legal / tree_lc, 3) if tree_lc else None})
    return {
        "columns": COLUMNS,
        "rows": rows,
        "notes": (f"One class of {N} bits, Verilog written by `bench/bench_ice40_chains.py` (its docstring has the "
                  "designs and the bound's argument). `sb_lut4`/`sb_carry`: Yosys `synth_ice40` `stat`; `lc`: "
                  "nextpnr-ice40 `--pack-only` logic cells (hx8k), what the device spends; `fmax_mhz`: nextpnr "
                  "place-and-route of the design between a serial-in shift register and output registers, hx8k, "
                  "seed 1, one run, with nextpnr-ice40's default router (`router1`); `fmax_router2_mhz`: the same "
                  "with `--router router2`. "
                  "Every design was checked against popcount with Yosys `eval` (Yosys's cell models) on 66 "
                  f"vectors; the negative control (one LUT_INIT bit flipped in a chain) was caught on {caught} "
                  "of them. Not built by `lut2rtl compile`: the head writes `+` per adder (the docstring says why)."),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))

"""The fast simulation engine: Verilator driven by a small C++ harness.

cocotb's Verilator runner always builds with ``--public-flat-rw``: every
internal net of the design becomes public, so Verilator can neither inline
the thousands of LUT primitive instances nor optimize across them, and the
C++ build is the whole cost of a run (790 s for 6,000 LUTs). This engine
builds the same Verilog with the same primitive models and flags
(:func:`lut2rtl.verify.simulate.verilator_sources`) but without any public
signal, and drives the top-level ports from a generated C++ ``main``:

- the same protocol as the cocotb testbench (:mod:`.tb`): three reset
  cycles, then one slot per clock from :func:`.vectors.stream_plan` (vectors
  with ``in_valid = 1``, idle slots with ``in_valid = 0`` and garbage on
  ``in_bits``), inputs applied after the falling edge and every output port
  sampled once they settled, before the next rising edge;
- every cycle's ``out_valid`` and data ports are written to a binary file;
  Python takes each vector's outputs at exactly its declared cycle
  (slot + latency) and compares them with the reference
  (:func:`.compare.compare`), so an early or late design is caught.

The C++ is compiled with ``-O1`` (``-O0`` above :data:`HUGE_LUTS`
primitive instances: there the compile is what costs, not the run; above
:data:`NO_DFG_LUTS` Verilator's DFG optimizer is off as well) and split
into files of :data:`SPLIT` statements built ``-j 2``. Builds are cached like
the cocotb ones (key: sources, flags, tool versions).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..buildfolder import data_input
from ..errors import ToolError
from ..families import Family
from ..tools._run import kill_group
from ..tools.verilator import find_verilator, verilator_env
from .compare import Observed
from .vectors import Vectors, stream_plan

log = logging.getLogger(__name__)

__all__ = ["HUGE_LUTS", "HarnessBuild", "build_harness", "harness_cpp", "pack_words", "port_words", "run_harness",
           "run_logged", "stream_cpp", "unpack_words", "word_count"]

Progress = Callable[[str], None]

# above this many primitive instances the C++ is compiled without optimization
# (6,000 LUTs: 40 s at -O0, 53 s at -O1; the run is 0.2 s against 0.1 s)
HUGE_LUTS = 4_000
# above this many, Verilator's DFG optimizer is turned off too: at 37,000 SB_LUT4 (a 100K-gate network)
# its passes took 48 of 158 s of Verilation; without them the build took 164 s instead of 192 s and the
# 2,048-vector run 14.4 s instead of 9.9 s (at 6,000 LUTs it saved nothing: 22.1 s vs 20.8 s)
NO_DFG_LUTS = 20_000
# Verilator's peak memory grows with the primitive count (bench "Verification scaling": about 0.6 GB for a
# whole 6,000-gate check, 2.2 GB for 36,989 SB_LUT4): a base plus this much per primitive
VERILATOR_BASE_BYTES = 0.5e9
VERILATOR_BYTES_PER_LUT = 46e3
_OOM_SIGNS = ("Killed", "bad_alloc", "Cannot allocate memory", "Error 137", "out of memory")
SPLIT = 20_000  # --output-split: statements per generated .cpp file
JOBS = 2  # parallel C++ compiles (the machines this runs on have few cores)
# the data ports a core may have, in the order the harness writes them per cycle
DATA_PORTS = ("out_class", "out_counts", "out_bits")


@dataclass(frozen=True)
class HarnessBuild:
    """A built simulator: the executable and what it cost."""

    exe: Path
    build_dir: Path
    seconds: float  # 0 when the cached model was reused
    cached: bool


def word_count(width: int) -> int:
    return (width + 31) // 32


_PRELUDE = [
    '#include "Vdut.h"',
    '#include "verilated.h"',
    "#include <chrono>",
    "#include <cstdint>",
    "#include <cstdio>",
    "#include <cstdlib>",
    "#include <vector>",
    "",
    "template <typename T> static void put(T& p, const uint32_t* w, int n) {",
    "    uint64_t v = w[0];",
    "    if (n > 1) v |= static_cast<uint64_t>(w[1]) << 32;",
    "    p = static_cast<T>(v);",
    "}",
    "template <std::size_t N> static void put(VlWide<N>& p, const uint32_t* w, int n) {",
    "    for (std::size_t i = 0; i < N; ++i) p[i] = static_cast<int>(i) < n ? w[i] : 0;",
    "}",
    "template <typename T> static void get(const T& p, uint32_t* w, int n) {",
    "    uint64_t v = static_cast<uint64_t>(p);",
    "    w[0] = static_cast<uint32_t>(v);",
    "    if (n > 1) w[1] = static_cast<uint32_t>(v >> 32);",
    "}",
    "template <std::size_t N> static void get(const VlWide<N>& p, uint32_t* w, int n) {",
    "    for (int i = 0; i < n; ++i) w[i] = p[i];",
    "}",
    "static std::vector<uint32_t> load(const char* path, std::size_t n) {",
    "    std::vector<uint32_t> v(n);",
    '    FILE* f = std::fopen(path, "rb");',
    "    if (!f || (n && std::fread(v.data(), 4, n, f) != n)) {",
    '        std::fprintf(stderr, "cannot read %s\\n", path); std::exit(2); }',
    "    std::fclose(f);",
    "    return v;",
    "}",
    "static void save(const char* path, const std::vector<uint32_t>& v) {",
    '    FILE* f = std::fopen(path, "wb");',
    "    if (!f || (!v.empty() && std::fwrite(v.data(), 4, v.size(), f) != v.size())) {",
    '        std::fprintf(stderr, "cannot write %s\\n", path); std::exit(2); }',
    "    std::fclose(f);",
    "}",
    "",
]


def port_words(ports: list[tuple[str, int]]) -> tuple[list[tuple[str, int, int]], int]:
    """``(name, word offset, words)`` of each port laid out one after another, and the total words."""
    out, at = [], 0
    for name, width in ports:
        out.append((name, at, word_count(width)))
        at += word_count(width)
    return out, at


def stream_cpp(inputs: list[tuple[str, int]], outputs: list[tuple[str, int]], clocked: bool) -> str:
    """The C++ ``main`` that streams a module's input ports from a file, one step per clock cycle, and
    records its output ports: per step the inputs are applied, the model settles, the outputs are
    read, then (``clocked``) one rising edge. The same per-cycle order as :func:`harness_cpp`."""
    ins, in_w = port_words(inputs)
    outs, out_w = port_words(outputs)
    lines = ["// generated by lut2rtl.verify.harness: streams one piece of a design", *_PRELUDE,
             "int main(int argc, char** argv) {",
             '    if (argc != 4) { std::fprintf(stderr, "usage: sim INPUT STEPS OUTPUT\\n"); return 2; }',
             f"    const std::size_t IN_W = {in_w}, OUT_W = {out_w};",
             "    const long steps = std::atol(argv[2]);",
             "    std::vector<uint32_t> in = load(argv[1], static_cast<std::size_t>(steps) * IN_W);",
             "    std::vector<uint32_t> out(static_cast<std::size_t>(steps) * OUT_W);",
             "    VerilatedContext* ctx = new VerilatedContext;",
             "    Vdut* top = new Vdut{ctx};",
             *(["    top->clk = 0;"] if clocked else []),
             "    auto t0 = std::chrono::steady_clock::now();",
             "    for (long t = 0; t < steps; ++t) {",
             "        const uint32_t* s = in.data() + static_cast<std::size_t>(t) * IN_W;",
             "        uint32_t* o = out.data() + static_cast<std::size_t>(t) * OUT_W;",
             *[f"        put(top->{n}, s + {at}, {w});" for n, at, w in ins],
             "        top->eval();",
             *[f"        get(top->{n}, o + {at}, {w});" for n, at, w in outs],
             *(["        top->clk = 1; top->eval(); top->clk = 0; top->eval();"] if clocked else []),
             "    }",
             "    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();",
             "    top->final();",
             "    save(argv[3], out);",
             '    std::printf("lut2rtl-harness cycles %ld seconds %.6f\\n", steps, secs);',
             "    delete top; delete ctx;",
             "    return 0;",
             "}", ""]
    return "\n".join(lines)


def harness_cpp(ports: dict[str, int], cut: tuple[list[tuple[str, int]], list[tuple[str, int]]] | None = None
                ) -> str:
    """The C++ ``main`` for a core with ``ports`` (name -> width); see the module docstring.

    ``cut`` (piecewise simulation, :mod:`.piecewise`): the core's extra ports ``(inputs, outputs)``
    that stand for a cut-out part of it. Then every cycle, the three reset cycles included, drives
    those inputs from a file (one row per cycle) before the model settles and records those outputs
    after; the simulator takes two more arguments, the two files."""
    data_in = data_input(ports)
    n_in = word_count(ports[data_in])
    outs = [p for p in DATA_PORTS if p in ports]
    out_words = 1 + sum(word_count(ports[p]) for p in outs)
    if cut is not None:
        c_in, c_in_w = port_words(cut[0])
        c_out, c_out_w = port_words(cut[1])
        n_args = 6
        settle = "step();"
        cut_lines = [
            f"    const std::size_t CUT_IN_W = {c_in_w}, CUT_OUT_W = {c_out_w};",
            "    const std::size_t steps = static_cast<std::size_t>(cycles) + 3;",
            "    std::vector<uint32_t> cut_in = load(argv[4], steps * CUT_IN_W);",
            "    std::vector<uint32_t> cut_out(steps * CUT_OUT_W);",
            "    std::size_t k = 0;",
            "    auto step = [&]() {",
            "        const uint32_t* s = cut_in.data() + k * CUT_IN_W;",
            *[f"        put(top->{n}, s + {at}, {w});" for n, at, w in c_in],
            "        top->eval();",
            "        uint32_t* o = cut_out.data() + k * CUT_OUT_W;",
            *[f"        get(top->{n}, o + {at}, {w});" for n, at, w in c_out],
            "        ++k;",
            "    };",
        ]
    else:
        n_args, settle, cut_lines = 4, "top->eval();", []
    lines = [
        "// generated by lut2rtl.verify.harness: drives the core's ports, records every cycle's outputs",
        *_PRELUDE,
        "int main(int argc, char** argv) {",
        f"    if (argc != {n_args}) {{ std::fprintf(stderr, \"usage: sim STIMULUS CYCLES OUTPUT"
        f"{' CUT_IN CUT_OUT' if cut else ''}\\n\"); return 2; }}",
        f"    const int IN_W = {n_in}, OUT_W = {out_words};",
        "    const long cycles = std::atol(argv[2]);",
        "    std::vector<uint32_t> stim = load(argv[1], static_cast<size_t>(cycles) * (1 + IN_W));",
        "    std::vector<uint32_t> out(static_cast<size_t>(cycles) * OUT_W);",
        "    std::vector<uint32_t> zero(IN_W, 0);",
        "    VerilatedContext* ctx = new VerilatedContext;",
        "    Vdut* top = new Vdut{ctx};",
        *cut_lines,
        "    top->clk = 0; top->rst = 1; top->in_valid = 0;",
        f"    put(top->{data_in}, zero.data(), IN_W);",
        *(["    top->eval();",
           "    for (int i = 0; i < 3; ++i) { top->clk = 1; top->eval(); top->clk = 0; top->eval(); }"] if cut is None
          else ["    for (int i = 0; i < 3; ++i) { step(); top->clk = 1; top->eval(); top->clk = 0; top->eval(); }"]),
        "    top->rst = 0;",
        "    auto t0 = std::chrono::steady_clock::now();",
        "    for (long j = 0; j < cycles; ++j) {",
        "        const uint32_t* s = stim.data() + static_cast<size_t>(j) * (1 + IN_W);",
        "        top->in_valid = s[0];",
        f"        put(top->{data_in}, s + 1, IN_W);",
        f"        {settle}  // inputs settled: what the outputs show in cycle j",
        "        uint32_t* o = out.data() + static_cast<size_t>(j) * OUT_W;",
        "        o[0] = top->out_valid;",
    ]
    at = 1
    for p in outs:
        lines.append(f"        get(top->{p}, o + {at}, {word_count(ports[p])});")
        at += word_count(ports[p])
    lines += [
        "        top->clk = 1; top->eval(); top->clk = 0; top->eval();",
        "    }",
        "    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();",
        "    top->final();",
        "    save(argv[3], out);",
        *(['    save(argv[5], cut_out);'] if cut is not None else []),
        '    std::printf("lut2rtl-harness cycles %ld seconds %.6f\\n", cycles, secs);',
        "    delete top; delete ctx;",
        "    return 0;",
        "}",
        "",
    ]
    return "\n".join(lines)


def _primitive_count(text: str, family: Family | None) -> int:
    if family is None or family.primitive is None:
        return text.count("\n")  # plain logic: about one statement per line
    names = {family.primitive_name(k) for k in range(1, family.lut_size + 1)} if family.per_k \
        else {family.primitive}
    return sum(text.count(n + " ") + text.count(n + "\n") for n in names)


def verilator_memory(count: int) -> float:
    """Estimated peak bytes of the Verilator build of a design with ``count`` LUT primitives."""
    return VERILATOR_BASE_BYTES + VERILATOR_BYTES_PER_LUT * count


def memory_available() -> float | None:
    """``MemAvailable`` of this machine in bytes (None where /proc/meminfo is not readable)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_note(count: int, available: float | None) -> str:
    """The line a large build shows before it starts: what it needs, and a warning when that is more
    than the machine has free."""
    need = verilator_memory(count)
    line = f"Verilator build of {count:,} LUT primitives: needs about {need / 1e9:.1f} GB of memory"
    if available is None:
        return line
    line += f" ({available / 1e9:.1f} GB available)"
    if need > available:
        line += "; it may run out of memory: use a machine with more memory, or `verify --no-sim`"
    return line


def run_logged(cmd: list[str], *, cwd: Path, env: dict[str, str], log_file: Path, what: str,
                progress: Progress | None, timeout: float | None) -> None:
    """Run ``cmd`` with its output in ``log_file``, reporting progress every 10 s."""
    t0 = time.perf_counter()
    with open(log_file, "w") as out:
        # its own process group: the compilers under make end with it (tools/_run.py)
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            while True:
                try:
                    rc = proc.wait(timeout=10)
                    break
                except subprocess.TimeoutExpired:
                    elapsed = time.perf_counter() - t0
                    if timeout is not None and elapsed > timeout:
                        raise ToolError(f"{what} timed out after {timeout:.0f} s", command=cmd) from None
                    if progress is not None:
                        progress(f"{what}: {elapsed:.0f} s")
        except BaseException:  # the timeout, Ctrl-C: leave nothing running
            kill_group(proc)
            proc.wait()
            raise
    if rc != 0:
        from .simulate import log_tail

        tail = log_tail(log_file)
        why = tail or f"exit status {rc}"
        if rc < 0 or rc == 137 or any(s in tail for s in _OOM_SIGNS):
            why = f"killed, probably out of memory ({why})"
        raise ToolError(f"{what} failed: {why}", command=cmd, stderr=tail)


def build_harness(verilog: Path, top: str, ports: dict[str, int], family: Family | None, *,
                  cache_dir: Path, progress: Progress | None = None,
                  timeout: float | None = None, cxx_opt: str | None = None, cpp: str | None = None,
                  group: bool = True) -> HarnessBuild:
    """Build (or reuse) the harness simulator of ``top`` in ``verilog`` (``cpp``: another C++ ``main``
    than :func:`harness_cpp` of ``ports``). ``group``: the C++ files are joined into ``JOBS`` groups,
    as ``verilator --build`` does (fewer compiles; larger ones: piece builds running side by side in
    a piecewise simulation do not group, which keeps two of them under 6 GB at 50,000 LUTs).

    Raises :class:`ToolError` (with the tail of the build log) when Verilator
    or the C++ build fails."""
    from .simulate import BASE_ARGS, locked, tool_versions, verilator_sources

    cache_dir = Path(cache_dir).resolve()  # the simulator runs in a folder of its own
    text = Path(verilog).read_text(errors="replace")
    count = _primitive_count(text, family)
    huge = count > HUGE_LUTS
    models, flags = verilator_sources(family)
    opt = cxx_opt or ("-O0" if huge else "-O1")
    if count > NO_DFG_LUTS:
        flags = [*flags, "-fno-dfg"]
    # Verilation and the C++ build are two commands: Verilator's own memory (the larger part) is freed
    # before the compilers start, instead of being held while its --build waits for them
    args = [*BASE_ARGS, *flags, "--cc", "--exe", "--prefix", "Vdut",
            "--top-module", top, "--output-split", str(SPLIT), "--output-split-cfuncs", str(SPLIT // 10),
            "-CFLAGS", opt, *(["--output-groups", str(JOBS)] if group else [])]
    make = ["make", "-C", "obj", "-f", "Vdut.mk", "-j", str(JOBS), f"OPT_FAST={opt}", "OPT_SLOW=-O0",
            "OPT_GLOBAL=-O0"]
    if cpp is None:
        cpp = harness_cpp(ports)
    h = hashlib.sha256()
    h.update(text.encode())
    for m in models:
        h.update(m.read_bytes())
    h.update(json.dumps(["harness", top, args, cpp, tool_versions()]).encode())
    key = h.hexdigest()[:20]
    build_dir = cache_dir / f"{top}-cxx-{key}"
    exe = build_dir / "obj" / "sim"
    stamp = build_dir / "lut2rtl-built"
    with locked(cache_dir / f"{top}-cxx-{key}.lock"):
        if stamp.is_file() and exe.is_file():
            return HarnessBuild(exe, build_dir, 0.0, True)
        if build_dir.exists():
            shutil.rmtree(build_dir)  # a build that was interrupted
        build_dir.mkdir(parents=True)
        shutil.copyfile(verilog, build_dir / "design.v")
        (build_dir / "harness.cpp").write_text(cpp)
        if count > NO_DFG_LUTS:
            note = memory_note(count, memory_available())
            log.info("%s", note)
            if progress is not None:
                progress(note)
        cmd = [find_verilator(), *args, "-Mdir", "obj", "-o", "sim", "design.v", *[str(m) for m in models],
               "harness.cpp"]
        t0 = time.perf_counter()
        run_logged(cmd, cwd=build_dir, env=verilator_env(), log_file=build_dir / "build.log",
                   what=f"Verilator build of {verilog}", progress=progress, timeout=timeout)
        left = None if timeout is None else max(1.0, timeout - (time.perf_counter() - t0))
        run_logged(make, cwd=build_dir, env=verilator_env(), log_file=build_dir / "make.log",
                   what=f"C++ build of {verilog}", progress=progress, timeout=left)
        seconds = time.perf_counter() - t0
        # the object files are not needed again; the executable is
        for p in (build_dir / "obj").iterdir():
            if p.suffix in (".o", ".a", ".cpp", ".h", ".d", ".gch") and p.name != "sim":
                p.unlink()
        stamp.write_text(json.dumps({"seconds": seconds}))
        log.info("built %s in %.1f s", build_dir, seconds)
        return HarnessBuild(exe, build_dir, seconds, False)


@dataclass(frozen=True)
class HarnessRun:
    observed: Observed
    cycles: int
    sim_seconds: float
    run_seconds: float
    cut_out: np.ndarray | None = None  # piecewise simulation: the cut outputs, uint32 [cycles + 3, words]


def run_harness(build: HarnessBuild, ports: dict[str, int], latency: int, classes: int | None,
                expected: Vectors, *, seed: int, gap: float, progress: Progress | None = None,
                timeout: float | None = None, cut_in: np.ndarray | None = None, cut_out_words: int = 0
                ) -> HarnessRun:
    """Stream ``expected.in_bits`` through the built simulator (see the module docstring). A simulator
    built with a ``cut`` (:func:`harness_cpp`) also reads ``cut_in`` (uint32 ``[cycles + 3, words]``, the
    reset cycles first) and returns what its cut outputs showed (``cut_out_words`` words per cycle)."""
    n = expected.n
    n_in = ports[data_input(ports)]
    plan = stream_plan(n, n_in, latency, gap, seed)
    cycles = plan.cycles
    in_w = word_count(n_in)
    rows = np.zeros((cycles, 1 + in_w), dtype=np.uint32)
    valid = plan.slots >= 0
    rows[:, 0] = valid
    bits = np.zeros((cycles, n_in), dtype=np.uint8)
    bits[valid] = expected.in_bits[plan.slots[valid]]
    idle = np.flatnonzero(~valid)
    if idle.size:
        bits[idle] = plan.garbage[np.arange(idle.size) % plan.garbage.shape[0]]
    rows[:, 1:] = pack_words(bits, in_w)
    outs = [p for p in DATA_PORTS if p in ports]
    out_w = 1 + sum(word_count(ports[p]) for p in outs)
    with tempfile.TemporaryDirectory(prefix="lut2rtl-sim-") as tmp:
        work = Path(tmp)
        rows.tofile(work / "stimulus.bin")
        cmd = [str(build.exe), "stimulus.bin", str(cycles), "out.bin"]
        if cut_in is not None:
            if cut_in.shape[0] != cycles + 3:
                raise ValueError(f"cut_in has {cut_in.shape[0]} rows, the run {cycles + 3} cycles")
            np.ascontiguousarray(cut_in, dtype=np.uint32).tofile(work / "cut_in.bin")
            cmd += ["cut_in.bin", "cut_out.bin"]
        t0 = time.perf_counter()
        run_logged(cmd, cwd=work, env={}, log_file=work / "sim.log", what="simulation", progress=progress,
                    timeout=timeout)
        run_s = time.perf_counter() - t0
        text = (work / "sim.log").read_text(errors="replace")
        raw = np.fromfile(work / "out.bin", dtype=np.uint32)
        cut_out = None
        if cut_in is not None:
            cut_out = np.fromfile(work / "cut_out.bin", dtype=np.uint32)
            if cut_out.size != (cycles + 3) * cut_out_words:
                raise ToolError(f"simulation wrote {cut_out.size} cut words, expected {(cycles + 3) * cut_out_words}")
            cut_out = cut_out.reshape(cycles + 3, cut_out_words)
    if raw.size != cycles * out_w:
        raise ToolError(f"simulation wrote {raw.size} words, expected {cycles * out_w}")
    raw = raw.reshape(cycles, out_w)
    sim_s = run_s
    for tok in text.split("\n"):
        if tok.startswith("lut2rtl-harness"):
            sim_s = float(tok.split()[-1])
    # slot j's outputs are seen in cycle j + latency
    src = np.arange(cycles) - latency
    vec_at = np.full(cycles, -1, dtype=np.int64)
    ok = src >= 0
    vec_at[ok] = plan.slots[src[ok]]
    valid_expected = (vec_at >= 0).astype(np.uint8)
    valid_got = (raw[:, 0] & 1).astype(np.uint8)
    order = np.empty(n, dtype=np.int64)
    order[vec_at[vec_at >= 0]] = np.flatnonzero(vec_at >= 0)  # vector -> its output cycle
    got: dict[str, np.ndarray] = {}
    at = 1
    for p in outs:
        w = word_count(ports[p])
        got[p] = unpack_words(raw[order, at:at + w], ports[p])
        at += w
    counts = None
    if "out_counts" in got:
        assert classes is not None
        cw = ports["out_counts"] // classes
        weights = 1 << np.arange(cw, dtype=np.int64)
        counts = (got["out_counts"].reshape(n, classes, cw).astype(np.int64) * weights).sum(axis=2)
    out_class = None
    if "out_class" in got:
        weights = 1 << np.arange(ports["out_class"], dtype=np.int64)
        out_class = (got["out_class"].astype(np.int64) * weights).sum(axis=1)
    observed = Observed(out_bits=got.get("out_bits"), counts=counts, out_class=out_class,
                        valid_expected=valid_expected, valid_got=valid_got)
    return HarnessRun(observed, cycles, sim_s, run_s, cut_out)


def pack_words(bits: np.ndarray, words: int) -> np.ndarray:
    """uint8 0/1 ``[N, n]`` -> uint32 ``[N, words]`` (bit ``i`` in word ``i // 32``, bit ``i % 32``)."""
    n = bits.shape[0]
    padded = np.zeros((n, words * 32), dtype=np.uint8)
    padded[:, :bits.shape[1]] = bits
    packed = np.packbits(padded, axis=1, bitorder="little")  # [N, words*4] bytes, little-endian
    return packed.view("<u4").reshape(n, words).astype(np.uint32)


def unpack_words(words: np.ndarray, width: int) -> np.ndarray:
    """Inverse of :func:`pack_words`: uint32 ``[N, w]`` -> uint8 ``[N, width]``."""
    n = words.shape[0]
    b = np.ascontiguousarray(words.astype("<u4")).view(np.uint8).reshape(n, -1)
    return np.unpackbits(b, axis=1, bitorder="little")[:, :width].copy()

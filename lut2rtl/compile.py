"""Checkpoint -> build folder: Verilog, manifest, test vectors, source netlist.

The build folder (written atomically, byte-identical for identical inputs):

``<name>.v``
    All Verilog of the design; top module ``<name>``. FPGA primitives
    (``SB_LUT4`` ...) are instantiated, not defined.
``<name>.json``
    The manifest: ports, latency, target, estimates, options (docs/hardware.md).
``netlist.pt``
    The source netlist (before optimization) in checkpoint format: the
    reference the design must match.
``vectors.npz``
    Test vectors computed by the reference evaluator on the source netlist.
``<name>.core``
    The FuseSoC (CAPI2) core description: the Verilog and its top modules.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .buildfolder import Manifest, write_build_folder
from .checkpoint import checkpoint_hash, load_checkpoint, netlist_to_dict
from .corefile import core_file_name, core_file_text
from .encoder import FeatureFormat, encoder_netlist, lower_encoder
from .errors import CompileError, OptionError
from .evaluate import evaluate
from .families import DEFAULT_FAMILY, DEVICES, Family, get_family
from .fileio import check_output_dir
from .netlist import Netlist, check_netlist
from .passes import OPT_LEVELS, optimize
from .rtl.groupsum import HEAD_GROUPS, fuse_head, head_family
from .rtl.network import LutNetwork, check_plan_options, check_ports, device_delay_scale, plan_network
from .tools._run import tool_progress

__all__ = ["ENCODERS", "INTERFACES", "CompileResult", "check_options", "compile_checkpoint", "compile_netlist",
           "default_name", "default_out_dir", "make_feature_vectors", "make_vectors", "write_npz"]

Progress = Callable[[str], None]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Verilog/SystemVerilog words a module may not be called (the common ones)
_RESERVED = frozenset(
    "always and assign begin buf case default else end endcase endmodule for function if initial inout input "
    "integer module nand nor not or output parameter reg signed supply0 supply1 task tri wire xor xnor "
    "logic bit byte int class package interface program".split()
)
# The core's own ports ("none"), or an AXI4-Stream wrapper around it (rtl/axis.py).
INTERFACES = ("none", "axis")
# Where the thermometer encoder runs: in software before the core ("none": the
# core takes input bits), or in the design ("hw": the core takes integer features).
ENCODERS = ("none", "hw")
# Random vectors: this many added to a dataset's test split, or alone.
N_RANDOM_EXTRA = 256
N_RANDOM_ONLY = 1024


@dataclass
class CompileResult:
    """What :func:`compile_netlist` wrote: the folder, its manifest, and a
    summary for display (per-layer LUT estimate, latency, files)."""

    out_dir: Path
    manifest: Manifest
    files: list[str] = field(default_factory=list)


def default_out_dir(checkpoint: str | Path) -> Path:
    """Where ``lut2rtl compile model.pt`` writes without ``-o``: ``build/<stem>``."""
    return Path("build") / (Path(checkpoint).stem or "model")


def default_name(path: str | Path) -> str:
    """Module name from a file name: its stem, non-identifier characters -> ``_``."""
    stem = Path(path).stem
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem) or "top"
    if name[0].isdigit():
        name = "m_" + name
    if name in _RESERVED:
        name += "_top"
    return name


def compile_checkpoint(checkpoint: str | Path, out_dir: str | Path, *, target: str | Family = DEFAULT_FAMILY,
                       pipeline: int = 0,
                       opt: int = 3, name: str | None = None, out_bits: bool = False, force: bool = False,
                       fabric: str = "auto", clock_mhz: float | None = None, interface: str = "none",
                       axis_counts: bool = False, encoder: str = "none", feature_bits: int | None = None,
                       signed: bool = False, device: str | None = None,
                       progress: Progress | None = None) -> CompileResult:
    """Compile a checkpoint file into a build folder (see the module docstring).

    ``progress``, if given, is called with a one-line message at each step
    (optimizing, mapping, elaborating, writing the fabric, vectors, writing).

    Raises :class:`~lut2rtl.errors.CheckpointError` for an unreadable
    checkpoint, :class:`CompileError` for options the design cannot have,
    :class:`OutputError` when ``out_dir`` exists (without ``force``) or
    cannot be written; nothing is written then.
    """
    fmt = check_options(target, pipeline, opt, fabric, name, clock_mhz, interface, axis_counts, encoder,
                        feature_bits, signed)
    device_delay_scale(get_family(target), device)
    check_output_dir(out_dir, force=force)
    net = load_checkpoint(checkpoint)
    return _compile(
        net, out_dir, target=target, pipeline=pipeline, opt=opt, name=name or default_name(checkpoint),
        out_bits=out_bits, force=force, fabric=fabric, clock_mhz=clock_mhz, interface=interface,
        axis_counts=axis_counts, features=fmt, device=device, progress=progress,
        source_path=str(checkpoint),
        _source_sha256=checkpoint_hash(checkpoint),
    )


def compile_netlist(net: Netlist, out_dir: str | Path, *, target: str | Family = DEFAULT_FAMILY, pipeline: int = 0,
                    opt: int = 3, name: str | None = None, out_bits: bool = False, force: bool = False,
                    fabric: str = "auto", clock_mhz: float | None = None, interface: str = "none",
                    axis_counts: bool = False, encoder: str = "none", feature_bits: int | None = None,
                    signed: bool = False, device: str | None = None, progress: Progress | None = None,
                    source_path: str | None = None) -> CompileResult:
    """Compile a netlist into a build folder; options as :func:`compile_checkpoint`.

    ``name`` defaults to the stem of ``source_path`` (or ``top``). The
    manifest's ``checkpoint_sha256`` is the hash of the source checkpoint
    file, or of the written ``netlist.pt`` when there is none.
    """
    if name is None:
        name = default_name(source_path) if source_path else "top"
    fmt = check_options(target, pipeline, opt, fabric, name, clock_mhz, interface, axis_counts, encoder,
                        feature_bits, signed)
    device_delay_scale(get_family(target), device)
    check_output_dir(out_dir, force=force)
    return _compile(net, out_dir, target=target, pipeline=pipeline, opt=opt, name=name, out_bits=out_bits,
                    force=force, fabric=fabric, clock_mhz=clock_mhz, interface=interface, axis_counts=axis_counts,
                    features=fmt, device=device, progress=progress, source_path=source_path)


def _compile(net: Netlist, out_dir: str | Path, *, target: str | Family, pipeline: int, opt: int, name: str,
             out_bits: bool, force: bool, fabric: str, clock_mhz: float | None, interface: str,
             axis_counts: bool, features: FeatureFormat | None, device: str | None, progress: Progress | None,
             source_path: str | None,
             _source_sha256: str | None = None) -> CompileResult:
    check_netlist(net, where=source_path or "netlist")
    say = progress or (lambda _msg: None)
    tgt = get_family(target)
    src = net
    encoder_luts = None
    if features is not None:
        net = lower_encoder(src, features)
        assert src.encoder is not None
        say(f"encoder in hardware: {src.encoder.features} {features.describe()} features, "
            f"{net.metadata['encoder_hw']['encoder_luts']} comparator gates")
        encoder_luts = optimize(encoder_netlist(src.encoder, features), opt, lut_size=tgt.lut_size).n_luts \
            if net.metadata["encoder_hw"]["encoder_luts"] else 0
    check_ports(net)  # before any costly work

    say(f"optimizing (level {opt})")
    # leaf counters only where they fuse with the fabric (a heap family); carry chains that fit the clock
    tgt = head_family(net, tgt, clock_mhz, device_delay_scale(tgt, device))
    hw_net = fuse_head(net, tgt, out_bits)  # the GroupSum's leaf counters join the fabric
    with tool_progress(progress):  # the ABC cover's Yosys runs report while they run
        opt_net = optimize(hw_net, opt, lut_size=tgt.lut_size)
    check_netlist(opt_net, where="optimized netlist")
    if opt_net.n_outputs != hw_net.n_outputs or opt_net.n_inputs != net.n_inputs:
        raise CompileError("internal error: optimization changed the number of inputs or outputs")

    say(f"mapping {opt_net.n_luts} LUTs onto {tgt.name}")
    plan = plan_network(opt_net, tgt, pipeline, fabric=fabric, out_bits=out_bits, clock_mhz=clock_mhz,
                        device=device)
    if tgt.popcount_pack and not tgt.ff_cell and net.group_sum is not None and any(
            c < plan.stages.fabric_depth for c in plan.stages.fabric_cuts):
        # registers inside the fabric, on a family whose flip-flops sit in logic cells (iCE40): a leaf counter
        # that packing made shallower than the fabric would pass through a register stage of its own, a logic
        # cell per bit (digits at --clock-mhz 200 on hx8k, registers after fabric levels 1 and 2: 4,291 logic
        # cells packed, 4,177 in index order); so the head keeps the index order there. A register at the
        # fabric's end alone costs nothing extra; ECP5's flip-flops are a resource of their own (at 250 MHz
        # packed: 3,262 logic cells against 3,394).
        say("registers inside the fabric: the head keeps its bits in index order")
        tgt = replace(tgt, popcount_pack=False)
        hw_net = fuse_head(net, tgt, out_bits)
        with tool_progress(progress):
            opt_net = optimize(hw_net, opt, lut_size=tgt.lut_size)
        check_netlist(opt_net, where="optimized netlist")
        plan = plan_network(opt_net, tgt, pipeline, fabric=fabric, out_bits=out_bits, clock_mhz=clock_mhz,
                            device=device)
    core = LutNetwork(opt_net, out_bits=out_bits, clock_ports=True, module_prefix=name, plan=plan,
                      input_port="in_bits" if features is None else "in_features")
    how = "in Amaranth" if plan.fabric_mode == "amaranth" else "as structural Verilog"
    say(f"elaborating {plan.fabric.n_cells} LUT cells (fabric built {how})")
    text = core.to_verilog(name, progress=say)

    say("computing test vectors")
    vectors = make_vectors(net) if features is None else make_feature_vectors(src, net, features)
    src_buf = io.BytesIO()
    import torch

    torch.save(netlist_to_dict(net), src_buf)
    netlist_bytes = src_buf.getvalue()
    sha = _source_sha256 or hashlib.sha256(netlist_bytes).hexdigest()

    manifest = _manifest(net, opt_net, core, name=name, opt=opt, fabric=fabric, sha=sha,
                         n_vectors=int(vectors["in_bits"].shape[0]))
    # the order of each class's group bits in the head, and the bits each class's tree counts (null: every
    # bit, in index order): the formal proof names the design's partial sums from them
    # (lut2rtl.verify.check), so a later lut2rtl whose order differs still proves this design with cuts
    head_order = "packed" if tgt.popcount_pack and net.group_sum is not None else "index"
    recorded = hw_net.metadata.get(HEAD_GROUPS)
    manifest = replace(manifest, options={**manifest.options, "device": device, "head_order": head_order,
                                          "head_groups": None if recorded is None else
                                          [[int(i) for i in g] for g in recorded]})
    if device is not None:
        manifest = replace(manifest, estimate={**manifest.estimate, "device_fill": device_fill(manifest.estimate,
                                                                                              device)})
    if features is not None:
        assert src.encoder is not None
        enc = {"kind": "hw", "features": src.encoder.features, "feature_bits": features.bits,
               "signed": features.signed, "thresholds_per_feature": int(src.encoder.thresholds.shape[1]),
               "encoder_luts": int(encoder_luts or 0)}
        manifest = replace(manifest, options={**manifest.options, "encoder": enc},
                           estimate={**manifest.estimate, "encoder_luts": int(encoder_luts or 0)})
    if interface == "axis":
        from .rtl.axis import axis_wrapper

        say("adding the AXI4-Stream wrapper")
        wrapper_text, desc = axis_wrapper(manifest, counts=axis_counts)
        text = text.rstrip("\n") + "\n\n" + wrapper_text
        manifest = replace(manifest, interface=desc,
                           options={**manifest.options, "interface": interface, "axis_counts": axis_counts})
    manifest = replace(manifest, files={**manifest.files, "core": core_file_name(manifest)})
    files = {f"{name}.v": text.encode("utf-8"), "netlist.pt": netlist_bytes, "vectors.npz": write_npz(vectors),
             core_file_name(manifest): core_file_text(manifest).encode("utf-8")}
    say(f"writing {out_dir}")
    write_build_folder(out_dir, manifest, files, force=force)
    return CompileResult(out_dir=Path(out_dir), manifest=manifest, files=sorted([*files, f"{name}.json"]))


# from this share of a part's LUTs or flip-flops on, the part counts as nearly full (harder to place and route).
# Measured (docs/hardware.md): a 10K-gate network at 95 % of an ecp5-25k's flip-flops reached 172.6 MHz at
# --clock-mhz 250, on the ecp5-85k (28 %) 181.6 MHz; both below the delay model's 271.7
NEARLY_FULL_PCT = 80.0
# a design more than this many times larger (LUT estimate) than the one the family's delay model was fitted on
# (Family.delay_fit_luts) gets estimate.timing.beyond_fit: its routes are longer than the model assumes (a
# 12,500-LUT ECP5 design reached 172.6 MHz where the model said 271.7; docs/hardware.md, Timing)
BEYOND_FIT = 3.0


def device_fill(estimate: dict[str, Any], device: str) -> dict[str, Any]:
    """How much of ``device`` the compile estimate fills: LUTs (a logic cell on iCE40, a LUT4 on ECP5, the
    LUT4s inside its carry cells included) and flip-flops, in percent of the part's; ``status`` is
    ``fits``, ``nearly_full`` (from :data:`NEARLY_FULL_PCT`) or ``too_big``."""
    dev = DEVICES[device]
    luts, ffs = 100.0 * estimate["luts"] / dev.luts, 100.0 * estimate["ffs"] / dev.ffs
    status = "too_big" if max(luts, ffs) > 100 else "nearly_full" if max(luts, ffs) >= NEARLY_FULL_PCT else "fits"
    return {"device": device, "luts_pct": round(luts, 1), "ffs_pct": round(ffs, 1), "device_luts": dev.luts,
            "device_ffs": dev.ffs, "status": status}


def check_options(target: str | Family, pipeline: int, opt: int, fabric: str, name: str | None,
                  clock_mhz: float | None = None, interface: str = "none", axis_counts: bool = False,
                  encoder: str = "none", feature_bits: int | None = None, signed: bool = False
                  ) -> FeatureFormat | None:
    """:class:`OptionError` (or :class:`CompileError` for an unknown target) for options no design can have.

    Returns the features' format with ``encoder="hw"``, else None."""
    get_family(target)
    fmt = None
    if encoder not in ENCODERS:
        raise OptionError("encoder", f"must be one of {', '.join(ENCODERS)}, got {encoder!r}")
    if encoder == "hw":
        if feature_bits is None:
            raise OptionError("encoder", "hw needs --feature-bits N: the width of each integer feature "
                                         "(e.g. 8 for bytes; add --signed for two's complement)")
        fmt = FeatureFormat(feature_bits, signed)
    elif feature_bits is not None or signed:
        raise OptionError("feature_bits" if feature_bits is not None else "signed", "needs --encoder hw")
    if interface not in INTERFACES:
        raise OptionError("interface", f"must be one of {', '.join(INTERFACES)}, got {interface!r}")
    if axis_counts and interface != "axis":
        raise OptionError("axis_counts", "needs --interface axis")
    check_plan_options(pipeline, fabric, clock_mhz)
    if opt not in OPT_LEVELS:
        raise OptionError("opt", f"must be one of {', '.join(map(str, OPT_LEVELS))}, got {opt!r}")
    if name is not None and (not _IDENT.match(name) or name in _RESERVED or name.startswith("lut2rtl_")):
        raise OptionError("name", f"{name!r} is not a usable Verilog module name "
                          f"(letters, digits, '_', not starting with a digit or 'lut2rtl_', not a keyword)")
    return fmt


def make_vectors(net: Netlist) -> dict[str, np.ndarray]:
    """Test vectors of the contract: the digits test split (when the
    checkpoint says it was trained on digits and its encoder fits) plus
    256 random input vectors (seed 0), else 1024 random vectors."""
    rng = np.random.default_rng(0)
    parts = []
    enc = net.encoder
    if net.metadata.get("dataset") == "digits" and enc is not None:
        from .datasets import load_digits

        data = load_digits()
        if enc.features == data.x_test.shape[1]:
            parts.append(enc.encode(data.x_test).astype(np.uint8))
    n_rand = N_RANDOM_EXTRA if parts else N_RANDOM_ONLY
    parts.append(rng.integers(0, 2, size=(n_rand, net.n_inputs), dtype=np.uint8))
    in_bits = np.concatenate(parts, axis=0)
    res = evaluate(net, in_bits.astype(bool))
    out: dict[str, np.ndarray] = {"in_bits": in_bits, "out_bits": res.out_bits.astype(np.uint8)}
    if net.group_sum is not None:
        assert res.counts is not None and res.pred is not None
        out["counts"] = res.counts.astype(np.int64)
        out["out_class"] = res.pred.astype(np.int64)
    return out


def make_feature_vectors(src: Netlist, lowered: Netlist, fmt: FeatureFormat) -> dict[str, np.ndarray]:
    """Test vectors of a design with the encoder in hardware: integer features
    (the digits test split when the checkpoint was trained on digits and its
    values fit ``fmt``, the range's two ends, and 256 random in-range rows,
    seed 0) as feature bits, with the lowered netlist's outputs. They are also
    checked here against the software path (float64 encoder, then ``src``):
    a difference is an internal error, never a build folder."""
    assert src.encoder is not None
    rng = np.random.default_rng(0)
    n_feat = src.encoder.features
    parts = []
    if src.metadata.get("dataset") == "digits":
        from .datasets import load_digits

        x = load_digits().x_test
        if x.shape[1] == n_feat and np.array_equal(np.round(x), x) and x.min() >= fmt.lo and x.max() <= fmt.hi:
            parts.append(x.astype(np.int64))
    parts.append(np.array([[fmt.lo] * n_feat, [fmt.hi] * n_feat], dtype=np.int64))
    parts.append(rng.integers(fmt.lo, fmt.hi, size=(N_RANDOM_EXTRA, n_feat), endpoint=True, dtype=np.int64))
    feats = np.concatenate(parts, axis=0)
    in_bits = fmt.to_bits(feats)
    res = evaluate(lowered, in_bits.astype(bool))
    soft = evaluate(src, src.encoder.encode(feats))
    if not np.array_equal(res.out_bits, soft.out_bits):
        bad = int(np.flatnonzero((res.out_bits != soft.out_bits).any(axis=1))[0])
        raise CompileError(f"internal error: the lowered encoder differs from the software encoder on feature "
                           f"vector {bad}")
    out: dict[str, np.ndarray] = {"in_bits": in_bits, "in_features": feats,
                                  "out_bits": res.out_bits.astype(np.uint8)}
    if lowered.group_sum is not None:
        assert res.counts is not None and res.pred is not None
        out["counts"] = res.counts.astype(np.int64)
        out["out_class"] = res.pred.astype(np.int64)
    return out


def write_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """``numpy.savez`` bytes with fixed zip timestamps (byte-identical output)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, arr.getvalue())
    return buf.getvalue()


def _manifest(net: Netlist, opt_net: Netlist, core: LutNetwork, *, name: str, opt: int, fabric: str, sha: str,
              n_vectors: int) -> Manifest:
    from amaranth.hdl import Shape
    from amaranth.lib.wiring import In

    p = core.plan
    ports = {pname: ("in" if member.flow == In else "out", Shape.cast(member.shape).width)
             for pname, member in core.signature.members.items()}
    gs = p.groupsum
    popcount_luts = gs.luts if gs else 0
    estimate = {
        "luts": int(p.fabric.n_cells) + popcount_luts,
        "fabric_luts": int(p.fabric.n_cells),
        "popcount_luts": popcount_luts,
        "ffs": int(core.ff_estimate),
        "fabric_ffs": int(p.stages.fabric_ffs),
        "layer_luts": p.fabric.cells_per_layer(),
        "levels": {"fabric": int(p.fabric.depth), "groupsum": gs.levels if gs else 0},
        "register_cuts": {"fabric": list(p.stages.fabric_cuts), "groupsum": list(p.stages.groupsum_cuts),
                          "outputs": int(p.stages.output_registers)},
        # the family's delay model (see families.py); nextpnr's figures come from `lut2rtl synth`
        "timing": {"model_period_ns": round(p.period_ns, 3), "model_fmax_mhz": round(1000.0 / p.period_ns, 1),
                   "latency_ns": round(p.latency * (1000.0 / p.clock_mhz if p.clock_mhz else p.period_ns)
                                       if p.latency else p.period_ns, 3)},
    }
    fit = p.target.delay_fit_luts
    estimate["timing"].update(model_fitted_luts=fit, beyond_fit=bool(fit and estimate["luts"] > BEYOND_FIT * fit))
    return Manifest(
        name=name, family=p.target, pipeline=p.latency, opt=opt, n_inputs=int(net.n_inputs),
        n_outputs=int(net.n_outputs), classes=gs.classes if gs else None, count_width=gs.count_width if gs else None,
        class_width=gs.class_width if gs else None, out_bits=bool(core.has_out_bits), ports=ports, top=name,
        latency=p.latency, files={"verilog": f"{name}.v", "vectors": "vectors.npz", "netlist": "netlist.pt"},
        checkpoint_sha256=sha, estimate=estimate, vectors=n_vectors,
        options={"target": p.target.name, "pipeline": p.latency, "opt": opt, "out_bits": bool(core.has_out_bits),
                 "fabric": fabric, "fabric_built": p.fabric_mode, "lut_size": p.target.lut_size,
                 "clock_mhz": p.clock_mhz,
                 "optimized_luts": int(opt_net.n_luts), "source_luts": int(net.n_luts)},
    )

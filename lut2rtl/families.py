"""FPGA families: everything lut2rtl knows about one family, in one record.

A :class:`Family` is what ``--target`` names: its LUT primitive (and how a
truth table becomes its ``INIT``), its carry primitive, the simulation model
and Verilator flags, the Yosys synthesis command, the nextpnr flavour and the
devices of the family, and the comparator style of the GroupSum hardware.
``generic`` is the pseudo-family of plain logic that any tool maps.
Everything else in lut2rtl receives a :class:`Family` object; no other module
knows a family by its name.

Every LUT primitive below computes ``O = INIT[{I_{n-1}, ..., I_1, I_0}]``
(checked against Yosys's ``share/<family>/cells_sim.v``): input ``x_m`` of a
LUT is wired to the primitive's ``m``-th input port, and the ``INIT`` value is
:func:`lut2rtl.netlist.table_to_init` of its truth table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import CompileError

__all__ = ["DEFAULT_FAMILY", "DEVICES", "DEVICE_FAMILY", "FAMILIES", "CarryCell", "Device", "Family", "LutCarry",
           "TernaryChain", "get_family"]


@dataclass(frozen=True)
class TernaryChain:
    """A dual-output LUT beside a carry primitive, the pair a ternary adder is built from
    (:mod:`lut2rtl.rtl.ternary`): their names and ports.

    The LUT has ``len(lut_inputs)`` inputs; with the last one tied to 1, ``lut_sum`` is
    ``INIT[2**(n-1) + {I_{n-2}..I_0}]`` and ``lut_carry`` is ``INIT[{I_{n-2}..I_0}]``. The carry
    primitive adds ``chain_bits`` bits: ``sum_out = propagate ^ carry``, ``carry_out = propagate ?
    carry : generate`` per bit, the first carry ``carry_in | carry_init``."""

    lut: str
    lut_inputs: tuple[str, ...]
    lut_sum: str
    lut_carry: str
    carry: str
    chain_bits: int
    carry_in: str
    carry_init: str
    generate: str
    propagate: str
    sum_out: str
    carry_out: str


@dataclass(frozen=True)
class CarryCell:
    """A carry cell of LUT halves whose generate is a 2-input part of the same LUT (ECP5 ``CCU2C``), the
    cell the chained two-number adders are built from (:mod:`lut2rtl.rtl.carrychain`): its name and ports.

    Half ``h`` reads ``inputs[h]`` (``A, B, C, D``) and the carry ``c`` into it (the cell's ``carry_in``
    for half 0). With ``inject[h] = "NO"``: ``F = init[h][{D, C, B, A}]``, ``G = init[h][{B, A}]`` (the
    LUT's first four bits), ``outputs[h] = F ^ c`` and the carry out of the half ``F ? c : G``; the last
    half's carry out is ``carry_out``, which only the next cell of the chain reads."""

    cell: str
    inputs: tuple[tuple[str, ...], ...]
    outputs: tuple[str, ...]
    init: tuple[str, ...]
    inject: tuple[str, ...]
    carry_in: str
    carry_out: str


@dataclass(frozen=True)
class LutCarry:
    """A carry primitive that shares its logic cell with one LUT of the family (iCE40 ``SB_CARRY``), the
    pair the argmax's comparators, the adders before them and the feed cells that bring the adders'
    carry-ins into their chains are built from (:mod:`lut2rtl.rtl.lutcarry`).

    ``carry_out = maj(operands[0], operands[1], carry_in)``. The placer puts the pair in one cell only
    where the LUT reads the carry's operands on its inputs ``lut_operands`` and the carry-in on
    ``lut_carry_in`` (nextpnr-ice40 ``pack_carries``); input ``lut_free`` is the LUT's own. A carry-out
    that one LUT reads on ``lut_carry_in`` and nothing else reads takes no cell of its own: that LUT sits at
    the chain's top (nextpnr-ice40 ``chains.cc``); any other reader costs a pass-out cell."""

    cell: str
    operands: tuple[str, str]
    carry_in: str
    carry_out: str
    lut_operands: tuple[int, int]
    lut_carry_in: int
    lut_free: int
    # Yosys maps a ``+`` onto the chain only for sums of at least this many bits (iCE40 ``arith_map``); a
    # narrower one is LUTs, and a carry-in fed to it from a carry-out would need a pass-out cell
    min_chain_sum: int = 3


@dataclass(frozen=True)
class Device:
    """An FPGA part: how to name it to the tools, and its size."""

    name: str
    nextpnr_args: tuple[str, ...]  # device and package options (empty: no open P&R)
    package: str
    pins: int  # user I/O pins of the package
    luts: int
    ffs: int
    part: str = ""  # the vendor's part name (Vivado)
    default_freq_mhz: float = 100.0  # nextpnr --freq target when none is given
    # the family's delay model (Family.t_*_ns) is fitted on one part; this scales it to this one
    delay_scale: float = 1.0


@dataclass(frozen=True)
class Family:
    """One FPGA family (see the module docstring). ``lut_size`` is the fan-in of its LUT primitive (wider
    LUTs are decomposed); ``primitive`` is ``None`` for plain logic. ``per_k`` primitives exist for every
    fan-in 1..lut_size (``LUT1`` .. ``LUT6``, named ``primitive.format(k=k)``); otherwise the single
    ``lut_size``-input primitive is used with unused inputs tied to 0."""

    name: str
    lut_size: int
    primitive: str | None = None
    init_param: str = ""
    input_ports: tuple[str, ...] = ()
    output_port: str = ""
    per_k: bool = False
    carry: str | None = None  # the carry primitive Yosys maps ``+`` onto
    # ``b > a`` in the GroupSum: "carry" writes it as the carry-out of
    # b + ~a (one chain; Yosys maps ``>`` on LUT4 families to twice the LUTs;
    # ~a comes from a register storing the complement where there is one: the
    # carry cell reads its operands directly, iCE40 SB_CARRY), "sub" as the
    # sign of a - b (ECP5: Yosys folds the subtraction's inverted operand into
    # the CCU2C's own LUTs, so no inverter LUT at all), "native" leaves ``>``
    # to Yosys (LUT6 + CARRY4: its own mapping is smaller)
    comparator: str = "carry"
    # popcount tree: leaf counters of this many bits (fused into the fabric's LUTs), then adders on the
    # carry chain that also take one group bit as carry-in when popcount_cin (see rtl/groupsum.py)
    popcount_leaf: int = 3
    popcount_cin: bool = True
    # order each class's group bits for the LUTs (rtl/popcount.py: pack_order): leaf counters get bits whose
    # logic together reads at most lut_size signals, so the leaf's LUTs absorb theirs; network inputs go to
    # the carry-ins, where a bit needs no LUT
    popcount_pack: bool = False
    # ternary adders: the dual-output LUT and carry primitive that add three numbers per chain bit
    # (rtl/ternary.py; ``LUT6_2`` with ``CARRY4``); the popcount tree then sums three numbers per adder.
    # None: adders of two numbers, written as ``+`` for Yosys to map
    ternary: TernaryChain | None = None
    # the popcount after the leaf counters as one bit heap, compressed by chains of those dual-output LUTs
    # (rtl/heap.py: two bits per LUT where a tree of ternary adders over narrow numbers removes about one)
    popcount_heap: bool = False
    # two-number adders built as chains of these carry cells (rtl/carrychain.py, ECP5 ``CCU2C``), several
    # adders of one level in one chain of at most ``chain_halves`` halves; None: ``+``, mapped by Yosys
    chain_adder: CarryCell | None = None
    chain_halves: int = 0
    # comparators of the argmax as explicit carry + LUT pairs, the winner's count mux in the comparator's
    # own cells, and the left operand's complement straight from its producer (rtl/lutcarry.py); None:
    # ``>`` and a mux, mapped by Yosys
    lut_carry: LutCarry | None = None
    # LUTs inside one carry primitive that Yosys's ``stat`` does not count among the LUTs (ECP5: a CCU2C is
    # two LUT4s; an iCE40 SB_CARRY shares its logic cell with a counted SB_LUT4; a CARRY4 has no LUT)
    carry_luts: int = 0
    # delay model for --clock-mhz (ns): a LUT level with its routing, one carry-chain bit, and a
    # register stage's own cost (clock-to-out, setup, clock skew); calibrated against nextpnr
    t_level_ns: float = 1.0
    t_carry_ns: float = 0.1
    t_stage_ns: float = 1.0
    # the LUT estimate of the design the delay model was fitted on (0: not fitted); routes grow with the
    # design, so far above it the model is optimistic (compile warns: lut2rtl.compile.BEYOND_FIT)
    delay_fit_luts: int = 0
    sim_model: str | None = None  # the primitives' model, under Yosys's share folder
    sim_flags: tuple[str, ...] = ()  # Verilator flags the model needs ({share}: its folder)
    synth_command: str | None = None  # Yosys synthesis command (flattens the design)
    nextpnr: str | None = None  # nextpnr flavour (``nextpnr-<flavour>``); None: no open P&R
    constraints_flag: str = ""  # nextpnr's pin constraints option
    bitstream_flag: str = ""  # nextpnr's placed-design output option
    bitstream_suffix: str = ""  # file suffix of that output
    packer: tuple[str, str] = ("", "")  # (bitstream file, packer tool) of a placed design
    logic_cell: str = ""  # nextpnr's name of one logic cell (utilization)
    ff_cell: str = ""  # nextpnr's name of a flip-flop where it is a resource of its own (ECP5), else ""
    vivado: bool = False  # a Vivado script is written by ``lut2rtl synth``
    devices: tuple[Device, ...] = ()

    @property
    def dual_lut(self) -> str | None:
        """The dual-output LUT primitive of the ternary adders (None: the family has none)."""
        return self.ternary.lut if self.ternary is not None else None

    def primitive_name(self, k: int) -> str:
        assert self.primitive is not None
        return self.primitive.format(k=k) if self.per_k else self.primitive

    def sim_sources(self) -> tuple[list[Path], list[str]]:
        """The primitive simulation model (from Yosys's share folder) and the
        Verilator flags it needs; nothing for plain logic."""
        if self.sim_model is None:
            return [], []
        from .tools.yosys import yosys_share

        model = yosys_share() / self.sim_model
        return [model], [f.format(share=model.parent) for f in self.sim_flags]


_LUT4 = ("I0", "I1", "I2", "I3")

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("ice40", 4, "SB_LUT4", "LUT_INIT", _LUT4, "O", carry="SB_CARRY", popcount_pack=True,
           lut_carry=LutCarry("SB_CARRY", ("I0", "I1"), "CI", "CO", (1, 2), 3, 0),
           sim_model="ice40/cells_sim.v",
           synth_command="synth_ice40", nextpnr="ice40", constraints_flag="--pcf", bitstream_flag="--asc",
           bitstream_suffix=".asc", packer=("board.bin", "yowasp-icepack"), logic_cell="ICESTORM_LC",
           # fitted to nextpnr on hx8k (digits, harness top, 5 stage layouts: within 0.5 ns); up5k is slower
           t_level_ns=1.5, t_carry_ns=0.05, t_stage_ns=2.9, delay_fit_luts=2100,
           # up5k: nextpnr Fmax of the same digits designs 2.6x lower than hx8k's (p0: 12.7 vs 33.2 MHz)
           devices=(Device("up5k", ("--up5k", "--package", "sg48"), "sg48", 39, 5280, 5280, "iCE40UP5K-SG48",
                           default_freq_mhz=48.0, delay_scale=2.6),
                    Device("hx8k", ("--hx8k", "--package", "ct256"), "ct256", 206, 7680, 7680,
                           "iCE40HX8K-CT256", default_freq_mhz=100.0))),
    # cells_sim.v includes its .vh files; NO_INCLUDES skips the FF/IO models a LUT design does not need
    Family("ecp5", 4, "LUT4", "INIT", ("A", "B", "C", "D"), "Z", carry="CCU2C", comparator="sub", popcount_pack=True,
           sim_model="ecp5/cells_sim.v",
           sim_flags=("-DNO_INCLUDES", "-I{share}"), synth_command="synth_ecp5", nextpnr="ecp5",
           chain_adder=CarryCell("CCU2C", (("A0", "B0", "C0", "D0"), ("A1", "B1", "C1", "D1")), ("S0", "S1"),
                                 ("INIT0", "INIT1"), ("INJECT1_0", "INJECT1_1"), "CIN", "COUT"),
           chain_halves=16, carry_luts=2,
           constraints_flag="--lpf", bitstream_flag="--textcfg", bitstream_suffix=".config",
           # fitted to nextpnr on ecp5-25k (digits, harness top, pipelines 0/4/14)
           t_level_ns=1.14, t_carry_ns=0.17, t_stage_ns=1.35, delay_fit_luts=2500,
           packer=("board.bit", "yowasp-ecppack"), logic_cell="TRELLIS_COMB", ff_cell="TRELLIS_FF",
           devices=(Device("ecp5-25k", ("--25k", "--package", "CABGA256"), "CABGA256", 197, 24288, 24288,
                           "LFE5U-25F-6BG256C", default_freq_mhz=150.0),
                    Device("ecp5-85k", ("--85k", "--package", "CABGA381"), "CABGA381", 205, 83640, 83640,
                           "LFE5U-85F-6BG381C", default_freq_mhz=150.0))),
    # (no open place-and-route: Artix-7 -1 datasheet-level estimates, not calibrated)
    Family("xilinx", 6, "LUT{k}", "INIT", (*_LUT4, "I4", "I5"), "O", per_k=True, carry="CARRY4",
           # LUT6_2 (O6 with I5 = 1, O5) beside CARRY4 (CYINIT: the chain's carry-in), Yosys's cells_sim.v
           ternary=TernaryChain("LUT6_2", (*_LUT4, "I4", "I5"), "O6", "O5", "CARRY4", 4, "CI", "CYINIT", "DI", "S",
                                "O", "CO"),
           t_level_ns=0.6, t_carry_ns=0.03, t_stage_ns=0.8,
           popcount_heap=True, comparator="native", sim_model="xilinx/cells_sim.v", synth_command="synth_xilinx",
           # the model's CARRY4 computes each CO bit from the one below in one vector: where the design reads a
           # chain's carry-out, Verilator sees that vector as circular logic (UNOPTFLAT, a speed note: the
           # bits themselves are acyclic, and the simulation is exact)
           sim_flags=("-Wno-UNOPTFLAT",),
           vivado=True,
           devices=(Device("xc7a35t", (), "csg324", 210, 20800, 41600, "xc7a35ticsg324-1L"),)),
    Family("gowin", 4, "LUT4", "INIT", _LUT4, "F", carry="ALU", sim_model="gowin/cells_sim.v",
           t_level_ns=1.5, t_carry_ns=0.05, t_stage_ns=2.9,  # (iCE40 HX values: not calibrated)
           synth_command="synth_gowin"),
    # plain logic: LUTs become Boolean expressions any tool maps; decomposed to
    # 4 inputs like the LUT4 families so level counts (pipelining) stay meaningful
    Family("generic", 4),
)}
DEFAULT_FAMILY = FAMILIES["ice40"]

DEVICES: dict[str, Device] = {d.name: d for f in FAMILIES.values() for d in f.devices}
# the family of each device
DEVICE_FAMILY: dict[str, Family] = {d.name: f for f in FAMILIES.values() for d in f.devices}


def get_family(name: str | Family) -> Family:
    """The :class:`Family` called ``name`` (a Family is returned as it is);
    :class:`CompileError` if unknown."""
    if isinstance(name, Family):
        return name
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise CompileError(f"unknown target {name!r} (choose from {', '.join(sorted(FAMILIES))})") from None

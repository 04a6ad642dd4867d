"""The family records: one place for everything lut2rtl knows about an FPGA family."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lut2rtl.errors import CompileError
from lut2rtl.families import DEFAULT_FAMILY, DEVICE_FAMILY, DEVICES, FAMILIES, Family, get_family

LIBRARY = Path(__file__).resolve().parent.parent / "lut2rtl"
_ALT = "|".join(n for n in FAMILIES if n != "generic")
_NAMES = re.compile(rf"""["'](?:{_ALT})["']""")


def family_name_strings(text: str) -> list[str]:
    """Lines of ``text`` that spell an FPGA family's name as a string literal."""
    return [ln.strip() for ln in text.splitlines() if _NAMES.search(ln)]


def test_family_names_only_in_the_family_module() -> None:
    # knowledge of a family by its name lives in families.py (and click choices come from it)
    found = {}
    for p in sorted(LIBRARY.rglob("*.py")):
        if p.name == "families.py":
            continue
        hits = family_name_strings(p.read_text())
        if hits:
            found[str(p.relative_to(LIBRARY))] = hits
    assert found == {}


def test_scan_finds_a_family_name() -> None:
    # the negative control of the test above
    assert family_name_strings('if t == "ice40":\n    pass\nx = "generic"') == ['if t == "ice40":']
    assert family_name_strings("d = {'xilinx': 6}") == ["d = {'xilinx': 6}"]


def test_get_family() -> None:
    assert get_family("xilinx") is FAMILIES["xilinx"]
    assert get_family(FAMILIES["ecp5"]) is FAMILIES["ecp5"]
    assert DEFAULT_FAMILY.name in FAMILIES
    with pytest.raises(CompileError, match=r"^unknown target 'altera' \(choose from ecp5, generic, gowin, ice40, "
                                           r"xilinx\)$"):
        get_family("altera")


@pytest.mark.parametrize("family", [f for f in FAMILIES.values() if f.primitive is not None], ids=lambda f: f.name)
def test_primitive_ports_exist_in_the_simulation_model(family: Family) -> None:
    files, flags = family.sim_sources()
    assert len(files) == 1 and files[0].is_file()
    text = "\n".join(p.read_text(errors="replace") for p in [files[0], *files[0].parent.glob("*.vh")])
    for k in ((1, family.lut_size) if family.per_k else (family.lut_size,)):
        body = re.search(rf"^\s*module\s+{family.primitive_name(k)}\s*\((.*?)\);", text, re.S | re.M)
        assert body, family.primitive_name(k)
        for port in (*family.input_ports[:k], family.output_port):
            assert re.search(rf"\b{port}\b", body.group(1)), (family.name, port)
        assert re.search(rf"parameter\s+(\[[^]]*\]\s*)?{family.init_param}\b", text)
    for f in flags:
        assert "{" not in f  # every placeholder filled in


def test_plain_logic_has_no_models_or_tools() -> None:
    generic = FAMILIES["generic"]
    assert generic.primitive is None and generic.sim_sources() == ([], [])
    assert generic.synth_command is None and generic.nextpnr is None and not generic.devices


def test_devices() -> None:
    assert set(DEVICES) == set(DEVICE_FAMILY)
    for name, dev in DEVICES.items():
        fam = DEVICE_FAMILY[name]
        assert dev in fam.devices
        # an open place-and-route flow exactly where the family has one
        assert bool(dev.nextpnr_args) == (fam.nextpnr is not None)
        if fam.nextpnr is not None:
            assert fam.constraints_flag and fam.bitstream_flag and fam.logic_cell and all(fam.packer)

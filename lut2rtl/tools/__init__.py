"""Wrappers of the external tools (Verilator, Yosys, nextpnr) and their report
parsers. Each tool is found and run in one place (:mod:`._run`); parsers read
saved files so they can be tested without the tools."""

"""Counts the fidelity cases (Argo's own test workflows run in the emulator) at the end of a run.

tests/conftest.py also loads this file as the plugin "fidelity-summary" (the xdist controller loads no
other conftest); that copy prints, this one then stays quiet."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def pytest_terminal_summary(terminalreporter):
    """``fidelity: N cases from Argo's own tests, M agree`` (reports come to the controller under xdist)."""
    summary = terminalreporter.config.pluginmanager.get_plugin("fidelity-summary")
    if summary is not None and summary.__name__ != __name__:
        return
    prefix = FOLDER.relative_to(terminalreporter.config.rootpath).as_posix() + "/"
    cases = agree = 0
    for outcome, reports in terminalreporter.stats.items():
        for report in reports:
            if getattr(report, "when", None) != "call" and outcome not in ("error", "skipped"):
                continue
            if not getattr(report, "nodeid", "").startswith(prefix):
                continue
            cases += 1
            agree += outcome == "passed"
    if cases:
        terminalreporter.write_line(f"fidelity: {cases} cases from Argo's own tests, {agree} agree")

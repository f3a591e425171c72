"""Plugins come from package entry points (SPEC section 3): a package installed beside runnable adds a
catalog (or any service) without a change to runnable, and a plugin that cannot be imported is one line."""

from __future__ import annotations

import textwrap

from conftest import run_cli


def _install(project, entry_points: str) -> None:
    """A distribution on the python path, as pip leaves one: its metadata and its entry points."""
    info = project / "thirdparty-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    (project / "thirdparty_broken.py").write_text("raise ImportError('needs libfoo')\n")


def _config(project, catalog: str) -> str:
    (project / "config.yaml").write_text(f"catalog:\n  type: {catalog}\n")
    return "config.yaml"


def test_a_catalog_from_another_package_runs_and_a_broken_one_is_one_line(project):
    _install(project, """
        [runnable.catalog]
        borrowed = extensions.catalog.do_nothing:DoNothingCatalog
        broken = thirdparty_broken:Catalog
        """)
    ok = run_cli(["execute", "-f", "examples/hello.yaml", "-c", _config(project, "borrowed")], project)
    assert ok.returncode == 0, ok.stderr
    bad = run_cli(["execute", "-f", "examples/hello.yaml", "-c", _config(project, "broken")], project)
    assert bad.returncode != 0 and bad.error_lines == [
        "error: config.yaml:2: field 'catalog.type': catalog 'broken' is installed but cannot be loaded: "
        "ImportError: needs libfoo"], bad.stderr
    unknown = run_cli(["execute", "-f", "examples/hello.yaml", "-c", _config(project, "nope")], project)
    assert unknown.returncode != 0 and "unknown catalog 'nope'" in unknown.stderr
    assert "borrowed" in unknown.stderr and "file-system" in unknown.stderr

"""``runnable emulate MANIFEST``: run an Argo Workflow manifest here before submitting it."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option("-p", "--parameter", "parameters", multiple=True, metavar="NAME=VALUE",
              help="A workflow argument, as with 'argo submit -p'.")
@click.option("--secrets", "secrets_file", default=None, metavar="FILE",
              help="YAML mapping {secret_name: {key: value}} standing for Kubernetes secrets.")
@click.option("--project-dir", default=".", show_default=True, help="The directory that stands for the image.")
@click.option("--state-dir", default=".emulator", show_default=True,
              help="Where volumes, pod logs and working copies go.")
@click.option("--max-pods", default=8, show_default=True, type=click.IntRange(min=1), help="Pods running at once.")
@click.option("--backoff-scale", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Multiply retry backoff waits (0: retry at once).")
def emulate(manifest, parameters, secrets_file, project_dir, state_dir, max_pods, backoff_scale):
    """Run an Argo Workflow manifest on this machine with Argo's semantics (pods are local processes)."""
    from runnable.errors import RunnableError
    from runnable.yamlio import load

    from .engine import EmulationError, Emulator
    from .pods import PodSetupError

    document = load(manifest)
    secrets = load(secrets_file) if secrets_file else {}
    if not isinstance(secrets, dict):
        raise RunnableError("must map secret names to {key: value}", file=secrets_file)
    args = {}
    for item in parameters:
        name, sep, value = item.partition("=")
        if not sep:
            raise RunnableError(f"'{item}' is not NAME=VALUE", field="--parameter")
        args[name] = value
    try:
        result = Emulator(document, project_dir=Path(project_dir), state_dir=Path(state_dir), parameters=args,
                          secrets=secrets, max_pods=max_pods, backoff_scale=backoff_scale).run()
    except (EmulationError, PodSetupError) as exc:
        raise RunnableError(str(exc), file=manifest) from None
    _show(result)
    click.echo(f"workflow {result.name}: {result.phase}{' - ' + result.message if result.message else ''}", err=True)
    sys.exit(0 if result.phase == "Succeeded" else 1)


def _show(result) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover
        for n in result.nodes:
            click.echo(f"{n.phase:10} {n.name} [{n.template}] {n.message}")
        return
    table = Table(title=f"{result.name} ({result.uid})")
    for column in ("node", "template", "phase", "attempts", "seconds", "message"):
        table.add_column(column)
    colours = {"Succeeded": "green", "Failed": "red", "Error": "red", "Omitted": "dim", "Skipped": "dim"}
    for n in result.nodes:
        table.add_row(n.name, n.template, f"[{colours.get(n.phase, 'white')}]{n.phase}[/]",
                      str(n.attempts or ""), f"{n.duration:.1f}", n.message)
    Console(stderr=True).print(table)

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
@click.option("--status-json", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the workflow's final status (phase, every node, each pod's log paths) here as JSON.")
def emulate(manifest, parameters, secrets_file, project_dir, state_dir, max_pods, backoff_scale, status_json):
    """Run an Argo Workflow manifest on this machine with Argo's semantics (pods are local processes)."""
    from runnable.errors import RunnableError
    from runnable.yamlio import load

    from .engine import EmulationError, Emulator
    from .pods import PodSetupError
    from .report import check_status_path, show, write_status
    from .status_size import describe, estimate

    document = load(manifest)
    if status_json:
        check_status_path(status_json)
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
    show(result)
    figures = estimate(result, document)  # nodes and the size of Argo's status of them (status_size.py)
    click.echo(describe(figures), err=True)
    if status_json:
        write_status(result, status_json, statusEstimate=figures)
    click.echo(f"workflow {result.name}: {result.phase}{' - ' + result.message if result.message else ''}", err=True)
    sys.exit(0 if result.phase == "Succeeded" else 1)


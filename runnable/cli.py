"""The ``runnable`` command. Only click is imported up front: each command imports what it needs."""

from __future__ import annotations

import copy
import logging
import sys

import click

from . import __version__

_state = {"debug": False}

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _set_log_level(ctx, param, value):
    if value:
        level = value.upper()
        _state["debug"] = level == "DEBUG"
        logging.basicConfig(level=getattr(logging, level), format="%(levelname)s %(name)s: %(message)s")
        from .secrets import ScrubbingFormatter

        for handler in logging.getLogger().handlers:  # the user's own logging too: no secret on the console
            handler.setFormatter(ScrubbingFormatter(handler.formatter))
        logging.getLogger("runnable").setLevel(level)
    return value


def log_level_option(f):
    return click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None,
                        expose_value=False, is_eager=True, callback=_set_log_level,
                        help="How much to log; DEBUG also shows tracebacks.")(f)


def pod_run_id(f):
    """RUN_ID of a pod command; an empty one (an Argo run given no run_id) is ``--workflow-uid``.

    Argo does not substitute variables inside a workflow argument's value before the first pods are made
    (workflow/controller/operator.go: setGlobalParameters binds workflow.parameters.X to the raw value;
    substituteGlobalVariables rewrites the spec, not that scope), so a default such as ``{{workflow.uid}}``
    would reach the first pod as literal text: pods get the uid as a variable of its own instead.
    """
    import functools

    @functools.wraps(f)
    def resolved(*args, run_id, workflow_uid, **kwargs):
        if not run_id:
            if not workflow_uid:
                from .errors import RunnableError

                raise RunnableError("the run id is empty and no --workflow-uid was given", field="RUN_ID")
            run_id = workflow_uid
        return f(*args, run_id=run_id, **kwargs)

    resolved = click.option("--workflow-uid", default=None, metavar="UID",
                            help="The run id when RUN_ID is empty (Argo's {{workflow.uid}}).")(resolved)
    return click.argument("run_id")(resolved)


class _Group(click.Group):
    """Adds commands that plugins register (entry-point group ``runnable.commands``), loaded only when asked."""

    def list_commands(self, ctx):
        from . import plugins

        return sorted(set(super().list_commands(ctx)) | set(plugins.targets("commands")))

    def get_command(self, ctx, name):
        from . import plugins

        command = super().get_command(ctx, name)
        if command is not None or name not in plugins.targets("commands"):
            return command
        return plugins.load("commands", name)  # says in one line why it cannot be loaded


# `runnable` alone prints its help on stdout and exits 0, as pip, docker and kubectl do: asking what the
# command can do is not a mistake (click's default since 8.2 is the help as a usage error, exit 2)
@click.group(cls=_Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="runnable")
@log_level_option
@click.pass_context
def cli(ctx):
    """Describe a pipeline once; run it here or transpile it to Argo Workflows."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


pipeline_option = click.option("-f", "--file", "pipeline_file", required=True, metavar="PIPELINE",
                               help="The pipeline definition (YAML).")
config_option = click.option("-c", "--config-file", "config_file", default=None, metavar="CONFIG",
                             help="The configuration (default: local executor, file-system stores).")
map_option = click.option("--map-variable", default=None, metavar="JSON",
                          help='Iteration indexes of the enclosing map steps, e.g. {"chunk": 3}.')
quiet_option = click.option("-q", "--quiet", is_flag=True,
                            help="Show no progress and no summary (a failure still prints its one line).")
no_import_option = click.option("--no-import", is_flag=True,
                                help="Pre-flight: do not import python functions nor check their arguments "
                                     "(a machine without the pipeline's environment, e.g. CI writing a manifest).")


@cli.command()
@click.argument("pipeline", required=False, metavar="[PIPELINE]")
@click.option("-f", "--file", "pipeline_file", default=None, metavar="PIPELINE",
              help="The pipeline definition (YAML); may also be given as the argument (runnable 0.50's form).")
@config_option
@click.option("-p", "--parameters-file", default=None, metavar="PARAMS", help="Initial parameters (YAML mapping).")
@click.option("--run-id", default=None, help="Name the run (default: time-based and unique).")
@click.option("--tag", default="", help="A label recorded in the run log.")
@click.option("--use-cached", default=None, metavar="RUN_ID",
              help="runnable 0.11's form of 'runnable retry RUN_ID': reuse what succeeded in that run.")
@no_import_option
@quiet_option
@log_level_option
def execute(pipeline, pipeline_file, config_file, parameters_file, run_id, tag, use_cached, no_import, quiet):
    """Run a pipeline, or write its Argo manifest with an argo configuration."""
    from . import entrypoints, progress

    if pipeline and pipeline_file and pipeline != pipeline_file:
        raise click.UsageError(f"two pipelines given ('{pipeline}' and -f '{pipeline_file}'): give one")
    pipeline_file = pipeline_file or pipeline
    if not pipeline_file:
        raise click.UsageError("Missing option '-f' / '--file' (or the pipeline as the argument)")
    if use_cached:
        if parameters_file:
            raise click.UsageError("--use-cached reuses the parameters of the run it retries: drop -p")
        ctx, status = entrypoints.retry(use_cached, pipeline_file, config_file=config_file, run_id=run_id, tag=tag,
                                        observer=progress.reporter(quiet))
    else:
        ctx, status = entrypoints.execute(pipeline_file, config_file=config_file, parameters_file=parameters_file,
                                          run_id=run_id, tag=tag, imports=not no_import,
                                          observer=progress.reporter(quiet))
    _report(ctx, status, quiet)


def _report(ctx, status, quiet: bool = False) -> None:
    from .progress import final_line
    from .run_log import SUCCESS

    if status is None:  # a describing executor wrote its output and ran nothing
        return
    final_line(ctx.run_id, status, quiet)
    if status != SUCCESS:
        sys.exit(1)


@cli.command()
@click.argument("run_id")
@pipeline_option
@config_option
@click.option("--run-id", "new_run_id", default=None, help="Name the new run (default: time-based and unique).")
@click.option("--force", is_flag=True, help="Retry even if the pipeline changed since the original run.")
@click.option("--tag", default="", help="A label recorded in the run log.")
@quiet_option
@log_level_option
def retry(run_id, pipeline_file, config_file, new_run_id, force, tag, quiet):
    """Re-run a failed run from its run log: steps that succeeded are reused, the rest run again."""
    from . import entrypoints, progress

    ctx, status = entrypoints.retry(run_id, pipeline_file, config_file=config_file, run_id=new_run_id, force=force,
                                    tag=tag, observer=progress.reporter(quiet))
    _report(ctx, status, quiet)


@cli.command("execute-single-node")
@pod_run_id
@click.argument("step")
@pipeline_option
@config_option
@map_option
@click.option("--attempt", type=click.IntRange(min=1), default=None,
              help="Run only this attempt (default: every attempt the step allows).")
@click.option("--retries", type=click.IntRange(min=0), default=None,
              help="Argo's retry count of this pod ({{retries}}): the attempt is retries + 1.")
@log_level_option
def execute_single_node(run_id, step, pipeline_file, config_file, map_variable, attempt, retries):
    """Run one step of an existing run (what each Argo pod calls)."""
    from . import entrypoints

    if retries is not None:
        attempt = retries + 1
    ok = entrypoints.execute_single_node(run_id, step, pipeline_file, config_file=config_file,
                                         map_variable=map_variable, attempt=attempt)
    if not ok:
        sys.exit(1)


# the spelling runnable 0.50 and SPEC section 6 accept; hidden so --help lists the command once
cli.add_command(copy.copy(execute_single_node), "execute_single_node")
cli.commands["execute_single_node"].hidden = True


@cli.command()
@pod_run_id
@click.argument("step")
@click.option("--mode", type=click.Choice(["in", "out"]), required=True, help="out: open the step; in: close it.")
@pipeline_option
@config_option
@map_option
@click.option("--iterations-file", default=None, metavar="PATH",
              help="With --mode out: write the branches to run here (a JSON list, for Argo's withParam).")
@click.option("--batches-file", default=None, metavar="PATH",
              help="With --mode out, a map: run its iterations in batches, written here as ranges (0-99,...).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="With --batches-file: iterations a batch.")
@click.option("--batch-above", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --batches-file and no --batch-size: more than N iterations run in at most N batches.")
@log_level_option
def fan(run_id, step, mode, pipeline_file, config_file, map_variable, iterations_file, batches_file, batch_size,
        batch_above):
    """Open or close a parallel, map or dag step of an existing run (used by Argo pods)."""
    from . import entrypoints

    ok = entrypoints.fan(run_id, step, mode, pipeline_file, config_file=config_file, map_variable=map_variable,
                         iterations_file=iterations_file, batches_file=batches_file, batch_size=batch_size,
                         batch_above=batch_above)
    if not ok:
        sys.exit(1)


@cli.command("execute-batch")
@pod_run_id
@click.argument("step")
@pipeline_option
@config_option
@map_option
@click.option("--iterations", required=True, metavar="RANGES", help="The map's iterations to run, e.g. 0-99,120.")
@click.option("--retries", type=click.IntRange(min=0), default=None,
              help="Argo's retry count of this pod ({{retries}}): before its last try a failing iteration stops at "
                   "its failed step.")
@log_level_option
def execute_batch(run_id, step, pipeline_file, config_file, map_variable, iterations, retries):
    """Run some iterations of a map step of an existing run, one after another (an Argo batch pod)."""
    from . import entrypoints

    ok = entrypoints.execute_batch(run_id, step, pipeline_file, iterations=iterations, config_file=config_file,
                                   map_variable=map_variable, retries=retries)
    if not ok:
        sys.exit(1)


@cli.command("start-run")
@pod_run_id
@pipeline_option
@config_option
@click.option("-p", "--parameters-file", default=None, metavar="PARAMS", help="Initial parameters (YAML mapping).")
@click.option("--parameter", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A parameter given at submit time (typed like the parameters file's value).")
@click.option("--original-run-id", default=None, help="This run retries that one: reuse what succeeded there.")
@click.option("--force", is_flag=True, help="With --original-run-id: retry even if the pipeline changed.")
@log_level_option
def start_run(run_id, pipeline_file, config_file, parameters_file, overrides, original_run_id, force):
    """Create the run log of a run that pods will execute (the first task of an Argo workflow)."""
    from . import entrypoints

    entrypoints.start_run(run_id, pipeline_file, config_file=config_file, parameters_file=parameters_file,
                          overrides=list(overrides), original_run_id=original_run_id, force=force)


@cli.command("end-run")
@pod_run_id
@pipeline_option
@config_option
@click.option("--workflow-status", default=None, help="Argo's {{workflow.status}}.")
@log_level_option
def end_run(run_id, pipeline_file, config_file, workflow_status):
    """Close a run after its last pod (Argo's exit handler): a run that never finished is marked FAIL."""
    from . import entrypoints

    status = entrypoints.end_run(run_id, pipeline_file, config_file=config_file, workflow_status=workflow_status)
    click.echo(f"run {run_id}: {status}", err=True)


log_folder_option = click.option("--log-folder", default=None, metavar="FOLDER",
                                 help="Where the run logs are (default: the configured store's, else .run_log_store).")
view_config_option = click.option("-c", "--config-file", "config_file", default=None, metavar="CONFIG",
                                  help="Read the run log store this configuration names (default: every store that "
                                       "keeps runs in the folder).")


@cli.command()
@log_folder_option
@view_config_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=None, help="Only the newest N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@log_level_option
def runs(log_folder, config_file, limit, as_json):
    """List the runs of a run log store, newest first."""
    from . import views

    views.print_runs(views.list_runs(views.open_stores(config_file, log_folder), limit), as_json=as_json)


@cli.command()
@click.argument("run_id")
@log_folder_option
@view_config_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole run log as JSON.")
@log_level_option
def show(run_id, log_folder, config_file, as_json):
    """Show one run as a tree of its steps and branches (a run still going, or cut short, too)."""
    from . import views

    stores = views.open_stores(config_file, log_folder)
    if as_json:
        views.write_run_json(stores, run_id, click.get_text_stream("stdout").write)
    else:
        views.show_run(views.find_run(stores, run_id)[1])


@cli.command()
@pipeline_option
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "html"]), default="mermaid",
              help="mermaid (default), Graphviz dot, or a self-contained html page with a Gantt view of a run.")
@click.option("--run-id", default=None, help="Colour the steps by this run's statuses (and, in html, its timings).")
@log_folder_option
@view_config_option
@click.option("-o", "--output", default=None, metavar="FILE", help="Write here instead of standard output.")
@log_level_option
def graph(pipeline_file, fmt, run_id, log_folder, config_file, output):
    """Draw a pipeline with its nesting, optionally coloured by a run."""
    from . import drawing

    text = drawing.draw(pipeline_file, fmt, run_id=run_id, config_file=config_file, log_folder=log_folder)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@cli.command()
@pipeline_option
@config_option
@click.option("-p", "--parameters-file", default=None, metavar="PARAMS", help="Initial parameters (YAML mapping).")
@no_import_option
@log_level_option
def validate(pipeline_file, config_file, parameters_file, no_import):
    """Check a pipeline before running it: every problem found, one line each; nothing runs."""
    from . import entrypoints

    checked = entrypoints.validate(pipeline_file, config_file=config_file, parameters_file=parameters_file,
                                   imports=not no_import)
    scope = "functions imported, arguments bound" if not no_import else "functions not imported (--no-import)"
    steps = checked.steps_checked
    click.echo(f"ok: {pipeline_file}: {steps} step{'' if steps == 1 else 's'} checked ({scope})")


@cli.command()
@click.argument("what", type=click.Choice(["pipeline", "config"]))
@log_level_option
def schema(what):
    """Print the JSON Schema of a pipeline or configuration file (for editors' YAML language server)."""
    import json

    from . import schemas

    click.echo(json.dumps(schemas.pipeline_schema() if what == "pipeline" else schemas.config_schema(), indent=1))


def _interrupt_on_sigterm() -> None:
    """SIGTERM (what Kubernetes sends) stops a command as Ctrl-C does: a run records it, then exit 143."""
    import signal

    def interrupted(signum, frame):
        from .processes import Interrupted

        raise Interrupted(signum)

    signal.signal(signal.SIGTERM, interrupted)


def main(argv=None) -> None:
    """Entry point: user mistakes are one line on stderr and exit 2; tracebacks only with --log-level DEBUG."""
    from .errors import RunnableError

    _interrupt_on_sigterm()
    try:
        cli.main(args=argv, prog_name="runnable", standalone_mode=False)
    except click.exceptions.Abort as exc:  # click's word for KeyboardInterrupt (Ctrl-C, SIGTERM) or EOF
        interrupted = isinstance(exc.__cause__, KeyboardInterrupt)
        click.echo("interrupted" if interrupted else "aborted", err=True)
        sys.exit(getattr(exc.__cause__, "exit_code", 130))
    except click.UsageError as exc:  # one line, like every other mistake, with where to read more
        command = exc.ctx.command_path if exc.ctx is not None else "runnable"
        click.echo(f"error: {command}: {exc.format_message().rstrip('.')} (see '{command} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except RunnableError as exc:
        if _state["debug"]:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        click.echo("interrupted", err=True)
        sys.exit(getattr(exc, "exit_code", 130))
    except Exception as exc:  # a bug of ours or a plugin's: say so in one line, details with DEBUG
        if _state["debug"]:
            raise
        click.echo(f"internal error: {exc.__class__.__name__}: {exc} (run with --log-level DEBUG for details)",
                   err=True)
        sys.exit(3)

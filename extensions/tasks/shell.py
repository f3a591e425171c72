"""``command_type: shell``: run a shell script; parameters in as environment variables, returns out by ``export``.

Parameters arrive as environment variables (strings as they are, anything else as JSON). A parameter
too large for the environment (the kernel refuses a variable over 128 KiB, and all of them over about
2 MiB) arrives instead as ``<name>_FILE``, the path of a file holding its value, and the execution log
says so. What the script leaves exported under a name in ``returns`` becomes that parameter (parsed as
JSON when it is).
The secrets the task declares (``secrets``) are made available to the script as environment variables;
their values are scrubbed from the execution log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from typing import Literal

from runnable.errors import ExecutionError
from runnable.parameters import as_env, from_env
from runnable.processes import task_process
from runnable.tasks import BaseTaskType, TaskResult


# commands that run the script named after them (pre-flight checks that script exists)
INTERPRETERS = {"sh", "bash", "zsh", "dash", "ksh", "python", "python3", "Rscript", "perl", "ruby", "node", "julia",
                "source", "."}
SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".py", ".R", ".r", ".pl", ".rb", ".js", ".jl")
_SHELL_SYNTAX = set("$`*?[]{}~<>|;&()\\")  # a word with any of these is expanded or parsed by the shell


def named_script(command: str) -> tuple[str, bool] | None:
    """The script file a one-line command plainly runs, and whether it runs it directly (``./run.sh``)
    rather than through an interpreter (``bash run.sh``); None when the command is anything else."""
    import re
    import shlex
    from pathlib import PurePosixPath

    if "\n" in command.strip():
        return None
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return None
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", words[0]):  # NAME=value before the command
        words.pop(0)
    if not words:
        return None
    if words[0].rsplit("/", 1)[-1] in INTERPRETERS:
        if len(words) < 2 or words[1].startswith("-") or not (words[1].endswith(SCRIPT_SUFFIXES) or "/" in words[1]):
            return None
        path, direct = words[1], False
    elif "/" in words[0]:
        path, direct = words[0], True
    else:
        return None
    if _SHELL_SYNTAX & set(path) or path.startswith("/") or ".." in PurePosixPath(path).parts:
        return None
    return path, direct


class ShellTaskType(BaseTaskType):
    task_type = "shell"

    command_type: Literal["shell"]

    def preflight(self, check) -> None:
        import fnmatch
        from pathlib import PurePosixPath

        named = named_script(self.command)
        if named is None:
            return
        path, direct = named
        relative = str(PurePosixPath(path))
        if any(fnmatch.fnmatch(relative, p) or relative.startswith(str(PurePosixPath(p)) + "/") for p in check.fetched):
            return  # the step gets it from the catalog before it runs
        file = check.project_dir / relative
        if not file.is_file():
            check.problem("command", f"script '{path}' does not exist")
        elif direct and not os.access(file, os.X_OK):
            check.problem("command", f"script '{path}' is not executable: chmod +x it, or run it with its "
                                     f"interpreter (bash {path})")

    def run(self, ctx, inputs, *, step_name, log) -> TaskResult:
        env = dict(os.environ)
        for name, variable in ctx.secrets.secrets_in_environment(env).items():
            if self.secrets is None or name in self.secrets:  # in its environment: scrubbed from its output
                ctx.secret_registry.remember(env[variable])
            else:  # only the secrets the task declares reach its environment
                del env[variable]
        for name in self.secrets or []:
            env[name] = ctx.get_secret(name)
        shell = shutil.which("bash") or "/bin/sh"
        with tempfile.TemporaryDirectory(prefix="runnable-shell-") as tmp:
            env.update(_parameters_env(inputs.json_values, tmp, log))
            exported = os.path.join(tmp, "env")
            script = f"trap 'env -0 > \"{exported}\"' EXIT\n{self.command}\n"
            # its own process group, ended with the task (what the script left running too) or with the run
            with task_process([shell, "-c", script], cwd=ctx.project_dir, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
                assert proc.stdout is not None
                for line in proc.stdout:
                    line = ctx.secret_registry.scrub(line)
                    log.write(line)
                    sys.stdout.write(line)
                code = proc.wait()
            if code != 0:
                raise ExecutionError(f"the script exited with status {code}")
            values = {}
            if self.returns:
                try:
                    with open(exported, encoding="utf-8", errors="replace") as fh:
                        pairs = [item.split("=", 1) for item in fh.read().split("\0") if "=" in item]
                except FileNotFoundError:
                    pairs = []
                found = dict(pairs)
                for spec in self.returns:
                    if spec.name in found:
                        values[spec.name] = from_env(found[spec.name])
        return TaskResult(values, used=list(inputs.json_values))


MAX_VARIABLE = 128 * 1024 - 1  # the kernel's limit on one "NAME=value" string (MAX_ARG_STRLEN)
MAX_PARAMETERS = 1024 * 1024  # what parameters may take of the ~2 MiB for arguments and environment


def _parameters_env(values: dict, folder: str, log) -> dict[str, str]:
    """Parameters as environment variables; those too large for it as ``<name>_FILE`` (a path)."""
    texts = {name: as_env(value) for name, value in values.items()}
    room = MAX_PARAMETERS
    env: dict[str, str] = {}
    for name, text in sorted(texts.items(), key=lambda kv: len(kv[1])):  # the small ones first
        size = len(name) + 1 + len(text.encode("utf-8", errors="surrogateescape"))
        if size <= min(MAX_VARIABLE, room):
            env[name] = text
            room -= size
            continue
        path = os.path.join(folder, f"parameter-{name}")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        env[f"{name}_FILE"] = path
        log.write(f"[runnable] parameter '{name}' ({size:,} bytes) is too large for an environment variable: "
                  f"its value is in the file ${name}_FILE\n")
    return env

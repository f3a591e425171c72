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
from runnable.tasks import BaseTaskType, TaskResult


class ShellTaskType(BaseTaskType):
    task_type = "shell"

    command_type: Literal["shell"]

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
            proc = subprocess.Popen([shell, "-c", script], cwd=ctx.project_dir, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace")
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

"""``command_type: shell``: run a shell script; parameters in as environment variables, returns out by ``export``.

Parameters arrive as environment variables (strings as they are, anything else as JSON). What the
script leaves exported under a name in ``returns`` becomes that parameter (parsed as JSON when it is).
``secrets`` lists secrets made available to the script as environment variables; their values are
scrubbed from the execution log.
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
    secrets: list[str] = []

    def run(self, ctx, inputs, *, step_name, log) -> TaskResult:
        env = dict(os.environ)
        for name, value in inputs.json_values.items():
            env[name] = as_env(value)
        for name in self.secrets:
            env[name] = ctx.get_secret(name)
        shell = shutil.which("bash") or "/bin/sh"
        with tempfile.TemporaryDirectory(prefix="runnable-shell-") as tmp:
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

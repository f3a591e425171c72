"""Issue 16 item 6: a secret value leaves 0 copies in any file of the project (run log, catalog, execution
logs) and on the console, whichever way a task writes it."""

from __future__ import annotations

from pathlib import Path

import nbformat

from tests.conftest import run_cli

SECRET = "s3cr3t-Value-42"
NUMBER = "987654321"
MULTI = "line-one-abc\nline-two-def"

FUNCTIONS = '''
import sys
from runnable import get_secret

def as_key():
    return {get_secret("API_TOKEN"): 1, "other": [get_secret("API_TOKEN")]}

def as_number():
    return int(get_secret("PIN"))

def in_pieces():
    value = get_secret("API_TOKEN")
    print(value[:5], end="", flush=True)
    sys.stdout.flush()
    print(value[5:])
    sys.stderr.write(value[:3]); sys.stderr.write(value[3:] + "\\n")

def child_process():
    import subprocess
    subprocess.run(["echo", "child", get_secret("API_TOKEN")], check=True)
    subprocess.run(["sh", "-c", "echo err $0 >&2", get_secret("API_TOKEN")], check=True)

def logs_it():
    import logging
    logging.getLogger("mine").debug("debug %s", get_secret("API_TOKEN"))
    logging.getLogger("mine").warning("warning " + get_secret("API_TOKEN"))

def multi_line():
    for line in get_secret("KEY").splitlines():
        print("line:", line)
'''

PIPELINE = """
dag:
  start_at: key
  steps:
    key: {type: task, command: funcs.as_key, returns: [{name: mapping, kind: json}], next: number}
    number: {type: task, command: funcs.as_number, returns: [{name: pin, kind: json}], next: pieces}
    pieces: {type: task, command: funcs.in_pieces, next: multi}
    multi: {type: task, command: funcs.multi_line, next: child}
    child: {type: task, command: funcs.child_process, next: logs}
    logs: {type: task, command: funcs.logs_it, next: notebook}
    notebook: {type: task, command_type: notebook, command: nb.ipynb, next: env declared}
    env declared: {type: task, command_type: shell, secrets: [API_TOKEN], command: env, next: env undeclared}
    env undeclared: {type: task, command_type: shell, secrets: [], command: env, next: success}
    success: {type: success}
"""

CONFIG = "secrets:\n  type: env-secrets\n  config: {prefix: MYAPP_}\n"


def _copies(project: Path, value: str) -> list[str]:
    return [str(p) for p in project.rglob("*") if p.is_file() and value.encode() in p.read_bytes()]


def _execution_log(project: Path, step: str) -> str:
    logs = [p for p in (project / ".catalog").rglob("*") if p.is_file() and p.name.startswith(step.replace(" ", "-") + "-")]
    assert len(logs) == 1, logs
    return logs[0].read_text()


def test_no_secret_copy_in_any_file_or_on_the_console(tmp_path):
    (tmp_path / "funcs.py").write_text(FUNCTIONS)
    (tmp_path / "p.yaml").write_text(PIPELINE)
    cells = [nbformat.v4.new_code_cell("from runnable import get_secret\nvalue = get_secret('API_TOKEN')\n"
                                       "print(value)\nvalue")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(tmp_path / "nb.ipynb"))
    (tmp_path / "config.yaml").write_text(CONFIG)
    env = {"MYAPP_API_TOKEN": SECRET, "MYAPP_PIN": NUMBER, "MYAPP_KEY": MULTI}
    result = run_cli(["execute", "-f", "p.yaml", "-c", "config.yaml", "--run-id", "leak", "--log-level", "DEBUG"], tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    console = result.stdout + result.stderr
    assert "child ********" in _execution_log(tmp_path, "child") and "err ********" in console
    assert "line: ********" in console and "debug ********" in console and "MYAPP_API_TOKEN=********" in console
    for value in [SECRET, NUMBER, *MULTI.splitlines()]:
        assert value not in console
        assert _copies(tmp_path, value) == [], value
    # a shell task gets only the secrets it declares in its environment
    assert "MYAPP_API_TOKEN=********" in _execution_log(tmp_path, "env declared")
    assert "MYAPP_PIN=" not in _execution_log(tmp_path, "env declared")
    assert "MYAPP_" not in _execution_log(tmp_path, "env undeclared")

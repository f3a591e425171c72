"""A pod as a local process: the container's command in a fresh working copy of the project.

Each pod gets a private mount namespace (``unshare --mount``) in which its own directory is bound over
``/tmp`` (pod-local, as in a container) and each persistent volume claim's directory over its mount
path (shared by every pod, as a PVC is). The image is not used: the project directory stands for it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

IGNORED = (".git", ".venv", "venv", "__pycache__", ".run_log_store", ".catalog", "*.egg-info", ".pytest_cache",
           ".emulator")
RESULT_LIMIT = 256 * 1024
# Where each pod sees its working copy: outside /tmp (the pod's own /tmp is bound over it), the same
# path in every pod as an image's working directory would be; each pod's mount namespace has its own.
WORKDIR = Path("/var/tmp/runnable-emulator/workdir")


class PodSetupError(Exception):
    """The pod could not start (Kubernetes would report an Error, e.g. CreateContainerConfigError)."""


@dataclass
class PodOutcome:
    phase: str  # Succeeded | Failed | Error
    message: str = ""
    stdout: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    exit_code: int | None = None


def namespace_prefix() -> list[str]:
    """How to enter a private mount namespace here (root: plain; otherwise through a user namespace)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise PodSetupError("the emulator needs 'unshare' (util-linux) to give each pod its own /tmp and volumes")
    prefix = [unshare, "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix = [unshare, "--user", "--map-root-user", "--mount", "--propagation", "private"]
    probe = subprocess.run([*prefix, "--", "/bin/sh", "-c", "mount --bind / /mnt 2>/dev/null || true; true"],
                           capture_output=True)
    if probe.returncode != 0:
        raise PodSetupError("cannot create a private mount namespace here (run as root, or allow user namespaces): "
                            + probe.stderr.decode(errors="replace").strip()[:200])
    return prefix


class PodRunner:
    def __init__(self, *, project_dir: Path, state_dir: Path, volumes: dict[str, Path], secrets: dict,
                 max_pods: int) -> None:
        self.project_dir = project_dir.resolve()
        self.state_dir = state_dir.resolve()
        self.volumes = volumes  # volume name -> host directory
        self.secrets = secrets
        self.slots = threading.Semaphore(max_pods)
        self.prefix = namespace_prefix()
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNABLE_")}
        # the container's commands (runnable ...) are this Python's scripts, wherever PATH points
        scripts = str(Path(sys.executable).parent)
        self.base_env["PATH"] = os.pathsep.join([scripts, self.base_env.get("PATH", "/usr/bin:/bin")])

    def _env(self, container: dict) -> dict[str, str]:
        env = dict(self.base_env)
        for var in container.get("env") or []:
            if "value" in var:
                env[var["name"]] = str(var["value"])
            elif "secretKeyRef" in (var.get("valueFrom") or {}):
                ref = var["valueFrom"]["secretKeyRef"]
                secret = self.secrets.get(ref["name"])
                if secret is None or ref["key"] not in secret:
                    if ref.get("optional"):
                        continue
                    raise PodSetupError(f"CreateContainerConfigError: secret \"{ref['name']}\" (key "
                                        f"\"{ref['key']}\") not found")
                env[var["name"]] = str(secret[ref["key"]])
            else:
                raise PodSetupError(f"env '{var['name']}': only value and secretKeyRef are emulated")
        return env

    def _working_copy(self, pod_dir: Path) -> Path:
        work = pod_dir / "work"
        ignore = shutil.ignore_patterns(*IGNORED)

        def skip(directory: str, names: list[str]) -> set[str]:
            skipped = set(ignore(directory, names))
            for name in names:
                if (Path(directory) / name).resolve() == self.state_dir:
                    skipped.add(name)
            return skipped

        shutil.copytree(self.project_dir, work, ignore=skip, symlinks=True)
        return work

    def run(self, pod_name: str, container: dict, outputs: list[dict],
            deadline: tuple[float, str] | None) -> PodOutcome:
        """Run the pod; ``deadline`` is (time.monotonic() at which it is killed, the node's message then)."""
        pod_dir = self.state_dir / "pods" / pod_name
        pod_dir.mkdir(parents=True, exist_ok=True)
        tmp = pod_dir / "tmp"
        tmp.mkdir(exist_ok=True)
        try:
            env = self._env(container)
            mounts = []
            for mount in container.get("volumeMounts") or []:
                if mount["name"] not in self.volumes:
                    raise PodSetupError(f"volume '{mount['name']}' is not declared")
                mounts.append((self.volumes[mount["name"]], mount["mountPath"]))
        except PodSetupError as exc:
            return PodOutcome("Error", str(exc))
        with self.slots:
            work = self._working_copy(pod_dir)
            WORKDIR.mkdir(parents=True, exist_ok=True)
            binds = []
            for host, target in mounts:  # volumes first: their host paths may lie under /tmp
                binds.append(f"mkdir -p {shlex.quote(target)} && mount --bind {shlex.quote(str(host))} "
                             f"{shlex.quote(target)}")
            binds.append(f"mount --bind {shlex.quote(str(work))} {WORKDIR}")
            binds.append(f"mount --bind {shlex.quote(str(tmp))} /tmp")
            cwd = container.get("workingDir") or str(WORKDIR)
            script = " && ".join(binds) + f" && cd {shlex.quote(cwd)} && exec \"$@\""
            argv = [str(a) for a in (*(container.get("command") or []), *(container.get("args") or []))]
            if not argv:
                return PodOutcome("Error", "the container has no command (image entrypoints are not emulated)")
            env["HOME"] = str(tmp)
            stdout_path, stderr_path = pod_dir / "stdout.log", pod_dir / "stderr.log"
            with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
                proc = subprocess.Popen([*self.prefix, "--", "/bin/sh", "-c", script, "sh", *argv], stdout=out,
                                        stderr=err, env=env, start_new_session=True)
                timeout = None if deadline is None else max(0.0, deadline[0] - time.monotonic())
                code = None
                try:
                    code = proc.wait(timeout=timeout)
                    if code < 0:  # killed by a signal: a container's exit code is then 128 + the signal
                        code = 128 - code
                    # a main container that exits non-zero makes the node Failed with "<container>: <reason> (exit
                    # code N)", the reason Kubernetes gives being "Error" (operator.go inferFailedReason ~lines
                    # 1864-1874; e2e cli_test.go TestWorkflowRetryWithRecreatedPVC)
                    message = "" if code == 0 else f"main: Error (exit code {code})"
                    phase = "Succeeded" if code == 0 else "Failed"
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    phase, message = "Failed", deadline[1]
            stdout = stdout_path.read_bytes()[-RESULT_LIMIT:].decode(errors="replace")
        # the result and each output parameter lose a single trailing newline (executor.go CaptureScriptResult
        # ~line 953, SaveParameters ~line 780)
        outcome = PodOutcome(phase, message, _trim(stdout), log=pod_dir, exit_code=code)
        if phase == "Succeeded":
            for param in outputs:
                source = param.get("valueFrom") or {}
                path = source.get("path")
                if path is None:
                    continue
                host = self._host_path(path, tmp, mounts, work)
                try:
                    outcome.outputs[param["name"]] = _trim(host.read_text())
                except (OSError, UnicodeDecodeError):
                    if "default" in source:
                        outcome.outputs[param["name"]] = _trim(str(source["default"]))
                    else:
                        return PodOutcome("Error", f"failed to read output parameter '{param['name']}' from {path}",
                                          outcome.stdout, log=pod_dir, exit_code=code)
        shutil.rmtree(pod_dir / "work", ignore_errors=True)
        return outcome

    @staticmethod
    def _host_path(path: str, tmp: Path, mounts: list[tuple[Path, str]], work: Path) -> Path:
        if path == "/tmp" or path.startswith("/tmp/"):
            return tmp / path[len("/tmp/"):]
        for host, target in sorted(mounts, key=lambda m: -len(m[1])):
            if path == target or path.startswith(target.rstrip("/") + "/"):
                return host / path[len(target):].lstrip("/")
        return work / path.lstrip("/")


def _trim(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text

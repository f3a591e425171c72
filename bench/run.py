"""Benchmarks side by side with runnable 0.50.0: ``python bench/run.py`` (see bench/README.md).

Every figure is the wall time of the real command line (or the size of what it wrote), measured in
this run for us and for the peer, which is installed from PyPI into ``bench/.peer-venv`` (a
benchmark-only environment, never a dependency of the project). The peer runs only where it finishes
in reasonable time; beyond that our figure stands alone. Results: a table on the console and
``bench/results/latest.json`` (or ``--out``) for comparing commits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

PEER_VERSION = "0.50.0"
PEER_VENV = HERE / ".peer-venv"


@dataclass
class Figure:
    workload: str
    measure: str  # "s", "bytes", "ratio"
    ours: float | None
    peer: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """How many times better we are (peer / ours) for times and sizes."""
        if self.ours and self.peer:
            return self.peer / self.ours
        return None


@dataclass
class Check:
    goal: str
    met: bool | None
    detail: str


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Figure:
        fig = Figure(*args, **kwargs)
        self.figures.append(fig)
        print(f"  {fig.workload:<42} ours {_fmt(fig.ours, fig.measure):>10}   peer {_fmt(fig.peer, fig.measure):>10}"
              f"  {fig.note}", flush=True)
        return fig

    def find(self, workload: str) -> Figure | None:
        return next((f for f in self.figures if f.workload == workload), None)


def _fmt(value: float | None, measure: str) -> str:
    if value is None:
        return "-"
    if measure == "bytes":
        return f"{value / 1024:.1f} KiB" if value < 1024 * 1024 else f"{value / 1024 / 1024:.2f} MiB"
    if measure == "ratio":
        return f"{value:.2f}x"
    if measure == "count":
        return f"{value:,.0f}"
    if measure == "ms":
        return f"{value * 1000:.2f} ms"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


# --- the two command lines ------------------------------------------------------------------------
class Side:
    """How to call one implementation."""

    def __init__(self, name: str, bin_dir: Path) -> None:
        self.name = name
        self.python = str(bin_dir / "python")
        self.runnable = str(bin_dir / "runnable")
        self.last_error = ""

    def env(self, folder: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNABLE_", "PYTHON"))}
        env["PYTHONPATH"] = str(folder)
        return env

    def run(self, args: list[str], folder: Path, timeout: float = 900, check: bool = True) -> float:
        start = time.perf_counter()
        proc = subprocess.run([self.runnable, *args], cwd=folder, env=self.env(folder), capture_output=True,
                              text=True, timeout=timeout)
        elapsed = time.perf_counter() - start
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        self.last_error = lines[-1].strip()[:160] if proc.returncode and lines else ""
        if proc.returncode != 0 and check:
            raise RuntimeError(f"{self.name}: runnable {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
        return elapsed

    def execute(self, pipeline: Path, folder: Path, params: Path | None, config: Path | None = None,
                run_id: str = "bench", check: bool = True) -> float:
        if self.name == "ours":
            args = ["execute", "-f", pipeline.name, "--run-id", run_id]
        else:  # 0.50: the pipeline and the run id are positional
            args = ["execute", pipeline.name, run_id]
        if params:
            args += ["-p", params.name]
        if config:
            args += ["-c", config.name]
        return self.run(args, folder, check=check)


def install_peer() -> Side | None:
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-c", f"import importlib.metadata as m; assert m.version('runnable') == '{PEER_VERSION}'"]
    # run from the venv's folder: from the project's, its runnable.egg-info would answer for the peer
    if not python.exists() or subprocess.run(check, capture_output=True, cwd=PEER_VENV).returncode != 0:
        print(f"installing runnable=={PEER_VERSION} into {PEER_VENV} (benchmark only) ...", flush=True)
        shutil.rmtree(PEER_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        proc = subprocess.run([str(python), "-m", "pip", "install", "-q", f"runnable=={PEER_VERSION}"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"the peer could not be installed; our figures stand alone:\n{proc.stderr[-800:]}")
            return None
    return Side("peer", PEER_VENV / "bin")


def median_of(times: int, measure) -> float:
    return statistics.median(measure() for _ in range(times))


def fresh(root: Path, name: str) -> Path:
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def run_log_size(folder: Path, run_id: str = "bench") -> float | None:
    path = folder / ".run_log_store" / f"{run_id}.json"
    return float(path.stat().st_size) if path.exists() else None


# --- workloads ------------------------------------------------------------------------------------
def local_workload(report: Report, root: Path, ours: Side, peer: Side | None, name: str, pipeline: dict,
                   parameters: dict | None, peer_ok: bool) -> None:
    results, note = {}, ""
    for side in [ours] + ([peer] if peer and peer_ok else []):
        folder = fresh(root, f"{name}-{side.name}")
        path, params = workloads.write(folder, "pipeline", pipeline, parameters)
        try:
            results[side.name] = (side.execute(path, folder, params), run_log_size(folder))
        except RuntimeError as exc:
            if side is ours:
                raise
            note = "runnable 0.50 failed: " + str(exc).strip().splitlines()[-1][:160]
    peer_time, peer_size = results.get("peer", (None, None))
    report.add(f"{name}: wall time", "s", results["ours"][0], peer_time, note)
    report.add(f"{name}: run log size", "bytes", results["ours"][1], peer_size, note)


def cold_start(report: Report, root: Path, ours: Side, peer: Side | None, repeats: int) -> None:
    folder = fresh(root, "cold")
    for label, argv_of in (("runnable --help", lambda s: [s.runnable, "--help"]),
                           ("python -c 'import runnable'", lambda s: [s.python, "-c", "import runnable"]),
                           ("bare interpreter", lambda s: [s.python, "-c", "pass"])):
        figures = {}
        for side in [ours] + ([peer] if peer else []):
            def once(side=side):
                start = time.perf_counter()
                subprocess.run(argv_of(side), cwd=folder, env=side.env(folder), capture_output=True, check=True)
                return time.perf_counter() - start
            figures[side.name] = median_of(repeats, once)
        report.add(label, "s", figures["ours"], figures.get("peer"))


def transpile(report: Report, root: Path, ours: Side, peer: Side | None, sizes: list[int], peer_max: int) -> None:
    for n in sizes:
        figures, note = {}, ""
        for side in [ours] + ([peer] if peer and n <= peer_max else []):
            folder = fresh(root, f"transpile-{n}-{side.name}")
            path, _ = workloads.write(folder, "pipeline", workloads.sequential(n, "python"))
            config = (workloads.our_argo_config if side.name == "ours" else workloads.peer_argo_config)(folder)
            # 0.50 writes the manifest, then fails looking for a run log that only the cluster would have
            elapsed = side.execute(path, folder, None, config, check=side is ours)
            if (folder / "out.yaml").exists():
                figures[side.name] = (elapsed, float((folder / "out.yaml").stat().st_size))
            else:
                note = f"runnable 0.50 wrote no manifest ({side.last_error})"
        peer_fig = figures.get("peer", (None, None))
        report.add(f"transpile {n} steps: time", "s", figures["ours"][0], peer_fig[0], note)
        report.add(f"transpile {n} steps: manifest size", "bytes", figures["ours"][1], peer_fig[1], note)
    if len(sizes) >= 2:
        small, big = sizes[-2], sizes[-1]
        a = report.find(f"transpile {small} steps: manifest size")
        b = report.find(f"transpile {big} steps: manifest size")
        per_step = (b.ours - a.ours) / (big - small)
        peer_step = (b.peer - a.peer) / (big - small) if a.peer and b.peer else None
        if peer_step is None:  # the peer's own figure over the sizes it could do
            done = [f for f in report.figures if f.workload.endswith("manifest size") and f.peer]
            if len(done) >= 2:
                x = [int(f.workload.split()[1]) for f in done]
                peer_step = (done[-1].peer - done[0].peer) / (x[-1] - x[0])
        report.add("manifest bytes per added step", "bytes", per_step, peer_step)


POD_FILL = """
import sys
from runnable.config import load_configuration
from runnable.run_log import BranchLog, StepLog
from runnable.service import build_service
store = build_service("run_log_store", load_configuration(sys.argv[1]))
for i in range(int(sys.argv[3])):
    store.put_branch_log(sys.argv[2], BranchLog(internal_name=f"fan.{i}", status="SUCCESS"))
    store.put_step_log(sys.argv[2], StepLog(name="each", internal_name=f"fan.{i}.each", step_type="stub",
                                            status="SUCCESS"))
"""


# a run holding a map of n iterations, each a branch log and a step log (as a run of it leaves them)
MAP_FILL = POD_FILL.replace("for i in", "store.create_run_log(RunLog(run_id=sys.argv[2], status='SUCCESS'))\nfor i in") \
    .replace("import BranchLog, StepLog", "import BranchLog, RunLog, StepLog")


def in_pod(report: Report, root: Path, ours: Side, sizes: tuple[int, int], repeats: int) -> None:
    """What one pod costs in a run that already holds few or many step logs."""
    pipeline = {"dag": {"start_at": "fan", "steps": {
        "fan": {"type": "map", "iterate_on": "items", "iterate_as": "item", "next": "after",
                "branch": {"start_at": "each", "steps": {"each": {"type": "stub", "next": "success"}}}},
        "after": workloads._task("benchfuncs.noop", "success"),
    }}}
    for store in ("chunked-fs", "file-system"):
        times = {}
        for n in sizes:
            folder = fresh(root, f"pod-{store}-{n}")
            path, _ = workloads.write(folder, "pipeline", pipeline)
            (folder / "config.yaml").write_text(json.dumps({"run-log-store": {"type": store}}))
            (folder / "params.yaml").write_text(json.dumps({"items": list(range(n))}))
            ours.run(["start-run", "pod", "-f", path.name, "-c", "config.yaml", "-p", "params.yaml"], folder)
            subprocess.run([ours.python, "-c", POD_FILL, "config.yaml", "pod", str(n)], cwd=folder,
                           env=ours.env(folder), check=True)
            args = ["execute-single-node", "pod", "after", "-f", path.name, "-c", "config.yaml"]
            times[n] = median_of(repeats, lambda: ours.run(args, folder))
        small, big = sizes
        report.add(f"pod step ({store}), run holding {small} step logs", "s", times[small])
        report.add(f"pod step ({store}), run holding {big} step logs", "s", times[big])
        report.add(f"pod step ({store}): cost ratio {big} / {small}", "ratio", times[big] / times[small])


def _tree_rss(root_pid: int) -> int:
    """Resident memory (bytes) of ``root_pid`` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree, grew = {root_pid}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        grew = bool(below)
    return sum(rss.get(pid, 0) for pid in tree)


def measured(argv: list[str], folder: Path, env: dict[str, str], timeout: float = 7200) -> tuple[float, float, float]:
    """Run ``argv``: its wall time, the peak resident memory of its process tree (sampled every 0.25 s), and
    the peak of its largest process (the kernel's ru_maxrss from wait4, exact). Its output goes to files."""
    with open(folder / "stdout.log", "wb") as out, open(folder / "stderr.log", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=out, stderr=err)
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss(proc.pid))
            if time.perf_counter() - start > timeout:
                proc.kill()
            time.sleep(0.25)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{(folder / 'stderr.log').read_text()[-2000:]}")
    return wall, float(max(peak, usage.ru_maxrss * 1024)), float(usage.ru_maxrss * 1024)


def wide_maps(report: Report, root: Path, ours: Side, peer: Side | None, sizes: list[int]) -> None:
    """Maps of one-step (python) iterations, sequential and with enable_parallel: time, peak memory, run log size;
    beside them runnable 0.50's map of 100 (its time per iteration)."""
    peer_map = report.find("map x100: wall time")
    peer_100 = peer_map.peer if peer_map else None
    if peer and peer_100 is None:
        folder = fresh(root, "wide-peer-100")
        path, params = workloads.write(folder, "pipeline", workloads.map_over(100), {"count": 100})
        peer_100 = peer.execute(path, folder, params)
        report.add("map x100: wall time", "s", None, peer_100, "runnable 0.50 only: beside the wide maps")
    modes = {"sequential": {}, "enable_parallel": {"pipeline-executor": {"type": "local",
                                                                         "config": {"enable_parallel": True}}}}
    for n in sizes:  # the two modes one after the other at each size: a shared machine's load weighs on both alike
        for mode, config in modes.items():
            folder = fresh(root, f"wide-{mode}-{n}")
            path, params = workloads.write(folder, "pipeline", workloads.map_over(n), {"count": n})
            (folder / "config.yaml").write_text(json.dumps(config))
            wall, tree, largest = measured([ours.runnable, "execute", "-f", path.name, "--run-id", "bench", "-p",
                                            params.name, "-c", "config.yaml"], folder, ours.env(folder))
            report.add(f"wide map x{n}, {mode}: wall time", "s", wall)
            report.add(f"wide map x{n}, {mode}: peak RSS, process tree", "bytes", tree)
            report.add(f"wide map x{n}, {mode}: peak RSS, largest process", "bytes", largest)
            report.add(f"wide map x{n}, {mode}: run log size", "bytes", run_log_size(folder))
            shutil.rmtree(folder, ignore_errors=True)  # 100,000 iterations leave ~250 MB
    for mode in modes:
        big = report.find(f"wide map x{sizes[-1]}, {mode}: wall time").ours
        report.add(f"wide map x{sizes[-1]}, {mode}: time per iteration (peer: its map of 100)", "ms", big / sizes[-1],
                   peer_100 / 100 if peer_100 else None)
        if len(sizes) > 1:
            report.add(f"wide map, {mode}: t({sizes[-1]}) / t({sizes[0]})", "ratio",
                       big / report.find(f"wide map x{sizes[0]}, {mode}: wall time").ours)


def chunked_reads(report: Report, root: Path, ours: Side, sizes: list[int]) -> None:
    """Reading a whole run from the chunked-fs store (``runnable show --json``), a map of n iterations."""
    for n in sizes:
        folder = fresh(root, f"chunked-read-{n}")
        (folder / "config.yaml").write_text(json.dumps({"run-log-store": {"type": "chunked-fs"}}))
        subprocess.run([ours.python, "-c", MAP_FILL, "config.yaml", "bench", str(n)], cwd=folder, env=ours.env(folder),
                       check=True)
        wall, tree, _ = measured([ours.runnable, "show", "bench", "--json", "-c", "config.yaml"], folder,
                                 ours.env(folder))
        report.add(f"chunked-fs: show --json, map of {n} iterations", "s", wall)
        report.add(f"chunked-fs: show --json, map of {n} iterations: peak RSS", "bytes", tree)
        shutil.rmtree(folder, ignore_errors=True)
    if len(sizes) > 1:
        report.add(f"chunked-fs read: t({sizes[-1]}) / t({sizes[0]})", "ratio",
                   report.find(f"chunked-fs: show --json, map of {sizes[-1]} iterations").ours
                   / report.find(f"chunked-fs: show --json, map of {sizes[0]} iterations").ours)


def _peer_pod_command(root: Path, peer: Side, n: int) -> list[str] | None:
    """The pod command runnable 0.50's argo executor writes (its first container), for a pipeline of n steps."""
    from ruamel.yaml import YAML

    folder = fresh(root, f"peer-pod-transpile-{n}")
    path, _ = workloads.write(folder, "pipeline", workloads.sequential(n, "python"))
    peer.execute(path, folder, None, workloads.peer_argo_config(folder), check=False)
    if not (folder / "out.yaml").exists():
        return None
    manifest = YAML(typ="safe").load((folder / "out.yaml").read_text())
    for template in manifest["spec"]["templates"]:
        command = (template.get("container") or {}).get("command") or []
        if "execute-single-node" in command:
            return command
    return None


def pod_startup(report: Report, root: Path, ours: Side, peer: Side | None, sizes: list[int], peer_max: int,
                repeats: int) -> None:
    """One step's pod command (``execute-single-node``), process start to exit, against a bare interpreter and
    against runnable 0.50's own pod command (as its argo executor writes it) on the same pipeline."""
    def bare_once():
        start = time.perf_counter()
        subprocess.run([ours.python, "-c", "pass"], check=True)
        return time.perf_counter() - start

    bare = median_of(max(repeats, 5), bare_once)
    report.add("bare interpreter (python -c pass)", "s", bare)
    command = _peer_pod_command(root, peer, min(sizes)) if peer else None
    for n in sizes:
        folder = fresh(root, f"pod-startup-{n}")
        path, _ = workloads.write(folder, "pipeline", workloads.sequential(n, "python"))
        (folder / "config.yaml").write_text(json.dumps({"run-log-store": {"type": "chunked-fs"}}))
        ours.run(["start-run", "pod", "-f", path.name, "-c", "config.yaml"], folder)
        steps = iter(range(n // 2, n))
        mine = median_of(repeats, lambda: ours.run(["execute-single-node", "pod", f"step {next(steps)}", "-f",
                                                    path.name, "-c", "config.yaml"], folder))
        theirs, note = None, ""
        if command and n <= peer_max:
            workloads.peer_argo_config(folder)
            run_id = f"benchpod{os.getpid()}"
            argv = [peer.runnable if a == "runnable" else a.replace("{{workflow.parameters.run_id}}", run_id)
                    .replace("{{workflow.parameters.log_level}}", "WARNING") for a in command]
            at = argv.index("execute-single-node") + 3  # run id, pipeline file, then the step
            argv[at - 1] = path.name
            steps = iter(range(n // 2, n))

            def peer_once():
                argv[at] = f"step%{next(steps)}"
                start = time.perf_counter()
                proc = subprocess.run(argv, cwd=folder, env=peer.env(folder), capture_output=True, text=True,
                                      timeout=900)
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr.strip().splitlines()[-1][:160] if proc.stderr.strip() else "")
                return time.perf_counter() - start
            try:
                theirs = median_of(repeats, peer_once)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                note = f"runnable 0.50's pod failed: {exc}"
            finally:  # its pods keep run logs and catalog where its containers mount them
                for where in ("/tmp/run_logs", "/tmp/catalog"):
                    for leftover in Path(where).glob(f"{run_id}*"):
                        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()
        elif peer:
            note = f"runnable 0.50 not run above {peer_max} steps"
        report.add(f"pod start-up, {n}-step pipeline", "s", mine, theirs, note)
        report.add(f"pod start-up / bare interpreter, {n} steps", "ratio", mine / bare,
                   theirs / bare if theirs else None, note)


def emulated_maps(report: Report, root: Path, ours: Side, runs: list[tuple[int, int | None]],
                  computed_for: list[int]) -> None:
    """Node count and Argo status estimate (``runnable emulate --status-json``) of a map of n one-step iterations:
    ``runs`` are (n, batch_size) actually emulated (None: the automatic default); from two unbatched runs
    (batch_size 1) the per-iteration figures give the unbatched figure for each size of ``computed_for``."""
    figures = {}
    for n, size in runs:
        label = "batched (automatic)" if size is None else "unbatched" if size == 1 else f"batch_size {size}"
        folder = fresh(root, f"emulate-{n}-{size}")
        pipeline = workloads.map_over(n) if size is None else workloads.batched(workloads.map_over(n), "wide")
        path, params = workloads.write(folder, "pipeline", pipeline, {"count": n})
        config = workloads.our_argo_config(folder, None if size is None else {"wide": {"batch_size": size}})
        ours.execute(path, folder, params, config)
        start = time.perf_counter()
        ours.run(["emulate", "out.yaml", "--project-dir", ".", "--state-dir", ".emulator", "--status-json",
                  "status.json", "--backoff-scale", "0"], folder, timeout=7200)
        elapsed = time.perf_counter() - start
        estimate = json.loads((folder / "status.json").read_text())["statusEstimate"]
        figures[(n, size)] = estimate
        report.add(f"argo map x{n}, {label}: nodes", "count", estimate["nodes"])
        report.add(f"argo map x{n}, {label}: status estimate", "bytes", estimate["statusBytes"])
        report.add(f"argo map x{n}, {label}: emulated in", "s", elapsed)
        shutil.rmtree(folder, ignore_errors=True)
    unbatched = sorted(n for n, size in figures if size == 1)
    if len(unbatched) >= 2:
        a, b = figures[(unbatched[0], 1)], figures[(unbatched[-1], 1)]
        span = unbatched[-1] - unbatched[0]
        per_nodes, per_bytes = (b["nodes"] - a["nodes"]) / span, (b["statusBytes"] - a["statusBytes"]) / span
        report.add("argo map, unbatched: nodes per iteration", "count", per_nodes)
        report.add("argo map, unbatched: status bytes per iteration", "bytes", per_bytes)
        for n in computed_for:
            if (n, 1) in figures:
                continue
            note = f"computed from the emulated {unbatched[0]} and {unbatched[-1]}"
            report.add(f"argo map x{n}, unbatched: nodes", "count", a["nodes"] + per_nodes * (n - unbatched[0]), note=note)
            report.add(f"argo map x{n}, unbatched: status estimate", "bytes",
                       a["statusBytes"] + per_bytes * (n - unbatched[0]), note=note)


def durability(report: Report, root: Path, ours: Side, n: int, repeats: int) -> None:
    """The file-system store's ``durable`` setting (fsync around each rename) against none, n sequential stubs."""
    folder = fresh(root, "durability")
    path, _ = workloads.write(folder, "pipeline", workloads.sequential(n, "stub"))
    times = {}
    for durable in (False, True):
        config = folder / f"durable-{durable}.yaml"
        config.write_text(json.dumps({"run-log-store": {"type": "file-system", "config": {"durable": durable}}}))
        runs = iter(range(repeats))
        times[durable] = median_of(repeats, lambda: ours.execute(path, folder, None, config, f"d{durable}{next(runs)}"))
    report.add(f"sequential stub x{n}, file-system, durable", "s", times[True])
    report.add(f"sequential stub x{n}, file-system, durable: cost ratio on / off", "ratio", times[True] / times[False])


FILL_RUNS = """
import sys
from runnable.config import load_configuration
from runnable.run_log import RunLog, StepAttempt, StepLog
from runnable.service import build_service
store = build_service("run_log_store", load_configuration(sys.argv[1]))
for r in range(int(sys.argv[2])):
    run_id = f"run-{r:05d}"
    store.create_run_log(RunLog(run_id=run_id, status="PROCESSING", tag="bench"))
    for s in range(int(sys.argv[3])):
        attempt = StepAttempt().start().finish("SUCCESS" if s % 7 else "FAIL")
        store.put_step_log(run_id, StepLog(name=f"step {s}", internal_name=f"step {s}", status=attempt.status,
                                           attempts=[attempt]))
    store.set_run_status(run_id, "SUCCESS")
    store.finalize(run_id)
"""


def views(report: Report, root: Path, ours: Side, runs: int, steps: int, repeats: int) -> None:
    """``runnable runs`` on a store of many runs; ``show`` and ``graph --format html`` of a run of many steps."""
    for store in ("file-system", "chunked-fs"):
        folder = fresh(root, f"runs-{store}")
        (folder / "config.yaml").write_text(json.dumps({"run-log-store": {"type": store}}))
        subprocess.run([ours.python, "-c", FILL_RUNS, "config.yaml", str(runs), "10"], cwd=folder,
                       env=ours.env(folder), check=True)
        report.add(f"runs: store of {runs} runs x 10 steps ({store})", "s",
                   median_of(repeats, lambda: ours.run(["runs"], folder)))
    folder = fresh(root, f"show-{steps}")
    path, _ = workloads.write(folder, "pipeline", workloads.sequential(steps, "stub"))
    ours.execute(path, folder, None)
    for label, args in (("show", ["show", "bench"]), ("show --json", ["show", "bench", "--json"]),
                        ("graph --format html --run-id", ["graph", "-f", path.name, "--format", "html", "--run-id",
                                                          "bench", "-o", "graph.html"])):
        report.add(f"{label}: a run of {steps} steps", "s", median_of(repeats, lambda: ours.run(args, folder)))


def on_a_terminal(command: list[str], folder: Path, env: dict[str, str]) -> float:
    """Wall time of ``command`` with a pseudo-terminal (24 x 120) as its console, its output read as it comes."""
    import fcntl
    import pty
    import struct
    import termios

    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its console, its size set before anything runs
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        os.chdir(folder)
        os.execve(command[0], command, env)
    while True:
        try:
            if not os.read(fd, 1 << 16):
                break
        except OSError:  # the child ended: Linux reports EIO on the terminal's other side
            break
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed on a terminal")
    return time.perf_counter() - start


def with_cpu(measure) -> tuple[float, float]:
    """The wall time ``measure()`` returns, and the CPU time (user + system) of the command it waited for."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = measure()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def progress_cost(report: Report, root: Path, ours: Side, n: int, repeats: int) -> None:
    """What showing progress costs: n sequential python steps with --quiet, piped (plain lines) and on a terminal
    (coloured lines and the status line), in turns, so the machine's load weighs on each alike.
    The cost is read from the command's CPU time (user + system), which a shared machine's load moves far less
    than its wall time; the wall times are reported too."""
    folder = fresh(root, f"progress-{n}")
    path, _ = workloads.write(folder, "pipeline", workloads.sequential(n, "python"))
    runs = iter(range(3 * repeats))
    modes = {
        "--quiet": lambda: ours.run(["execute", "-f", path.name, "--run-id", f"q{next(runs)}", "--quiet"], folder),
        "piped": lambda: ours.run(["execute", "-f", path.name, "--run-id", f"p{next(runs)}"], folder),
        "terminal": lambda: on_a_terminal([ours.runnable, "execute", "-f", path.name, "--run-id", f"t{next(runs)}"],
                                          folder, ours.env(folder)),
    }
    times: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
    order = list(modes)
    for _ in range(repeats):
        for mode in order:
            times[mode].append(with_cpu(modes[mode]))
        order = order[1:] + order[:1]  # each mode in each place in turn: a load that drifts weighs on all
    wall = {mode: statistics.median(t[0] for t in runs_) for mode, runs_ in times.items()}
    cpu = {mode: statistics.median(t[1] for t in runs_) for mode, runs_ in times.items()}
    for mode in modes:
        label = f"sequential python x{n}, {mode if mode == '--quiet' else 'progress ' + mode}"
        report.add(f"{label}: wall", "s", wall[mode])
        report.add(f"{label}: CPU", "s", cpu[mode])
    for mode in ("piped", "terminal"):
        report.add(f"progress {mode}: CPU ratio on / --quiet", "ratio", cpu[mode] / cpu["--quiet"])
    # the display's own CPU time, fed the events of n steps in one process: the load moves it far less
    for mode in ("piped", "terminal"):
        own = statistics.median(_display_cpu(ours, folder, n, mode == "terminal") for _ in range(repeats))
        report.add(f"progress {mode}: the display's own CPU for {n} steps", "s", own)
        report.add(f"progress {mode}: share of a {n}-step run's CPU", "ratio", own / cpu["--quiet"])


FEED_EVENTS = """
import os, pty, sys, threading, time
from types import SimpleNamespace
from runnable.progress import Progress
from runnable.run_log import StepAttempt, StepLog
n, terminal = int(sys.argv[1]), sys.argv[2] == "terminal"
store = SimpleNamespace(location=lambda run_id: f".run_log_store/{run_id}.json")
ctx = SimpleNamespace(run_id="feed", original_run_id="", run_log_store=store, catalog=None)
logs = [StepLog(name=f"step {i}", internal_name=f"step {i}", status="SUCCESS",
                attempts=[StepAttempt().start().finish("SUCCESS")]) for i in range(n)]
if terminal:
    reader, writer = pty.openpty()
    os.set_blocking(writer, True)
    import fcntl, struct, termios
    fcntl.ioctl(writer, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
else:
    reader, writer = os.pipe()
threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(reader, 1 << 16), b"")], daemon=True).start()
stream = os.fdopen(writer, "w")
t = time.process_time()
display = Progress(stream, live=None if terminal else False)
display.run_started(ctx)
for log in logs:
    display.step_started(ctx, log)
    display.step_ended(ctx, log)
display.run_ended(ctx, "SUCCESS")
print(time.process_time() - t)
"""


def _display_cpu(ours: Side, folder: Path, n: int, terminal: bool) -> float:
    """CPU time (this process's: the reading thread's too) of the progress display fed n steps' start and end."""
    proc = subprocess.run([ours.python, "-c", FEED_EVENTS, str(n), "terminal" if terminal else "piped"], cwd=folder,
                          env=ours.env(folder), capture_output=True, text=True, check=True)
    return float(proc.stdout.split()[-1])


def preflight_cost(report: Report, root: Path, ours: Side, n: int, repeats: int) -> None:
    """What the pre-flight checks (runnable/preflight.py) cost a run of n sequential python steps of one function:
    their CPU time, measured inside a process that loads the pipeline and checks it, against the CPU time of the
    whole run of the same pipeline (which makes the same checks before its first step)."""
    folder = fresh(root, f"preflight-{n}")
    path, _ = workloads.write(folder, "pipeline", workloads.sequential(n, "python"))
    code = ("import sys, time; from runnable.graph import load_pipeline; from runnable.preflight import check; "
            "graph = load_pipeline(sys.argv[1]); t = time.process_time(); check(graph, {}); "
            "print(time.process_time() - t)")
    checks, runs = [], []
    for i in range(repeats):
        proc = subprocess.run([ours.python, "-c", code, path.name], cwd=folder, env=ours.env(folder),
                              capture_output=True, text=True, check=True)
        checks.append(float(proc.stdout.split()[-1]))
        runs.append(with_cpu(lambda: ours.run(["execute", "-f", path.name, "--run-id", f"r{i}", "--quiet"],
                                              folder))[1])
    report.add(f"pre-flight checks, sequential python x{n}: CPU", "s", statistics.median(checks))
    report.add(f"sequential python x{n}, whole run: CPU", "s", statistics.median(runs))
    report.add(f"pre-flight: share of a {n}-step run's CPU", "ratio", statistics.median(checks) / statistics.median(runs))


def parallel_speedup(report: Report, root: Path, ours: Side, items: int, seconds: float) -> None:
    times = {}
    for mode, config in (("sequential", {}), ("parallel", {"pipeline-executor": {
            "type": "local", "config": {"enable_parallel": True, "max_processes": items}}})):
        folder = fresh(root, f"sleep-{mode}")
        path, params = workloads.write(folder, "pipeline", workloads.sleeping_map(items, seconds),
                                       {"items": list(range(items))})
        (folder / "config.yaml").write_text(json.dumps(config))
        times[mode] = ours.execute(path, folder, params, folder / "config.yaml")
    report.add(f"map of {items} x sleep {seconds}s, sequential", "s", times["sequential"])
    report.add(f"map of {items} x sleep {seconds}s, enable_parallel", "s", times["parallel"])
    report.add("local parallel speed-up", "ratio", times["sequential"] / times["parallel"])


def hera_cost(report: Report, root: Path, ours: Side, n: int) -> None:
    """What passing our largest manifest through hera's models would cost (why we keep our own)."""
    manifest = root / f"transpile-{n}-ours" / "out.yaml"
    if not manifest.exists():
        return
    code = ("import sys, time; t = time.perf_counter(); from hera.workflows.models import Workflow; "
            "from ruamel.yaml import YAML; d = YAML(typ='safe').load(open(sys.argv[1])); t1 = time.perf_counter(); "
            "Workflow.model_validate(d).model_dump(by_alias=True, exclude_none=True); "
            "print(t1 - t, time.perf_counter() - t1)")
    proc = subprocess.run([ours.python, "-c", code, str(manifest)], capture_output=True, text=True)
    if proc.returncode != 0:
        print("  (hera is not installed: pip install -e '.[argo]' to measure it)")
        return
    imported, validated = (float(x) for x in proc.stdout.split())
    report.add("hera: import + read manifest", "s", imported)
    report.add(f"hera: validate + dump {n}-step workflow", "s", validated)


# --- goals ----------------------------------------------------------------------------------------
def evaluate(report: Report) -> None:
    def fig(name):
        return report.find(name)

    def check(goal, met, detail):
        report.checks.append(Check(goal, met, detail))

    for kind in ("stub", "python"):
        a, b = fig(f"sequential {kind} x1000: wall time"), fig(f"sequential {kind} x100: wall time")
        if a and b and b.peer:
            check(f"1,000 sequential {kind} steps faster than runnable 0.50 runs 100", a.ours < b.peer,
                  f"{a.ours:.2f} s vs {b.peer:.2f} s")
        c = fig(f"sequential {kind} x10000: wall time")
        if a and c:
            ratio = c.ours / a.ours
            check(f"t(10,000) / t(1,000) under 11 ({kind})", ratio < 11, f"{ratio:.2f}")
    a, b = fig("map x1000: wall time"), fig("map x100: wall time")
    if a and b and b.peer:
        check("map over 1,000 faster than runnable 0.50's map over 100", a.ours < b.peer,
              f"{a.ours:.2f} s vs {b.peer:.2f} s")
    h = fig("runnable --help")
    if h and h.peer:
        check("runnable --help in at most 1/5 of runnable 0.50's time", h.ours * 5 <= h.peer,
              f"{h.ours:.3f} s vs {h.peer:.3f} s")
    t = fig("transpile 5000 steps: time")
    if t:
        check("transpile 5,000 steps in under 2 s", t.ours < 2, f"{t.ours:.2f} s")
        s = fig("transpile 5000 steps: manifest size")
        check("5,000-step manifest under 1 MiB", s.ours < 1024 * 1024, _fmt(s.ours, "bytes"))
        k = fig("transpile 1000 steps: time")
        if k:
            # the fixed cost (interpreter, imports) is subtracted: linear means 5x the work costs ~5x
            base = fig("runnable --help").ours if h else 0
            ratio = (t.ours - base) / max(k.ours - base, 1e-6)
            check("transpile time linear (5,000 vs 1,000 steps, start-up subtracted)", ratio < 6.5, f"{ratio:.2f}")
    for store in ("chunked-fs", "file-system"):
        r = next((f for f in report.figures if f.workload.startswith(f"pod step ({store}): cost ratio")), None)
        if r:
            check(f"pod step cost does not grow with the run ({store})", r.ours < 1.5, f"ratio {r.ours:.2f}")
    for mode in ("piped", "terminal"):
        r = fig(f"progress {mode}: CPU ratio on / --quiet")
        s = next((f for f in report.figures if f.workload.startswith(f"progress {mode}: share of a")), None)
        if r and s:
            check(f"progress display ({mode}) costs under 5% of a 10,000-step run", s.ours < 0.05,
                  f"its own CPU {s.ours * 100:.1f}% of the run's (whole command lines: {r.ours:.2f}x)")
    share = next((f for f in report.figures if f.workload.startswith("pre-flight: share of a")), None)
    if share:
        steps = share.workload.split("share of a ")[1].split("-step")[0]
        check(f"pre-flight checks cost under 5% of a {steps}-step run (CPU)", share.ours < 0.05,
              f"{share.ours * 100:.1f}%")
    for n in (300, 10000):
        pod = fig(f"pod start-up, {n}-step pipeline")
        if pod and pod.peer:
            check(f"a pod's start-up ({n} steps) below runnable 0.50's pod on the same pipeline", pod.ours < pod.peer,
                  f"{pod.ours:.2f} s vs {pod.peer:.2f} s")
        elif pod and pod.note:
            check(f"a pod's start-up ({n} steps) below runnable 0.50's pod on the same pipeline", True, pod.note)
    for f in report.figures:
        if f.workload.startswith("argo map x") and f.workload.endswith("batched (automatic): status estimate"):
            check(f"{f.workload.split(',')[0]}, batched: status estimate under 1 MiB", f.ours < 1024 * 1024,
                  _fmt(f.ours, "bytes"))
        if f.workload.startswith("wide map x") and "peak RSS, process tree" in f.workload:
            check(f"{f.workload.split(':')[0]}: peak memory under 1 GiB", f.ours < 1024 ** 3, _fmt(f.ours, "bytes"))
        if f.workload.startswith("wide map, ") and "/ t(" in f.workload:
            big, small = (int(x) for x in re.findall(r"t\((\d+)\)", f.workload))
            check(f"{f.workload}: linear (under {1.1 * big / small:g})", f.ours < 1.1 * big / small, f"{f.ours:.1f}")
    p = fig("local parallel speed-up")
    if p:
        check("enable_parallel speeds up sleeping branches", p.ours > 1.5, f"{p.ours:.2f}x")


def print_table(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"runnable (this checkout) vs runnable {PEER_VERSION}")
    for col in ("workload", "ours", f"runnable {PEER_VERSION}", "ratio (peer / ours)"):
        table.add_column(col, justify="left" if col == "workload" else "right")
    for f in report.figures:
        table.add_row(f.workload, _fmt(f.ours, f.measure), _fmt(f.peer, f.measure) if f.peer is not None or "failed" not in f.note else "failed",
                      f"{f.ratio:.1f}x" if f.ratio else "")
    goals = Table(title="goals")
    for col in ("goal", "met", "figure"):
        goals.add_column(col)
    for c in report.checks:
        goals.add_row(c.goal, {True: "yes", False: "NO", None: "-"}[c.met], c.detail)
    console = Console(width=120)
    console.print(table)
    for note in dict.fromkeys(f"{f.workload.split(':')[0]}: {f.note}" for f in report.figures if f.note):
        console.print(note)
    console.print(goals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run, about a minute)")
    parser.add_argument("--no-peer", action="store_true", help="do not install or run runnable 0.50")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"), help="where the JSON goes")
    parser.add_argument("--keep", action="store_true", help="keep the generated workloads (printed path)")
    parser.add_argument("--wide", action="store_true",
                        help="also the wide maps: local maps of --wide-sizes iterations (sequential and enable_parallel), "
                             "chunked-fs reads and Argo maps of them on the emulator, batched (long: an hour here)")
    parser.add_argument("--wide-sizes", default="1000,10000,100000", help="the wide maps' sizes (comma-separated)")
    parser.add_argument("--wide-only", action="store_true",
                        help="only issue 15's figures: pod start-up, then what --wide adds (with the unbatched Argo "
                             "maps the batched ones are compared with); skips the rest")
    parser.add_argument("--work-dir", default=str(HERE / ".work"),
                        help="where workloads are generated and run (default: bench/.work, beside the project, "
                             "where a user's runs happen; /tmp on some machines is far slower to create files in)")
    args = parser.parse_args(argv)

    ours = Side("ours", Path(sys.executable).parent)
    peer = None if args.no_peer else install_peer()
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="run-", dir=args.work_dir))
    report = Report()
    quick = args.quick
    seq_sizes = [10, 100] if quick else [10, 100, 300, 1000, 10000]
    peer_max = 100 if quick else 300  # 0.50's cost grows with the square of the steps: 454 s at 1,000
    started = time.perf_counter()
    try:
        if args.wide_only:
            wide(args, report, root, ours, peer)
            return finish(args, report, peer, started)
        print("local execution", flush=True)
        for kind in ("stub", "python"):
            for n in seq_sizes:
                local_workload(report, root, ours, peer, f"sequential {kind} x{n}", workloads.sequential(n, kind),
                               None, n <= peer_max)
        local_workload(report, root, ours, peer, f"sequential shell x{10 if quick else 100}",
                       workloads.sequential(10 if quick else 100, "shell"), None, True)
        for m in ([10] if quick else [10, 100, 1000]):
            local_workload(report, root, ours, peer, f"map x{m}", workloads.map_over(m), {"count": m}, m <= 100)
        b = 10 if quick else 100
        local_workload(report, root, ours, peer, f"parallel x{b}", workloads.parallel_of(b), None, True)
        local_workload(report, root, ours, peer, "nesting depth 3 (map 3 > parallel 2 > map 3)",
                       workloads.nested(3), {"count": 3}, True)
        print("start-up", flush=True)
        cold_start(report, root, ours, peer, 3 if quick else 7)
        print("argo", flush=True)
        transpile(report, root, ours, peer, [100, 200] if quick else [100, 300, 1000, 5000], 100 if quick else 1000)
        hera_cost(report, root, ours, 200 if quick else 5000)
        in_pod(report, root, ours, (10, 100) if quick else (10, 10000), 3)
        pod_startup(report, root, ours, peer, [100] if quick else [300, 10000], 100 if quick else 10000, 3)
        if not quick:
            emulated_maps(report, root, ours, [(20, 1), (60, 1)], [1000, 10000, 100000])
        durability(report, root, ours, 100 if quick else 1000, 3)
        print("seeing runs", flush=True)
        views(report, root, ours, 100 if quick else 1000, 1000 if quick else 10000, 3)
        print("progress display", flush=True)
        progress_cost(report, root, ours, 100 if quick else 10000, 1 if quick else 3)
        print("pre-flight checks", flush=True)
        preflight_cost(report, root, ours, 100 if quick else 10000, 1 if quick else 3)
        print("local parallel execution", flush=True)
        parallel_speedup(report, root, ours, 4 if quick else 8, 0.3 if quick else 1.0)
        if args.wide:
            wide(args, report, root, ours, peer, pods=False)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"workloads kept in {root}")
    return finish(args, report, peer, started)


def wide(args, report: Report, root: Path, ours: Side, peer: Side | None, pods: bool = True) -> None:
    """Issue 15's figures: the wide maps locally and on the emulator (and, alone, pod start-up and the unbatched
    Argo maps the batched ones are compared with)."""
    sizes = [int(n) for n in args.wide_sizes.split(",")]
    if pods:
        print("pod start-up", flush=True)
        pod_startup(report, root, ours, peer, [100] if args.quick else [300, 10000], 100 if args.quick else 10000, 3)
        emulated_maps(report, root, ours, [(20, 1), (60, 1)], sizes)
    print("wide maps", flush=True)
    wide_maps(report, root, ours, peer, sizes)
    chunked_reads(report, root, ours, sizes)
    emulated_maps(report, root, ours, [(n, None) for n in sizes], [])


def finish(args, report: Report, peer: Side | None, started: float) -> int:
    evaluate(report)
    print_table(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    out.write_text(json.dumps({
        "commit": commit.stdout.strip(), "quick": args.quick, "wide_only": args.wide_only,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "peer": PEER_VERSION if peer else None,
        "seconds": round(time.perf_counter() - started, 1),
        "figures": [{**asdict(f), "ratio": f.ratio} for f in report.figures],
        "checks": [asdict(c) for c in report.checks],
    }, indent=1))
    print(f"results: {out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

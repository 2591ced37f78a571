"""Benchmarks: ``python -m gitops_tui.bench`` (``make bench``); not part of the test run.

Starts its own sandbox (2 kwok nodes) in a temp directory, builds real Git
repositories (GitPython, ``file://``), runs the scenarios, prints a table and
writes ``bench-results/report-<date>.json``. Every figure carries its target and
the command that reproduces it, met or not. Time comparisons are ratios against
a peer (``kubectl``) measured in the same run.

    1  N apps x 10 objects, all synced: cold start to every status known; warm re-compare
    2  drift (a patch on a managed object): time until the snapshot says OutOfSync
    3  local git commit on a watched repo: time until OutOfSync
    4  diff of one 50-object app: ``gitops-tui diff`` vs ``kubectl diff --server-side``
    5  sync of one 50-object app (create): ``gitops-tui sync`` vs ``kubectl apply --server-side``
    6  first sync of N apps x 10 objects (also the setup of 1, 2, 3 and 8)
    7  the TUI with 2,000 apps (synthetic engine): first paint, key latency, RSS
    8  idle: API requests beyond watches, CPU of the process, bytes written to the terminal

``--quick`` is 100 apps, fewer runs and a 60 s idle window. ``--profile N``
writes a pyinstrument profile (HTML and text) of scenario N. pyinstrument's own
profiler follows one thread; the engine works on thread pools, so for engine
scenarios a sampler of every thread feeds a pyinstrument ``Session`` instead.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import datetime as dt
import fcntl
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar, cast

import yaml

T = TypeVar("T")

SCENARIOS = (1, 2, 3, 4, 5, 6, 7, 8)
RUN_ORDER = (6, 1, 2, 3, 8, 4, 5, 7)  # 6 is the setup of 1/2/3/8; 8 needs no engine of ours
NAMESPACES = 20
TUI_APPS = 2000
SINGLE_OBJECTS = 50
NEAR_ZERO_BYTES_PER_MIN = 1024.0
REPO_ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- results


@dataclass
class Figure:
    scenario: int
    name: str
    value: float | None
    unit: str
    target: str
    met: bool | None
    reproduce: str
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit in ("s",) and self.value < 10:
            return f"{self.value:.3f} s"
        if self.unit == "ms":
            return f"{self.value:.1f} ms"
        if self.unit == "x":
            return f"{self.value:.2f}x"
        return f"{self.value:,.1f} {self.unit}".rstrip()


def check(value: float | None, op: str, limit: float) -> bool | None:
    if value is None:
        return None
    return {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[op]


@dataclass(frozen=True)
class Sizes:
    apps: int
    drift_runs: int
    commit_runs: int
    warm_runs: int
    cli_runs: int
    key_presses: int
    idle_seconds: float
    replicas: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Sizes:
        quick = bool(args.quick)
        return cls(
            apps=args.apps if args.apps is not None else (100 if quick else 1000),
            drift_runs=args.runs or (20 if quick else 50),
            commit_runs=args.runs or (10 if quick else 20),
            warm_runs=3 if quick else 5,
            cli_runs=3 if quick else 5,
            key_presses=100 if quick else 300,
            idle_seconds=args.idle_seconds or (60.0 if quick else 300.0),
            replicas=args.replicas,
        )


# ----------------------------------------------------------------------------- timing helpers


def now() -> float:
    return time.perf_counter()


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def summary(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    return {
        "n": len(values),
        "min": round(min(values) * scale, 4),
        "p50": round(percentile(values, 50) * scale, 4),
        "p95": round(percentile(values, 95) * scale, 4),
        "max": round(max(values) * scale, 4),
    }


def wait_until(predicate: Callable[[], T], timeout: float, what: str, step: float = 0.02) -> T:
    deadline = now() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if now() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    ok: Sequence[int] = (0,),
    stdin: str | None = None,
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``argv`` (a list, never a shell); return (seconds, result); raise on a bad exit code."""
    start = now()
    result = subprocess.run(
        list(argv),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    elapsed = now() - start
    if result.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(argv[:4])} ... exited {result.returncode}: {result.stderr.strip()[-2000:]}"
        )
    return elapsed, result


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- all-thread profiler


_IDLE_LEAVES = (
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("threading.py", "join"),
    ("queue.py", "get"),
    ("selectors.py", "select"),
    ("concurrent/futures/thread.py", "_worker"),
    ("watchfiles/main.py", "watch"),
    ("asyncio/base_events.py", "_run_once"),
)


_ROOT_FRAME = "[all threads]\x00<process>\x000"


def _frame_id(frame: FrameType) -> str:
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    return f"{name}\x00{code.co_filename}\x00{code.co_firstlineno}\x01l{frame.f_lineno}"


def _thread_group(name: str) -> str:
    if name.startswith("watch-"):
        return "watch"
    return re.sub(r"[_-]?\d+$", "", name) or name


class ThreadSampler:
    """Samples the Python stacks of every thread; the result is a pyinstrument ``Session``.

    Samples whose innermost frame is a known wait (a pool worker waiting for
    work, a condition wait, a selector) are counted as idle and left out, so
    the wall-clock profile shows where threads work or wait on the network;
    ``[self]`` there can still be a wait inside C (``time.sleep``, a lock, a
    child process). A second, on-CPU profile keeps only the samples of threads
    the kernel shows running or runnable (``/proc/self/task/<tid>/stat`` state R).
    """

    def __init__(self, interval: float = 0.002, *, skip_threads: Sequence[int] = ()) -> None:
        self.interval = interval
        self.skip = set(skip_threads)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", contextlib.nullcontext()):
            self.records: list[tuple[list[str], float]] = []
            self.cpu_records: list[tuple[list[str], float]] = []
            self.idle_samples = 0
            self.started_wall = time.time()
            self.started = now()
            self.started_cpu = time.process_time()
            self.max_dt = 0.0

    def start(self) -> ThreadSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        me = threading.get_ident()
        last = now()
        while not self._stop.wait(self.interval):
            t = now()
            delta, last = t - last, t
            threads = {th.ident: th for th in threading.enumerate()}
            frames = sys._current_frames()
            with self._lock:
                self.max_dt = max(self.max_dt, delta)
                for tid, frame in frames.items():
                    if tid == me or tid in self.skip:
                        continue
                    leaf = frame.f_code
                    if any(
                        leaf.co_filename.endswith(suffix) and leaf.co_name == fn
                        for suffix, fn in _IDLE_LEAVES
                    ):
                        self.idle_samples += 1
                        continue
                    stack: list[str] = []
                    f: FrameType | None = frame
                    while f is not None:
                        stack.append(_frame_id(f))
                        f = f.f_back
                    thread = threads.get(tid)
                    group = _thread_group(thread.name if thread is not None else str(tid))
                    if group == "watch" and leaf.co_name in ("readinto", "recv_into", "read"):
                        self.idle_samples += 1
                        continue
                    stack.append(f"[thread {group}]\x00<threads>\x000")
                    stack.append(_ROOT_FRAME)
                    stack.reverse()
                    self.records.append((stack, delta))
                    if thread is not None and _running(thread.native_id):
                        self.cpu_records.append((stack, delta))

    def stop(self) -> tuple[Any, Any]:
        """(wall-clock session, on-CPU session)."""
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            return (
                self._session(self.records, "all threads, idle waits left out"),
                self._session(self.cpu_records, "all threads, running or runnable only"),
            )

    def _session(self, records: list[tuple[list[str], float]], what: str) -> Any:
        from pyinstrument.session import Session

        return Session(
            frame_records=list(records),
            start_time=self.started_wall,
            duration=now() - self.started,
            min_interval=self.interval,
            max_interval=max(self.max_dt, self.interval),
            sample_count=len(records),
            start_call_stack=[_ROOT_FRAME],
            target_description=f"gitops-tui bench ({what})",
            cpu_time=time.process_time() - self.started_cpu,
            sys_path=list(sys.path),
            sys_prefixes=[sys.prefix, sys.base_prefix, sys.exec_prefix],
        )


def _running(native_id: int | None) -> bool:
    if native_id is None:
        return False
    try:
        stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "R"


def write_sampled(sampler: ThreadSampler, base: Path) -> Path:
    """The wall-clock profile at ``base``.html/.txt, the on-CPU one at ``base``-cpu.html/.txt."""
    wall, cpu = sampler.stop()
    html, _ = write_profile(wall, base)
    write_profile(cpu, base.with_name(base.name + "-cpu"))
    return html


def write_profile(session: Any, base: Path) -> tuple[Path, Path]:
    """``base``.html and ``base``.txt; returns both paths."""
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer

    base.parent.mkdir(parents=True, exist_ok=True)
    html = base.with_suffix(".html")
    text = base.with_suffix(".txt")
    html.write_text(HTMLRenderer().render(session))
    text.write_text(ConsoleRenderer(unicode=True, color=False, show_all=True).render(session))
    return html, text


def profile_cli_child(out: str, argv: list[str]) -> int:
    """``--profile-cli OUT -- ARGS``: ``gitops-tui ARGS`` in this process, every thread sampled.

    SIGUSR1 restarts the sampling (scenario 8 sends it once the console has settled).
    """
    from gitops_tui import cli

    sampler = ThreadSampler(interval=0.005).start()
    signal.signal(signal.SIGUSR1, lambda *_: sampler.reset())
    try:
        return cli.main(argv)
    finally:
        write_sampled(sampler, Path(out))


# ----------------------------------------------------------------------------- git and manifests


def git_repo(path: Path) -> Any:
    import git

    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "gitops-tui bench")
        cfg.set_value("user", "email", "bench@example.com")
        cfg.set_value("commit", "gpgsign", "false")
        cfg.set_value("core", "autocrlf", "false")
    return repo


def git_commit(repo: Any, files: dict[str, str], message: str) -> str:
    root = Path(repo.working_tree_dir)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    repo.git.add("--all")
    repo.git.commit("--quiet", "--allow-empty", "-m", message)
    return str(repo.head.commit.hexsha)


def dump_all(docs: Sequence[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.local/bench/web:1.0",
                            "ports": [{"containerPort": 8080}],
                        }
                    ],
                },
            },
        },
    }


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def service_account(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}


def config_map(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def secret(name: str) -> dict[str, Any]:
    token = base64.b64encode(f"token-of-{name}".encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "Opaque",
        "data": {"token": token},
    }


def app_objects(name: str, replicas: int, revision: str = "r0") -> list[dict[str, Any]]:
    """The 10 objects of a fleet app; ``revision`` changes ``<name>-config-0`` (scenario 3)."""
    objs = [
        service_account(name),
        secret(f"{name}-secret"),
        config_map(f"{name}-config-0", revision=revision),
    ]
    objs += [config_map(f"{name}-config-{i}", mode="v1", index=str(i)) for i in range(1, 6)]
    objs += [service(name), deployment(name, replicas)]
    return objs


def single_app_objects(replicas: int) -> list[dict[str, Any]]:
    """The 50 objects of scenarios 4 and 5."""
    objs: list[dict[str, Any]] = []
    for i in range(10):
        name = f"web-{i}"
        objs += [service_account(name), service(name), deployment(name, replicas)]
    objs += [config_map(f"settings-{i}", mode="v1", index=str(i)) for i in range(15)]
    objs += [secret(f"secret-{i}") for i in range(5)]
    assert len(objs) == SINGLE_OBJECTS
    return objs


def application(name: str, repo_url: str, path: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "targetRevision": "HEAD", "path": path},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
        },
    }


def as_applied(objs: Sequence[dict[str, Any]], app: str, namespace: str) -> list[dict[str, Any]]:
    """What gitops-tui applies for ``objs``: destination namespace and tracking mark added."""
    from gitops_tui.engine.tracking import with_tracking

    out = []
    for obj in objs:
        item = copy.deepcopy(obj)
        item["metadata"]["namespace"] = namespace
        out.append(with_tracking(item, app))
    return out


def fleet_name(i: int) -> str:
    return f"app-{i:04d}"


def fleet_namespace(i: int) -> str:
    return f"bench-{i % NAMESPACES:02d}"


@dataclass
class Fleet:
    repo: Any
    url: str
    apps_file: Path
    names: list[str]
    namespaces: dict[str, str]


# ----------------------------------------------------------------------------- the run


class Bench:
    """Shared state of one run: sandbox, repositories, engines, figures."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.sizes = Sizes.from_args(args)
        self.work = work
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self.profiles: dict[str, str] = {}
        self.sandbox: Any = None
        self.kubeconfig = Path()
        self._fleet: Fleet | None = None
        self._synced = False
        self._engine: Any = None
        self._kube: Any = None
        self.sampler: ThreadSampler | None = None  # set while an in-process profile runs
        self.out_dir = Path(args.out).parent if args.out else REPO_ROOT / "bench-results"
        self.stamp = dt.datetime.now().strftime("%Y-%m-%d")

    # -- reproduce commands and figures -------------------------------------------------
    def reproduce(self, scenario: int) -> str:
        parts = ["python -m gitops_tui.bench", f"--scenarios {scenario}"]
        if self.args.quick:
            parts.append("--quick")
        if scenario in (1, 2, 3, 6, 8) and (self.args.apps is not None):
            parts.append(f"--apps {self.sizes.apps}")
        if scenario == 8 and self.args.idle_seconds:
            parts.append(f"--idle-seconds {self.args.idle_seconds:g}")
        return " ".join(parts)

    def record(
        self,
        scenario: int,
        name: str,
        value: float | None,
        unit: str,
        op: str,
        limit: float,
        *,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        note: str = "",
        met: bool | None = None,
    ) -> Figure:
        fig = Figure(
            scenario=scenario,
            name=name,
            value=None if value is None else round(value, 4),
            unit=unit,
            target=target or f"{op} {limit:g} {unit}",
            met=check(value, op, limit) if met is None else met,
            reproduce=self.reproduce(scenario),
            detail=detail or {},
            note=note,
        )
        self.figures.append(fig)
        verdict = {True: "met", False: "MISSED", None: "?"}[fig.met]
        log(f"scenario {scenario}: {name} = {fig.shown()} (target {fig.target}: {verdict})")
        return fig

    # -- environment ---------------------------------------------------------------------
    def child_env(self) -> dict[str, str]:
        """Environment for gitops-tui subprocesses: their own cache, state and config dirs."""
        from gitops_tui.sandbox.toolchain import require_tool

        env = dict(os.environ)
        env["GITOPS_TUI_CACHE"] = str(self.work / "cli-cache")
        env["GITOPS_TUI_STATE"] = str(self.work / "cli-state")
        env["GITOPS_TUI_CONFIG_DIR"] = str(self.work / "cli-config")
        env["PATH"] = f"{require_tool('kubectl').parent}{os.pathsep}{env.get('PATH', '')}"
        env.pop("KUBECONFIG", None)
        return env

    def gitops_argv(self) -> list[str]:
        exe = Path(sys.executable).parent / "gitops-tui"
        return [str(exe)] if exe.exists() else [sys.executable, "-m", "gitops_tui.cli"]

    def kubectl_argv(self) -> list[str]:
        from gitops_tui.sandbox.toolchain import require_tool

        return [
            str(require_tool("kubectl")),
            "--kubeconfig",
            str(self.kubeconfig),
            "--cache-dir",
            str(self.work / "kubectl-cache"),
        ]

    def kubectl(self, *args: str, stdin: str | None = None, ok: Sequence[int] = (0,)) -> str:
        _, result = run([*self.kubectl_argv(), *args], timeout=120, stdin=stdin, ok=ok)
        return result.stdout

    def kube(self) -> Any:
        if self._kube is None:
            from kubernetes import config

            load: Any = config.new_client_from_config  # untyped library
            self._kube = load(config_file=str(self.kubeconfig))
        return self._kube

    def start_sandbox(self) -> None:
        from gitops_tui.sandbox.controlplane import Sandbox

        self.sandbox = Sandbox(self.work / "sandbox", name="sandbox-bench")
        t0 = now()
        status = self.sandbox.up(nodes=2)
        self.kubeconfig = status.kubeconfig
        log(f"sandbox up in {now() - t0:.1f} s ({status.server})")

    def close(self) -> None:
        self.close_engine()
        if self._kube is not None:
            with contextlib.suppress(Exception):
                self._kube.close()
        if self.sandbox is not None:
            if self.args.keep:
                log(
                    f"sandbox kept: {self.sandbox.directory} (KUBECONFIG={self.kubeconfig}); "
                    f"stop it with: gitops-tui sandbox down --dir {self.sandbox.directory}"
                )
            else:
                stopped = self.sandbox.down()
                log(f"sandbox stopped ({', '.join(stopped)})")

    # -- the fleet (scenario 6 builds it; 1, 2, 3, 8 use it) --------------------------------
    def fleet(self) -> Fleet:
        if self._fleet is not None:
            return self._fleet
        n = self.sizes.apps
        repo_dir = self.work / "fleet-repo"
        repo = git_repo(repo_dir)
        names = [fleet_name(i) for i in range(n)]
        files = {
            f"apps/{name}/all.yaml": dump_all(app_objects(name, self.sizes.replicas))
            for name in names
        }
        git_commit(repo, files, f"{n} apps")
        url = f"file://{repo_dir}"
        apps_dir = self.work / "fleet-apps"
        apps_dir.mkdir(exist_ok=True)
        apps_file = apps_dir / "apps.yaml"
        namespaces = {name: fleet_namespace(i) for i, name in enumerate(names)}
        apps_file.write_text(
            dump_all([application(n_, url, f"apps/{n_}", namespaces[n_]) for n_ in names])
        )
        self._fleet = Fleet(repo, url, apps_file, names, namespaces)
        log(f"fleet repo: {n} apps x 10 objects, {NAMESPACES} namespaces")
        return self._fleet

    def engine_options(self, tag: str) -> Any:
        from gitops_tui.engine.reconciler import EngineOptions

        return EngineOptions(
            app_paths=(self.fleet().apps_file,),
            kubeconfig=self.kubeconfig,
            repo_cache_dir=self.work / f"repo-cache-{tag}",
            history_path=self.work / f"history-{tag}.sqlite3",
            automation=False,
            watch_local_repos=True,
        )

    def compare_timeout(self) -> float:
        return 300.0 + 0.6 * self.sizes.apps

    def ensure_synced(self) -> None:
        if not self._synced:
            log("setting up the synced fleet (the work of scenario 6, not recorded)")
            first_sync(self)

    def fleet_engine(self) -> Any:
        """A running engine on the synced fleet (scenario 1 leaves its engine here)."""
        from gitops_tui.engine.reconciler import Engine

        self.ensure_synced()
        if self._engine is None:
            engine = Engine(self.engine_options("shared")).start()
            if not engine.wait_until_compared(timeout=self.compare_timeout()):
                engine.close()
                raise TimeoutError("the engine did not compare every app")
            self._engine = engine
        return self._engine

    def close_engine(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
            time.sleep(0.5)  # let its threads notice

    def profile_base(self, scenario: int) -> Path:
        return self.out_dir / f"profile-s{scenario}-{self.stamp}"


# ----------------------------------------------------------------------------- scenario 6 (+ setup)


def first_sync(b: Bench) -> dict[str, Any]:
    """Sync every fleet app through one engine (its own sync pool); return the timings."""
    from gitops_tui.engine.commands import SyncRequest
    from gitops_tui.engine.model import SyncStatus
    from gitops_tui.engine.reconciler import Engine

    fleet = b.fleet()
    timeout = b.compare_timeout() + 2.0 * len(fleet.names)
    t0 = now()
    engine = Engine(b.engine_options("first-sync")).start()
    try:
        if not engine.wait_until_compared(timeout=timeout):
            raise TimeoutError("first sync: the engine did not compare every app")
        t_compared = now()
        ops = {
            name: engine.sync(SyncRequest(app=name, initiated_by="bench")) for name in fleet.names
        }
        t_started = now()
        phases: Counter[str] = Counter()
        failures: list[str] = []
        for name, op_id in ops.items():
            final = engine.wait_for_operation(name, op_id, timeout=max(1.0, timeout - (now() - t0)))
            phase = final.phase.value if final is not None else "timeout"
            phases[phase] += 1
            if phase != "Succeeded" and len(failures) < 5:
                failures.append(f"{name}: {phase} {final.message if final else ''}")
        t_done = now()

        def all_synced() -> bool:
            snap = engine.snapshot()
            return all(a.sync == SyncStatus.SYNCED for a in snap.apps)

        synced_ok = True
        try:
            wait_until(all_synced, timeout, "every app Synced after the first sync", step=0.25)
        except TimeoutError:
            synced_ok = False
        t_synced = now()
        statuses = Counter(a.sync.value for a in engine.snapshot().apps)
    finally:
        engine.close()
    b._synced = True
    return {
        "apps": len(fleet.names),
        "objects": 10 * len(fleet.names),
        "replicas_per_deployment": b.sizes.replicas,
        "compare_s": round(t_compared - t0, 3),
        "sync_calls_s": round(t_started - t_compared, 3),
        "operations_done_s": round(t_done - t0, 3),
        "all_synced_s": round(t_synced - t0, 3),
        "all_synced": synced_ok,
        "phases": dict(phases),
        "failures": failures,
        "statuses_at_end": dict(statuses),
    }


def scenario_6(b: Bench) -> None:
    if b._synced:
        b.notes.append("scenario 6 ran after the fleet was already synced: skipped")
        return
    timings = first_sync(b)
    ok = timings["all_synced"] and timings["phases"].get("Succeeded") == timings["apps"]
    b.record(
        6,
        f"first sync of {timings['apps']} apps x 10 objects (start to every app Synced)",
        timings["all_synced_s"],
        "s",
        "<",
        120,
        detail=timings,
        met=(timings["all_synced_s"] < 120) and ok,
        note="published reference: Flux, 1,000 Kustomizations in 4 min 16 s on 2 CPU",
    )


# ----------------------------------------------------------------------------- scenario 1


def scenario_1(b: Bench) -> None:
    from gitops_tui.engine.reconciler import Engine

    b.ensure_synced()
    b.close_engine()
    n = b.sizes.apps
    t0 = now()
    engine = Engine(b.engine_options("cold")).start()  # a fresh repo cache: clone included
    try:
        complete = engine.wait_until_compared(timeout=b.compare_timeout())
    except BaseException:
        engine.close()
        raise
    cold = now() - t0
    b._engine = engine
    statuses = Counter(a.sync.value for a in engine.snapshot().apps)
    known = complete and statuses.get("Unknown", 0) == 0
    b.record(
        1,
        f"cold start to every status known ({n} apps)",
        cold,
        "s",
        "<",
        60,
        detail={"statuses": dict(statuses), "complete": complete},
        met=known and cold < 60,
    )
    warm: list[float] = []
    if b.sampler is not None:
        b.sampler.reset()  # profile the warm re-compares only (the missed figure)
    for _ in range(b.sizes.warm_runs):
        wait_quiet(engine, timeout=b.compare_timeout())
        t, since = now(), time.time()
        engine.refresh()  # every app: fetch + render (cached) + compare (cached predictions)
        wait_recompared(engine, since, timeout=b.compare_timeout())
        warm.append(now() - t)
    b.record(
        1,
        f"warm full re-compare ({n} apps, median of {len(warm)})",
        median(warm),
        "s",
        "<",
        2,
        detail={"runs_s": summary(warm)},
    )


# ----------------------------------------------------------------------------- scenarios 2 and 3


def time_until_out_of_sync(
    engine: Any, app: str, change: Callable[[], None], timeout: float = 60.0
) -> float:
    """Seconds from just before ``change()`` to the first published snapshot with ``app`` OutOfSync."""
    from gitops_tui.engine.model import SyncStatus

    seen = threading.Event()
    hit: list[float] = []

    def on_snapshot(snap: Any) -> None:
        entry = snap.by_name.get(app)
        if entry is not None and entry.sync == SyncStatus.OUT_OF_SYNC and not seen.is_set():
            hit.append(now())
            seen.set()

    armed = threading.Event()

    def guarded(snap: Any) -> None:
        if armed.is_set():
            on_snapshot(snap)

    unsubscribe = engine.subscribe(guarded)
    try:
        start = now()
        armed.set()
        change()
        if not seen.wait(timeout):
            raise TimeoutError(f"{app} was not reported OutOfSync within {timeout:.0f} s")
        return hit[0] - start
    finally:
        unsubscribe()


def wait_recompared(engine: Any, since_wall: float, timeout: float) -> None:
    """Until every app's last comparison ended after ``since_wall`` and none is running."""
    wait_until(
        lambda: all(
            a.compared_at >= since_wall and not a.comparing for a in engine.snapshot().apps
        ),
        timeout,
        "every app compared again",
        step=0.02,
    )


def wait_quiet(engine: Any, timeout: float, quiet_s: float = 0.5) -> None:
    """Until no app has been comparing for ``quiet_s`` (runs stay independent)."""
    deadline = now() + timeout
    calm_since = now()
    while now() - calm_since < quiet_s:
        if any(a.comparing for a in engine.snapshot().apps):
            calm_since = now()
        if now() > deadline:
            raise TimeoutError("the engine did not go quiet")
        time.sleep(0.05)


def wait_synced(engine: Any, app: str, timeout: float) -> None:
    from gitops_tui.engine.model import SyncStatus

    wait_until(
        lambda: engine.snapshot().by_name[app].sync == SyncStatus.SYNCED,
        timeout,
        f"{app} Synced again",
        step=0.05,
    )
    wait_quiet(engine, timeout)


def scenario_2(b: Bench) -> None:
    from kubernetes import client

    engine = b.fleet_engine()
    fleet = b.fleet()
    core = client.CoreV1Api(b.kube())
    runs = b.sizes.drift_runs
    step = max(1, len(fleet.names) // runs)
    times: list[float] = []
    for i in range(runs):
        app = fleet.names[(i * step) % len(fleet.names)]
        ns, cm = fleet.namespaces[app], f"{app}-config-1"

        def drift(i: int = i, ns: str = ns, cm: str = cm) -> None:
            core.patch_namespaced_config_map(cm, ns, {"data": {"mode": f"drift-{i}"}})

        times.append(time_until_out_of_sync(engine, app, drift))
        core.patch_namespaced_config_map(cm, ns, {"data": {"mode": "v1"}})
        wait_synced(engine, app, timeout=60)
    b.record(
        2,
        f"drift to OutOfSync, p95 of {runs} runs ({len(fleet.names)} apps watched)",
        percentile(times, 95),
        "s",
        "<",
        1,
        detail={"runs_s": summary(times)},
        note=(
            "a strategic-merge patch of a managed ConfigMap's data through the Kubernetes API "
            "(python client); the patch round trip is included, nothing subtracted; "
            "reverted between runs, waiting for Synced"
        ),
    )


def scenario_3(b: Bench) -> None:
    engine = b.fleet_engine()
    fleet = b.fleet()
    runs = b.sizes.commit_runs
    step = max(1, len(fleet.names) // runs)
    times: list[float] = []
    for i in range(runs):
        app = fleet.names[(i * step + 1) % len(fleet.names)]
        path = f"apps/{app}/all.yaml"
        changed = dump_all(app_objects(app, b.sizes.replicas, revision=f"r{i + 1}"))

        def commit(app: str = app, path: str = path, changed: str = changed) -> None:
            git_commit(fleet.repo, {path: changed}, f"change {app}")

        times.append(time_until_out_of_sync(engine, app, commit))
        original = dump_all(app_objects(app, b.sizes.replicas))
        git_commit(fleet.repo, {path: original}, f"revert {app}")
        wait_synced(engine, app, timeout=b.compare_timeout())
    b.record(
        3,
        f"git commit to OutOfSync, p95 of {runs} runs (one repo of {len(fleet.names)} apps)",
        percentile(times, 95),
        "s",
        "<",
        2,
        detail={"runs_s": summary(times)},
        note=(
            "a commit to the local repository every app comes from (the engine watches its .git); "
            "timed from before `git add/commit` runs; reverted by a second commit between runs"
        ),
    )


# ----------------------------------------------------------------------------- scenarios 4 and 5


@dataclass
class Single:
    url: str
    path: str
    objects: list[dict[str, Any]]


def single_repo(b: Bench) -> Single:
    repo_dir = b.work / "single-repo"
    objs = single_app_objects(b.sizes.replicas)
    if not repo_dir.exists():
        repo = git_repo(repo_dir)
        git_commit(repo, {"app50/all.yaml": dump_all(objs)}, "one app of 50 objects")
    return Single(f"file://{repo_dir}", "app50", objs)


def write_app_file(b: Bench, name: str, single: Single, namespace: str) -> Path:
    path = b.work / "single-apps" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(dump_all([application(name, single.url, single.path, namespace)]))
    return path


def alternate(
    a: Callable[[int], float], b_: Callable[[int], float], runs: int
) -> tuple[list[float], list[float]]:
    """Run ``a`` and ``b_`` interleaved (noise hits both); run 0 of each is a discarded warm-up."""
    xs: list[float] = []
    ys: list[float] = []
    for i in range(runs + 1):
        x, y = a(i), b_(i)
        if i:
            xs.append(x)
            ys.append(y)
    return xs, ys


def scenario_4(b: Bench) -> None:
    from kubernetes import client

    single = single_repo(b)
    app, ns = "diff50", "bench-diff"
    app_file = write_app_file(b, app, single, ns)
    applied = as_applied(single.objects, app, ns)
    b.kubectl("create", "namespace", ns, ok=(0, 1))
    b.kubectl(
        "apply", "--server-side", "--field-manager=gitops-tui", "-f", "-", stdin=dump_all(applied)
    )
    core = client.CoreV1Api(b.kube())
    for i in (0, 1):  # two drifted objects, so both tools have something to print
        core.patch_namespaced_config_map(f"settings-{i}", ns, {"data": {"mode": "drifted"}})
    manifests = b.work / "diff50-manifests.yaml"
    manifests.write_text(dump_all(applied))
    env = b.child_env()
    ours = [
        *b.gitops_argv(),
        "diff",
        app,
        "--apps",
        str(app_file),
        "--kubeconfig",
        str(b.kubeconfig),
    ]
    theirs = [
        *b.kubectl_argv(),
        "diff",
        "--server-side",
        "--force-conflicts",
        "--field-manager=gitops-tui",
        "-f",
        str(manifests),
    ]
    outputs: dict[str, str] = {}

    def run_ours(_: int) -> float:
        seconds, result = run(ours, timeout=300, env=env)
        outputs["gitops-tui"] = result.stdout
        return seconds

    def run_theirs(_: int) -> float:
        seconds, result = run(theirs, timeout=300, env=env, ok=(0, 1))
        outputs["kubectl"] = result.stdout
        return seconds

    ours_s, theirs_s = alternate(run_ours, run_theirs, b.sizes.cli_runs)
    ratio = median(theirs_s) / median(ours_s)
    warm = warm_engine_diff(b, app, app_file, b.sizes.cli_runs)
    b.record(
        4,
        "diff of one 50-object app: kubectl diff / gitops-tui diff (median times)",
        ratio,
        "x",
        ">=",
        5,
        target=">= 5x faster",
        detail={
            "gitops_tui_s": summary(ours_s),
            "kubectl_s": summary(theirs_s),
            "gitops_tui_command": f"gitops-tui diff {app} --apps {app_file.name} --kubeconfig K",
            "kubectl_command": (
                "kubectl diff --server-side --force-conflicts --field-manager=gitops-tui "
                f"-f {manifests.name}"
            ),
            "warm_engine_in_process": warm,
            "changed_objects_reported": {
                "gitops-tui": sum(
                    1
                    for line in outputs.get("gitops-tui", "").splitlines()
                    if line.startswith("=====")
                ),
                "kubectl": outputs.get("kubectl", "").count("diff -u -N"),
            },
        },
        note=(
            "both are fresh processes each run (gitops-tui: interpreter, engine start, clone "
            "cache warm, discovery, list+watch, dry runs; kubectl: discovery cache warm); "
            "2 of 50 objects drifted"
        ),
    )
    if 4 in b.args.profile:
        profile_subprocess(b, 4, ours[len(b.gitops_argv()) :], env)


def warm_engine_diff(b: Bench, app: str, app_file: Path, runs: int) -> dict[str, Any]:
    """Context for scenario 4: the same diff from an engine already running (the console's case)."""
    from gitops_tui.engine.reconciler import Engine, EngineOptions

    options = EngineOptions(
        app_paths=(app_file,),
        kubeconfig=b.kubeconfig,
        repo_cache_dir=b.work / "repo-cache-s4",
        history_path=b.work / "history-s4.sqlite3",
        automation=False,
        watch_local_repos=False,
    )
    engine = Engine(options).start()
    try:
        if not engine.wait_until_compared(timeout=120):
            raise TimeoutError("scenario 4: the engine did not compare the app")
        refresh: list[float] = []
        cached: list[float] = []
        for _ in range(runs):
            t = now()
            engine.refresh(app)
            engine.wait_until_compared(timeout=120)
            changed = [d for d in engine.diffs(app) if d.modified]
            refresh.append(now() - t)
            t = now()
            engine.diffs(app)
            cached.append(now() - t)
    finally:
        engine.close()
    return {
        "refresh_then_diffs_s": summary(refresh),
        "diffs_from_last_comparison_ms": summary(cached, scale=1000.0),
        "changed_objects": len(changed),
    }


def scenario_5(b: Bench) -> None:
    single = single_repo(b)
    env = b.child_env()

    def run_ours(i: int) -> float:
        name, ns = f"sync50-g{i}", f"bench-sync-g{i}"
        app_file = write_app_file(b, name, single, ns)
        argv = [
            *b.gitops_argv(),
            "sync",
            name,
            "--apps",
            str(app_file),
            "--kubeconfig",
            str(b.kubeconfig),
        ]
        seconds, _ = run(argv, timeout=600, env=env)
        return seconds

    def run_theirs(i: int) -> float:
        name, ns = f"sync50-k{i}", f"bench-sync-k{i}"
        docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
        docs += as_applied(single.objects, name, ns)
        path = b.work / f"{name}-manifests.yaml"
        path.write_text(dump_all(docs))
        argv = [
            *b.kubectl_argv(),
            "apply",
            "--server-side",
            "--field-manager=gitops-tui",
            "-f",
            str(path),
        ]
        seconds, _ = run(argv, timeout=600, env=env)
        return seconds

    ours_s, theirs_s = alternate(run_ours, run_theirs, b.sizes.cli_runs)
    ratio = median(ours_s) / median(theirs_s)
    b.record(
        5,
        "sync (create) of one 50-object app: gitops-tui sync / kubectl apply (median times)",
        ratio,
        "x",
        "<=",
        1.0,
        detail={
            "gitops_tui_s": summary(ours_s),
            "kubectl_s": summary(theirs_s),
            "gitops_tui_command": "gitops-tui sync sync50-gN --apps sync50-gN.yaml --kubeconfig K",
            "kubectl_command": (
                "kubectl apply --server-side --field-manager=gitops-tui -f sync50-kN-manifests.yaml"
            ),
        },
        note=(
            "fresh namespace each run (gitops-tui: CreateNamespace=true; kubectl: a Namespace "
            "first in the file); gitops-tui also compares first and dry-runs every object "
            "before applying"
        ),
    )
    if 5 in b.args.profile:
        i = b.sizes.cli_runs + 1
        name, ns = f"sync50-g{i}", f"bench-sync-g{i}"
        app_file = write_app_file(b, name, single, ns)
        profile_subprocess(
            b, 5, ["sync", name, "--apps", str(app_file), "--kubeconfig", str(b.kubeconfig)], env
        )


def profile_subprocess(b: Bench, scenario: int, cli_args: list[str], env: dict[str, str]) -> None:
    base = b.profile_base(scenario)
    argv = [sys.executable, "-m", "gitops_tui.bench", "--profile-cli", str(base), "--", *cli_args]
    run(argv, timeout=600, env=env, ok=(0, 1))
    b.profiles[str(scenario)] = str(base.with_suffix(".html"))
    log(f"profile of scenario {scenario}: {base}.html / .txt")


# ----------------------------------------------------------------------------- scenario 7


class SyntheticEngine:
    """An ``EngineAPI`` that publishes fleets of synthetic apps (measures the UI only)."""

    read_only = False

    def __init__(self, n: int, seed: int = 7, churn_pct: float = 1.0) -> None:
        from gitops_tui.engine.snapshot import FleetSnapshot

        self._rng = random.Random(seed)
        self.churn_count = max(1, round(n * churn_pct / 100.0))
        self._paused = threading.Event()
        self._subscribers: list[Callable[[Any], None]] = []
        self._lock = threading.Lock()
        self._generation = 0
        self._latest = FleetSnapshot(generation=0)
        self.apps = [self._app(i) for i in range(n)]
        self._stop = threading.Event()
        self.published = 0

    def _app(self, i: int) -> Any:
        from gitops_tui.engine.model import HealthStatus, ResourceKey, SyncStatus
        from gitops_tui.engine.snapshot import (
            AppSnapshot,
            Destination,
            OperationPhase,
            OperationState,
            ResourceNode,
        )

        name = fleet_name(i)
        ns = fleet_namespace(i)
        kinds = [("", "ServiceAccount"), ("", "Secret")] + [("", "ConfigMap")] * 6
        kinds += [("", "Service"), ("apps", "Deployment")]
        resources = tuple(
            ResourceNode(
                key=ResourceKey(group, kind, ns, f"{name}-{j}"),
                version="v1",
                status=SyncStatus.SYNCED,
                health=HealthStatus.HEALTHY,
            )
            for j, (group, kind) in enumerate(kinds)
        )
        sha = f"{i:040x}"
        return AppSnapshot(
            name=name,
            project="default",
            sync=SyncStatus.SYNCED,
            health=HealthStatus.HEALTHY,
            health_message="",
            revision=sha,
            target_revision="HEAD",
            repo_url="https://git.example.com/platform/fleet.git",
            path=f"apps/{name}",
            destination=Destination("https://kubernetes.default.svc", "", ns),
            resources=resources,
            last_sync=OperationState(
                id=f"op{i}",
                app=name,
                phase=OperationPhase.SUCCEEDED,
                message="successfully synced",
                revision=sha,
                started_at=1_700_000_000.0,
                finished_at=1_700_000_001.0,
            ),
            compared_at=1_700_000_002.0,
        )

    # EngineAPI
    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def snapshot(self) -> Any:
        return self._latest

    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        return None

    def diffs(self, app: str, *, context: int = 3) -> list[Any]:
        return []

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        from gitops_tui.engine.commands import EngineError

        raise EngineError("the synthetic bench engine does not do that")

    preview = sync = terminate = rollback = fleet_preview = _refuse

    def history(self, app: str) -> list[Any]:
        return []

    def contexts(self) -> list[str]:
        return ["sandbox"]

    @property
    def default_context(self) -> str | None:
        return "sandbox"

    def set_default_context(self, name: str) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        # the console's EngineAPI grows; anything else is refused, as a read-only engine would
        if name.startswith("_"):
            raise AttributeError(name)
        return self._refuse

    def close(self) -> None:
        self._stop.set()

    # publishing
    def publish(self) -> None:
        from gitops_tui.engine.snapshot import FleetSnapshot

        with self._lock:
            self._generation += 1
            self._latest = FleetSnapshot.build(self._generation, self.apps, read_only=False)
            subscribers = list(self._subscribers)
            snap = self._latest
        self.published += 1
        for callback in subscribers:
            callback(snap)

    def churn(self) -> None:
        """Flip sync and health of ``churn_count`` random apps, as a busy reconciler would."""
        from gitops_tui.engine.model import HealthStatus, SyncStatus

        for _ in range(self.churn_count):
            i = self._rng.randrange(len(self.apps))
            app = self.apps[i]
            out = app.sync == SyncStatus.SYNCED
            self.apps[i] = replace(
                app,
                sync=SyncStatus.OUT_OF_SYNC if out else SyncStatus.SYNCED,
                health=HealthStatus.PROGRESSING if out else HealthStatus.HEALTHY,
                comparing=not app.comparing,
            )
        self.publish()

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def pause_churn(self) -> None:
        self._paused.set()

    def resume_churn(self) -> None:
        self._paused.clear()

    def churn_every(self, interval: float) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval):
                if not self._paused.is_set():
                    self.churn()

        thread = threading.Thread(target=loop, name="synthetic-publisher", daemon=True)
        thread.start()
        return thread


def proc_status_kib(field_name: str, pid: str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


class ScreenProbe:
    """Timestamps every screen update ``GitOpsApp`` sends to its driver.

    In ``run_test()`` the headless driver writes nothing, so the hook also turns
    each update into terminal bytes (``render_segments``) as a real terminal
    would get them. ``arm(condition)``: the next update after which
    ``condition()`` holds sets ``hit`` and the event.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.updates = 0
        self.bytes = 0
        self.hit = 0.0
        self.event = asyncio.Event()
        self._condition: Callable[[], bool] | None = None
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            render = getattr(renderable, "render_segments", None)
            if render is not None:
                self.bytes += len(render(app.console))
            self.updates += 1
            if self._condition is not None and self._condition():
                self.hit = now()
                self._condition = None
                self.event.set()

        app._display = display

    def arm(self, condition: Callable[[], bool]) -> None:
        self.event.clear()
        self._condition = condition

    async def wait(self, timeout: float = 10.0) -> float:
        await asyncio.wait_for(self.event.wait(), timeout)
        return self.hit


KEY_TIMEOUT_S = 10.0


async def _caught_up(app: Any, engine: SyntheticEngine, pilot: Any, timeout: float) -> float:
    """Seconds until the UI shows the engine's newest snapshot (after the publisher stopped)."""
    start = now()
    while app.fleet.generation < engine.generation and now() - start < timeout:
        await asyncio.sleep(0.05)
    await pilot.pause()
    return now() - start


async def _tui_measure(
    n: int, presses: int, budget_s: float, churn_pct: float, profile_out: str | None
) -> dict[str, Any]:
    from textual import events

    from gitops_tui.ui.app import GitOpsApp
    from gitops_tui.ui.widgets.tables import KeyedTable

    engine = SyntheticEngine(n, churn_pct=churn_pct)
    app = GitOpsApp(cast(Any, engine), ascii_symbols=False)
    result: dict[str, Any] = {"apps": n, "churn_apps_per_publication": engine.churn_count}
    pace = random.Random(1)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#apps", KeyedTable)
        probe = ScreenProbe(app)
        result["rss_before_data_mib"] = proc_status_kib("VmRSS") / 1024
        # first paint: first snapshot delivery -> a screen update with every row in the table
        probe.arm(lambda: table.row_count >= n)
        t0 = now()
        threading.Thread(target=engine.publish, name="first-publication", daemon=True).start()
        result["first_paint_s"] = await probe.wait(timeout=120) - t0
        await pilot.pause()
        result["rss_after_paint_mib"] = proc_status_kib("VmRSS") / 1024

        async def key_to_screen(key: str) -> float:
            before = table.cursor_row
            probe.arm(lambda: table.cursor_row != before)
            event = events.Key(key, key)
            event.set_sender(app)
            start = now()
            driver: Any = app._driver
            driver.send_message(event)
            try:
                return await probe.wait(KEY_TIMEOUT_S) - start
            except TimeoutError:
                return now() - start

        # phase A (the figure): keys sent as pilot.press() sends them, timed to the screen
        profiler = None
        if profile_out:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001, async_mode="enabled")
            profiler.start()
        publisher = engine.churn_every(0.1)
        latencies: list[float] = []
        started, updates0, bytes0 = engine.published, probe.updates, probe.bytes
        t_loop = now()
        for i in range(presses):
            if now() - t_loop > budget_s:
                break
            latencies.append(await key_to_screen("j" if (i // 25) % 2 == 0 else "k"))
            await asyncio.sleep(pace.uniform(0.02, 0.08))  # typing pace: keys land at any phase
        loop_s = now() - t_loop
        engine.pause_churn()
        result["ui_behind_by_publications"] = engine.generation - app.fleet.generation
        if profiler is not None and profile_out:
            profiler.stop()
            write_profile(profiler.last_session, Path(profile_out))
        result["key_latency_ms"] = summary(latencies, scale=1000.0)
        result["keys_timed_out"] = sum(1 for x in latencies if x >= KEY_TIMEOUT_S)
        result["publications_during_keys"] = engine.published - started
        result["screen_updates_during_keys"] = probe.updates - updates0
        result["terminal_bytes_during_keys"] = probe.bytes - bytes0
        result["keys_s"] = loop_s
        result["catch_up_s"] = await _caught_up(app, engine, pilot, 300)
        # phase B (detail): pilot.press() itself, which also waits for the process to look idle
        engine.resume_churn()
        pilot_times: list[float] = []
        t_pilot = now()
        for i in range(20):
            if now() - t_pilot > budget_s / 2:
                break
            t = now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pilot.press("j" if i % 2 == 0 else "k"), KEY_TIMEOUT_S)
            pilot_times.append(now() - t)
        engine.close()
        publisher.join(timeout=5)
        result["pilot_press_ms"] = summary(pilot_times, scale=1000.0)
        result["dropped_snapshots"] = app.dropped_snapshots
        result["rss_mib"] = proc_status_kib("VmRSS") / 1024
        result["peak_rss_mib"] = proc_status_kib("VmHWM") / 1024
        app.exit()
    return result


def tui_child(
    n: int, presses: int, budget_s: float, churn_pct: float, profile_out: str | None
) -> int:
    result = asyncio.run(_tui_measure(n, presses, budget_s, churn_pct, profile_out))
    print(json.dumps(result))
    return 0


def tui_run(b: Bench, churn: float, presses: int, profile: bool) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "gitops_tui.bench",
        "--tui-child",
        str(TUI_APPS),
        "--presses",
        str(presses),
        "--key-budget",
        str(60 if b.args.quick else 120),
        "--churn",
        str(churn),
    ]
    if profile:
        argv += ["--profile-out", str(b.profile_base(7))]
    _, proc = run(argv, timeout=1200)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def scenario_7(b: Bench) -> None:
    result = tui_run(b, b.args.churn, b.sizes.key_presses, False)
    light_churn = 0.1
    light = tui_run(b, light_churn, 50, False)
    if 7 in b.args.profile:  # a run of its own: the profiler slows the loop and holds memory
        tui_run(b, b.args.churn, 30, True)
    if 7 in b.args.profile:
        b.profiles["7"] = str(b.profile_base(7).with_suffix(".html"))
    detail = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()}
    b.record(
        7,
        f"TUI first paint after data is ready ({TUI_APPS} apps)",
        result["first_paint_s"],
        "s",
        "<",
        1,
        detail={
            k: detail[k] for k in ("first_paint_s", "rss_before_data_mib", "rss_after_paint_mib")
        },
        note="from the first snapshot delivery (engine thread) to the first screen update with every row in the table",
    )
    b.record(
        7,
        f"TUI key-press to screen, p95 of {result['key_latency_ms']['n']} j/k presses",
        result["key_latency_ms"]["p95"],
        "ms",
        "<",
        50,
        detail={
            k: detail[k]
            for k in (
                "key_latency_ms",
                "keys_timed_out",
                "pilot_press_ms",
                "churn_apps_per_publication",
                "ui_behind_by_publications",
                "catch_up_s",
                "publications_during_keys",
                "screen_updates_during_keys",
                "terminal_bytes_during_keys",
                "keys_s",
                "dropped_snapshots",
            )
        }
        | {
            f"at_{light_churn:g}_pct_churn": {
                k: light[k]
                for k in (
                    "churn_apps_per_publication",
                    "key_latency_ms",
                    "ui_behind_by_publications",
                )
            }
        },
        note=(
            "App.run_test(), keys sent through the driver as pilot.press() does, timed to the "
            "first screen update showing the moved cursor (rendered to terminal bytes); a thread "
            f"publishes a snapshot changing {b.args.churn:g} % of the apps every 100 ms; "
            f"keys 20-80 ms apart, at most {KEY_TIMEOUT_S:g} s counted per key. "
            "pilot.press() durations are in the detail: they include Textual's wait_for_idle "
            "(>= 2 x 20 ms sleeps, up to 1 s each while the process is busy), so they time the "
            "test harness, not the app"
        ),
    )
    b.record(
        7,
        f"TUI peak RSS ({TUI_APPS} apps)",
        result["peak_rss_mib"],
        "MiB",
        "<",
        300,
        detail={k: detail[k] for k in ("rss_mib", "peak_rss_mib")},
        note="VmHWM of the process (Python, Textual, 2,000 apps x 10 resources in snapshots)",
    )


# ----------------------------------------------------------------------------- scenario 8


class PtyProcess:
    """A process on a pseudo-terminal; a thread drains and counts what it writes."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 200, rows: int = 50):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.master = master
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)},
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.bytes = 0
        self.last_output = now()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, name="pty-drain", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if not ready:
                    if self.proc.poll() is not None:
                        return
                    continue
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.bytes += len(data)
                self.last_output = now()

    def written(self) -> int:
        with self._lock:
            return self.bytes

    def cpu_ticks(self) -> tuple[int, int]:
        """(utime + stime, cutime + cstime) in clock ticks."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.write(self.master, b"q")
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self.master)
        return self.proc.returncode


class AuditTail:
    """New entries of the API server's audit log (JSON lines), parsed incrementally."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        out = []
        for line in lines:
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out


def ours(entry: dict[str, Any]) -> bool:
    return str(entry.get("userAgent", "")).startswith("gitops-tui/")


def non_watch_requests(entries: list[dict[str, Any]], since_wall: float) -> list[dict[str, Any]]:
    """Our requests other than watches received after ``since_wall``, one per audit id."""
    seen: dict[str, dict[str, Any]] = {}
    for e in entries:
        if not ours(e) or e.get("verb") == "watch":
            continue
        received = dt.datetime.fromisoformat(str(e.get("requestReceivedTimestamp"))).timestamp()
        if received >= since_wall:
            seen[str(e.get("auditID"))] = e
    return list(seen.values())


def scenario_8(b: Bench) -> None:
    b.ensure_synced()
    b.close_engine()
    fleet = b.fleet()
    env = b.child_env()
    cli_args = ["--apps", str(fleet.apps_file), "--kubeconfig", str(b.kubeconfig)]
    profiling = 8 in b.args.profile
    argv = (
        [
            sys.executable,
            "-m",
            "gitops_tui.bench",
            "--profile-cli",
            str(b.profile_base(8)),
            "--",
            *cli_args,
        ]
        if profiling
        else [*b.gitops_argv(), *cli_args]
    )
    audit = AuditTail(b.sandbox.audit_log)
    t_start = time.time()
    tui = PtyProcess(argv, env)
    try:
        # settle: the console compares every app (dry runs); wait until our requests stop
        last_request = time.time()
        seen_any = False
        deadline = now() + b.compare_timeout() + 300
        while True:
            time.sleep(1.0)
            if tui.proc.poll() is not None:
                raise RuntimeError(f"the console exited early ({tui.proc.returncode})")
            recent = non_watch_requests(audit.read(), t_start)
            if recent:
                seen_any = True
                last_request = time.time()
            if seen_any and time.time() - last_request > 15 and now() - tui.last_output > 2:
                break
            if now() > deadline:
                raise TimeoutError("the console did not settle")
        settle_s = time.time() - t_start
        log(f"console settled after {settle_s:.0f} s; idle window of {b.sizes.idle_seconds:g} s")
        if profiling:
            os.kill(tui.proc.pid, signal.SIGUSR1)
        window_start = time.time()
        bytes0 = tui.written()
        own0, children0 = tui.cpu_ticks()
        time.sleep(b.sizes.idle_seconds)
        elapsed = time.time() - window_start
        own1, children1 = tui.cpu_ticks()
        written = tui.written() - bytes0
        entries = audit.read()
        requests = non_watch_requests(entries, window_start)
        watches = [e for e in entries if ours(e) and e.get("verb") == "watch"]
    finally:
        rc = tui.stop()
    if profiling:
        b.profiles["8"] = str(b.profile_base(8).with_suffix(".html"))
    minutes = elapsed / 60.0
    ticks = os.sysconf("SC_CLK_TCK")
    cpu_pct = 100.0 * (own1 - own0) / ticks / elapsed
    child_pct = 100.0 * (children1 - children0) / ticks / elapsed
    by_kind = Counter(f"{e.get('verb')} {e.get('requestURI', '').split('?')[0]}" for e in requests)
    common = {"settle_s": round(settle_s, 1), "idle_s": round(elapsed, 1), "exit_code": rc}
    b.record(
        8,
        f"idle: API requests/min beyond open watches ({len(fleet.names)} apps)",
        len(requests) / minutes,
        "req/min",
        "<=",
        0,
        target="0",
        detail={
            **common,
            "requests": len(requests),
            "by_request": dict(by_kind.most_common(10)),
            "watch_audit_entries": len(watches),
        },
        note="audit log entries with userAgent gitops-tui/*, verb other than watch",
    )
    b.record(
        8,
        "idle: CPU of the console process (engine inside)",
        cpu_pct,
        "% core",
        "<",
        2,
        detail={**common, "children_cpu_pct": round(child_pct, 3)},
        note="utime+stime from /proc/<pid>/stat over the window",
    )
    b.record(
        8,
        "idle: bytes written to the terminal",
        written / minutes,
        "B/min",
        "<",
        NEAR_ZERO_BYTES_PER_MIN,
        target=f"near 0 (< {NEAR_ZERO_BYTES_PER_MIN:g} B/min)",
        detail={**common, "bytes": written, "bytes_before_window": bytes0},
        note="the real gitops-tui console on a 200x50 pty; every byte drained and counted",
    )


# ----------------------------------------------------------------------------- driver


SCENARIO_FUNCS: dict[int, Callable[[Bench], None]] = {
    1: scenario_1,
    2: scenario_2,
    3: scenario_3,
    4: scenario_4,
    5: scenario_5,
    6: scenario_6,
    7: scenario_7,
    8: scenario_8,
}
NEEDS_SANDBOX = {1, 2, 3, 4, 5, 6, 8}


def run_scenario(b: Bench, n: int) -> None:
    log(f"--- scenario {n}")
    in_process = n in (1, 2, 3, 6) and n in b.args.profile
    sampler = ThreadSampler(skip_threads=[threading.get_ident()]).start() if in_process else None
    b.sampler = sampler
    first = len(b.figures)
    try:
        SCENARIO_FUNCS[n](b)
        if sampler is not None:
            for fig in b.figures[first:]:
                fig.note = (fig.note + "; " if fig.note else "") + "measured under the profiler"
    except Exception as exc:
        log(f"scenario {n} failed: {type(exc).__name__}: {exc}")
        b.notes.append(f"scenario {n} failed: {type(exc).__name__}: {exc}")
        b.figures.append(
            Figure(
                n,
                "failed",
                None,
                "",
                "",
                False,
                b.reproduce(n),
                note=f"{type(exc).__name__}: {exc}",
            )
        )
    finally:
        if sampler is not None:
            html = write_sampled(sampler, b.profile_base(n))
            b.profiles[str(n)] = str(html)
            log(f"profile of scenario {n}: {html}")


def machine() -> dict[str, Any]:
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def source_state() -> dict[str, Any]:
    """The commit measured, and which files differed from it (read-only git commands)."""
    try:
        _, head = run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], timeout=10)
        _, status = run(["git", "-C", str(REPO_ROOT), "status", "--porcelain"], timeout=10)
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        return {}
    changed = [
        line[3:] for line in status.stdout.splitlines() if line[3:].startswith("gitops_tui/")
    ]
    return {"commit": head.stdout.strip(), "uncommitted": changed}


def report_path(b: Bench) -> Path:
    if b.args.out:
        return Path(b.args.out)
    base = b.out_dir / f"report-{b.stamp}.json"
    candidate, k = base, 2
    while candidate.exists():
        candidate = base.with_name(f"report-{b.stamp}-{k}.json")
        k += 1
    return candidate


def print_table(figures: list[Figure]) -> None:
    rows = [("#", "figure", "value", "target", "met?", "reproduce")]
    for f in figures:
        verdict = {True: "yes", False: "NO", None: "?"}[f.met]
        rows.append((str(f.scenario), f.name, f.shown(), f.target, verdict, f.reproduce))
    widths = [min(max(len(r[i]) for r in rows), 70) for i in range(len(rows[0]))]
    for j, row in enumerate(rows):
        print("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if j == 0:
            print("  ".join("-" * w for w in widths))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m gitops_tui.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--scenarios", default=",".join(map(str, SCENARIOS)), help="e.g. 1,2,7")
    parser.add_argument(
        "--apps", type=int, default=None, help="fleet size N (default 1000; --quick 100)"
    )
    parser.add_argument("--quick", action="store_true", help="100 apps, fewer runs, 60 s idle")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox and work dir")
    parser.add_argument(
        "--out", default=None, help="report path (default bench-results/report-<date>.json)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=None, help="scenario 8 window (default 300)"
    )
    parser.add_argument("--runs", type=int, default=None, help="runs for scenarios 2 and 3")
    parser.add_argument(
        "--replicas", type=int, default=1, help="replicas per Deployment (default 1)"
    )
    parser.add_argument(
        "--profile",
        default="",
        metavar="N[,N]",
        help="write a pyinstrument profile of scenario N (HTML and text) next to the report",
    )
    # internal: child processes
    parser.add_argument("--tui-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--presses", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--key-budget", type=float, default=120.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--churn",
        type=float,
        default=1.0,
        help="scenario 7: %% of the apps changed per publication (default 1)",
    )
    parser.add_argument("--profile-cli", default=None, help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile_cli:
        rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
        return profile_cli_child(args.profile_cli, rest)
    if args.tui_child is not None:
        return tui_child(
            args.tui_child, args.presses, args.key_budget, args.churn, args.profile_out
        )
    wanted = sorted({int(s) for s in args.scenarios.split(",") if s.strip()})
    unknown = set(wanted) - set(SCENARIOS)
    if unknown:
        print(f"error: unknown scenarios {sorted(unknown)}", file=sys.stderr)
        return 2
    args.profile = {int(x) for x in str(args.profile).split(",") if x.strip()}
    wanted = sorted(set(wanted) | args.profile)
    order = [n for n in RUN_ORDER if n in wanted]
    work = Path(tempfile.mkdtemp(prefix="gitops-tui-bench-"))
    b = Bench(args, work)
    started = dt.datetime.now().astimezone()
    source = source_state()  # at the start: other people may commit while this runs
    log(f"work dir {work}; scenarios {order}; {b.sizes}")
    try:
        if NEEDS_SANDBOX & set(order):
            b.start_sandbox()
        for n in order:
            run_scenario(b, n)
    except KeyboardInterrupt:
        b.notes.append("interrupted")
        log("interrupted")
    finally:
        b.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    b.figures.sort(key=lambda f: f.scenario)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((dt.datetime.now().astimezone() - started).total_seconds(), 1),
        "machine": machine(),
        "source": source,
        "options": {
            k: (sorted(v) if isinstance(v, set) else v)
            for k, v in vars(args).items()
            if k
            in (
                "scenarios",
                "apps",
                "quick",
                "idle_seconds",
                "runs",
                "replicas",
                "churn",
                "profile",
            )
        },
        "sizes": asdict(b.sizes),
        "figures": [asdict(f) for f in b.figures],
        "profiles": b.profiles,
        "notes": b.notes
        + [
            "the machine is shared (other engineers' tests run on the same 2 cores): figures are noisy"
        ],
    }
    path = report_path(b)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print_table(b.figures)
    print(f"\nreport: {path}")
    return 0 if all(f.met for f in b.figures) else 1


if __name__ == "__main__":
    sys.exit(main())

"""One benchmark run's shared state: sizes, sandbox, fleet, engines and figures."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.figures import Spec
from benchmarks.fixtures import (
    NAMESPACES,
    Fleet,
    app_objects,
    application,
    dump_all,
    fleet_name,
    fleet_namespace,
    git_commit,
    git_repo,
)
from benchmarks.profiling import ThreadSampler
from benchmarks.report import REPO_ROOT, Figure, check
from benchmarks.resources import SelfMeter
from benchmarks.timing import log, now, run


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
    argocd_commit_runs: int = 10  # scenario argocd: commits with the refresh annotation / local
    argocd_poll_runs: int = 3  # scenario argocd: commits picked up by Argo CD's polling alone

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
            argocd_commit_runs=args.runs or (5 if quick else 10),
            argocd_poll_runs=2 if quick else 3,
        )


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
        # RSS of this process before its first engine started (the engine's share is above it)
        self.baseline_rss_mib: float | None = None
        self.out_dir = Path(args.out).parent if args.out else REPO_ROOT / "bench-results"
        self.stamp = dt.datetime.now().strftime("%Y-%m-%d")

    # -- reproduce commands and figures -------------------------------------------------
    def reproduce(self, scenario: int | str) -> str:
        if scenario == "scaling":
            quick = " --quick" if self.args.quick else ""
            return f"python -m benchmarks --scaling {self.args.scaling}{quick}"
        parts = ["python -m benchmarks", f"--scenarios {scenario}"]
        if self.args.quick:
            parts.append("--quick")
        if scenario in (1, 2, 3, 6, 8, "argocd", "argocd-tui", "appset") and (
            self.args.apps is not None
        ):
            parts.append(f"--apps {self.sizes.apps}")
        if scenario == "argocd" and getattr(self.args, "argocd_poll", None):
            parts.append(f"--argocd-poll {self.args.argocd_poll:g}")
        if scenario == "argocd" and getattr(self.args, "argocd_processors", None):
            parts.append(f"--argocd-processors {self.args.argocd_processors}")
        if scenario == 8 and self.args.idle_seconds:
            parts.append(f"--idle-seconds {self.args.idle_seconds:g}")
        return " ".join(parts)

    def record_spec(self, scenario: int | str, spec: Spec) -> Figure:
        """Record a figure built by ``benchmarks.figures`` (its target and verdict)."""
        fig = Figure(
            scenario=scenario,
            name=spec.name,
            value=None if spec.value is None else round(spec.value, 4),
            unit=spec.unit,
            target=spec.target_text,
            met=spec.met,
            reproduce=self.reproduce(scenario),
            detail=dict(spec.detail),
            note=spec.note,
        )
        self.figures.append(fig)
        verdict = {True: "met", False: "MISSED", None: "reported"}[fig.met]
        log(f"scenario {scenario}: {spec.name} = {fig.shown()} ({fig.target}: {verdict})")
        return fig

    def record(
        self,
        scenario: int | str,
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
        # Bytecode as an installed package has it (pip compiles .pyc at install time):
        # written by the discarded warm-up run into the work dir, not the source tree.
        # Without this, PYTHONDONTWRITEBYTECODE=1 (set on shared machines) made every
        # cold command compile its ~140 modules from source (0.5 s of CPU of a diff).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.work / "pycache")
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

    def engine_options(self, tag: str, apps_file: Path | None = None) -> Any:
        from gitops_tui.engine.controller.engine import EngineOptions

        return EngineOptions(
            app_paths=(apps_file or self.fleet().apps_file,),
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
            from benchmarks.scenarios.fleet import first_sync  # it needs this module

            first_sync(self)

    def fleet_engine(self) -> Any:
        """A running engine on the synced fleet (scenario 1 leaves its engine here)."""
        from gitops_tui.engine.controller.engine import Engine

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

    def meter(self) -> SelfMeter:
        """Start measuring this process's CPU and peak RSS (the engine runs in it)."""
        meter = SelfMeter()
        if self.baseline_rss_mib is None:
            self.baseline_rss_mib = meter.start_rss_mib
        return meter

    def usage(self, meter: SelfMeter) -> dict[str, Any]:
        used = meter.stop().as_dict()
        base = self.baseline_rss_mib or 0.0
        used["baseline_rss_mib"] = round(base, 1)
        used["above_baseline_mib"] = round(max(0.0, used["peak_rss_mib"] - base), 1)
        return used

    def profile_base(self, scenario: int) -> Path:
        return self.out_dir / f"profile-s{scenario}-{self.stamp}"

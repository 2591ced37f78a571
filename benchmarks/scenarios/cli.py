"""Scenarios 4 and 5: ``gitops-tui diff``/``sync`` of one 50-object app against kubectl."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.context import Bench
from benchmarks.figures import CLI_DIFF_RATIO, CLI_SYNC_RATIO, CONSOLE_DIFF_RATIO
from benchmarks.fixtures import (
    application,
    as_applied,
    dump_all,
    git_commit,
    git_repo,
    single_app_objects,
)
from benchmarks.timing import log, median, now, run, summary


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
    a: Callable[[int], float],
    b_: Callable[[int], float],
    runs: int,
    base: Callable[[int], float] | None = None,
) -> tuple[list[float], list[float], list[float]]:
    """Run ``a``, ``b_`` (and ``base``) interleaved (noise hits all); run 0 of each is a
    discarded warm-up."""
    xs: list[float] = []
    ys: list[float] = []
    zs: list[float] = []
    for i in range(runs + 1):
        x, y = a(i), b_(i)
        z = base(i) if base is not None else 0.0
        if i:
            xs.append(x)
            ys.append(y)
            if base is not None:
                zs.append(z)
    return xs, ys, zs


def base_env(b: Bench, env: dict[str, str]) -> dict[str, str] | None:
    """The environment that runs ``--base-src``'s gitops-tui (own cache dirs), or None."""
    src = getattr(b.args, "base_src", None)
    if not src:
        return None
    out = dict(env)
    out["PYTHONPATH"] = str(Path(src).resolve())
    for name in ("GITOPS_TUI_CACHE", "GITOPS_TUI_STATE", "GITOPS_TUI_CONFIG_DIR"):
        out[name] = out[name] + "-base"
    return out


def base_detail(b: Bench, times: list[float], ours: list[float]) -> dict[str, Any]:
    if not times:
        return {}
    return {
        "base_src": str(b.args.base_src),
        "base_gitops_tui_s": summary(times),
        "head_speedup_over_base": median(times) / median(ours),
    }


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

    benv = base_env(b, env)
    base_argv = [sys.executable, "-m", "gitops_tui.cli", *ours[len(b.gitops_argv()) :]]

    def run_base(_: int) -> float:
        assert benv is not None
        seconds, _result = run(base_argv, timeout=300, env=benv)
        return seconds

    ours_s, theirs_s, base_s = alternate(
        run_ours, run_theirs, b.sizes.cli_runs, run_base if benv else None
    )
    ratio = median(theirs_s) / median(ours_s)
    warm = warm_engine_diff(b, app, app_file, b.sizes.cli_runs)
    b.record(
        4,
        "diff of one 50-object app: kubectl diff / gitops-tui diff (median times)",
        ratio,
        "x",
        ">=",
        CLI_DIFF_RATIO,
        target=f">= {CLI_DIFF_RATIO:g}x (no slower than kubectl, cold)",
        detail={
            **base_detail(b, base_s, ours_s),
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
    console_s = warm["refresh_then_diffs_s"]["p50"]
    b.record(
        4,
        "diff of one 50-object app: kubectl diff / the running console's refresh + diff",
        median(theirs_s) / console_s if console_s > 0 else None,
        "x",
        ">=",
        CONSOLE_DIFF_RATIO,
        target=f">= {CONSOLE_DIFF_RATIO:g}x",
        detail={"console_s": warm["refresh_then_diffs_s"], "kubectl_s": summary(theirs_s)},
        note="an engine already running in the process: a refresh of the app (git, render, "
        "compare against the watch cache) and its diffs, against the same kubectl runs",
    )
    if 4 in b.args.profile:
        profile_subprocess(b, 4, ours[len(b.gitops_argv()) :], env)


def warm_engine_diff(b: Bench, app: str, app_file: Path, runs: int) -> dict[str, Any]:
    """Context for scenario 4: the same diff from an engine already running (the console's case)."""
    from gitops_tui.engine.controller.engine import Engine, EngineOptions

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

    benv = base_env(b, env)

    def run_base(i: int) -> float:
        assert benv is not None
        name, ns = f"sync50-b{i}", f"bench-sync-b{i}"
        app_file = write_app_file(b, name, single, ns)
        argv = [sys.executable, "-m", "gitops_tui.cli", "sync", name, "--apps", str(app_file)]
        seconds, _ = run([*argv, "--kubeconfig", str(b.kubeconfig)], timeout=600, env=benv)
        return seconds

    ours_s, theirs_s, base_s = alternate(
        run_ours, run_theirs, b.sizes.cli_runs, run_base if benv else None
    )
    ratio = median(ours_s) / median(theirs_s)
    b.record(
        5,
        "sync (create) of one 50-object app: gitops-tui sync / kubectl apply (median times)",
        ratio,
        "x",
        "<=",
        CLI_SYNC_RATIO,
        detail={
            **base_detail(b, base_s, ours_s),
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
    argv = [sys.executable, "-m", "benchmarks", "--profile-cli", str(base), "--", *cli_args]
    run(argv, timeout=600, env=env, ok=(0, 1))
    b.profiles[str(scenario)] = str(base.with_suffix(".html"))
    log(f"profile of scenario {scenario}: {base}.html / .txt")

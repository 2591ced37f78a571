"""Scenario "argocd-tui": the console over the Argo CD backend with 2,000 apps (as scenario 7).

2,000 Application objects are created in a namespace of their own, each with the
``status`` Argo CD's controller writes (sync, health, 10 resources, the last
operation, ``reconciledAt``); no Argo CD controller reconciles that namespace, so
the status is the benchmark's: 2,000 apps reconciled by a real controller would
not fit on the shared 2-core machine, and what is measured is the console's side
(watch -> ``ArgoCDBackend`` -> snapshot -> screen). A child process runs
``GitOpsApp`` over ``ArgoCDBackend`` in ``App.run_test()`` (scenario 7's harness:
``ScreenProbe``, ``press_keys``). First paint: from the first published snapshot
holding every app to the first screen update with every row (and, in the detail,
from ``backend.start()``: list included). Then this process flips the sync and
health of 1 % of the apps every 100 ms through the API (merge patches, as Argo CD's
controller would write them) while the child times j/k presses to the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from benchmarks.context import Bench
from benchmarks.figures import tui_backend_ratio_specs, tui_specs
from benchmarks.fixtures import fleet_name, fleet_namespace
from benchmarks.scenarios.tui import (
    TUI_APPS,
    ScreenProbe,
    press_keys,
    proc_status_kib,
    tui_run,
)
from benchmarks.timing import log, now, summary

TUI_NAMESPACE = "bench-argocd-tui"
KINDS = [("", "ServiceAccount"), ("", "Secret")] + [("", "ConfigMap")] * 6
KINDS += [("", "Service"), ("apps", "Deployment")]


def application_with_status(i: int, namespace: str) -> dict[str, Any]:
    """An Application as Argo CD's controller leaves it after a successful sync."""
    name = fleet_name(i)
    dest_ns = fleet_namespace(i)
    sha = f"{i:040x}"
    source = {
        "repoURL": "https://git.example.com/platform/fleet.git",
        "path": f"apps/{name}",
        "targetRevision": "HEAD",
    }
    destination = {"server": "https://kubernetes.default.svc", "namespace": dest_ns}
    stamp = "2026-12-01T12:00:00Z"
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"project": "default", "source": source, "destination": destination},
        "status": {
            "sync": {
                "status": "Synced",
                "revision": sha,
                "comparedTo": {"source": source, "destination": destination},
            },
            "health": {"status": "Healthy"},
            "reconciledAt": stamp,
            "resources": [
                {
                    "group": group,
                    "version": "v1",
                    "kind": kind,
                    "namespace": dest_ns,
                    "name": f"{name}-{j}",
                    "status": "Synced",
                    "health": {"status": "Healthy"},
                }
                for j, (group, kind) in enumerate(KINDS)
            ],
            "operationState": {
                "operation": {"sync": {"revision": sha}, "initiatedBy": {"username": "bench"}},
                "phase": "Succeeded",
                "message": "successfully synced (all tasks run)",
                "startedAt": stamp,
                "finishedAt": stamp,
                "syncResult": {"revision": sha, "source": source},
            },
            "history": [
                {
                    "id": 0,
                    "revision": sha,
                    "deployedAt": stamp,
                    "deployStartedAt": stamp,
                    "source": source,
                }
            ],
        },
    }


class Churner:
    """Flips sync and health of ``per_tick`` random apps every ``interval`` s through the API."""

    def __init__(self, kubeconfig: Path, namespace: str, apps: int, per_tick: int) -> None:
        from gitops_tui.engine.cache.kubeclient import KubeClient, KubeTarget

        self.client = KubeClient(KubeTarget(kubeconfig, None, read_only=False))
        self.path = f"/apis/argoproj.io/v1alpha1/namespaces/{namespace}/applications"
        self.apps = apps
        self.per_tick = per_tick
        self.out_of_sync: set[int] = set()
        self.rng = random.Random(7)
        self.stop_event = threading.Event()
        self.patches = 0
        self.ticks = 0
        self.errors = 0
        self.elapsed = 0.0
        self.thread = threading.Thread(target=self._loop, name="argocd-churn", daemon=True)

    def _flip(self, i: int) -> None:
        out = i not in self.out_of_sync
        (self.out_of_sync.add if out else self.out_of_sync.discard)(i)
        body = {
            "status": {
                "sync": {"status": "OutOfSync" if out else "Synced"},
                "health": {"status": "Progressing" if out else "Healthy"},
            }
        }
        try:
            self.client.request(
                "PATCH",
                f"{self.path}/{fleet_name(i)}",
                body=body,
                content_type="application/merge-patch+json",
            )
            self.patches += 1
        except Exception:  # counted: the achieved rate is in the report
            self.errors += 1

    def _loop(self, interval: float = 0.1) -> None:
        t0 = now()
        while not self.stop_event.wait(interval):
            for _ in range(self.per_tick):
                self._flip(self.rng.randrange(self.apps))
            self.ticks += 1
        self.elapsed = now() - t0

    def start(self) -> Churner:
        self.thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self.stop_event.set()
        self.thread.join(timeout=30)
        self.client.close()
        rate = self.patches / self.elapsed if self.elapsed else 0.0
        return {
            "apps_per_tick": self.per_tick,
            "ticks": self.ticks,
            "patches": self.patches,
            "patch_errors": self.errors,
            "seconds": round(self.elapsed, 1),
            "patches_per_s": round(rate, 1),
            "wanted_patches_per_s": 10 * self.per_tick,
        }


# ----------------------------------------------------------------------------- child


async def _measure(
    n: int, presses: int, budget_s: float, kubeconfig: str, namespace: str, profile_out: str | None
) -> dict[str, Any]:
    from gitops_tui.argocd.backend import ArgoCDBackend, ArgoCDOptions
    from gitops_tui.ui.app import GitOpsApp

    backend = ArgoCDBackend(ArgoCDOptions(namespace=namespace, kubeconfig=Path(kubeconfig)))
    backend.probe()
    full: list[float] = []

    def on_snapshot(snap: Any) -> None:
        if not full and len(snap.apps) >= n:
            full.append(now())

    backend.subscribe(on_snapshot)
    app = GitOpsApp(backend, ascii_symbols=False)
    result: dict[str, Any] = {"apps": n, "backend": "argocd"}
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        table: Any = app.screen.query_one("#apps")  # as scenario 7: any app table
        probe = ScreenProbe(app)
        result["rss_before_data_mib"] = proc_status_kib("VmRSS") / 1024
        probe.arm(lambda: table.row_count >= n)
        t0 = now()
        backend.start()
        painted = await probe.wait(timeout=300)
        result["start_to_paint_s"] = painted - t0
        result["first_paint_s"] = painted - full[0] if full else None
        result["list_to_snapshot_s"] = full[0] - t0 if full else None
        await pilot.pause()
        result["rss_after_paint_mib"] = proc_status_kib("VmRSS") / 1024
        # to the real stdout (Textual captures print() while it runs); the parent starts
        # the churn, then answers on stdin
        os.write(1, b"painted\n")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, os.read, 0, 64)
        generation0 = backend.snapshot().generation
        updates0, bytes0 = probe.updates, probe.bytes
        profiler = None
        if profile_out:  # the UI thread (the event loop's) during the keys
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001, async_mode="enabled")
            profiler.start()
        latencies, keys_s = await press_keys(app, table, probe, presses, budget_s, random.Random(1))
        if profiler is not None and profile_out:
            from benchmarks.profiling import write_profile

            profiler.stop()
            write_profile(profiler.last_session, Path(profile_out))
        result["key_latency_ms"] = summary(latencies, scale=1000.0)
        result["keys_timed_out"] = sum(1 for x in latencies if x >= 10.0)
        result["keys_s"] = keys_s
        result["publications_during_keys"] = backend.snapshot().generation - generation0
        result["screen_updates_during_keys"] = probe.updates - updates0
        result["terminal_bytes_during_keys"] = probe.bytes - bytes0
        result["dropped_snapshots"] = app.dropped_snapshots
        result["peak_rss_mib"] = proc_status_kib("VmHWM") / 1024
        app.exit()
    backend.close()
    return result


def argocd_tui_child(
    n: int,
    presses: int,
    budget_s: float,
    kubeconfig: str,
    namespace: str,
    profile_out: str | None = None,
) -> int:
    result = asyncio.run(_measure(n, presses, budget_s, kubeconfig, namespace, profile_out))
    print(json.dumps(result), flush=True)
    return 0


# ----------------------------------------------------------------------------- parent


def _read_line(proc: subprocess.Popen[str], timeout: float, what: str) -> str:
    box: list[str] = []
    reader = threading.Thread(
        target=lambda: box.append(proc.stdout.readline() if proc.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(timeout)
    if not box or not box[0]:
        raise TimeoutError(f"console over Argo CD: no {what} from the child in {timeout:.0f} s")
    return box[0].strip()


def run_child(b: Bench, n: int, presses: int, profile_out: str | None = None) -> dict[str, Any]:
    argv = [
        sys.executable, "-m", "benchmarks", "--tui-argocd-child", str(n),
        "--presses", str(presses), "--key-budget", str(60 if b.args.quick else 120),
        "--tui-kubeconfig", str(b.kubeconfig), "--tui-namespace", TUI_NAMESPACE,
    ]  # fmt: skip
    if profile_out:
        argv += ["--profile-out", profile_out]
    stderr = (b.work / "argocd-tui-child.log").open("w")
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
    )
    churn: Churner | None = None
    stats: dict[str, Any] = {}
    try:
        line = _read_line(proc, 600, "first paint")
        if line != "painted":
            raise RuntimeError(f"console over Argo CD: unexpected child output {line[:200]!r}")
        churn = Churner(b.kubeconfig, TUI_NAMESPACE, n, max(1, n // 100)).start()
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        result: dict[str, Any] = json.loads(_read_line(proc, 900, "result"))
    finally:
        if churn is not None:
            stats = churn.stop()
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        stderr.close()
    result["churn"] = stats
    return result


def scenario_argocd_tui(b: Bench) -> None:
    from benchmarks.scenarios.argocd import make_peer

    n = b.args.apps or TUI_APPS  # 2,000 as scenario 7 unless --apps says otherwise
    peer = make_peer(b, "argocd-tui-peer")
    peer.install()  # the CRDs; no Argo CD process is started for this namespace
    try:
        b.kubectl("create", "namespace", TUI_NAMESPACE)
        apps = [application_with_status(i, TUI_NAMESPACE) for i in range(n)]
        t0 = now()
        for k in range(0, n, 500):
            chunk = {"apiVersion": "v1", "kind": "List", "items": apps[k : k + 500]}
            b.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(chunk))
        log(f"argocd-tui: {n} Applications with status created in {now() - t0:.1f} s")
        result = run_child(b, n, b.sizes.key_presses)
    finally:
        with contextlib.suppress(Exception):
            b.kubectl("delete", "namespace", TUI_NAMESPACE, "--wait=false", "--ignore-not-found")
        with contextlib.suppress(Exception):
            peer.uninstall()  # the CRDs (later scenarios expect a cluster without them)
    for spec in tui_specs(result, "the Argo CD backend"):
        b.record_spec("argocd-tui", spec)
    if n == TUI_APPS:  # the peer in the same run: scenario 7's console over its synthetic engine
        reference = tui_run(b, b.args.churn, b.sizes.key_presses, False)
        for spec in tui_specs(reference, "scenario 7's synthetic engine"):
            b.record_spec("argocd-tui", spec)
        for spec in tui_backend_ratio_specs(result, reference):
            b.record_spec("argocd-tui", spec)
    b.notes.append(
        f"argocd-tui: {json.dumps({k: result[k] for k in sorted(result) if k != 'key_latency_ms'})}"
    )

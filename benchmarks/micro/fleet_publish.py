"""Micro-benchmark of the fleet publication (issue 16): a table of N synthetic apps with
snapshots, 1 % of them getting a new snapshot every 100 ms; the CPU one fleet build
takes and what that costs per second at the publisher's batch rate.

    .venv/bin/python -m benchmarks.micro.fleet_publish [N ...]

Runs against whatever ``gitops_tui`` is importable (PYTHONPATH=<an older tree> for a
before/after on the same machine). Only the public ``Publisher`` surface is used."""

from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import replace
from types import SimpleNamespace

from gitops_tui.engine.app.application import Application, Destination, Source
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import AppSnapshot
from gitops_tui.engine.snapshot import Destination as SnapDestination


def state(name: str) -> AppState:
    app = Application(
        name=name,
        namespace="argocd",
        project="default",
        sources=(Source(repo_url="file:///r", path=name),),
        destination=Destination(server="https://x", namespace=name),
    )
    snap = AppSnapshot(
        name=name,
        project="default",
        sync=SyncStatus.OUT_OF_SYNC,
        health=HealthStatus.MISSING,
        health_message="",
        revision="",
        target_revision="main",
        repo_url="file:///r",
        path=name,
        destination=SnapDestination("https://x", "", name),
    )
    return AppState(app=app, snapshot=snap)


def measure(n: int, builds: int = 100) -> float:
    table = AppTable()
    for i in range(n):
        table.states[f"app-{i:05d}"] = state(f"app-{i:05d}")
    links = SimpleNamespace(
        lock=threading.RLock(), clusters=SimpleNamespace(connections=lambda: []), errors={}
    )
    pub = Publisher(table, links, None, ReadOnlyPolicy(), threading.Event())  # type: ignore[arg-type]
    rng = random.Random(1)
    names = list(table.states)
    pub.build_fleet()
    spent = 0.0
    for _ in range(builds):
        for name in rng.sample(names, max(1, n // 100)):  # 1 % changed this batch
            s = table.states[name]
            assert s.snapshot is not None
            s.snapshot = replace(
                s.snapshot, sync=SyncStatus.SYNCED, health=rng.choice(list(HealthStatus))
            )
        t0 = time.thread_time()
        pub.build_fleet()
        spent += time.thread_time() - t0
    return spent / builds


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 5000]
    print(f"{'apps':>6} {'ms/build':>9} {'CPU-s per s at 10 builds/s':>27} {'us per app':>11}")
    for n in sizes:
        per_build = measure(n)
        print(
            f"{n:>6} {per_build * 1e3:>9.3f} {per_build * 10:>27.4f} {per_build / n * 1e6:>11.3f}"
        )


if __name__ == "__main__":
    main()

"""Micro-benchmark of the sync history writes at fleet scale (issue 16, scenario 6).

N entries are begun, each updated ``--updates`` times from a pool of ``--workers``
threads (step-major, so every entry is in flight at once, as in a first sync of a
fleet), with ``--work-ms`` of simulated work per update; then every throttle is
closed and the final state written, as ``Operations._finish`` does. Reports wall
and process CPU time of the update phase and the number of SQLite commits.

    .venv/bin/python -m benchmarks.micro.history_writes --entries 1000 --updates 20
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResourceResult, ResultCode
from gitops_tui.engine.sync.history import HistoryStore
from gitops_tui.engine.sync.history_writer import ThrottledHistory


def results_of(app: str, objects: int) -> tuple[ResourceResult, ...]:
    return tuple(
        ResourceResult(
            ResourceKey("apps", "Deployment", app, f"obj-{i}"),
            ResultCode.SYNCED,
            "configured",
            phase="Sync",
            action="apply",
        )
        for i in range(objects)
    )


def state(app: str, step: int, results: tuple[ResourceResult, ...]) -> OperationState:
    """Step ``step`` of a sync: as ``Progress`` does, the same result objects each time."""
    return OperationState(
        "op-" + app,
        app,
        OperationPhase.RUNNING,
        f"step {step}",
        "a" * 40,
        1.0,
        results=results[:step],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--objects", type=int, default=10)
    parser.add_argument("--work-ms", type=float, default=2.0)
    parser.add_argument(
        "--baseline", action="store_true", help="skip the history update (harness cost alone)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(Path(tmp) / "h.sqlite3")
        commits = 0

        def trace(sql: str) -> None:
            nonlocal commits
            if sql.strip().upper() == "COMMIT":
                commits += 1

        assert store._db is not None
        store._db.set_trace_callback(trace)
        apps = [f"app-{i}" for i in range(args.entries)]
        ids = {
            app: store.begin(app, revision="r", repo_url="u", path="p", operation=state(app, 0, ()))
            for app in apps
        }
        begun = commits
        histories = {app: ThrottledHistory(store, ids[app]) for app in apps}
        results = {app: results_of(app, args.objects) for app in apps}
        states = {  # made before the clock starts: only the history writes are timed
            (app, step): state(app, step, results[app])
            for app in apps
            for step in range(1, args.updates + 1)
        }
        peak_threads = threading.active_count()

        def one(app: str, step: int) -> None:
            nonlocal peak_threads
            time.sleep(args.work_ms / 1000)
            if not args.baseline:
                histories[app].update(states[app, step])
            peak_threads = max(peak_threads, threading.active_count())

        wall0, cpu0 = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(args.workers) as pool:
            for step in range(1, args.updates + 1):
                for app in apps:
                    pool.submit(one, app, step)
        update_wall, update_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        for app in apps:
            histories[app].close()
            final = replace(states[app, args.updates], phase=OperationPhase.SUCCEEDED)
            store.update(ids[app], replace(final, message="done", finished_at=2.0))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        progress_commits = commits - begun - args.entries
        wrong = [app for app in apps if store.get(ids[app]).operation.message != "done"]  # type: ignore[union-attr]
        store.close()
    updates = args.entries * args.updates
    print(
        f"entries={args.entries} updates={updates} workers={args.workers} "
        f"work_ms={args.work_ms}: updates wall {update_wall:.2f} s cpu {update_cpu:.2f} s; "
        f"with finishing wall {wall:.2f} s cpu {cpu:.2f} s; "
        f"progress commits {progress_commits}, peak threads {peak_threads}, "
        f"final state wrong for {len(wrong)}"
    )


if __name__ == "__main__":
    main()

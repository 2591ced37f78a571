"""History progress writes are throttled; phase changes and the final state always land.

A real HistoryStore (SQLite in a temp dir); only the clock is ours where timing matters.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.engine.sync.history import HistoryStore
from gitops_tui.engine.sync.history_writer import ThrottledHistory
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.settings import SyncSettings


class CountingStore(HistoryStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.updates = 0
        self.written = threading.Event()

    def update(self, entry_id: int, operation: OperationState) -> None:
        super().update(entry_id, operation)
        self.updates += 1
        self.written.set()


def running(message: str) -> OperationState:
    return OperationState("op", "a", OperationPhase.RUNNING, message, "sha", 1.0)


def begin(store: HistoryStore) -> int:
    return store.begin("a", revision="sha", repo_url="r", path="p", operation=running("start"))


def test_a_burst_is_one_write_and_the_final_state_is_the_last(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.sqlite3")
    entry = begin(store)
    history = ThrottledHistory(store, entry, interval=3600, clock=lambda: 100.0)
    for i in range(200):  # 200 resource results within the interval
        history.update(running(f"step {i}"))
    assert store.updates == 1
    history.close()
    final = replace(running("done"), phase=OperationPhase.SUCCEEDED, finished_at=2.0)
    store.update(entry, final)  # what Operations._finish does
    history.update(running("late"))  # after close: dropped
    got = store.get(entry)
    assert got is not None and got.operation.message == "done"
    assert store.updates == 2


def test_a_phase_change_is_written_at_once(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.sqlite3")
    entry = begin(store)
    history = ThrottledHistory(store, entry, interval=3600, clock=lambda: 100.0)
    history.update(running("a"))
    history.update(replace(running("terminating"), phase=OperationPhase.TERMINATING))
    assert store.updates == 2
    got = store.get(entry)
    assert got is not None and got.operation.phase == OperationPhase.TERMINATING
    history.close()


def test_the_newest_state_of_a_burst_is_written_after_the_interval(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.sqlite3")
    entry = begin(store)
    history = ThrottledHistory(store, entry, interval=0.05)
    history.update(running("first"))
    store.written.clear()
    for i in range(20):
        history.update(running(f"step {i}"))
    assert store.written.wait(10)  # the trailing write
    got = store.get(entry)
    assert got is not None and got.operation.message == "step 19"
    assert store.updates == 2
    history.close()


def test_progress_calls_back_outside_its_lock() -> None:
    seen: list[str] = []
    entered = threading.Event()
    release = threading.Event()
    progress: Progress

    def on_progress(op: OperationState) -> None:
        seen.append(op.message)
        if op.message == "one":
            entered.set()
            release.wait(10)

    settings = SyncSettings(app="a", revision="sha", destination_namespace="", app_options={})
    progress = Progress(settings, "op", on_progress, threading.Event())
    first = threading.Thread(target=progress.set_message, args=("one",))
    first.start()
    assert entered.wait(10)
    # the callback is running: the lock is free for a worker recording a result
    assert progress.lock.acquire(timeout=5)
    progress.lock.release()
    release.set()
    first.join(10)
    progress.set_message("two")
    assert seen == ["one", "two"]

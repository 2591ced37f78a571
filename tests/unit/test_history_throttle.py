"""History progress writes are batched; phase changes and the final state always land.

A real HistoryStore (SQLite in a temp dir). Progress of every entry goes through the
store's one ``ProgressBatcher``: one transaction per interval for all running entries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResourceResult, ResultCode
from gitops_tui.engine.sync.history import HistoryStore
from gitops_tui.engine.sync.history_writer import ThrottledHistory
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.settings import SyncSettings


class CountingStore(HistoryStore):
    """Counts direct updates and progress batches; ``written`` is set after each batch."""

    def __init__(self, path: Path, **kwargs: float) -> None:
        super().__init__(path, **kwargs)
        self.updates = 0
        self.batches = 0
        self.written = threading.Event()

    def update(self, entry_id: int, operation: OperationState) -> None:
        super().update(entry_id, operation)
        self.updates += 1

    def write_progress(self, take: Callable[[], Mapping[int, OperationState]]) -> int:
        written = super().write_progress(take)
        self.batches += 1
        self.written.set()
        return written


def running(message: str, app: str = "a") -> OperationState:
    return OperationState("op", app, OperationPhase.RUNNING, message, "sha", 1.0)


def begin(store: HistoryStore, app: str = "a") -> int:
    return store.begin(app, revision="sha", repo_url="r", path="p", operation=running("start", app))


def message(store: HistoryStore, entry: int) -> str:
    got = store.get(entry)
    assert got is not None
    return got.operation.message


def test_a_burst_is_one_write_and_the_final_state_is_the_last(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.sqlite3", progress_interval=3600)
    entry = begin(store)
    history = ThrottledHistory(store, entry)
    for i in range(200):  # 200 resource results within the interval
        history.update(running(f"step {i}"))
    assert store.written.wait(10)  # the leading batch; the next one is an hour away
    history.close()
    final = replace(running("done"), phase=OperationPhase.SUCCEEDED, finished_at=2.0)
    store.update(entry, final)  # what Operations._finish does
    history.update(running("late"))  # after close: dropped
    store.progress.flush()
    assert message(store, entry) == "done"
    assert store.updates == 1 and store.progress.transactions == 1
    store.close()


def test_a_phase_change_is_written_at_once(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.sqlite3", progress_interval=3600)
    entry = begin(store)
    history = ThrottledHistory(store, entry)
    history.update(running("a"))
    history.update(replace(running("terminating"), phase=OperationPhase.TERMINATING))
    assert store.updates == 1  # the phase change, not the progress before it
    got = store.get(entry)
    assert got is not None and got.operation.phase == OperationPhase.TERMINATING
    store.progress.flush()  # the dropped older progress does not come back
    got = store.get(entry)
    assert got is not None and got.operation.phase == OperationPhase.TERMINATING
    history.close()
    store.close()


def test_the_newest_state_of_a_burst_is_written_after_the_interval(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.sqlite3", progress_interval=0.05)
    entry = begin(store)
    history = ThrottledHistory(store, entry)
    history.update(running("first"))
    for i in range(20):
        history.update(running(f"step {i}"))
    deadline = time.monotonic() + 10
    while True:  # each trailing batch sets ``written``
        store.written.clear()
        if message(store, entry) == "step 19":
            break
        assert store.written.wait(max(0.0, deadline - time.monotonic()))
    history.close()
    store.close()


def test_progress_of_many_entries_coalesces_and_the_final_state_wins(tmp_path: Path) -> None:
    """200 syncs publishing at once: a few transactions, not one per entry or update."""
    store = HistoryStore(tmp_path / "h.sqlite3")
    entries = {f"app-{i}": begin(store, f"app-{i}") for i in range(200)}
    histories = {app: ThrottledHistory(store, entry) for app, entry in entries.items()}
    commits = 0

    def count(sql: str) -> None:
        nonlocal commits
        if sql.strip().upper() == "COMMIT":
            commits += 1

    assert store._db is not None
    store._db.set_trace_callback(count)

    def sync(app: str) -> None:  # one sync's states reach its history in order (Progress)
        for step in range(20):
            histories[app].update(running(f"step {step}", app))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(sync, entries))
    during = commits
    assert during < 50, f"{during} transactions for 4000 updates of 200 entries"
    store.progress.flush()
    assert all(message(store, entry) == "step 19" for entry in entries.values())
    final = {app: replace(running("done", app), phase=OperationPhase.SUCCEEDED) for app in entries}
    for app in list(entries)[:100]:  # half finish while the other half goes on
        histories[app].update(running("step 20", app))
        histories[app].close()
        store.update(entries[app], final[app])
    for app in list(entries)[100:]:
        histories[app].update(running("step 20", app))
    store.close()  # writes the pending progress of the unfinished half
    with HistoryStore(tmp_path / "h.sqlite3") as reopened:
        got = {app: message(reopened, entry) for app, entry in entries.items()}
    assert got == {app: "done" if i < 100 else "step 20" for i, app in enumerate(entries)}


def test_close_drops_the_pending_state(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.sqlite3", progress_interval=3600)
    entry = begin(store)
    history = ThrottledHistory(store, entry)
    history.update(running("a"))
    assert store.written.wait(10)  # the leading batch; the next one is an hour away
    history.update(running("b"))  # pending
    history.close()
    store.progress.flush()
    assert message(store, entry) == "a"
    store.close()
    with HistoryStore(tmp_path / "h.sqlite3") as reopened:
        assert message(reopened, entry) == "a"


def test_batched_progress_round_trips_its_results(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3", progress_interval=3600)
    entry = begin(store)
    history = ThrottledHistory(store, entry)
    web = ResourceResult(ResourceKey("apps", "Deployment", "ns", "web"), ResultCode.PENDING, "")
    done = replace(web, status=ResultCode.SYNCED, message="configured", phase="Sync", wave=2)
    svc = ResourceResult(ResourceKey("", "Service", "ns", "web"), ResultCode.SYNCED, "created")
    for results in [(web,), (web, svc), (done, svc)]:
        history.update(replace(running("x"), results=results))
    store.progress.flush()
    got = store.get(entry)
    assert got is not None and got.operation.results == (done, svc)
    history.close()
    store.close()


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


class FailingOnceStore(HistoryStore):
    """The first progress transaction fails after the states were taken (busy, disk)."""

    def __init__(self, path: Path, **kwargs: float) -> None:
        super().__init__(path, **kwargs)
        self.fail = True

    def write_progress(self, take: Callable[[], Mapping[int, OperationState]]) -> int:
        if self.fail:
            self.fail = False
            with self._lock:
                take()
            raise OSError("database is locked")
        return super().write_progress(take)


def test_a_failed_progress_write_hands_its_states_to_the_next_batch(tmp_path: Path) -> None:
    with FailingOnceStore(tmp_path / "h.sqlite3", progress_interval=3600) as store:
        entry, other = begin(store), begin(store, "b")
        with store.progress._cond:  # both in the first batch (its thread starts with put)
            store.progress.put(entry, running("taken by the failed write"))
            store.progress.put(other, running("b's progress", "b"))
        deadline = time.monotonic() + 10
        while store.fail or store.progress._in_flight or len(store.progress._pending) < 2:
            assert time.monotonic() < deadline, "the failed batch handed nothing back"
            time.sleep(0.01)
        assert message(store, entry) == "start" and message(store, other) == "start"
        store.progress.put(other, running("b, newer", "b"))  # a newer state wins over the old
        store.progress.flush()
        assert message(store, entry) == "taken by the failed write"
        assert message(store, other) == "b, newer"


def test_a_failed_write_never_hands_back_a_state_its_caller_discarded(tmp_path: Path) -> None:
    """The caller discards, then writes its final state: the failed batch's older state
    must not come back after it."""
    with FailingOnceStore(tmp_path / "h.sqlite3", progress_interval=3600) as store:
        entry = begin(store)
        store.progress.put(entry, running("old progress"))
        real_take = store.progress._take

        def take_then_finish() -> dict[int, OperationState]:
            taken = real_take()
            store.progress.discard(entry)  # the phase change, while the write is in flight
            return taken

        store.progress._take = take_then_finish  # type: ignore[method-assign]
        store.progress.flush()
        store.progress._take = real_take  # type: ignore[method-assign]
        store.update(entry, replace(running("done"), phase=OperationPhase.SUCCEEDED))
        store.progress.flush()
        assert message(store, entry) == "done"

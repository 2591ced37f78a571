"""HistoryStore: exact round-trips, ordering, trim, several processes, crashes, recovery."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResourceResult, ResultCode
from gitops_tui.engine.sync.history import (
    HISTORY_FILE,
    INTERRUPTED_MESSAGE,
    SCHEMA_VERSION,
    HistoryError,
    HistoryStore,
    process_start_token,
    results_from_json,
    results_to_json,
    writer_alive,
)

WEB = ResourceKey("apps", "Deployment", "default", "web")
NS = ResourceKey("", "Namespace", "", "team-a")


def running(app: str = "guestbook", op_id: str = "op-1", **changes: object) -> OperationState:
    state = OperationState(
        id=op_id,
        app=app,
        phase=OperationPhase.RUNNING,
        message="syncing",
        revision="a" * 40,
        started_at=1_700_000_000.123456789,
    )
    return replace(state, **changes)  # type: ignore[arg-type]


def finished(
    operation: OperationState, phase: OperationPhase = OperationPhase.SUCCEEDED
) -> OperationState:
    return replace(operation, phase=phase, message="done", finished_at=operation.started_at + 1.5)


def record(store: HistoryStore, operation: OperationState, revision: str = "abc") -> int:
    return store.begin(
        operation.app,
        revision=revision,
        repo_url="https://git.example/r.git",
        path="apps",
        operation=operation,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "h.sqlite3") as opened:
        yield opened


# --------------------------------------------------------------------------- round trips


def test_every_operation_and_result_field_round_trips_exactly(store: HistoryStore) -> None:
    results = tuple(
        ResourceResult(
            key=ResourceKey(
                f"g{i}.example.io" if i % 2 else "", f"Kind{i}", "" if i % 3 else "ns", f"n-{i}"
            ),
            status=code,
            message=f"message ü {i}\nsecond line",
            phase=("PreSync", "Sync", "PostSync", "SyncFail")[i % 4],
            wave=-5 + i * 7,
            action=("created", "configured", "pruned", "")[i % 4],
            hook=bool(i % 2),
        )
        for i, code in enumerate(ResultCode)
    )
    operation = OperationState(
        id="op-ω",
        app="guestbook",
        phase=OperationPhase.TERMINATING,
        message="terminating: ‘quoted’",
        revision="f" * 40,
        started_at=1_712_345_678.000_001_2,
        finished_at=None,
        initiated_by="automated",
        dry_run=True,
        prune=True,
        results=results,
    )
    entry_id = store.begin(
        "guestbook",
        revision="v1.2.3",
        repo_url="https://***@git.example/team/repo.git",
        path="deploy/overlays/prod",
        operation=operation,
    )
    entry = store.get(entry_id)
    assert entry is not None
    assert entry.id == entry_id
    assert (entry.app, entry.revision, entry.repo_url, entry.path) == (
        "guestbook",
        "v1.2.3",
        "https://***@git.example/team/repo.git",
        "deploy/overlays/prod",
    )
    assert entry.operation == operation
    assert isinstance(entry.operation.phase, OperationPhase)
    assert all(
        isinstance(r.status, ResultCode) and isinstance(r.key, ResourceKey)
        for r in entry.operation.results
    )

    final = replace(
        operation, phase=OperationPhase.FAILED, finished_at=1_712_345_679.987_654_3, dry_run=False
    )
    store.update(entry_id, final)
    again = store.get(entry_id)
    assert again is not None
    assert again.operation == final
    assert again.revision == "v1.2.3"  # the entry's own fields are untouched by update


def test_results_json_round_trip_and_rejects_garbage() -> None:
    results = (ResourceResult(WEB, ResultCode.SYNCED, "ok", "Sync", 2, "configured", False),)
    assert results_from_json(results_to_json(results)) == results
    assert results_from_json("[]") == ()
    with pytest.raises(ValueError):
        results_from_json('{"not": "a list"}')
    with pytest.raises(ValueError, match="lacks 'status'"):
        results_from_json('[{"group": "", "kind": "K", "namespace": "", "name": "n"}]')
    with pytest.raises(ValueError):
        results_from_json(
            '[{"group": "", "kind": "K", "namespace": "", "name": "n", "status": "Bogus",'
            ' "message": "", "phase": "Sync", "wave": 0, "action": "", "hook": false}]'
        )


def test_entries_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as first:
        entry_id = record(first, finished(running()))
    with HistoryStore(path) as second:
        entry = second.get(entry_id)
    assert entry is not None and entry.operation == finished(running())


# --------------------------------------------------------------------------- ordering, lookups


def test_begin_returns_growing_global_ids_and_entries_are_newest_first(store: HistoryStore) -> None:
    a1 = record(store, running("a", "a1"))
    b1 = record(store, running("b", "b1"))
    a2 = record(store, running("a", "a2"))
    assert a1 < b1 < a2
    assert [e.operation.id for e in store.entries("a")] == ["a2", "a1"]
    assert [e.id for e in store.entries("b")] == [b1]
    assert store.entries("nobody") == []
    last = store.last("a")
    assert last is not None and last.id == a2
    assert store.last("nobody") is None
    assert store.get(10_000) is None


def test_begin_records_the_entry_as_running(store: HistoryStore) -> None:
    entry_id = record(store, running())
    entry = store.get(entry_id)
    assert entry is not None and entry.operation.phase == OperationPhase.RUNNING


def test_begin_refuses_an_operation_of_another_app(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="'other'"):
        store.begin("guestbook", revision="r", repo_url="u", path="p", operation=running("other"))
    assert store.entries("guestbook") == []


def test_update_of_unknown_entry_or_wrong_app_is_an_error(store: HistoryStore) -> None:
    entry_id = record(store, running("a"))
    with pytest.raises(HistoryError, match="no sync history entry 999"):
        store.update(999, running("a"))
    with pytest.raises(HistoryError, match=f"entry {entry_id} for app 'b'"):
        store.update(entry_id, running("b"))
    entry = store.get(entry_id)
    assert entry is not None and entry.operation == running("a")


def test_ids_are_never_reused_after_trim(store: HistoryStore) -> None:
    ids = [record(store, finished(running(op_id=str(i)))) for i in range(3)]
    assert store.trim("guestbook", 0) == 3
    assert record(store, running()) > max(ids)


def test_threads_share_one_store(store: HistoryStore) -> None:
    def write(app: str) -> None:
        for i in range(25):
            entry_id = record(store, running(app, f"{app}-{i}"))
            store.update(entry_id, finished(running(app, f"{app}-{i}")))

    threads = [threading.Thread(target=write, args=(f"app{t}",)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for t in range(4):
        entries = store.entries(f"app{t}")
        assert [e.operation.id for e in entries] == [f"app{t}-{i}" for i in reversed(range(25))]
        assert all(e.operation.phase == OperationPhase.SUCCEEDED for e in entries)


# --------------------------------------------------------------------------- trim


def test_trim_keeps_the_newest_finished_entries_and_every_running_one(store: HistoryStore) -> None:
    old_running = record(store, running(op_id="old-running"))
    for i in range(5):
        record(
            store,
            finished(
                running(op_id=f"done-{i}"),
                OperationPhase.FAILED if i == 2 else OperationPhase.SUCCEEDED,
            ),
        )
    terminating = record(store, running(op_id="stopping", phase=OperationPhase.TERMINATING))
    other = record(store, finished(running("other", "other-0")))

    assert store.trim("guestbook", 2) == 3
    assert [e.operation.id for e in store.entries("guestbook")] == [
        "stopping",
        "done-4",
        "done-3",
        "old-running",
    ]
    assert store.trim("guestbook", 2) == 0
    assert store.trim("guestbook", 0) == 2
    assert [e.id for e in store.entries("guestbook")] == [terminating, old_running]
    assert [e.id for e in store.entries("other")] == [other]


def test_trim_defaults_to_argo_cds_revision_history_limit(store: HistoryStore) -> None:
    for i in range(12):
        record(store, finished(running(op_id=str(i))))
    assert store.trim("guestbook") == 2
    assert [e.operation.id for e in store.entries("guestbook")][-1] == "2"


def test_trim_refuses_a_negative_limit(store: HistoryStore) -> None:
    with pytest.raises(ValueError):
        store.trim("guestbook", -1)


# --------------------------------------------------------------------------- files


def test_default_path_is_in_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_TUI_STATE", str(tmp_path / "state"))
    with HistoryStore() as store:
        assert store.path == tmp_path / "state" / HISTORY_FILE
        record(store, running())
    assert (tmp_path / "state" / HISTORY_FILE).is_file()


def test_database_is_wal_and_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        record(store, running())
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_that_is_not_sqlite_gives_a_history_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_text("apps:\n  - this is a YAML file, not a database\n" * 100)
    with pytest.raises(HistoryError, match="is not a SQLite database.*delete it"):
        HistoryStore(path)


def test_a_corrupted_database_gives_a_history_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        for i in range(50):
            record(
                store,
                finished(
                    running(op_id=str(i), results=(ResourceResult(WEB, ResultCode.SYNCED),) * 20)
                ),
            )
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[page:] = b"\xa5" * (len(data) - page)
    path.write_bytes(bytes(data))
    with pytest.raises(HistoryError, match=str(path)):
        store = HistoryStore(path)
        store.entries("guestbook")


def test_a_directory_at_the_path_gives_a_history_error(tmp_path: Path) -> None:
    (tmp_path / "h.sqlite3").mkdir()
    with pytest.raises(HistoryError, match="h.sqlite3 is a directory"):
        HistoryStore(tmp_path / "h.sqlite3")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="newer gitops-tui"):
        HistoryStore(path)


def test_a_closed_store_refuses_use(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.close()
    store.close()
    with pytest.raises(HistoryError, match="closed"):
        store.entries("guestbook")
    with pytest.raises(HistoryError, match="closed"):
        record(store, running())


# --------------------------------------------------------------------------- processes

CHILD_PRELUDE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dataclasses import replace
    from gitops_tui.engine.sync.history import HistoryStore
    from gitops_tui.engine.model import ResourceKey
    from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResourceResult, ResultCode

    store = HistoryStore(Path(sys.argv[1]))

    def op(app, op_id, n, phase=OperationPhase.RUNNING):
        results = tuple(
            ResourceResult(ResourceKey("", "ConfigMap", "default", f"cm-{i}"), ResultCode.SYNCED, f"step {n}")
            for i in range(n)
        )
        return OperationState(id=op_id, app=app, phase=phase, message=f"step {n}", revision="r",
                              started_at=time.time(), results=results)

    def begin(app, op_id):
        return store.begin(app, revision="r", repo_url="u", path="p", operation=op(app, op_id, 0))
    """
)


def run_child(body: str, path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD_PRELUDE + textwrap.dedent(body), str(path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_write_the_same_app_at_once(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    go = tmp_path / "go"
    body = """
        go = Path(sys.argv[2])
        Path(f"{go}.{sys.argv[3]}-ready").touch()
        while not go.exists():
            time.sleep(0.001)
        for i in range(40):
            entry = begin("shared", f"{sys.argv[3]}-{i}")
            store.update(entry, op("shared", f"{sys.argv[3]}-{i}", 1))
            store.update(entry, op("shared", f"{sys.argv[3]}-{i}", 2, OperationPhase.SUCCEEDED))
        """
    children = [run_child(body, path, str(go), name) for name in ("tui", "cli")]
    ready = [tmp_path / f"go.{name}-ready" for name in ("tui", "cli")]
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in ready):  # both children are waiting: start together
        assert time.monotonic() < deadline, "the writer processes never became ready"
        assert all(c.poll() is None for c in children), [c.communicate() for c in children]
        time.sleep(0.01)
    go.touch()
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    with HistoryStore(path) as store:
        entries = store.entries("shared")
    assert len(entries) == 80
    assert len({e.id for e in entries}) == 80
    assert all(
        e.operation.phase == OperationPhase.SUCCEEDED and len(e.operation.results) == 2
        for e in entries
    )
    for name in ("tui", "cli"):
        mine = [e.operation.id for e in reversed(entries) if e.operation.id.startswith(name)]
        assert mine == [f"{name}-{i}" for i in range(40)]


@pytest.mark.parametrize("delay", [0.0, 0.013, 0.05, 0.2])
def test_sigkill_at_any_point_leaves_a_consistent_readable_history(
    tmp_path: Path, delay: float
) -> None:
    path = tmp_path / "h.sqlite3"
    body = """
        stuck = begin("stuck", "stuck")
        print(stuck, flush=True)
        n = 0
        while True:
            n += 1
            store.update(stuck, op("stuck", "stuck", n % 7))
            entry = begin("loop", f"loop-{n}")
            for k in range(1, 4):
                store.update(entry, op("loop", f"loop-{n}", k))
            store.update(entry, op("loop", f"loop-{n}", 3, OperationPhase.SUCCEEDED))
            if n == 3:
                print("cycling", flush=True)
        """
    child = run_child(body, path)
    assert child.stdout is not None
    stuck_id = int(child.stdout.readline())
    assert child.stdout.readline().strip() == "cycling"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    assert child.stderr is not None
    child.stderr.close()

    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with HistoryStore(path) as store:
        stuck = store.get(stuck_id)
        loop = store.entries("loop")
    assert stuck is not None
    assert stuck.operation.phase == OperationPhase.ERROR
    assert stuck.operation.message == INTERRUPTED_MESSAGE
    assert stuck.operation.finished_at is not None
    assert {r.message for r in stuck.operation.results} <= {f"step {len(stuck.operation.results)}"}

    assert len(loop) >= 3
    interrupted = [e for e in loop if e.operation.phase == OperationPhase.ERROR]
    assert len(interrupted) <= 1
    if interrupted:
        assert interrupted[0] is loop[0]
        assert interrupted[0].operation.message == INTERRUPTED_MESSAGE
        count = len(interrupted[0].operation.results)
        assert all(r.message == f"step {count}" for r in interrupted[0].operation.results)
    for entry in loop[1:] if interrupted else loop:
        assert entry.operation.phase == OperationPhase.SUCCEEDED
        assert [r.key.name for r in entry.operation.results] == ["cm-0", "cm-1", "cm-2"]


def test_entry_of_a_process_that_exited_becomes_error_on_open(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    child = run_child('print(begin("guestbook", "left-behind"), flush=True)', path)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    entry_id = int(out)

    raw = (
        sqlite3.connect(path)
        .execute("SELECT phase FROM history WHERE id = ?", (entry_id,))
        .fetchone()
    )
    assert raw[0] == "Running"  # nothing touched it before a store opens
    with HistoryStore(path) as store:
        entry = store.get(entry_id)
    assert entry is not None
    assert entry.operation.phase == OperationPhase.ERROR
    assert entry.operation.message == INTERRUPTED_MESSAGE
    assert entry.operation.id == "left-behind"


def test_a_killed_but_unreaped_writer_counts_as_ended(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    child = run_child('print(begin("guestbook", "zombie"), flush=True)\ntime.sleep(600)', path)
    assert child.stdout is not None
    entry_id = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (
        Path(f"/proc/{child.pid}/stat").exists()
        and " Z " not in Path(f"/proc/{child.pid}/stat").read_text()
    ):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        with HistoryStore(path) as store:
            entry = store.get(entry_id)
        assert entry is not None and entry.operation.phase == OperationPhase.ERROR
    finally:
        child.wait(timeout=30)
        child.stdout.close()
        assert child.stderr is not None
        child.stderr.close()


def test_entries_of_live_writers_stay_running(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    child = run_child('print(begin("guestbook", "alive"), flush=True)\nsys.stdin.readline()', path)
    assert child.stdout is not None
    try:
        child_entry = int(child.stdout.readline())
        with HistoryStore(path) as writer:
            own_entry = record(writer, running(op_id="mine"))
            with HistoryStore(path) as reader:
                assert reader.recover_interrupted() == 0
                phases = {e.id: e.operation.phase for e in reader.entries("guestbook")}
    finally:
        child.kill()
        child.communicate(timeout=30)
    assert phases == {child_entry: OperationPhase.RUNNING, own_entry: OperationPhase.RUNNING}


def test_a_reused_pid_does_not_keep_an_entry_running(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        entry_id = record(store, running())
    db = sqlite3.connect(path)
    # Same pid as this (live) process, but started at another time: a recycled pid.
    db.execute("UPDATE history SET writer_start = 'other-boot:12345' WHERE id = ?", (entry_id,))
    db.commit()
    db.close()
    with HistoryStore(path) as store:
        entry = store.get(entry_id)
    assert entry is not None and entry.operation.phase == OperationPhase.ERROR


def test_finished_entries_are_never_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    child = run_child(
        """
        e = begin("guestbook", "done")
        store.update(e, op("guestbook", "done", 1, OperationPhase.FAILED))
        print(e, flush=True)
        """,
        path,
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    with HistoryStore(path) as store:
        entry = store.get(int(out))
    assert entry is not None
    assert (entry.operation.phase, entry.operation.message) == (OperationPhase.FAILED, "step 1")


def test_process_start_token_tells_live_dead_and_recycled_processes_apart() -> None:
    mine = process_start_token(os.getpid())
    assert mine is not None and mine == process_start_token(os.getpid())
    assert writer_alive(os.getpid(), mine)
    assert not writer_alive(os.getpid(), mine + "0")
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert process_start_token(int(child.stdout)) is None
    assert process_start_token(0) is None
    assert process_start_token(-1) is None
    if Path("/proc/self/stat").exists():
        # a process started long before this one (pid 1) has another start token; the
        # parent would not do: it may have started within the same clock tick
        other = process_start_token(1)
        assert other is not None and mine != other

"""History entries of kind ``delete`` (an app's resources deleted by the local engine):
stored and read back, added to files written before the column existed, never taken
for the app's last sync."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from gitops_tui.engine.controller.state import recorded_last_sync
from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.engine.sync.history import HistoryStore


def operation(op_id: str, kind: str = "sync") -> OperationState:
    return OperationState(
        id=op_id,
        app="shop",
        phase=OperationPhase.SUCCEEDED,
        message="done",
        revision="a" * 40,
        started_at=1_700_000_000.0,
        finished_at=1_700_000_001.0,
        kind=kind,
    )


def begin(store: HistoryStore, op: OperationState) -> int:
    return store.begin("shop", revision="abc", repo_url="file:///r", path="p", operation=op)


def test_a_delete_entry_round_trips_and_is_not_the_last_sync(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        begin(store, operation("sync-1"))
        entry_id = begin(store, operation("del-1", "delete"))
        store.update(entry_id, replace(operation("del-1", "delete"), message="deleted 3"))
        newest = store.entries("shop")[0]
        assert (newest.operation.kind, newest.operation.message) == ("delete", "deleted 3")
        assert store.last("shop") == newest
        last_sync = recorded_last_sync(store, "shop")
        assert last_sync is not None and last_sync.id == "sync-1"


def test_a_file_without_the_kind_column_gets_it_and_its_entries_are_syncs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with HistoryStore(path) as store:
        begin(store, operation("sync-1"))
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE history DROP COLUMN kind")  # as an older gitops-tui wrote it
    db.commit()
    db.close()
    with HistoryStore(path) as store:
        [entry] = store.entries("shop")
        assert entry.operation.kind == "sync"
        begin(store, operation("del-1", "delete"))
        assert [e.operation.kind for e in store.entries("shop")] == ["delete", "sync"]

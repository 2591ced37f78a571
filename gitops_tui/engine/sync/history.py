"""Durable sync history: one SQLite file in the user's state dir, shared by processes.

The TUI and a CLI may write the same file at once: the database runs in WAL mode
with a busy timeout, every write is one ``BEGIN IMMEDIATE`` transaction, and a
``HistoryStore`` serialises its threads on one connection with a lock. A process
killed at any point leaves the file consistent (SQLite's journal rolls back the
unfinished transaction). The progress of running entries goes through one
``ProgressBatcher`` per store (``history_batch``): one transaction for all of them
at most every 250 ms.

Entry ids come from one global ``AUTOINCREMENT`` counter: unique across apps,
growing with every ``begin`` and never reused, even after ``trim`` (Argo CD counts
per app; a global id lets ``get`` and ``rollback`` name an entry alone).

Each entry remembers the process writing it (pid and a start token). When a store
opens, entries still Running or Terminating whose writer has ended become ``Error``
with ``INTERRUPTED_MESSAGE``: nobody is left to finish them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.application import DEFAULT_REVISION_HISTORY_LIMIT
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import (
    HistoryEntry,
    OperationPhase,
    OperationState,
    ResourceResult,
    ResultCode,
)
from gitops_tui.engine.sync.history_batch import HISTORY_INTERVAL_S, ProgressBatcher
from gitops_tui.paths import state_dir

HISTORY_FILE = "history.sqlite3"
"""File name of the history database inside ``state_dir()``."""

INTERRUPTED_MESSAGE = "interrupted: the process running this sync ended before it finished"

SCHEMA_VERSION = 1
"""Stored in ``PRAGMA user_version``; a newer file is refused rather than misread."""

BUSY_TIMEOUT_S = 10.0
"""How long a write waits for another process's transaction before failing."""

_UNFINISHED = tuple(phase.value for phase in OperationPhase if not phase.done)

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app TEXT NOT NULL,
        revision TEXT NOT NULL,
        repo_url TEXT NOT NULL,
        path TEXT NOT NULL,
        operation_id TEXT NOT NULL,
        phase TEXT NOT NULL,
        message TEXT NOT NULL,
        operation_revision TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        initiated_by TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        prune INTEGER NOT NULL,
        results TEXT NOT NULL,
        writer_pid INTEGER NOT NULL,
        writer_start TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS history_by_app ON history (app, id)",
)

_KIND_COLUMN = "ALTER TABLE history ADD COLUMN kind TEXT NOT NULL DEFAULT 'sync'"
"""Added to files of schema 1 that lack it (an older gitops-tui reads such a file and
ignores the column; its entries are syncs)."""

_OPERATION_COLUMNS = (
    "operation_id = :operation_id, phase = :phase, message = :message, "
    "operation_revision = :operation_revision, started_at = :started_at, "
    "finished_at = :finished_at, initiated_by = :initiated_by, dry_run = :dry_run, "
    "prune = :prune, results = :results, kind = :kind"
)


class HistoryError(GitOpsError, RuntimeError):
    """The history file cannot be opened, read or written; the message is for the user."""

    title = "History error"


# --------------------------------------------------------------------------- processes


def process_start_token(pid: int) -> str | None:
    """A token naming one run of process ``pid``, or ``None`` when no such process runs.

    On Linux it is the boot id plus the start time in clock ticks (``/proc/<pid>/stat``
    field 22), so a recycled pid gets a different token; a zombie counts as ended.
    Without ``/proc`` only liveness is known and any live process gets ``""``.
    """
    if pid <= 0:
        return None
    if not Path("/proc/self/stat").exists():
        return _signal_liveness_token(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # field 3 (state) onwards; comm may hold spaces
    if len(fields) < 20 or fields[0] in ("Z", "X", "x"):
        return None
    return f"{_boot_id()}:{fields[19]}"


def _signal_liveness_token(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""  # alive, owned by someone else
    return ""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def writer_alive(pid: int, start_token: str) -> bool:
    """Whether the process recorded as (``pid``, ``start_token``) is still running."""
    return process_start_token(pid) == start_token


# --------------------------------------------------------------------------- encoding


def result_as_dict(result: ResourceResult) -> dict[str, Any]:
    """One per-resource result as JSON-ready data (enums by value, key by field)."""
    return {
        "group": result.key.group,
        "kind": result.key.kind,
        "namespace": result.key.namespace,
        "name": result.key.name,
        "status": result.status.value,
        "message": result.message,
        "phase": result.phase,
        "wave": result.wave,
        "action": result.action,
        "hook": result.hook,
    }


def results_to_json(results: tuple[ResourceResult, ...]) -> str:
    """Per-resource results as a JSON list (see ``result_as_dict``)."""
    return json.dumps([result_as_dict(r) for r in results], separators=(",", ":"))


def results_from_json(text: str) -> tuple[ResourceResult, ...]:
    """The inverse of ``results_to_json``; raises ``ValueError`` on anything else."""
    items = json.loads(text)
    if not isinstance(items, list):
        raise ValueError("results are not a JSON list")
    return tuple(_result_from_dict(item) for item in items)


def _result_from_dict(item: Any) -> ResourceResult:
    if not isinstance(item, dict):
        raise ValueError("a result is not a JSON object")
    try:
        return ResourceResult(
            key=ResourceKey(
                group=str(item["group"]),
                kind=str(item["kind"]),
                namespace=str(item["namespace"]),
                name=str(item["name"]),
            ),
            status=ResultCode(item["status"]),
            message=str(item["message"]),
            phase=str(item["phase"]),
            wave=int(item["wave"]),
            action=str(item["action"]),
            hook=bool(item["hook"]),
        )
    except KeyError as exc:
        raise ValueError(f"a result lacks {exc.args[0]!r}") from exc


def _operation_params(operation: OperationState) -> dict[str, Any]:
    return {
        "operation_id": operation.id,
        "phase": operation.phase.value,
        "message": operation.message,
        "operation_revision": operation.revision,
        "started_at": operation.started_at,
        "finished_at": operation.finished_at,
        "initiated_by": operation.initiated_by,
        "dry_run": int(operation.dry_run),
        "prune": int(operation.prune),
        "results": results_to_json(operation.results),
        "kind": operation.kind,
    }


def _entry_from_row(row: sqlite3.Row) -> HistoryEntry:
    operation = OperationState(
        id=row["operation_id"],
        app=row["app"],
        phase=OperationPhase(row["phase"]),
        message=row["message"],
        revision=row["operation_revision"],
        started_at=float(row["started_at"]),
        finished_at=None if row["finished_at"] is None else float(row["finished_at"]),
        initiated_by=row["initiated_by"],
        dry_run=bool(row["dry_run"]),
        prune=bool(row["prune"]),
        results=results_from_json(row["results"]),
        kind=str(row["kind"]),
    )
    return HistoryEntry(
        id=int(row["id"]),
        app=row["app"],
        revision=row["revision"],
        repo_url=row["repo_url"],
        path=row["path"],
        operation=operation,
    )


# --------------------------------------------------------------------------- opening


def _create_private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (SQLite copies the mode to -wal/-shm)."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _unusable(path: Path, exc: BaseException) -> HistoryError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in detail:
        return HistoryError(
            f"sync history {path} is not a SQLite database ({detail}); "
            "move it away or delete it to start a new history"
        )
    if isinstance(exc, sqlite3.DatabaseError) and "malformed" in detail:
        return HistoryError(
            f"sync history {path} is corrupted ({detail}); "
            "move it away or delete it to start a new history"
        )
    return HistoryError(f"sync history {path}: {detail}")


def _connect(path: Path) -> sqlite3.Connection:
    if path.is_dir():
        raise HistoryError(f"sync history {path} is a directory, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_private_file(path)
        db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise _unusable(path, exc) from exc
    db.row_factory = sqlite3.Row
    try:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        # WAL: readers never block the writer and a commit is one append to the -wal
        # file; BEGIN IMMEDIATE plus the busy timeout serialise writing processes.
        # synchronous=NORMAL: no fsync per commit, only at checkpoints. A killed
        # process loses nothing committed and the file stays consistent; only a power
        # loss or OS crash may drop the last commits, which for a history costs at most
        # some progress (the entry then reads as it was a moment earlier, or the sync
        # is missing), never a corrupt file. FULL would fsync every progress batch.
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        _ensure_schema(db, path)
    except (sqlite3.Error, HistoryError) as exc:
        db.close()
        if isinstance(exc, HistoryError):
            raise
        raise _unusable(path, exc) from exc
    return db


def _ensure_schema(db: sqlite3.Connection, path: Path) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"sync history {path} was written by a newer gitops-tui "
                f"(schema {version}, this one reads {SCHEMA_VERSION})"
            )
        for statement in _SCHEMA:
            db.execute(statement)
        columns = {row[1] for row in db.execute("PRAGMA table_info(history)").fetchall()}
        if "kind" not in columns:
            db.execute(_KIND_COLUMN)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


# --------------------------------------------------------------------------- the store


class HistoryStore:
    """Sync history of every app, newest first; safe across threads and processes."""

    def __init__(
        self, path: Path | None = None, *, progress_interval: float = HISTORY_INTERVAL_S
    ) -> None:
        self.path = path if path is not None else state_dir() / HISTORY_FILE
        self._lock = threading.Lock()
        self._writer_token: tuple[int, str] | None = None
        self._db: sqlite3.Connection | None = _connect(self.path)
        self.progress = ProgressBatcher(self, progress_interval)
        """Progress of running entries, written together (see ``ThrottledHistory``)."""
        try:
            self.recover_interrupted()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.progress.close()  # writes what is pending while the connection is open
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---- writes

    def begin(
        self, app: str, *, revision: str, repo_url: str, path: str, operation: OperationState
    ) -> int:
        """Record a sync as it starts (normally in phase Running); returns the entry id.

        ``repo_url`` is stored exactly as given: redact credentials before.
        """
        if operation.app != app:
            raise ValueError(f"operation is for app {operation.app!r}, not {app!r}")
        pid, start = self._writer()
        params = _operation_params(operation) | {
            "app": app,
            "revision": revision,
            "repo_url": repo_url,
            "path": path,
            "writer_pid": pid,
            "writer_start": start,
        }
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO history (app, revision, repo_url, path, operation_id, phase, "
                "message, operation_revision, started_at, finished_at, initiated_by, dry_run, "
                "prune, results, kind, writer_pid, writer_start) VALUES (:app, :revision, "
                ":repo_url, :path, :operation_id, :phase, :message, :operation_revision, "
                ":started_at, :finished_at, :initiated_by, :dry_run, :prune, :results, :kind, "
                ":writer_pid, :writer_start)",
                params,
            )
        if cursor.lastrowid is None:
            raise HistoryError(f"sync history {self.path}: the new entry got no id")
        return cursor.lastrowid

    def update(self, entry_id: int, operation: OperationState) -> None:
        """Replace the entry's operation state (progress, then the final state)."""
        params = _operation_params(operation) | {"id": entry_id, "app": operation.app}
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE history SET {_OPERATION_COLUMNS} WHERE id = :id AND app = :app", params
            )
            if cursor.rowcount != 1:
                raise HistoryError(f"no sync history entry {entry_id} for app {operation.app!r}")

    def write_progress(self, take: Callable[[], Mapping[int, OperationState]]) -> int:
        """Write the states ``take()`` returns (entry id -> state) in one transaction.

        ``take`` runs under the store's lock, so a state it hands over is committed
        before any later write of this store. Returns how many entries were updated
        (an entry that no longer exists is skipped).
        """
        with self._lock:
            taken = take()
            if not taken:
                return 0
            params = [
                _operation_params(operation) | {"id": entry_id, "app": operation.app}
                for entry_id, operation in taken.items()
            ]
            with self._transaction() as db:
                cursor = db.executemany(
                    f"UPDATE history SET {_OPERATION_COLUMNS} WHERE id = :id AND app = :app",
                    params,
                )
        return cursor.rowcount

    def trim(self, app: str, keep: int = DEFAULT_REVISION_HISTORY_LIMIT) -> int:
        """Delete all but the newest ``keep`` finished entries of ``app``; returns how many.

        Running and Terminating entries are never deleted (``revisionHistoryLimit``).
        """
        if keep < 0:
            raise ValueError(f"keep must be >= 0, not {keep}")
        placeholders = ", ".join("?" for _ in _UNFINISHED)
        with self._write() as db:
            cursor = db.execute(
                f"DELETE FROM history WHERE app = ? AND phase NOT IN ({placeholders}) "
                f"AND id NOT IN (SELECT id FROM history WHERE app = ? "
                f"AND phase NOT IN ({placeholders}) ORDER BY id DESC LIMIT ?)",
                (app, *_UNFINISHED, app, *_UNFINISHED, keep),
            )
        return cursor.rowcount

    def recover_interrupted(self) -> int:
        """Mark unfinished entries whose writing process has ended as Error; returns how many."""
        placeholders = ", ".join("?" for _ in _UNFINISHED)
        with self._write() as db:
            rows = db.execute(
                f"SELECT id, writer_pid, writer_start FROM history WHERE phase IN ({placeholders})",
                _UNFINISHED,
            ).fetchall()
            orphans = [
                row["id"]
                for row in rows
                if not writer_alive(row["writer_pid"], row["writer_start"])
            ]
            now = time.time()
            db.executemany(
                "UPDATE history SET phase = ?, message = ?, finished_at = ? WHERE id = ?",
                [(OperationPhase.ERROR.value, INTERRUPTED_MESSAGE, now, i) for i in orphans],
            )
        return len(orphans)

    # ---- reads

    def entries(self, app: str) -> list[HistoryEntry]:
        """Every recorded sync of ``app``, newest first."""
        return self._select("WHERE app = ? ORDER BY id DESC", (app,))

    def get(self, entry_id: int) -> HistoryEntry | None:
        found = self._select("WHERE id = ?", (entry_id,))
        return found[0] if found else None

    def last(self, app: str, kind: str | None = None) -> HistoryEntry | None:
        """The newest entry of ``app`` (running or finished; of ``kind`` when given)."""
        if kind is None:
            found = self._select("WHERE app = ? ORDER BY id DESC LIMIT 1", (app,))
        else:
            found = self._select("WHERE app = ? AND kind = ? ORDER BY id DESC LIMIT 1", (app, kind))
        return found[0] if found else None

    # ---- plumbing

    def _select(self, where: str, params: tuple[Any, ...]) -> list[HistoryEntry]:
        with self._lock:
            db = self._open_connection()
            try:
                rows = db.execute(f"SELECT * FROM history {where}", params).fetchall()
            except sqlite3.Error as exc:
                raise _unusable(self.path, exc) from exc
        entries = []
        for row in rows:
            try:
                entries.append(_entry_from_row(row))
            except (ValueError, TypeError) as exc:
                raise HistoryError(
                    f"sync history {self.path}: entry {row['id']} is unreadable: {exc}"
                ) from exc
        return entries

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, committed when the body returns."""
        with self._lock, self._transaction() as db:
            yield db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``_write`` for a caller already holding ``_lock``."""
        db = self._open_connection()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _unusable(self.path, exc) from exc
            raise

    def _writer(self) -> tuple[int, str]:
        """This process's pid and start token (read from /proc once per process)."""
        pid = os.getpid()
        known = self._writer_token
        if known is None or known[0] != pid:  # first begin, or a forked child
            known = self._writer_token = (pid, process_start_token(pid) or "")
        return known

    def _open_connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise HistoryError(f"sync history {self.path} is closed")
        return self._db

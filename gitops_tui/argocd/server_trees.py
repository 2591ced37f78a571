"""The resource trees of the ``--argocd-server`` backend, followed through Argo CD's stream.

Which trees: the Application list needs none (an app's health is its
``status.health``; the server puts per-resource health into the objects it streams).
A tree is needed for an app open in the console (``follow``, counted: the app view
holds it while shown) and, once, by a blocking call that needs it (events, logs, a
child's live object: ``read``, one GET). So 1,000 apps cost no tree request at all
until one is opened.

How: per followed app ``GET /api/v1/stream/applications/{app}/resource-tree``
(Argo CD's ``WatchResourceTree``; grpc-gateway, newline-delimited
``{"result": ApplicationTree}``, one line each time the controller writes the tree to
Redis, and nothing at first: the answer's headers come with the first change). Each
connect is: send the stream's request, one ``GET .../resource-tree`` for the tree as
it is now, then every streamed tree replaces it. A stream that fails or ends
reconnects after a growing pause (at most ``MAX_BACKOFF_S``) and reads the tree once
again; a silent one is reopened after ``idle_s`` (which also bounds how long a change
published between the GET and the server's subscription can stay unseen). At most
``max_streams`` streams at once; apps followed beyond that are read by one GET every
``refresh_s``. A refused tree (denied, unknown app: also what a just restarted server
says until its informer has synced) keeps what was read, else is empty, and is asked
again after a pause growing to ``DENIED_RETRY_S``.

Bounded: ``server_client.MAX_LINE_BYTES`` per streamed tree, ``MAX_NODES`` nodes kept,
depth and children by ``tree_view``; every string goes through ``status.text`` there.
Read-only: every request here is a GET.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3

from gitops_tui.argocd.server_client import (
    MAX_LINE_BYTES,
    ServerApiError,
    ServerClient,
    _stream_line,
    app_path,
    error_from_body,
)
from gitops_tui.argocd.server_views import MAX_NODES, TREE_TIMEOUT_S, TreeView, tree_view
from gitops_tui.engine.model import ResourceKey

log = logging.getLogger(__name__)

MAX_STREAMS = 16
MIN_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0
DENIED_RETRY_S = 30.0  # the longest pause before asking again for a refused tree

ManagedOf = Callable[[str], Sequence[ResourceKey]]


def stream_path(app: str) -> str:
    return f"/api/v1/stream/applications/{quote(app, safe='')}/resource-tree"


def tree_lines(chunks: Iterator[bytes], path: str) -> Iterator[dict[str, Any]]:
    """Streamed chunks -> each line's ``result`` (an ``ApplicationTree``), its nodes cut
    to ``MAX_NODES`` (pure; an ``{"error": ..}`` line raises ``ServerApiError``)."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield bounded(_stream_line(line))
        if len(buffer) > MAX_LINE_BYTES:
            raise ServerApiError(
                500, None, f"{path}: one streamed tree is over {MAX_LINE_BYTES >> 20} MiB"
            )
    if buffer.strip():
        yield bounded(_stream_line(buffer))


def bounded(body: Any) -> dict[str, Any]:
    nodes = body.get("nodes") if isinstance(body, dict) else None
    return {"nodes": nodes[:MAX_NODES] if isinstance(nodes, list) else []}


@dataclass
class _Followed:
    holders: int = 0
    streaming: bool = False
    body: dict[str, Any] | None = None  # the last tree read, viewed again when managed changes
    view: TreeView | None = None
    conn: Any = None


class TreeFollower:
    """The followed apps' trees, each kept current by its stream (or a slow GET)."""

    def __init__(
        self,
        client: ServerClient,
        managed_of: ManagedOf,
        on_change: Callable[[], None],
        *,
        max_streams: int = MAX_STREAMS,
        idle_s: float = 300.0,
        refresh_s: float = 300.0,
    ) -> None:
        self._client = client
        self._managed_of = managed_of
        self._on_change = on_change
        self._max_streams = max_streams
        self._idle_s = idle_s
        self._refresh_s = refresh_s
        self._cond = threading.Condition()
        self._apps: dict[str, _Followed] = {}
        self._stop = threading.Event()
        self._poll_wake = threading.Event()
        self._poller: threading.Thread | None = None
        self.reads = 0  # tree GETs sent (for tests and the notes)

    # -- following ------------------------------------------------------------------

    def follow(self, app: str) -> Callable[[], None]:
        """Keep ``app``'s tree current until the returned function is called."""
        with self._cond:
            entry = self._apps.setdefault(app, _Followed())
            entry.holders += 1
        self._schedule()
        done = threading.Event()

        def unfollow() -> None:
            if not done.is_set():
                done.set()
                self._unfollow(app)

        return unfollow

    def _unfollow(self, app: str) -> None:
        with self._cond:
            entry = self._apps.get(app)
            if entry is None:
                return
            entry.holders -= 1
            if entry.holders > 0:
                return
            del self._apps[app]
            conn = entry.conn
        _shut(conn)
        self._schedule()
        self._on_change()  # its children leave the snapshot

    def _schedule(self) -> None:
        """Give streams to followed apps without one while fewer than ``max_streams`` run;
        the rest are polled."""
        start: list[str] = []
        with self._cond:
            if self._stop.is_set():
                return
            running = sum(1 for e in self._apps.values() if e.streaming)
            for app, entry in self._apps.items():
                if not entry.streaming and running < self._max_streams:
                    entry.streaming = True
                    running += 1
                    start.append(app)
            polled = any(not e.streaming for e in self._apps.values())
            if polled and self._poller is None:
                self._poller = threading.Thread(
                    target=self._poll_loop, name="argocd-server-tree-poll", daemon=True
                )
                self._poller.start()
        for app in start:
            threading.Thread(
                target=self._stream_loop, args=(app,), name="argocd-server-tree", daemon=True
            ).start()
        self._poll_wake.set()

    def _entry(self, app: str) -> _Followed | None:
        with self._cond:
            entry = self._apps.get(app)
            return entry if entry is not None and not self._stop.is_set() else None

    def _stream_loop(self, app: str) -> None:
        path = stream_path(app)
        backoff = MIN_BACKOFF_S
        while (entry := self._entry(app)) is not None:
            pause = backoff
            try:
                conn = self._client.connect_stream(path, query=None, read_timeout=self._idle_s)
                with self._cond:
                    gone = self._apps.get(app) is not entry
                    entry.conn = conn
                if gone:
                    _shut(conn)
                    return
                self._read_now(app)  # the stream sends changes only: the tree as it is now
                backoff = MIN_BACKOFF_S
                for body in tree_lines(_chunks(conn, path), path):
                    if self._entry(app) is not entry:
                        return
                    self._store(app, body)
                pause = MIN_BACKOFF_S  # the server ended it: connect again
            except ServerApiError as exc:
                if exc.denied or exc.not_found or exc.unauthenticated:
                    # refused: right after a restart too (its informer not synced yet), so
                    # what was read stays; asked again, less and less often
                    if self.view(app) is None:
                        self._store(app, {"nodes": []})
                    backoff = min(backoff * 2, DENIED_RETRY_S)
                else:
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
            except (TimeoutError, urllib3.exceptions.ReadTimeoutError):
                pause = 0.0  # silent for idle_s: open it again (and read the tree once)
            except (urllib3.exceptions.HTTPError, OSError, ValueError):
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            except Exception:
                log.exception("following the resource tree of %s failed", app)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            finally:
                with self._cond:
                    conn, entry.conn = entry.conn, None
                _shut(conn)
            if pause and self._stop.wait(pause):
                return

    def _poll_loop(self) -> None:
        """One GET every ``refresh_s`` for each followed app without a stream (a newly
        followed one at once)."""
        full = True
        while not self._stop.is_set():
            with self._cond:
                due = [
                    a for a, e in self._apps.items() if not e.streaming and (full or e.view is None)
                ]
            pause = self._refresh_s
            for app in due:
                if self._stop.is_set():
                    return
                try:
                    self._read_now(app)
                except ServerApiError as exc:
                    if exc.unreachable:
                        pause = MAX_BACKOFF_S
                        break
                    self._store(app, {"nodes": []})
            full = not self._poll_wake.wait(pause)
            self._poll_wake.clear()

    # -- reading --------------------------------------------------------------------

    def _read_now(self, app: str) -> None:
        self._store(app, self._get(app))

    def _get(self, app: str) -> dict[str, Any]:
        self.reads += 1
        body = self._client.request("GET", app_path(app, "/resource-tree"), timeout=TREE_TIMEOUT_S)
        return bounded(body)

    def _store(self, app: str, body: dict[str, Any]) -> None:
        view = tree_view(body, self._managed_of(app))
        with self._cond:
            entry = self._apps.get(app)
            if entry is None:
                return
            changed = entry.view != view
            entry.body, entry.view = body, view
            self._cond.notify_all()
        if changed:
            self._on_change()

    def managed_changed(self, app: str) -> None:
        """The app's managed objects may have changed: view its last tree again."""
        with self._cond:
            entry = self._apps.get(app)
            body = entry.body if entry is not None else None
        if body is not None:
            self._store(app, body)

    def read(self, app: str) -> TreeView:
        """The followed tree, else one GET (blocking; ``ServerApiError``)."""
        view = self.view(app)
        return view if view is not None else tree_view(self._get(app), self._managed_of(app))

    def view(self, app: str) -> TreeView | None:
        with self._cond:
            entry = self._apps.get(app)
            return entry.view if entry is not None else None

    def views(self) -> dict[str, TreeView]:
        with self._cond:
            return {a: e.view for a, e in self._apps.items() if e.view is not None}

    def wait_read(self, app: str, timeout: float) -> bool:
        """Wait until the followed ``app``'s tree was read once."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (e := self._apps.get(app)) is None or e.view is not None, timeout
            )

    def reread(self) -> None:
        """Read every followed tree again (in the background)."""
        with self._cond:
            apps = list(self._apps)

        def again() -> None:
            for app in apps:
                with contextlib.suppress(ServerApiError):
                    if self._entry(app) is not None:
                        self._read_now(app)

        threading.Thread(target=again, name="argocd-server-tree-reread", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._poll_wake.set()
        with self._cond:
            conns = [e.conn for e in self._apps.values()]
            self._apps.clear()
            self._cond.notify_all()
        for conn in conns:
            _shut(conn)


def _chunks(conn: Any, path: str) -> Iterator[bytes]:
    resp = conn.getresponse()
    if resp.status >= 300:
        raise error_from_body(resp.status, resp.read(1 << 16))
    if resp.chunked:
        yield from resp.read_chunked(decode_content=True)
        return
    while chunk := resp.read1(1 << 16):
        yield chunk


def _shut(conn: Any) -> None:
    """End a stream's connection from any thread (a read waiting on it returns)."""
    if conn is None:
        return
    with contextlib.suppress(Exception):
        if conn.sock is not None:
            conn.sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        conn.close()

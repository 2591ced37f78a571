"""Container logs through Argo CD's API server (``argocd app logs``).

``GET /api/v1/applications/{app}/logs?podName=..`` (v3.2 ``PodLogs``): the server
checks that the pod is in the app's resource tree and its RBAC (``logs, get``),
reads the kubelet's log with timestamps and streams newline-delimited JSON,
``{"result": {"content": "...", "timeStampStr": "...", "last": false}}`` per line,
and (when the log ends) a last entry ``{"last": true, "content": ""}``.

Each ``content`` goes through the engine's ``LogStream`` exactly as a ``pods/log``
byte stream does (``engine/podlogs.py``: decoded, printable, at most
``MAX_LINE_CHARS``); a non-following read stops after ``MAX_LOG_BYTES`` of content
(the server has no ``limitBytes``). The stream has its own connection: ``close()``
from any thread shuts its socket down, ending a read that waits. Argo CD ignores
``tailLines=0`` (it means "all"): a plain read of 0 lines sends nothing; a follow
from now on drops the entries stamped before it was opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import urllib3

from gitops_tui.argocd.server_client import (
    MAX_LINE_BYTES,
    ServerApiError,
    ServerClient,
    _stream_line,
    app_path,
    describe,
    error_from_body,
)
from gitops_tui.argocd.server_views import _state
from gitops_tui.engine.api import EngineError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podlogs import (
    MAX_LOG_BYTES,
    READ_TIMEOUT_S,
    LogOptions,
    LogStream,
    containers_of,
    default_container,
)
from gitops_tui.engine.textsafe import printable


def logs_query(pod: ResourceKey, container: str, options: LogOptions) -> dict[str, Any]:
    """The ``ApplicationPodLogsQuery`` (pure; values are checked ints and bools)."""
    query: dict[str, Any] = {
        "namespace": pod.namespace,
        "podName": pod.name,
        "container": container,
        "follow": "true" if options.follow else "false",
    }
    if options.previous:
        query["previous"] = "true"
    if options.since_seconds is not None:
        query["sinceSeconds"] = options.since_seconds
    if options.tail_lines:
        query["tailLines"] = options.tail_lines
    return query


def _stamp(result: Mapping[str, Any]) -> float | None:
    """An entry's ``timeStampStr`` (RFC 3339, nanoseconds) in epoch seconds, or None."""
    raw = result.get("timeStampStr")
    if not isinstance(raw, str) or not raw:
        return None
    head, _, frac = raw.rstrip("Z").partition(".")
    try:
        when = dt.datetime.fromisoformat(head).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    digits = "".join(ch for ch in frac if ch.isdigit())[:6]
    return when.timestamp() + (int(digits) / 10 ** len(digits) if digits else 0.0)


def log_contents(
    lines: Iterator[bytes], *, follow: bool, not_before: float | None = None
) -> Iterator[bytes]:
    """Newline-delimited JSON entries -> the bytes of each ``content`` plus ``\\n``,
    until the ``last`` entry (pure; raises ``ServerApiError`` on an error entry)."""
    total = 0
    for line in lines:
        if not line.strip():
            continue
        result = _stream_line(line)
        if result.get("last"):
            return
        content = result.get("content")
        if not isinstance(content, str):
            continue
        if not_before is not None:
            stamp = _stamp(result)
            if stamp is not None and stamp < not_before:
                continue
        data = content.encode("utf-8", "surrogateescape") + b"\n"
        total += len(data)
        yield data
        if not follow and total >= MAX_LOG_BYTES:
            return


class ServerLogSource:
    """The body of one ``/logs`` answer; ``close()`` from any thread ends a waiting read."""

    def __init__(self, conn: Any, path: str, *, follow: bool, not_before: float | None) -> None:
        self._conn = conn
        self._sock = conn.sock
        self._path = path
        self._follow = follow
        self._not_before = not_before
        self._closed = threading.Event()

    def _lines(self) -> Iterator[bytes]:
        resp = self._conn.getresponse()
        if resp.status >= 300:
            raise error_from_body(resp.status, resp.read(1 << 16))
        parts = resp.read_chunked(decode_content=True) if resp.chunked else resp.stream(8192)
        buffer = b""
        for chunk in parts:
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                yield line
            if len(buffer) > MAX_LINE_BYTES:
                raise ServerApiError(500, None, f"{self._path}: one log entry is over 16 MiB")
        yield buffer

    def chunks(self) -> Iterator[bytes]:
        try:
            if self._closed.is_set():
                return
            for data in log_contents(
                self._lines(), follow=self._follow, not_before=self._not_before
            ):
                if self._closed.is_set():
                    return
                yield data
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            if not self._closed.is_set():
                raise ServerApiError(
                    0, None, f"{self._path}: {printable(str(exc))[:300]}"
                ) from None
        finally:
            self.close()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(Exception):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._conn.close()


class _Empty:
    def chunks(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        pass


def open_server_logs(
    client: ServerClient, app: str, pod: ResourceKey, options: LogOptions
) -> LogStream:
    """The log of one container of ``pod`` (the caller checked it is a Pod of the app's
    tree; the server checks again). Blocking until the request is sent."""
    if pod.kind != "Pod" or pod.group:
        raise EngineError(f"{pod.display} is not a Pod: only pods have container logs")
    options = options.checked()
    try:
        body = client.request(
            "GET",
            app_path(app, "/resource"),
            query={
                "namespace": pod.namespace,
                "resourceName": pod.name,
                "version": "v1",
                "group": "",
                "kind": "Pod",
            },  # fmt: skip
        )
    except ServerApiError as exc:
        if exc.not_found:
            raise EngineError(f"{pod.display} is gone from {app}'s cluster") from None
        raise describe(exc, f"read {pod.display} of", app) from None
    manifest = _manifest(body)
    main, other = containers_of(manifest)
    container = options.container or default_container(manifest)
    if container is None:
        raise EngineError(f"{pod.display} has no containers")
    if container not in main + other:
        raise EngineError(
            f"{pod.display} has no container {printable(container)!r}; "
            f"its containers: {', '.join(printable(c) for c in main + other)}"
        )
    if options.tail_lines == 0 and not options.follow:
        return LogStream(_Empty(), pod=pod.display, container=container, follow=False)
    not_before = dt.datetime.now(dt.UTC).timestamp() if options.tail_lines == 0 else None
    path = app_path(app, "/logs")
    try:
        conn = client.connect_stream(
            path,
            query=logs_query(pod, container, options),
            read_timeout=None if options.follow else READ_TIMEOUT_S,
        )
    except ServerApiError as exc:
        raise describe(exc, f"read the log of {pod.display} ({container}) of", app) from None
    source = ServerLogSource(conn, path, follow=options.follow, not_before=not_before)
    return LogStream(source, pod=pod.display, container=container, follow=options.follow)


def _manifest(body: Any) -> dict[str, Any]:
    return _state(body.get("manifest") if isinstance(body, Mapping) else None) or {}

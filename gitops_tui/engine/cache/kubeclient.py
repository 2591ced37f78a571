"""A thin JSON client for the Kubernetes API.

``kubeconfig`` reads the kubeconfig as kubectl does and ``kubeauth`` turns one context
into a urllib3 pool and request headers (certificates, tokens, exec plugins); requests
go out as plain JSON so that objects stay dicts (no model round-trips) and every call
has a timeout. (The official ``kubernetes`` package is not imported: it cost most of a
one-shot command's start.)
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

from gitops_tui import __version__
from gitops_tui.engine.cache.kubeauth import Transport
from gitops_tui.engine.cache.kubeconfig import (
    ContextInfo,
    KubeconfigError,
    context_fingerprints,
    kubeconfig_files,
    list_contexts,
    load_context,
)
from gitops_tui.engine.errors import GitOpsError, connection_failure
from gitops_tui.engine.model import Manifest

USER_AGENT = f"gitops-tui/{__version__}"
FIELD_MANAGER = "gitops-tui"
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read
MAX_REQUEST_BYTES = 3 * 1024 * 1024  # the API server's limit on a request body


class KubeApiError(GitOpsError):
    """An API call failed. ``status`` is the HTTP code (0 when the server was unreachable)."""

    title = "Kubernetes API error"

    def __init__(
        self, status: int, reason: str, message: str, *, details: Mapping[str, Any] | None = None
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.details = dict(details or {})
        super().__init__(f"{reason}: {message}" if reason else message)

    @property
    def unreachable(self) -> bool:
        return self.status == 0


class InvalidNameError(KubeApiError):
    """An object URL was asked for with an empty or unusable name: nothing is sent.

    Without a name, ``GET .../jobs/`` is answered as a LIST of the collection, and
    a name with ``/`` (or ``.``/``..``) would address another path: both would
    make a list or another object pass for the object asked about.
    """

    def __init__(self, what: str, name: str) -> None:
        if not name:
            message = (
                f"{what} has no name (only generateName?): an object URL needs a name, "
                "nothing was sent"
            )
        else:
            message = f"{what} has an invalid name {name[:80]!r}: nothing was sent"
        super().__init__(400, "InvalidName", message)


def path_segment(what: str, name: str) -> str:
    """``name`` as one URL path segment; raises ``InvalidNameError`` for '', '.', '..', '/'."""
    if not name or name in (".", "..") or "/" in name or "%" in name:
        raise InvalidNameError(what, name)
    return quote(name, safe="")


@dataclass(frozen=True)
class KubeTarget:
    """Which kubeconfig and context a client talks to."""

    kubeconfig: Path | None
    context: str | None
    read_only: bool = False  # refuse every request but GET (see engine/cache/readonly.py)


class ReadOnlyRefusal(KubeApiError):
    """A mutating request (even a dry run) to a read-only context, refused before sending."""

    def __init__(self, method: str, path: str, context: str | None) -> None:
        super().__init__(
            403,
            "ReadOnly",
            f"{method} {path} not sent: context {context or '(current)'} is read-only",
        )


__all__ = [
    "ContextInfo",
    "KubeconfigError",
    "context_fingerprints",
    "kubeconfig_files",
    "list_contexts",
]


class KubeClient:
    """JSON requests to one cluster, thread-safe (urllib3 pool).

    Raises ``KubeconfigError`` when the kubeconfig gives no usable connection."""

    def __init__(self, target: KubeTarget) -> None:
        self.target = target
        ctx = load_context(target.kubeconfig, target.context)
        self._transport = Transport(ctx, target.kubeconfig)
        self.server = ctx.server
        self._lock = threading.Lock()
        self._clock_offset: float | None = None  # API server's clock minus ours

    def server_now(self) -> float:
        """The API server's time now (epoch seconds): our clock corrected by the
        ``Date`` header of the latest response (our clock alone before the first one)."""
        return time.time() + (self._clock_offset or 0.0)

    def _note_date(self, value: str | None) -> None:
        if not value:
            return
        try:
            server = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        # the header has a resolution of a second: the server's clock is in [t, t+1)
        self._clock_offset = server + 0.5 - time.time()

    def close(self) -> None:
        self._transport.close()

    def _prepare(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        content_type: str,
        accept: str = "application/json",
    ) -> tuple[str, dict[str, str]]:
        url = self.server + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        try:
            headers = self._transport.headers()
        except KubeconfigError as exc:  # a token file gone, an exec plugin that failed
            raise KubeApiError(401, "CredentialsUnavailable", str(exc)) from None
        headers.update({"Accept": accept, "Content-Type": content_type, "User-Agent": USER_AGENT})
        return url, headers

    def _pool(self) -> urllib3.PoolManager:
        try:
            return self._transport.pool()
        except KubeconfigError as exc:
            raise KubeApiError(401, "CredentialsUnavailable", str(exc)) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> Any:
        """One API call; returns the decoded JSON body or raises ``KubeApiError``."""
        if self.target.read_only and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            raise ReadOnlyRefusal(method, path, self.target.context)
        data = json.dumps(body).encode() if body is not None else None
        to = (
            urllib3.Timeout(connect=timeout[0], read=timeout[1])
            if isinstance(timeout, tuple)
            else urllib3.Timeout(total=timeout)
        )
        for attempt in (1, 2):
            url, headers = self._prepare(method, path, query, content_type, accept)
            try:
                resp = self._pool().request(
                    method,
                    url,
                    body=data,
                    headers=headers,
                    timeout=to,
                    preload_content=True,
                    retries=False,
                )
            except urllib3.exceptions.HTTPError as exc:
                if data is not None and len(data) > MAX_REQUEST_BYTES:
                    # the server refuses (413) and closes before reading such a body
                    raise KubeApiError(
                        413,
                        "RequestEntityTooLarge",
                        f"request too large: {len(data) / 2**20:.1f} MiB, the API server "
                        f"accepts at most {MAX_REQUEST_BYTES >> 20} MiB",
                    ) from None
                raise KubeApiError(0, "Unreachable", f"{self.server}: {_short(exc)}") from None
            # 401: nothing was done; a credential that can be asked again is, once
            if resp.status != 401 or attempt == 2 or not self._transport.unauthorized():
                break
        self._note_date(resp.headers.get("Date"))
        return _decode(resp.status, resp.data)

    def stream(
        self,
        path: str,
        *,
        query: Mapping[str, Any],
        read_timeout: float,
        on_open: Callable[[Any], None] | None = None,
    ) -> Iterator[Manifest]:
        """Yield JSON lines of a watch until the server closes it.

        ``on_open`` receives the open response (whose ``shutdown()`` ends the watch
        from another thread)."""
        url, headers = self._prepare("GET", path, query, "application/json")
        try:
            resp = self._pool().request(
                "GET",
                url,
                headers=headers,
                preload_content=False,
                retries=False,
                timeout=urllib3.Timeout(connect=5.0, read=read_timeout),
            )
        except urllib3.exceptions.HTTPError as exc:
            raise KubeApiError(0, "Unreachable", f"{self.server}: {_short(exc)}") from None
        if on_open is not None:
            on_open(resp)
        try:
            if resp.status >= 400:
                if resp.status == 401:
                    self._transport.unauthorized()  # the next watch asks again
                _decode(resp.status, resp.read())
            buffer = b""
            chunks = resp.read_chunked(decode_content=True) if resp.chunked else resp.stream(4096)
            for chunk in chunks:
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeApiError(0, "Unreachable", f"watch {path}: {_short(exc)}") from None
        finally:
            resp.release_conn()

    def open_stream(
        self,
        path: str,
        *,
        query: Mapping[str, Any],
        connect_timeout: float,
        read_timeout: float | None,
    ) -> ByteStream:
        """A GET whose body is read as it arrives (pod logs). Connects and sends the request
        (``KubeApiError`` if the server is not reached within ``connect_timeout``); the
        answer is awaited by ``ByteStream.chunks()``, since a follow of a quiet log gets
        no response headers before its first line. ``read_timeout`` None: wait for bytes
        until the stream is closed (``close()`` from another thread ends the wait)."""
        url, headers = self._prepare("GET", path, query, "application/json", accept="*/*")
        pool = self._pool().connection_from_url(url)
        conn = pool._new_conn()  # its own connection: closing it never touches the pool
        conn.timeout = connect_timeout
        try:
            if getattr(pool, "proxy", None) is not None and hasattr(pool, "_prepare_proxy"):
                pool._prepare_proxy(conn)
            conn.connect()
            conn.request(
                "GET",
                urllib3.util.parse_url(url).request_uri or "/",
                headers=headers,
                preload_content=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            conn.close()
            raise KubeApiError(0, "Unreachable", f"{self.server}: {_short(exc)}") from None
        conn.timeout = read_timeout
        return ByteStream(conn, path)


class ByteStream:
    """The body of one streamed response: ``chunks()`` as they arrive; ``close()`` from
    any thread ends a read that waits (the socket is shut down, not only closed)."""

    def __init__(self, conn: Any, path: str) -> None:
        self._conn = conn
        self._sock = conn.sock
        self._path = path
        self._closed = threading.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def chunks(self) -> Iterator[bytes]:
        try:
            if self._closed.is_set():
                return
            resp = self._conn.getresponse()
            if resp.status >= 400:
                _decode(resp.status, resp.read(64 * 1024))
            parts = resp.read_chunked(decode_content=True) if resp.chunked else resp.stream(8192)
            for chunk in parts:
                if self._closed.is_set():
                    return
                if chunk:
                    yield chunk
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            if not self._closed.is_set():
                raise KubeApiError(0, "Unreachable", f"{self._path}: {_short(exc)}") from None
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


def _short(exc: BaseException) -> str:
    """A failed connection in words (no urllib3 pool reprs)."""
    return connection_failure(exc)


def _decode(status: int, data: bytes) -> Any:
    try:
        payload = json.loads(data) if data else None
    except ValueError:
        payload = None
    if status < 400:
        return payload
    if isinstance(payload, dict) and payload.get("kind") == "Status":
        raise KubeApiError(
            status,
            str(payload.get("reason") or ""),
            str(payload.get("message") or f"HTTP {status}"),
            details=payload.get("details") or {},
        )
    raise KubeApiError(status, f"HTTP {status}", data[:300].decode(errors="replace"))

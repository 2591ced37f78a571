"""A thin JSON client for the Kubernetes API on top of the official client's config.

The official ``kubernetes`` package loads kubeconfigs (contexts, certificates,
tokens, exec plugins) and owns the connection pool; requests go out as plain JSON
so that objects stay dicts (no model round-trips) and every call has a timeout.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from gitops_tui import __version__
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


@dataclass(frozen=True)
class ContextInfo:
    name: str
    cluster: str
    server: str
    namespace: str


def kubeconfig_files(kubeconfig: Path | None) -> list[Path]:
    """``--kubeconfig``, else every file of ``$KUBECONFIG``, else ``~/.kube/config``."""
    if kubeconfig:
        return [kubeconfig.expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def list_contexts(kubeconfig: Path | None) -> tuple[list[ContextInfo], str | None]:
    """The kubeconfig's contexts with their server URLs, and the current context.

    Files are merged as kubectl does: the first file that defines a name wins.
    """
    clusters: dict[str, Mapping[str, Any]] = {}
    contexts: dict[str, Mapping[str, Any]] = {}
    current: str | None = None
    for path in kubeconfig_files(kubeconfig):
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(doc, dict):
            continue
        for item in doc.get("clusters") or []:
            clusters.setdefault(str(item.get("name")), item.get("cluster") or {})
        for item in doc.get("contexts") or []:
            contexts.setdefault(str(item.get("name")), item.get("context") or {})
        current = current or doc.get("current-context") or None
    out = [
        ContextInfo(
            name=name,
            cluster=str(spec.get("cluster", "")),
            server=str(clusters.get(str(spec.get("cluster", "")), {}).get("server", "")),
            namespace=str(spec.get("namespace") or "default"),
        )
        for name, spec in contexts.items()
    ]
    return out, current


def context_fingerprints(kubeconfig: Path | None) -> dict[str, str]:
    """Per context, a digest of everything that shapes its connection (its context,
    cluster and user entries, merged as kubectl does): a changed digest means a new
    address or new credentials. Secrets never leave this function, only digests."""
    sections: dict[str, dict[str, Any]] = {"clusters": {}, "contexts": {}, "users": {}}
    for path in kubeconfig_files(kubeconfig):
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(doc, dict):
            continue
        for section, entries in sections.items():
            for item in doc.get(section) or []:
                if isinstance(item, dict):
                    key = "context" if section == "contexts" else section[:-1]
                    entries.setdefault(str(item.get("name")), item.get(key) or {})
    out: dict[str, str] = {}
    for name, spec in sections["contexts"].items():
        spec = spec if isinstance(spec, dict) else {}
        material = json.dumps(
            [
                spec,
                sections["clusters"].get(str(spec.get("cluster", ""))),
                sections["users"].get(str(spec.get("user", ""))),
            ],
            sort_keys=True,
            default=str,
        )
        out[name] = hashlib.sha256(material.encode()).hexdigest()
    return out


class KubeClient:
    """JSON requests to one cluster, thread-safe (urllib3 pool)."""

    def __init__(self, target: KubeTarget) -> None:
        self.target = target
        cfg = k8s_client.Configuration()
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(target.kubeconfig) if target.kubeconfig else None,
            context=target.context,
            client_configuration=cfg,
            persist_config=False,
        )
        cfg.connection_pool_maxsize = 32
        self._api = k8s_client.ApiClient(cfg)
        self._api.user_agent = USER_AGENT
        self.server = str(cfg.host)
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
        self._api.close()  # type: ignore[no-untyped-call]

    def _prepare(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        content_type: str,
        accept: str = "application/json",
    ) -> tuple[str, dict[str, str]]:
        _, url, headers, _, _ = self._api.param_serialize(
            method=method,
            resource_path=path,
            header_params={"Accept": accept, "Content-Type": content_type},
            auth_settings=["BearerToken"],
        )
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        headers["User-Agent"] = USER_AGENT
        return url, headers

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
        url, headers = self._prepare(method, path, query, content_type, accept)
        data = json.dumps(body).encode() if body is not None else None
        to = (
            urllib3.Timeout(connect=timeout[0], read=timeout[1])
            if isinstance(timeout, tuple)
            else urllib3.Timeout(total=timeout)
        )
        try:
            resp = self._api.rest_client.pool_manager.request(
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
                    f"request too large: {len(data) / 2**20:.1f} MiB, the API server accepts "
                    f"at most {MAX_REQUEST_BYTES >> 20} MiB",
                ) from None
            raise KubeApiError(0, "Unreachable", f"{self.server}: {_short(exc)}") from None
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
            resp = self._api.rest_client.pool_manager.request(
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
        pool = self._api.rest_client.pool_manager.connection_from_url(url)
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

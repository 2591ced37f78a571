"""JSON over HTTPS to Argo CD's API server (its grpc-gateway REST API).

Every call has a timeout, every body is size-bounded, the token goes in an
``Authorization: Bearer`` header and nowhere else (never in a message). Errors
become ``ServerApiError`` with the HTTP status and the gRPC code Argo CD put in
the body (``{"code": 7, "message": "permission denied: ..."}``); ``describe``
turns one into a message for the operator naming the action and the app.

``--grpc-web``: gRPC-web is not implemented; the same REST gateway is used
(it is served on the same port and passes any HTTP/1.1 proxy that gRPC-web
passes). Read-only is enforced here too: with ``read_only`` every method but
GET is refused before anything is sent, and so is a GET with ``refresh`` (it
makes the server write the refresh annotation).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

from gitops_tui.argocd.server_config import ServerTarget
from gitops_tui.argocd.status import text
from gitops_tui.engine.errors import EngineError, GitOpsError, ReadOnlyError, connection_failure

USER_AGENT = "gitops-tui (argocd-server)"
CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 30.0
MAX_BODY_BYTES = 64 << 20  # one answer (a list of thousands of apps)
MAX_LINE_BYTES = 16 << 20  # one streamed event
STREAM_IDLE_S = 300.0  # a silent stream is re-opened after this (and the apps re-listed)

# gRPC codes Argo CD returns (google.golang.org/grpc/codes)
INVALID_ARGUMENT = 3
NOT_FOUND = 5
PERMISSION_DENIED = 7
FAILED_PRECONDITION = 9
UNAVAILABLE = 14
UNAUTHENTICATED = 16
_HTTP_OF_CODE = {
    INVALID_ARGUMENT: 400,
    NOT_FOUND: 404,
    PERMISSION_DENIED: 403,
    FAILED_PRECONDITION: 400,
    UNAVAILABLE: 503,
    UNAUTHENTICATED: 401,
}


class ServerApiError(GitOpsError):
    """An answer of the API server other than success, or no answer (``status`` 0)."""

    title = "Argo CD API server"

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @property
    def unreachable(self) -> bool:
        return self.status == 0 or self.status in (502, 503, 504) or self.code == UNAVAILABLE

    @property
    def denied(self) -> bool:
        return self.status == 403 or self.code == PERMISSION_DENIED

    @property
    def unauthenticated(self) -> bool:
        return self.status == 401 or self.code == UNAUTHENTICATED

    @property
    def not_found(self) -> bool:
        return self.status == 404 or self.code == NOT_FOUND


def error_from_body(status: int, data: bytes) -> ServerApiError:
    """``{"code": 7, "message": ...}`` (or ``{"error": ...}``) as a ``ServerApiError``."""
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]  # a stream's error line: {"error": {"grpc_code": .., ...}}
    code: int | None = None
    message = ""
    if isinstance(body, Mapping):
        raw = body.get("code", body.get("grpc_code"))
        code = raw if isinstance(raw, int) else None
        message = str(body.get("message") or body.get("error") or "")
        if not status and code is not None:
            status = _HTTP_OF_CODE.get(code, 500)
    if not message:
        message = data[:300].decode("utf-8", "replace") if data else f"HTTP {status}"
    return ServerApiError(status, code, text(message, 500))


def describe(exc: ServerApiError, action: str, app: str | None = None) -> EngineError:
    """A message for the operator: what was refused, on which app, and why."""
    what = f"{action} {app}" if app else action
    if exc.denied:
        return EngineError(
            f"Argo CD refused to {what}: permission denied for this account (Argo CD RBAC, "
            f"argocd-rbac-cm): {exc.message}",
            title="Permission denied",
        )
    if exc.unauthenticated:
        return EngineError(
            f"Argo CD refused to {what}: not logged in or the token expired ({exc.message}); "
            "run `argocd login`, or give --auth-token / ARGOCD_AUTH_TOKEN",
            title="Not logged in",
        )
    if exc.unreachable:
        return EngineError(f"cannot {what}: the Argo CD API server is unreachable: {exc.message}")
    return EngineError(f"cannot {what}: {exc.message}")


def app_path(app: str, suffix: str = "") -> str:
    return f"/api/v1/applications/{quote(app, safe='')}{suffix}"


class ServerClient:
    """Thread-safe JSON calls to one Argo CD API server (urllib3 pool)."""

    def __init__(self, target: ServerTarget, *, read_only: bool = False) -> None:
        self.target = target
        self.read_only = read_only
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if target.token:
            headers["Authorization"] = f"Bearer {target.token}"
        self._headers = headers
        if target.plaintext:
            self._pool: urllib3.PoolManager = urllib3.PoolManager(maxsize=16, headers=headers)
        else:
            context = ssl.create_default_context()
            if target.insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                # asked for: a warning per request would only scribble over the console
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            self._pool = urllib3.PoolManager(maxsize=16, headers=headers, ssl_context=context)

    def close(self) -> None:
        self._pool.clear()

    def _url(self, path: str, query: Mapping[str, Any] | None) -> str:
        url = self.target.base_url + path
        if query:
            pairs = [(k, v) for k, v in query.items() if v is not None and v != ""]
            if pairs:
                url += "?" + urlencode(pairs, doseq=True)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float = REQUEST_TIMEOUT_S,
        limit: int = MAX_BODY_BYTES,
    ) -> Any:
        """One call; the decoded JSON answer, or ``ServerApiError``."""
        if self.read_only and (method.upper() != "GET" or (query or {}).get("refresh")):
            raise ReadOnlyError(
                f"{method} {path} to the Argo CD API server",
                why="the connection of a read-only session sends GET requests only",
            )
        data = json.dumps(body).encode() if body is not None else None
        # Argo CD refuses a write without this content type, even one with no body
        headers = {"Content-Type": "application/json"} if method.upper() != "GET" else None
        try:
            resp = self._pool.request(
                method,
                self._url(path, query),
                body=data,
                headers={**self._headers, **(headers or {})},
                timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=timeout),
                retries=False,
                preload_content=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise self._failure(exc) from None
        try:
            payload = _read_bounded(resp, limit, path)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ServerApiError(0, None, f"{self.target.server}: {_short(exc)}") from None
        finally:
            resp.release_conn()
        if 300 <= resp.status < 400:
            where = text(resp.headers.get("Location") or "?", 200)
            raise ServerApiError(
                resp.status,
                None,
                f"{self.target.server} redirects to {where}: it serves HTTPS (leave out "
                "--plaintext)"
                if where.startswith("https:")
                else f"redirected to {where}",
            )
        if resp.status >= 300:
            raise error_from_body(resp.status, payload)
        try:
            return json.loads(payload) if payload else None
        except ValueError:
            raise ServerApiError(
                resp.status, None, f"{path}: the answer is not JSON (is this an Argo CD server?)"
            ) from None

    def _failure(self, exc: urllib3.exceptions.HTTPError) -> ServerApiError:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return ServerApiError(
                0,
                None,
                f"the TLS certificate of {self.target.server} is not trusted by this host "
                "(certificate verify failed): trust its CA, or give --insecure to skip the check",
            )
        return ServerApiError(0, None, f"{self.target.server}: {_short(exc)}")

    def connect_stream(
        self, path: str, *, query: Mapping[str, Any] | None, read_timeout: float | None
    ) -> Any:
        """A GET on a connection of its own (not the pool's: closing it touches nothing
        else), sent; the caller awaits ``getresponse()`` and may shut its socket down
        from another thread. ``read_timeout`` None: wait until closed (a follow)."""
        url = self._url(path, query)
        pool = self._pool.connection_from_url(url)
        conn = pool._new_conn()
        conn.timeout = CONNECT_TIMEOUT_S
        try:
            conn.connect()
            conn.request(
                "GET",
                urllib3.util.parse_url(url).request_uri or "/",
                headers=self._headers,
                preload_content=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            conn.close()
            if isinstance(exc, urllib3.exceptions.HTTPError):
                raise self._failure(exc) from None
            raise ServerApiError(0, None, f"{self.target.server}: {_short(exc)}") from None
        conn.timeout = read_timeout
        return conn

    def stream(
        self, path: str, *, query: Mapping[str, Any] | None = None, idle_s: float = STREAM_IDLE_S
    ) -> Iterator[Mapping[str, Any]]:
        """The ``result`` objects of a grpc-gateway stream (newline-delimited JSON) until
        the server ends it; an ``{"error": ...}`` line raises ``ServerApiError``."""
        try:
            resp = self._pool.request(
                "GET",
                self._url(path, query),
                timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=idle_s),
                retries=False,
                preload_content=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise self._failure(exc) from None
        try:
            if resp.status >= 300:
                raise error_from_body(resp.status, _read_bounded(resp, 1 << 16, path))
            buffer = b""
            for chunk in _live_chunks(resp):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield _stream_line(line)
                if len(buffer) > MAX_LINE_BYTES:
                    raise ServerApiError(
                        500, None, f"{path}: one streamed event is over {MAX_LINE_BYTES >> 20} MiB"
                    )
            if buffer.strip():
                yield _stream_line(buffer)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ServerApiError(0, None, f"stream {path}: {_short(exc)}") from None
        finally:
            resp.release_conn()


def _live_chunks(resp: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    """The body as it arrives: per chunk when chunked, else whatever one read gives
    (``stream()`` would wait for 64 KiB, holding back a quiet stream's events)."""
    if resp.chunked:
        yield from resp.read_chunked(decode_content=True)
        return
    while True:
        chunk = resp.read1(1 << 16)
        if not chunk:
            return
        yield chunk


def _stream_line(line: bytes) -> Mapping[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        raise ServerApiError(500, None, "a streamed line is not JSON") from None
    if not isinstance(event, Mapping):
        raise ServerApiError(500, None, "a streamed line is not a JSON object")
    if "error" in event and "result" not in event:
        raise error_from_body(0, line)
    result = event.get("result")
    return result if isinstance(result, Mapping) else {}


def _read_bounded(resp: urllib3.BaseHTTPResponse, limit: int, path: str) -> bytes:
    out = bytearray()
    for chunk in resp.stream(1 << 16):
        out += chunk
        if len(out) > limit:
            raise ServerApiError(500, None, f"{path}: the answer is over {limit >> 20} MiB")
    return bytes(out)


def _short(exc: BaseException) -> str:
    """A failed connection in words (no urllib3 pool reprs), made printable."""
    return text(connection_failure(exc), 300)

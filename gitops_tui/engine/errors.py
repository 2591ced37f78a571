"""The one base class of the errors this program raises on purpose.

Every error class of the engine (and of the config loader and the sandbox, which
build on it) derives from :class:`GitOpsError`, so a caller that turns failures
into a message for the operator catches ``GitOpsError`` instead of listing the
classes of nine modules by hand; a unit test walks the engine's modules and holds
every exception class defined there to this.

``str(error)`` is the message meant for the operator: it names the file, app,
cluster or limit concerned and never holds credentials or a traceback. ``title``
is a short heading for it (a notification title; the kind of failure). The
subclasses keep their own constructors and attributes (``KubeApiError.status``,
``RepoError.kind``, ...) and may also derive from the builtin they always were
(``ConfigError`` is a ``ValueError``, ``ReadOnlyError`` a ``PermissionError``),
so code that catches the builtin keeps working.

:class:`EngineSignal` is for the few exceptions that are not errors at all: a
cancel or a "list again" raised and caught inside one module to leave a loop.
They never reach an operator and must not be swallowed by an ``except
GitOpsError`` that reports failures, hence the separate base.
"""

from __future__ import annotations

import re


class GitOpsError(Exception):
    """A failure with a message meant for the operator (``str()``) and a short ``title``."""

    title: str = "Error"

    def __init__(self, message: str = "", *, title: str | None = None) -> None:
        super().__init__(message)
        if title is not None:
            self.title = title


class EngineSignal(Exception):
    """Control flow inside one module (a cancel, a restart); never shown to anyone."""


class ReadOnlyError(GitOpsError, PermissionError):
    """A mutation was asked of an engine in read-only mode."""

    title = "Read-only"

    def __init__(
        self, action: str, *, why: str = "start without --read-only to change the cluster"
    ) -> None:
        # ``why`` names where read-only came from: the flag, or the config file
        super().__init__(f"read-only mode: {action} refused ({why})")


class EngineError(GitOpsError, RuntimeError):
    """A command could not be carried out; the message is for the user."""

    title = "Command failed"


def network_reason(error: BaseException) -> str | None:
    """What went wrong with a connection, in a few words ("connection refused",
    "timed out", "host name not found", ...), or None when ``error`` is no network
    failure. Follows the chain of causes (urllib3 wraps the socket's error twice) and
    never returns a repr: no class names, object addresses or pool internals."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    text = ""
    while pending:
        exc = pending.pop(0)
        if id(exc) in seen or len(seen) > 20:
            continue
        seen.add(id(exc))
        reason = _os_reason(exc)
        if reason is not None:
            return reason
        text += f" {exc}"
        for nested in (getattr(exc, "reason", None), exc.__cause__, exc.__context__, *exc.args):
            if isinstance(nested, BaseException):
                pending.append(nested)
    lowered = text.lower()
    for needle, words in _TEXT_REASONS:
        if needle in lowered:
            return words + _tls_detail(text) if needle == "certificate verify failed" else words
    return None


def _tls_detail(text: str) -> str:
    """Why the certificate was refused (hostname mismatch, self-signed, expired), the
    words OpenSSL put after "certificate verify failed:" without its source location."""
    found = re.search(r"certificate verify failed: (.*?)\s*(?:\(_ssl|$)", text, re.I | re.S)
    detail = (found.group(1) if found else "").strip().rstrip(".")
    return f" ({detail[:160]})" if detail else ""


_TEXT_REASONS = (
    ("connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("temporary failure in name resolution", "host name not found"),
    ("certificate verify failed", "TLS certificate not trusted"),
    ("connection reset", "connection reset by the server"),
    ("connection aborted", "connection closed by the server"),
    ("remote end closed connection", "connection closed by the server"),
    ("network is unreachable", "network unreachable"),
    ("no route to host", "no route to host"),
)


def _os_reason(exc: BaseException) -> str | None:
    import errno
    import socket
    import ssl

    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = str(exc.verify_message or "").strip().rstrip(".")[:160]
        return (
            f"TLS certificate not trusted ({detail})" if detail else "TLS certificate not trusted"
        )
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, TimeoutError) or type(exc).__name__.endswith("TimeoutError"):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, ConnectionAbortedError | BrokenPipeError):
        return "connection closed by the server"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable" if exc.errno == errno.ENETUNREACH else "no route to host"
    return None


_REPR = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>:?\s*")


def without_reprs(text: str) -> str:
    """``text`` without Python object reprs (``<urllib3.connection.HTTPSConnection object
    at 0x7f...>``): they mean nothing to an operator and change from run to run."""
    return _REPR.sub("", text)


def connection_failure(error: BaseException, limit: int = 300) -> str:
    """A failed connection in words for a message: ``network_reason`` when known, else the
    error's text without reprs, at most ``limit`` characters."""
    reason = network_reason(error)
    if reason is not None:
        return reason
    text = without_reprs(str(error)) or type(error).__name__
    return text if len(text) < limit else text[:limit] + "..."

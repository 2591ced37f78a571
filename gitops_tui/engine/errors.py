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

"""Git errors of the repository cache, and what git's stderr says went wrong.

:class:`RepoError` redacts its message (no credentials, ever);
:func:`summarise_stderr` keeps the useful lines of git's stderr and
:func:`classify_stderr` turns them into a :class:`RepoErrorKind`, so a fetch
failure reads "not found or unreachable" or "authentication failed".
"""

from __future__ import annotations

import enum

from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.redact import redact_text

# Checked in this order against git's lower-cased stderr.
_NOT_EXPORTED = ("not exported",)
_AUTH_PATTERNS = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "permission denied",
    "access denied",
    "returned error: 401",
    "returned error: 403",
    "invalid username or password",
    "invalid credentials",
    "host key verification failed",
    "unauthorized",
    "forbidden",
)
_UNREACHABLE_PATTERNS = (
    "does not appear to be a git repository",
    "repository not found",
    "not found",
    "returned error: 404",
    "could not resolve",
    "connection refused",
    "couldn't connect",
    "unable to connect",
    "failed to connect",
    "network is unreachable",
    "no route to host",
    "connection timed out",
    "connection reset",
    "unable to access",
    "no such file or directory",
    "remote end hung up",
    "could not read from remote repository",
)
_BOILERPLATE = (
    "could not read from remote repository.",
    "please make sure you have the correct access rights",
    "and the repository exists.",
)


class RepoErrorKind(enum.StrEnum):
    """What went wrong, for callers that react differently (retry, condition text)."""

    INVALID_URL = "invalid-url"
    UNREACHABLE = "unreachable"
    AUTH = "auth"
    REVISION = "revision"
    TIMEOUT = "timeout"
    FAILED = "failed"


class RepoError(GitOpsError):
    """A Git problem, with a message that never contains credentials."""

    title = "Git error"

    def __init__(self, message: str, kind: RepoErrorKind = RepoErrorKind.FAILED) -> None:
        self.message = redact_text(message)
        self.kind = kind
        super().__init__(self.message)

    def copy(self) -> RepoError:
        return RepoError(self.message, self.kind)


def summarise_stderr(stderr: str) -> str:
    """Up to three meaningful lines of git's stderr, without prefixes and boilerplate."""
    lines = []
    for raw in stderr.splitlines():
        line = raw.strip()
        for prefix in ("fatal:", "error:", "remote:", "warning:"):
            if line.lower().startswith(prefix):
                line = line[len(prefix) :].strip()
        if not line or any(line.lower().startswith(b) for b in _BOILERPLATE):
            continue
        lines.append(line)
    text = "; ".join(lines[:3])
    return text[:400] or "git gave no details"


def classify_stderr(stderr: str) -> RepoErrorKind:
    """Unreachable, refused (auth) or some other failure, from git's stderr."""
    lines = (line.strip().lower() for line in stderr.splitlines())
    low = "\n".join(line for line in lines if not any(b in line for b in _BOILERPLATE))
    if any(p in low for p in _NOT_EXPORTED):
        return RepoErrorKind.UNREACHABLE
    if any(p in low for p in _AUTH_PATTERNS):
        return RepoErrorKind.AUTH
    if any(p in low for p in _UNREACHABLE_PATTERNS):
        return RepoErrorKind.UNREACHABLE
    return RepoErrorKind.FAILED


def fetch_failure(stderr: str, shown_url: str) -> RepoError:
    """The error for a failed ``git fetch`` of ``shown_url`` (already redacted)."""
    kind = classify_stderr(stderr)
    detail = summarise_stderr(stderr)
    if kind is RepoErrorKind.UNREACHABLE:
        message = f"repository not found or unreachable: {shown_url} ({detail})"
    elif kind is RepoErrorKind.AUTH:
        message = f"authentication failed or access refused: {shown_url} ({detail})"
    else:
        message = f"git fetch failed for {shown_url}: {detail}"
    return RepoError(message, kind)

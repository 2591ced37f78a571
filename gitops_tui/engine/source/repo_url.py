"""Repository URLs: what git may be given, and the credential-free key of a repository.

``https://Host/Org/Repo.git/`` and ``https://host/Org/Repo`` are one repository
(one key, one mirror directory); a local path becomes ``file://`` plus its
resolved absolute path. Anything git should not be given (relative paths,
remote helpers like ``ext::``, other schemes, a leading ``-``, control
characters) is refused with a :class:`RepoError` before git runs.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.redact import redact_url
from gitops_tui.engine.source.repo_errors import RepoError, RepoErrorKind

_REMOTE_HELPER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*::")
_SCP_LIKE = re.compile(r"(?:(?P<user>[^@/:\s]+)@)?(?P<host>[^@/:\s]+):(?P<path>[^\s]*)")
_URL_SCHEMES = frozenset({"http", "https", "ssh", "git", "git+ssh", "ssh+git"})
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})


@dataclass(frozen=True, slots=True)
class RepoSource:
    """One parsed ``repoURL``."""

    git_url: str
    """What git is given (may hold credentials; never logged, never in argv)."""
    key: str
    """Normalised and redacted: safe to show, stable across spellings."""
    local: Path | None
    ssh: bool
    shown: str
    """The URL as the user wrote it, redacted: for messages."""

    @property
    def dir_name(self) -> str:
        digest = hashlib.sha256(self.key.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        tail = self.key.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        if tail.endswith(".git"):
            tail = tail[:-4]
        tail = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("._-")[:40]
        return f"{digest}-{tail or 'repo'}"


def normalize_repo_url(repo_url: str) -> str:
    """The comparable, credential-free form of a ``repoURL``.

    ``https://Host/Org/Repo.git/`` and ``https://host/Org/Repo`` are the same
    repository; a local path becomes ``file://`` plus the resolved absolute path
    (paths keep their case and their ``.git``). Raises :class:`RepoError` for a
    URL git should not be given (relative paths, remote helpers, other schemes).
    """
    return parse_repo_url(repo_url).key


def _strip_repo_suffix(path: str) -> str:
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[:-4]
    return path.rstrip("/")


def parse_repo_url(repo_url: str) -> RepoSource:
    """The :class:`RepoSource` of ``repo_url``, or :class:`RepoError` (``INVALID_URL``).

    Memoised per spelling (a bounded LRU): a local path is resolved (``realpath``)
    once, not on every resolve/checkout of every app. Refusals are not memoised.
    """
    return _parse_repo_url(repo_url)


@functools.lru_cache(maxsize=1024)
def _parse_repo_url(repo_url: str) -> RepoSource:
    text = repo_url.strip()
    shown = redact_url(text)
    if not text:
        raise RepoError("repoURL is empty", RepoErrorKind.INVALID_URL)
    if any(ord(c) < 32 or ord(c) == 127 for c in text) or text.startswith("-"):
        raise RepoError(f"invalid repoURL {shown!r}", RepoErrorKind.INVALID_URL)
    if text.startswith("file://"):
        parts = urllib.parse.urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise RepoError(
                f"invalid repoURL {shown!r}: a file:// URL must name a local path",
                RepoErrorKind.INVALID_URL,
            )
        return _local_source(Path(urllib.parse.unquote(parts.path)), shown)
    if text.startswith("~") or os.path.isabs(text):
        return _local_source(Path(os.path.expanduser(text)), shown)
    if _REMOTE_HELPER.match(text):
        raise RepoError(
            f"invalid repoURL {shown!r}: remote helper URLs are not supported",
            RepoErrorKind.INVALID_URL,
        )
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _URL_SCHEMES:
            raise RepoError(
                f"invalid repoURL {shown!r}: unsupported scheme {scheme!r} "
                "(use https, http, ssh, git, file:// or a local path)",
                RepoErrorKind.INVALID_URL,
            )
        try:
            port = parts.port
        except ValueError:
            raise RepoError(
                f"invalid repoURL {shown!r}: bad port", RepoErrorKind.INVALID_URL
            ) from None
        host = (parts.hostname or "").lower()
        if not host:
            raise RepoError(f"invalid repoURL {shown!r}: no host", RepoErrorKind.INVALID_URL)
        user = f"{parts.username}@" if parts.username else ""
        if parts.password is not None:
            user = f"{parts.username or ''}:{parts.password}@"
        netloc = f"{user}{host}" + (f":{port}" if port is not None else "")
        path = _strip_repo_suffix(parts.path)
        key = redact_url(f"{scheme}://{netloc}{path}")
        return RepoSource(
            git_url=text, key=key, local=None, ssh=scheme in _SSH_SCHEMES, shown=shown
        )
    match = _SCP_LIKE.fullmatch(text)
    if match:
        user = f"{match['user']}@" if match["user"] else ""
        key = f"{user}{match['host'].lower()}:{_strip_repo_suffix(match['path'])}"
        return RepoSource(git_url=text, key=key, local=None, ssh=True, shown=shown)
    raise RepoError(
        f"invalid repoURL {shown!r}: use an https/ssh/git URL, file:// or an absolute path",
        RepoErrorKind.INVALID_URL,
    )


def _local_source(path: Path, shown: str) -> RepoSource:
    if not path.is_absolute():
        raise RepoError(
            f"invalid repoURL {shown!r}: a local repository needs an absolute path",
            RepoErrorKind.INVALID_URL,
        )
    resolved = path.resolve(strict=False)
    return RepoSource(
        git_url=str(resolved), key=f"file://{resolved}", local=resolved, ssh=False, shown=shown
    )

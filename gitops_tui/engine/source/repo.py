"""A thread-safe cache of Git repositories: resolve revisions, extract commit trees.

Each source repository gets one bare mirror under the cache root, named after a
short hash of its normalised, credential-free URL plus a readable suffix::

    <root>/<hash12>-<name>/mirror.git     bare repository (heads, tags, remote HEAD)
    <root>/<hash12>-<name>/trees/<sha>/   read-only tree of one commit
    <root>/<hash12>-<name>/url            the redacted URL, for humans

Local repositories (``file://`` or a path) are mirrored the same way, so the
user's checkout, index and HEAD are never touched and uncommitted edits are
never seen; :meth:`RepoCache.local_path` and :meth:`RepoCache.watch_paths` let
a file watcher notice new commits there.

Safety rules kept throughout:

* git runs without a shell, with a timeout, in a new session (no controlling
  terminal), with prompts disabled (``GIT_TERMINAL_PROMPT=0``, empty
  ``GIT_ASKPASS``, ssh ``BatchMode=yes``): it fails instead of asking.
* The repository URL reaches git through ``GIT_CONFIG_*`` environment entries
  (``remote.source.url``), never through argv or a config file, so a password
  or token in it shows up in no process list, log line or file on disk. Every
  message is passed through :func:`redact_text` as well.
* User-supplied revisions never reach a command line unless validated.

Behaviour follows Argo CD's repo server (``reposerver/repository/repository.go``
and ``util/git/client.go``): ``HEAD`` is the remote's default branch, branches
win over tags of the same name, annotated tags are peeled to their commit, a
full SHA already present needs no fetch.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import hashlib
import logging
import math
import os
import re
import secrets
import shutil
import stat
import tarfile
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import cast

import git

from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.redact import redact_text, redact_url
from gitops_tui.paths import cache_dir

__all__ = [
    "CommitInfo",
    "RepoCache",
    "RepoError",
    "RepoErrorKind",
    "normalize_repo_url",
]

_log = logging.getLogger(__name__)

HEAD_REF = "refs/gitops-tui/HEAD"
"""Where the mirror keeps the commit the remote's ``HEAD`` pointed to at the last fetch."""

_REMOTE = "source"
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{4,39}")
_REMOTE_HELPER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*::")
_SCP_LIKE = re.compile(r"(?:(?P<user>[^@/:\s]+)@)?(?P<host>[^@/:\s]+):(?P<path>[^\s]*)")
_URL_SCHEMES = frozenset({"http", "https", "ssh", "git", "git+ssh", "ssh+git"})
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 24 * 3600

# Attributes applied to every path when a tree is extracted, with the highest
# precedence ($GIT_DIR/info/attributes): the checkout is the commit's blobs, byte
# for byte - no export-subst/export-ignore, no eol conversion, no filter drivers.
_NEUTRAL_ATTRIBUTES = (
    "* -text -eol -filter -ident -working-tree-encoding -export-subst -export-ignore\n"
)

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


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    short: str
    author: str
    date: datetime
    message_first_line: str


@dataclass(frozen=True, slots=True)
class _Source:
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


@dataclass(eq=False)
class _RepoState:
    source: _Source
    dir: Path
    fetch_lock: threading.Lock = field(default_factory=threading.Lock)
    last_fetch_start: float = -math.inf
    last_error: RepoError | None = None
    tmp_cleaned: bool = False

    @property
    def mirror(self) -> Path:
        return self.dir / "mirror.git"

    @property
    def trees(self) -> Path:
        return self.dir / "trees"

    def mirror_ready(self) -> bool:
        return (self.mirror / "HEAD").is_file() and (self.mirror / "objects").is_dir()


def normalize_repo_url(repo_url: str) -> str:
    """The comparable, credential-free form of a ``repoURL``.

    ``https://Host/Org/Repo.git/`` and ``https://host/Org/Repo`` are the same
    repository; a local path becomes ``file://`` plus the resolved absolute path
    (paths keep their case and their ``.git``). Raises :class:`RepoError` for a
    URL git should not be given (relative paths, remote helpers, other schemes).
    """
    return _parse_source(repo_url).key


def _strip_repo_suffix(path: str) -> str:
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[:-4]
    return path.rstrip("/")


def _parse_source(repo_url: str) -> _Source:
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
        return _Source(git_url=text, key=key, local=None, ssh=scheme in _SSH_SCHEMES, shown=shown)
    match = _SCP_LIKE.fullmatch(text)
    if match:
        user = f"{match['user']}@" if match["user"] else ""
        key = f"{user}{match['host'].lower()}:{_strip_repo_suffix(match['path'])}"
        return _Source(git_url=text, key=key, local=None, ssh=True, shown=shown)
    raise RepoError(
        f"invalid repoURL {shown!r}: use an https/ssh/git URL, file:// or an absolute path",
        RepoErrorKind.INVALID_URL,
    )


def _local_source(path: Path, shown: str) -> _Source:
    if not path.is_absolute():
        raise RepoError(
            f"invalid repoURL {shown!r}: a local repository needs an absolute path",
            RepoErrorKind.INVALID_URL,
        )
    resolved = path.resolve(strict=False)
    return _Source(
        git_url=str(resolved), key=f"file://{resolved}", local=resolved, ssh=False, shown=shown
    )


def _valid_revision(rev: str) -> bool:
    """A branch or tag name git would accept (``check-ref-format`` rules, roughly).

    Rejecting revision syntax (``main~1``, ``v1^{tree}``, ``@{-1}``, ``a:b``)
    keeps user input from selecting anything but a ref or a commit.
    """
    if not rev or rev.startswith(("-", "/", ".")) or rev.endswith(("/", ".", ".lock")):
        return False
    if any(ord(c) <= 32 or ord(c) == 127 or c in "~^:?*[\\" for c in rev):
        return False
    return ".." not in rev and "@{" not in rev and "//" not in rev and rev != "@"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rmtree(path: Path) -> None:
    """Remove a (possibly read-only) extracted tree without following symlinks."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    for dirpath, _dirnames, _files in os.walk(path, followlinks=False):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _make_read_only(top: Path) -> None:
    """Files 0444 (0555 if executable), directories 0555, except ``top`` itself."""
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                os.chmod(full, 0o555 if st.st_mode & 0o111 else 0o444)
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, 0o555)


def _summarise_stderr(stderr: str) -> str:
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


def _classify(stderr: str) -> RepoErrorKind:
    lines = (line.strip().lower() for line in stderr.splitlines())
    low = "\n".join(line for line in lines if not any(b in line for b in _BOILERPLATE))
    if any(p in low for p in _NOT_EXPORTED):
        return RepoErrorKind.UNREACHABLE
    if any(p in low for p in _AUTH_PATTERNS):
        return RepoErrorKind.AUTH
    if any(p in low for p in _UNREACHABLE_PATTERNS):
        return RepoErrorKind.UNREACHABLE
    return RepoErrorKind.FAILED


class RepoCache:
    """Bare mirrors of Git repositories, resolved revisions and extracted trees.

    Thread-safe: fetches of one repository are serialised (and coalesced: a
    caller that waited for another thread's fetch which started after its own
    call does not fetch again), different repositories proceed in parallel,
    reads never wait for a fetch. A file lock also serialises fetches of one
    mirror across processes sharing the cache.
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        fetch_timeout: float = 60.0,
        local_timeout: float = 120.0,
        max_checkouts: int = 64,
    ) -> None:
        if fetch_timeout <= 0 or local_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if max_checkouts < 1:
            raise ValueError("max_checkouts must be at least 1")
        self._root = Path(root) if root is not None else cache_dir() / "repos"
        self._fetch_timeout = fetch_timeout
        self._local_timeout = local_timeout
        self._max_checkouts = max_checkouts
        self._lock = threading.Lock()
        self._repos: dict[str, _RepoState] = {}
        self._checkout_locks: dict[tuple[str, str], threading.Lock] = {}
        self._active_tmp: set[str] = set()
        self._commit_infos: dict[tuple[str, str], CommitInfo] = {}
        self._last_touch_ns = 0

    @property
    def root(self) -> Path:
        return self._root

    # ------------------------------------------------------------------ public

    def resolve(self, repo_url: str, revision: str = "HEAD", *, refresh: bool = False) -> str:
        """The full commit SHA ``revision`` names in ``repo_url``.

        ``revision``: ``HEAD`` (or empty: the remote's default branch), a
        branch, a tag (annotated tags peeled), ``refs/heads/x`` / ``refs/tags/x``,
        a full SHA or a unique SHA prefix of 4+ hex digits. Fetches first when
        ``refresh`` is set or the revision is unknown locally; a full SHA already
        present needs no fetch. A failed fetch raises; the last fetched commits
        stay resolvable with ``refresh=False``.
        """
        since = time.monotonic()
        state = self._state(repo_url)
        rev = revision.strip() or "HEAD"
        full = _FULL_SHA.fullmatch(rev) is not None
        if not full and not _valid_revision(rev):
            raise RepoError(
                f"revision not found: {rev!r} is not a valid revision", RepoErrorKind.REVISION
            )
        if full or not refresh:
            sha = self._lookup(state, rev)
            if sha is not None:
                return sha
        self._fetch(state, since)
        sha = self._lookup(state, rev)
        if sha is None:
            raise RepoError(
                f"revision not found: {rev} (in {state.source.shown})", RepoErrorKind.REVISION
            )
        return sha

    def checkout(self, repo_url: str, sha: str) -> Path:
        """A read-only directory holding the tree of commit ``sha``.

        Extracted once per (repository, commit), atomically (temp dir + rename);
        concurrent callers get the same directory. Symlinks stay symlinks (the
        caller checks containment). ``sha`` may be any revision :meth:`resolve`
        accepts. The least recently used trees beyond ``max_checkouts`` are
        removed, so use the directory promptly rather than holding on to it.
        """
        state = self._state(repo_url)
        rev = sha.strip().lower()
        if _FULL_SHA.fullmatch(rev):
            final = state.trees / rev
            if final.is_dir():
                with self._checkout_lock(state, rev):
                    if final.is_dir():
                        self._touch(final)
                        return final
        rev = self.resolve(repo_url, sha)
        final = state.trees / rev
        with self._checkout_lock(state, rev):
            if not final.is_dir():
                state.trees.mkdir(parents=True, exist_ok=True)
                if not state.tmp_cleaned:
                    self._clean_tmp(state.trees)
                    state.tmp_cleaned = True
                self._extract(state, rev, final)
            self._touch(final)
        self._prune(keep=final)
        return final

    def commit_info(self, repo_url: str, sha: str) -> CommitInfo:
        """Author, date and subject of a commit (any revision :meth:`resolve` accepts)."""
        state = self._state(repo_url)
        full = self.resolve(repo_url, sha)
        cache_key = (state.dir.name, full)
        with self._lock:
            cached = self._commit_infos.get(cache_key)
        if cached is not None:
            return cached
        out = self._git_ok(
            state,
            [
                "log",
                "-1",
                "--no-show-signature",
                "--format=%H%x00%h%x00%an%x00%aI%x00%B",
                full,
                "--",
            ],
            what=f"reading commit {full[:12]}",
        )
        parts = out.split("\x00", 4)
        if len(parts) != 5:
            raise RepoError(f"unexpected git log output for {full}", RepoErrorKind.FAILED)
        body = parts[4].strip()
        info = CommitInfo(
            sha=parts[0],
            short=parts[1],
            author=parts[2],
            date=datetime.fromisoformat(parts[3]),
            message_first_line=body.splitlines()[0] if body else "",
        )
        with self._lock:
            if len(self._commit_infos) > 4096:
                self._commit_infos.clear()
            self._commit_infos[cache_key] = info
        return info

    def revisions(self, repo_url: str, *, refresh: bool = False) -> list[str]:
        """Branch names (sorted) then tag names (newest first) known locally.

        Fetches only when ``refresh`` is set or the repository was never fetched.
        """
        since = time.monotonic()
        state = self._state(repo_url)
        if refresh or not state.mirror_ready():
            self._fetch(state, since)
        out = self._git_ok(
            state,
            [
                "for-each-ref",
                "--format=%(refname)%00%(creatordate:unix)",
                "refs/heads",
                "refs/tags",
            ],
            what="listing branches and tags",
        )
        branches: list[str] = []
        tags: list[tuple[int, str]] = []
        for line in out.splitlines():
            name, _, when = line.partition("\x00")
            if name.startswith("refs/heads/"):
                branches.append(name[len("refs/heads/") :])
            elif name.startswith("refs/tags/"):
                tags.append((-int(when or 0), name[len("refs/tags/") :]))
        return sorted(branches) + [name for _, name in sorted(tags)]

    def last_fetch_error(self, repo_url: str) -> str | None:
        """The redacted message of the last failed fetch, None once a fetch succeeds."""
        try:
            state = self._state(repo_url)
        except RepoError as exc:
            return exc.message
        error = state.last_error  # read without the fetch lock: never wait for a fetch
        return error.message if error is not None else None

    def local_path(self, repo_url: str) -> Path | None:
        """The user's own repository directory for a local source, else None.

        The work tree's top for a normal repository, the repository itself when
        bare. None for remote URLs and for paths that are not a repository root.
        """
        repo = self._open_local(repo_url)
        if repo is None:
            return None
        try:
            return Path(repo.working_tree_dir or repo.git_dir)
        finally:
            repo.close()

    def watch_paths(self, repo_url: str, *, work_tree: bool = False) -> list[Path]:
        """Paths of a local source whose change means a new commit may be there.

        ``refs/`` and ``packed-refs`` (of the common git dir, for linked work
        trees) and ``HEAD``; with ``work_tree=True`` also the work tree, for a
        source that follows uncommitted files. Only existing paths are listed
        (``packed-refs`` appears when refs are packed, which also changes
        ``refs/``). Empty for remote URLs.
        """
        repo = self._open_local(repo_url)
        if repo is None:
            return []
        try:
            git_dir = Path(repo.git_dir).resolve()
            common = Path(repo.common_dir).resolve()
            paths = [common / "refs", common / "packed-refs", git_dir / "HEAD"]
            if work_tree and repo.working_tree_dir:
                paths.append(Path(repo.working_tree_dir))
        finally:
            repo.close()
        result: list[Path] = []
        for path in paths:
            if path.exists() and path not in result:
                result.append(path)
        return result

    # ------------------------------------------------------------- internals

    def _state(self, repo_url: str) -> _RepoState:
        source = _parse_source(repo_url)
        name = source.dir_name
        with self._lock:
            state = self._repos.get(name)
            if state is None:
                state = _RepoState(source=source, dir=self._root / name)
                self._repos[name] = state
            elif state.source.git_url != source.git_url:
                # Same repository spelled differently (or other credentials):
                # fetch with the latest spelling the caller gave.
                state.source = source
            return state

    def _open_local(self, repo_url: str) -> git.Repo | None:
        try:
            source = _parse_source(repo_url)
        except RepoError:
            return None
        if source.local is None:
            return None
        try:
            return git.Repo(source.local)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError, OSError):
            return None

    def _checkout_lock(self, state: _RepoState, sha: str) -> threading.Lock:
        return self._named_lock(state.dir.name, sha)

    def _named_lock(self, key: str, sha: str) -> threading.Lock:
        with self._lock:
            lock = self._checkout_locks.get((key, sha))
            if lock is None:
                lock = self._checkout_locks[(key, sha)] = threading.Lock()
            return lock

    def _tmp_name(self, what: str) -> str:
        name = f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{what}"
        with self._lock:
            self._active_tmp.add(name)
        return name

    def _tmp_done(self, name: str) -> None:
        with self._lock:
            self._active_tmp.discard(name)

    def _touch(self, path: Path) -> None:
        """Mark a tree as used now; strictly increasing within this process (LRU order)."""
        with self._lock:
            now = max(time.time_ns(), self._last_touch_ns + 1)
            self._last_touch_ns = now
        with contextlib.suppress(OSError):
            os.utime(path, ns=(now, now), follow_symlinks=False)

    # git invocation -----------------------------------------------------

    def _env(self, state: _RepoState | None, git_dir: Path | None) -> dict[str, str]:
        env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "SSH_ASKPASS_REQUIRE": "never",
            "GCM_INTERACTIVE": "never",
        }
        if git_dir is not None:
            env["GIT_DIR"] = str(git_dir)
            env["GIT_OBJECT_DIRECTORY"] = str(git_dir / "objects")
        if state is not None:
            # The URL goes in as configuration from the environment: not in argv
            # (process lists, GitPython's debug log), not in the mirror's config.
            count = 0
            with contextlib.suppress(ValueError):
                count = max(0, int(os.environ.get("GIT_CONFIG_COUNT", "0")))
            env[f"GIT_CONFIG_KEY_{count}"] = f"remote.{_REMOTE}.url"
            env[f"GIT_CONFIG_VALUE_{count}"] = state.source.git_url
            env["GIT_CONFIG_COUNT"] = str(count + 1)
        return env

    def _run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        timeout: float,
    ) -> tuple[int, str, str, bool]:
        """Run ``git args``; returns (status, stdout, stderr, timed_out)."""
        self._root.mkdir(parents=True, exist_ok=True)
        command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "log.showSignature=false", *args]
        started = time.monotonic()
        try:
            result = git.cmd.Git(str(self._root)).execute(
                command,
                with_extended_output=True,
                with_exceptions=False,
                kill_after_timeout=timeout,
                env=dict(env),
                strip_newline_in_stdout=False,
                start_new_session=True,
            )
        except git.GitCommandNotFound:
            raise RepoError(
                "git is not installed (no `git` on PATH)", RepoErrorKind.FAILED
            ) from None
        status, out, err = cast(tuple[int, str | bytes, str], result)
        stdout = out.decode("utf-8", "surrogateescape") if isinstance(out, bytes) else out
        elapsed = time.monotonic() - started
        timed_out = status != 0 and (
            elapsed >= timeout * 0.95 or err.startswith("Timeout: the command")
        )
        return status, stdout, err, timed_out

    def _git_ok(self, state: _RepoState, args: Sequence[str], *, what: str) -> str:
        status, out, err, timed_out = self._run(
            args, env=self._env(None, state.mirror), timeout=self._local_timeout
        )
        if timed_out:
            raise RepoError(
                f"timed out after {self._local_timeout:g} s {what} in {state.source.shown}",
                RepoErrorKind.TIMEOUT,
            )
        if status != 0:
            raise RepoError(
                f"git failed {what} in {state.source.shown}: {_summarise_stderr(err)}",
                RepoErrorKind.FAILED,
            )
        return out

    def _peel(self, state: _RepoState, spec: str) -> str | None:
        status, out, _err, timed_out = self._run(
            ["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"],
            env=self._env(None, state.mirror),
            timeout=self._local_timeout,
        )
        if timed_out:
            raise RepoError(
                f"timed out after {self._local_timeout:g} s resolving a revision in "
                f"{state.source.shown}",
                RepoErrorKind.TIMEOUT,
            )
        sha = out.strip()
        return sha if status == 0 and _FULL_SHA.fullmatch(sha) else None

    def _lookup(self, state: _RepoState, rev: str) -> str | None:
        """Resolve ``rev`` in the mirror without any network access."""
        if not state.mirror_ready():
            return None
        if _FULL_SHA.fullmatch(rev):
            return self._peel(state, rev.lower())
        if rev == "HEAD":
            candidates = [HEAD_REF]
        elif rev.startswith("refs/"):
            candidates = [rev] if rev.startswith(("refs/heads/", "refs/tags/")) else []
        else:
            candidates = [f"refs/heads/{rev}", f"refs/tags/{rev}"]
        for candidate in candidates:
            sha = self._peel(state, candidate)
            if sha is not None:
                return sha
        if _SHORT_SHA.fullmatch(rev):
            return self._peel(state, rev.lower())
        return None

    # fetching -------------------------------------------------------------

    def _fetch(self, state: _RepoState, since: float) -> None:
        with state.fetch_lock:
            if state.last_fetch_start >= since:
                # Another thread fetched after our call began: its result is ours.
                if state.last_error is not None:
                    raise state.last_error.copy()
                return
            state.last_fetch_start = time.monotonic()
            try:
                with self._file_lock(state):
                    self._ensure_mirror(state)
                    self._do_fetch(state)
            except RepoError as exc:
                state.last_error = exc
                _log.warning("%s", exc.message)
                raise exc.copy() from None
            state.last_error = None

    @contextlib.contextmanager
    def _file_lock(self, state: _RepoState) -> Iterator[None]:
        import fcntl  # POSIX only: imported where used, so the package imports elsewhere

        state.dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._fetch_timeout
        with open(state.dir / "lock", "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                    if time.monotonic() >= deadline:
                        raise RepoError(
                            f"timed out after {self._fetch_timeout:g} s waiting for another "
                            f"process fetching {state.source.shown}",
                            RepoErrorKind.TIMEOUT,
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _ensure_mirror(self, state: _RepoState) -> None:
        if state.mirror_ready():
            return
        self._clean_tmp(state.dir)
        if state.mirror.exists():
            _rmtree(state.mirror)  # a broken mirror: start again
        (state.dir / "url").write_text(state.source.key + "\n", encoding="utf-8")
        name = self._tmp_name("mirror")
        tmp = state.dir / name
        try:
            status, _out, err, _t = self._run(
                ["init", "--bare", "--quiet", "--template="],
                env=self._env(None, tmp),
                timeout=self._local_timeout,
            )
            if status != 0:
                raise RepoError(
                    f"could not create a mirror for {state.source.shown}: {_summarise_stderr(err)}",
                    RepoErrorKind.FAILED,
                )
            (tmp / "info").mkdir(exist_ok=True)
            (tmp / "info" / "attributes").write_text(_NEUTRAL_ATTRIBUTES, encoding="utf-8")
            os.rename(tmp, state.mirror)
        finally:
            if tmp.exists():
                _rmtree(tmp)
            self._tmp_done(name)

    def _ssh_command(self, state: _RepoState) -> str | None:
        """``GIT_SSH_COMMAND`` with BatchMode, keeping the user's own ssh command."""
        if "GIT_SSH" in os.environ and "GIT_SSH_COMMAND" not in os.environ:
            return None  # a GIT_SSH program may not take -o options
        base = os.environ.get("GIT_SSH_COMMAND", "").strip()
        if not base:
            status, out, _err, _t = self._run(
                ["config", "--get", "core.sshCommand"],
                env=self._env(None, state.mirror),
                timeout=self._local_timeout,
            )
            base = out.strip() if status == 0 else ""
        base = base or "ssh"
        connect = max(1, min(int(self._fetch_timeout), 30))
        return f"{base} -o BatchMode=yes -o ConnectTimeout={connect}"

    def _do_fetch(self, state: _RepoState) -> None:
        env = self._env(state, state.mirror)
        if state.source.ssh:
            ssh = self._ssh_command(state)
            if ssh is not None:
                env["GIT_SSH_COMMAND"] = ssh
        base = ["fetch", "--prune", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"]
        refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
        started = time.monotonic()
        status, _out, err, timed_out = self._run(
            [*base, _REMOTE, *refspecs, f"+HEAD:{HEAD_REF}"],
            env=env,
            timeout=self._fetch_timeout,
        )
        if status != 0 and not timed_out and "couldn't find remote ref head" in err.lower():
            # Empty repository, or HEAD names a branch that does not exist.
            remaining = self._fetch_timeout - (time.monotonic() - started)
            status, _out, err, timed_out = self._run(
                [*base, _REMOTE, *refspecs], env=env, timeout=max(remaining, 1.0)
            )
            if status == 0:
                self._run(
                    ["update-ref", "-d", HEAD_REF],
                    env=self._env(None, state.mirror),
                    timeout=self._local_timeout,
                )
        url = state.source.shown
        if timed_out:
            raise RepoError(
                f"timed out after {self._fetch_timeout:g} s fetching {url}", RepoErrorKind.TIMEOUT
            )
        if status != 0:
            kind = _classify(err)
            detail = _summarise_stderr(err)
            if kind is RepoErrorKind.UNREACHABLE:
                message = f"repository not found or unreachable: {url} ({detail})"
            elif kind is RepoErrorKind.AUTH:
                message = f"authentication failed or access refused: {url} ({detail})"
            else:
                message = f"git fetch failed for {url}: {detail}"
            raise RepoError(message, kind)
        _log.debug("fetched %s in %.2f s", url, time.monotonic() - started)

    # trees ------------------------------------------------------------------

    def _extract(self, state: _RepoState, sha: str, final: Path) -> None:
        name = self._tmp_name(sha[:12])
        tmp = state.trees / name
        archive = state.trees / f"{name}.tar"
        try:
            status, _out, err, timed_out = self._run(
                ["archive", "--format=tar", f"--output={archive}", sha],
                env=self._env(None, state.mirror),
                timeout=self._local_timeout,
            )
            if timed_out:
                raise RepoError(
                    f"timed out after {self._local_timeout:g} s extracting {sha[:12]} of "
                    f"{state.source.shown}",
                    RepoErrorKind.TIMEOUT,
                )
            if status != 0:
                raise RepoError(
                    f"could not extract {sha[:12]} of {state.source.shown}: {_summarise_stderr(err)}",
                    RepoErrorKind.FAILED,
                )
            tmp.mkdir()
            if not self._tree_is_empty(state, sha):
                # git writes a lone pax header for an empty tree, which tarfile
                # cannot read ("end of file header"): the empty directory is right.
                with tarfile.open(archive, "r:") as tar:
                    tar.extractall(tmp, filter="tar")
            _make_read_only(tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                if not final.is_dir():  # another process won the race: use its tree
                    raise
            with contextlib.suppress(OSError):
                os.chmod(final, 0o555)
        except (OSError, tarfile.TarError) as exc:
            raise RepoError(
                f"could not extract {sha[:12]} of {state.source.shown}: {exc}", RepoErrorKind.FAILED
            ) from None
        finally:
            archive.unlink(missing_ok=True)
            if tmp.exists():
                _rmtree(tmp)
            self._tmp_done(name)

    def _tree_is_empty(self, state: _RepoState, sha: str) -> bool:
        """True when commit ``sha`` holds no files at all (every file was removed)."""
        out = self._git_ok(
            state, ["ls-tree", "--name-only", sha], what=f"listing the tree of {sha[:12]}"
        )
        return not out.strip()

    def _clean_tmp(self, directory: Path) -> None:
        """Remove temp entries left by crashed processes (or stale for a day)."""
        try:
            entries = list(directory.iterdir())
        except OSError:
            return
        now = time.time()
        with self._lock:
            active = set(self._active_tmp)
        for entry in entries:
            if not entry.name.startswith(_TMP_PREFIX):
                continue
            base = entry.name.removesuffix(".tar")
            try:
                pid = int(base[len(_TMP_PREFIX) :].split("-", 1)[0])
            except ValueError:
                pid = -1
            if pid == os.getpid():
                leftover = base not in active
            else:
                leftover = pid <= 0 or not _pid_alive(pid)
            try:
                stale = now - entry.lstat().st_mtime > _STALE_TMP_SECONDS
            except OSError:
                continue
            if leftover or stale:
                _log.debug("removing leftover %s", entry)
                _rmtree(entry)

    def _prune(self, keep: Path) -> None:
        """Keep the ``max_checkouts`` most recently used trees across the cache."""
        trees: list[tuple[int, Path]] = []
        try:
            repo_dirs = list(self._root.iterdir())
        except OSError:
            return
        for repo_dir in repo_dirs:
            tree_root = repo_dir / "trees"
            if not tree_root.is_dir():
                continue
            for entry in tree_root.iterdir():
                if entry.name.startswith(".") or not _FULL_SHA.fullmatch(entry.name):
                    continue
                with contextlib.suppress(OSError):
                    trees.append((entry.lstat().st_mtime_ns, entry))
        if len(trees) <= self._max_checkouts:
            return
        trees.sort(key=lambda item: item[0], reverse=True)
        for _mtime, path in trees[self._max_checkouts :]:
            if path == keep:
                continue
            lock = self._named_lock(path.parent.parent.name, path.name)
            if not lock.acquire(blocking=False):
                continue  # being extracted or handed out right now
            name = self._tmp_name("del")
            doomed = path.parent / name
            try:
                os.rename(path, doomed)
                _rmtree(doomed)
                _log.debug("pruned checkout %s", path)
            except OSError:
                continue
            finally:
                self._tmp_done(name)
                lock.release()

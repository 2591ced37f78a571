"""The bare mirror of one repository: its state, creation, locking and fetch.

Fetches of one mirror are serialised by a thread lock and, across processes
sharing the cache, a file lock; they are also coalesced (:func:`fetch_coalesced`).
A fetch takes every branch and tag (pruned) and the remote's ``HEAD`` into
:data:`HEAD_REF`, over ssh in BatchMode with a connect timeout.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gitops_tui.engine.source.repo_errors import (
    RepoError,
    RepoErrorKind,
    fetch_failure,
    summarise_stderr,
)
from gitops_tui.engine.source.repo_git import GIT_REMOTE, GitRunner
from gitops_tui.engine.source.repo_refs import HEAD_REF, RefTable
from gitops_tui.engine.source.repo_scratch import ScratchNames, rmtree
from gitops_tui.engine.source.repo_url import RepoSource

_log = logging.getLogger(__name__)

# Attributes applied to every path when a tree is extracted, with the highest
# precedence ($GIT_DIR/info/attributes): the checkout is the commit's blobs, byte
# for byte - no export-subst/export-ignore, no eol conversion, no filter drivers.
_NEUTRAL_ATTRIBUTES = (
    "* -text -eol -filter -ident -working-tree-encoding -export-subst -export-ignore\n"
)


@dataclass(eq=False)
class MirrorState:
    """One repository's directory in the cache, and what this process knows of its fetches."""

    source: RepoSource
    dir: Path
    fetch_lock: threading.Lock = field(default_factory=threading.Lock)
    last_fetch_start: float = -math.inf
    last_error: RepoError | None = None
    tmp_cleaned: bool = False
    generation: int = 0
    """Bumped before and after every fetch of this process (a fetch generation)."""
    resolved: dict[str, str | None] = field(default_factory=dict)
    """Revision -> commit (or None: not there) looked up in the current generation."""
    resolved_lock: threading.Lock = field(default_factory=threading.Lock)
    refs: RefTable | None = None
    """The mirror's refs read in generation ``refs_generation`` (see :meth:`ref_table`)."""
    refs_generation: int = -1
    refs_lock: threading.Lock = field(default_factory=threading.Lock)
    ready_generation: int = -1
    """The generation in which :meth:`mirror_ready` last found the mirror there."""

    def ref_table(self, read: Callable[[], RefTable | None]) -> RefTable | None:
        """The refs of the current generation: ``read()`` once per generation.

        One reader at a time: the callers that all miss right after a fetch
        wait for one ``git for-each-ref`` instead of each running their own.
        """
        with self.refs_lock:
            generation = self.generation  # read before: a fetch that begins later bumps it
            if self.refs_generation != generation:
                self.refs = read()
                self.refs_generation = generation
            return self.refs

    def cached_revision(self, rev: str) -> tuple[bool, str | None]:
        """``(True, sha or None)`` if ``rev`` was looked up in this generation."""
        with self.resolved_lock:
            if rev in self.resolved:
                return True, self.resolved[rev]
            return False, None

    def remember_revision(self, generation: int, rev: str, sha: str | None) -> None:
        """Keep a lookup made at ``generation`` unless a fetch began since."""
        with self.resolved_lock:
            if generation == self.generation:
                if len(self.resolved) >= 4096:
                    self.resolved.clear()
                self.resolved[rev] = sha

    def new_generation(self) -> None:
        """Forget every lookup: the refs may be changing (a fetch starts or ended)."""
        with self.resolved_lock:
            self.generation += 1
            self.resolved.clear()

    @property
    def mirror(self) -> Path:
        return self.dir / "mirror.git"

    @property
    def trees(self) -> Path:
        return self.dir / "trees"

    def mirror_ready(self) -> bool:
        """The mirror exists (checked on disk once per generation once it does)."""
        generation = self.generation
        if self.ready_generation == generation:
            return True
        ready = (self.mirror / "HEAD").is_file() and (self.mirror / "objects").is_dir()
        if ready:
            self.ready_generation = generation
        return ready


def fetch_coalesced(state: MirrorState, since: float, fetch: Callable[[], None]) -> None:
    """Run ``fetch`` for a caller whose call began at ``since`` (``time.monotonic``).

    Serialised per mirror; a caller that waited for a fetch which started after
    its own call began takes that fetch's outcome instead of fetching again.
    The outcome is remembered in ``state.last_error`` (None after a success).
    """
    with state.fetch_lock:
        if state.last_fetch_start >= since:
            # Another thread fetched after our call began: its result is ours.
            if state.last_error is not None:
                raise state.last_error.copy()
            return
        state.last_fetch_start = time.monotonic()
        state.new_generation()
        try:
            fetch()
        except RepoError as exc:
            state.last_error = exc
            _log.warning("%s", exc.message)
            raise exc.copy() from None
        finally:
            state.new_generation()
        state.last_error = None


@contextlib.contextmanager
def mirror_file_lock(state: MirrorState, timeout: float) -> Iterator[None]:
    """Hold the mirror's lock file (other processes sharing the cache wait)."""
    import fcntl  # POSIX only: imported where used, so the package imports elsewhere

    state.dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
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
                        f"timed out after {timeout:g} s waiting for another "
                        f"process fetching {state.source.shown}",
                        RepoErrorKind.TIMEOUT,
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_mirror(git: GitRunner, state: MirrorState, scratch: ScratchNames) -> None:
    """Create the bare mirror (neutral attributes, no hooks) unless it is there and sound."""
    if state.mirror_ready():
        return
    scratch.clean(state.dir)
    if state.mirror.exists():
        rmtree(state.mirror)  # a broken mirror: start again
    (state.dir / "url").write_text(state.source.key + "\n", encoding="utf-8")
    name = scratch.new("mirror")
    tmp = state.dir / name
    try:
        status, _out, err, _t = git.run_local(tmp, ["init", "--bare", "--quiet", "--template="])
        if status != 0:
            raise RepoError(
                f"could not create a mirror for {state.source.shown}: {summarise_stderr(err)}",
                RepoErrorKind.FAILED,
            )
        (tmp / "info").mkdir(exist_ok=True)
        (tmp / "info" / "attributes").write_text(_NEUTRAL_ATTRIBUTES, encoding="utf-8")
        os.rename(tmp, state.mirror)
    finally:
        if tmp.exists():
            rmtree(tmp)
        scratch.done(name)


def _ssh_command(git: GitRunner, state: MirrorState, fetch_timeout: float) -> str | None:
    """``GIT_SSH_COMMAND`` with BatchMode, keeping the user's own ssh command."""
    if "GIT_SSH" in os.environ and "GIT_SSH_COMMAND" not in os.environ:
        return None  # a GIT_SSH program may not take -o options
    base = os.environ.get("GIT_SSH_COMMAND", "").strip()
    if not base:
        status, out, _err, _t = git.run_local(state.mirror, ["config", "--get", "core.sshCommand"])
        base = out.strip() if status == 0 else ""
    base = base or "ssh"
    connect = max(1, min(int(fetch_timeout), 30))
    return f"{base} -o BatchMode=yes -o ConnectTimeout={connect}"


def fetch_mirror(git: GitRunner, state: MirrorState, fetch_timeout: float) -> None:
    """Fetch branches, tags and the remote's ``HEAD`` into the (existing) mirror."""
    env = git.env(state.source, state.mirror)
    if state.source.ssh:
        ssh = _ssh_command(git, state, fetch_timeout)
        if ssh is not None:
            env["GIT_SSH_COMMAND"] = ssh
    base = ["fetch", "--prune", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"]
    refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
    started = time.monotonic()
    status, _out, err, timed_out = git.run(
        [*base, GIT_REMOTE, *refspecs, f"+HEAD:{HEAD_REF}"],
        env=env,
        timeout=fetch_timeout,
    )
    if status != 0 and not timed_out and "couldn't find remote ref head" in err.lower():
        # Empty repository, or HEAD names a branch that does not exist.
        remaining = fetch_timeout - (time.monotonic() - started)
        status, _out, err, timed_out = git.run(
            [*base, GIT_REMOTE, *refspecs], env=env, timeout=max(remaining, 1.0)
        )
        if status == 0:
            git.run_local(state.mirror, ["update-ref", "-d", HEAD_REF])
    url = state.source.shown
    if timed_out:
        raise RepoError(
            f"timed out after {fetch_timeout:g} s fetching {url}", RepoErrorKind.TIMEOUT
        )
    if status != 0:
        raise fetch_failure(err, url)
    _log.debug("fetched %s in %.2f s", url, time.monotonic() - started)

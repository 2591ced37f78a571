"""A thread-safe cache of Git repositories: resolve revisions, extract commit trees.

Each source repository gets one bare mirror under the cache root, named after a
short hash of its normalised, credential-free URL plus a readable suffix::

    <root>/<hash12>-<name>/mirror.git     bare repository (heads, tags, remote HEAD)
    <root>/<hash12>-<name>/trees/<sha>/   read-only tree of one commit
    <root>/<hash12>-<name>/subtrees/<key>/  read-only tree of one path (one app)
    <root>/<hash12>-<name>/url            the redacted URL, for humans

Local repositories (``file://`` or a path) are mirrored the same way, so the
user's checkout, index and HEAD are never touched and uncommitted edits are
never seen; :meth:`RepoCache.local_path` and :meth:`RepoCache.watch_paths` let
a file watcher notice new commits there.

:class:`RepoCache` is the facade; the parts live next to it:

* :mod:`.repo_url` - which URLs git may be given, the key of a repository;
* :mod:`.repo_errors` - :class:`RepoError` (redacted) and reading git's stderr;
* :mod:`.repo_git` - running git: no shell, no prompts, timeouts, the URL only
  in ``GIT_CONFIG_*`` environment entries (never argv, a log line or a file);
* :mod:`.repo_refs` - revision names, resolution in a mirror, branches/tags, commits;
* :mod:`.repo_mirror` - a mirror's state, creation, fetch locks and fetch;
* :mod:`.repo_trees` - extracted read-only trees, their locks and pruning;
* :mod:`.repo_subtrees` - when one app path is extracted instead of the commit;
* :mod:`.repo_scratch` - temporary names and the cleaning of crash leftovers.

User-supplied revisions never reach a command line unless validated.
Behaviour follows Argo CD's repo server (``reposerver/repository/repository.go``
and ``util/git/client.go``): ``HEAD`` is the remote's default branch, branches
win over tags of the same name, annotated tags are peeled to their commit, a
full SHA already present needs no fetch.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_tui.engine.source.repo_errors import RepoError, RepoErrorKind
from gitops_tui.engine.source.repo_git import GitRunner
from gitops_tui.engine.source.repo_mirror import (
    MirrorState,
    ensure_mirror,
    fetch_coalesced,
    fetch_mirror,
    mirror_file_lock,
)
from gitops_tui.engine.source.repo_refs import (
    FULL_SHA,
    HEAD_REF,
    CommitInfo,
    list_revisions,
    lookup_revision,
    read_commit_info,
    read_refs,
    valid_revision,
)
from gitops_tui.engine.source.repo_scratch import ScratchNames
from gitops_tui.engine.source.repo_subtrees import SubtreeBudget, subtree_key
from gitops_tui.engine.source.repo_tree_index import TreeIndex, normal_path, read_tree_index
from gitops_tui.engine.source.repo_trees import (
    TreeLocks,
    extract_archive,
    extract_tree,
    lock_key,
    prune_trees,
)
from gitops_tui.engine.source.repo_url import normalize_repo_url, parse_repo_url
from gitops_tui.paths import cache_dir

if TYPE_CHECKING:  # GitPython is imported by the console's local-repo watch only
    import git

__all__ = [
    "HEAD_REF",
    "CommitInfo",
    "RepoCache",
    "RepoError",
    "RepoErrorKind",
    "normalize_repo_url",
]


class RepoCache:
    """Bare mirrors of Git repositories, resolved revisions and extracted trees.

    Thread-safe: fetches of one repository are serialised (and coalesced: a
    caller that waited for another thread's fetch which started after its own
    call, or after the refresh was asked for, does not fetch again), different repositories proceed in parallel,
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
        self._max_checkouts = max_checkouts
        self._git = GitRunner(self._root, local_timeout=local_timeout)
        self._scratch = ScratchNames()
        self._tree_locks = TreeLocks()
        self._subtree_budget = SubtreeBudget()
        self._subtrees_cleaned: set[str] = set()
        self._lock = threading.Lock()
        self._repos: dict[str, MirrorState] = {}
        self._commit_infos: dict[tuple[str, str], CommitInfo] = {}
        self._tree_indexes: OrderedDict[tuple[str, str], TreeIndex | None] = OrderedDict()
        self._tree_index_lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root

    # ------------------------------------------------------------------ public

    def resolve(
        self,
        repo_url: str,
        revision: str = "HEAD",
        *,
        refresh: bool = False,
        since: float | None = None,
    ) -> str:
        """The full commit SHA ``revision`` names in ``repo_url``.

        ``revision``: ``HEAD`` (or empty: the remote's default branch), a
        branch, a tag (annotated tags peeled), ``refs/heads/x`` / ``refs/tags/x``,
        a full SHA or a unique SHA prefix of 4+ hex digits. Fetches first when
        ``refresh`` is set or the revision is unknown locally; a full SHA already
        present needs no fetch. A failed fetch raises; the last fetched commits
        stay resolvable with ``refresh=False``.

        ``since``: when (``time.monotonic``) the refresh was asked for, if
        before this call: a fetch of the repository that began after it serves
        this call too (many apps asked to refresh at once share one fetch).
        """
        now = time.monotonic()
        since = now if since is None else min(since, now)
        state = self._state(repo_url)
        rev = revision.strip() or "HEAD"
        full = FULL_SHA.fullmatch(rev) is not None
        if not full and not valid_revision(rev):
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
        if FULL_SHA.fullmatch(rev):
            final = state.trees / rev
            if final.is_dir():
                with self._tree_locks.lock(state.dir.name, rev):
                    if final.is_dir():
                        self._tree_locks.touch(final)
                        return final
        rev = self.resolve(repo_url, sha)
        final = state.trees / rev
        with self._tree_locks.lock(state.dir.name, rev):
            if not final.is_dir():
                state.trees.mkdir(parents=True, exist_ok=True)
                if not state.tmp_cleaned:
                    self._scratch.clean(state.trees)
                    state.tmp_cleaned = True
                self._extract(state, rev, final)
            self._tree_locks.touch(final)
        prune_trees(self._root, final, self._max_checkouts, self._tree_locks, self._scratch)
        return final

    def checkout_path(self, repo_url: str, sha: str, path: str) -> Path:
        """A read-only directory whose ``path`` holds what commit ``sha`` holds there.

        For a plain directory (``TreeIndex.plain_tree``: real directories, no
        symlink or submodule below) only that path is extracted, keyed by the path
        and its tree id (:mod:`.repo_subtrees`): nothing outside ``path`` is in it,
        so only a renderer that reads nothing else may use it. The whole commit
        (:meth:`checkout`) otherwise, when it is already extracted, or past
        ``SUBTREES_PER_COMMIT`` paths of one commit (many apps render at once).
        """
        state = self._state(repo_url)
        rev = sha.strip().lower()
        norm = normal_path(path)
        if not FULL_SHA.fullmatch(rev) or norm is None or (state.trees / rev).is_dir():
            return self.checkout(repo_url, sha)
        index = self.tree_index(repo_url, rev)
        tree = index.plain_tree(norm) if index is not None else None
        if tree is None:
            return self.checkout(repo_url, sha)
        key = subtree_key(norm, tree)
        parent = state.dir / "subtrees"
        final = parent / key
        with self._tree_locks.lock(lock_key(state.dir.name, parent.name), key):
            extracted = final.is_dir()
            if not extracted and self._subtree_budget.take(state.dir.name, rev):
                parent.mkdir(parents=True, exist_ok=True)
                if state.dir.name not in self._subtrees_cleaned:
                    self._scratch.clean(parent)
                    self._subtrees_cleaned.add(state.dir.name)
                what = f"{norm!r} at {rev[:12]}"
                extract_archive(
                    self._git, state, tree, final, self._scratch, what=what, prefix=norm
                )
                extracted = True
            if extracted:
                self._tree_locks.touch(final)
        if not extracted:  # over the commit's budget: one archive of the whole commit
            return self.checkout(repo_url, sha)
        prune_trees(self._root, final, self._max_checkouts, self._tree_locks, self._scratch)
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
        info = read_commit_info(self._git, state.mirror, state.source.shown, full)
        with self._lock:
            if len(self._commit_infos) > 4096:
                self._commit_infos.clear()
            self._commit_infos[cache_key] = info
        return info

    def tree_index(self, repo_url: str, sha: str) -> TreeIndex | None:
        """The directory tree ids of commit ``sha`` (a full SHA present in the mirror).

        Read once per commit (one ``git ls-tree``; the last 8 commits remembered);
        None when it cannot be read or is too big (callers key by the commit).
        """
        state = self._state(repo_url)
        rev = sha.strip().lower()
        if not FULL_SHA.fullmatch(rev) or not state.mirror_ready():
            return None
        cache_key = (state.dir.name, rev)
        with self._tree_index_lock:  # one reader per commit; others wait for its result
            if cache_key in self._tree_indexes:
                self._tree_indexes.move_to_end(cache_key)
                return self._tree_indexes[cache_key]
            index = read_tree_index(self._git, state.mirror, rev)
            self._tree_indexes[cache_key] = index
            while len(self._tree_indexes) > 8:
                self._tree_indexes.popitem(last=False)
            return index

    def revisions(self, repo_url: str, *, refresh: bool = False) -> list[str]:
        """Branch names (sorted) then tag names (newest first) known locally.

        Fetches only when ``refresh`` is set or the repository was never fetched.
        """
        since = time.monotonic()
        state = self._state(repo_url)
        if refresh or not state.mirror_ready():
            self._fetch(state, since)
        return list_revisions(self._git, state.mirror, state.source.shown)

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

    def _state(self, repo_url: str) -> MirrorState:
        source = parse_repo_url(repo_url)
        name = source.dir_name
        with self._lock:
            state = self._repos.get(name)
            if state is None:
                state = MirrorState(source=source, dir=self._root / name)
                self._repos[name] = state
            elif state.source.git_url != source.git_url:
                # Same repository spelled differently (or other credentials):
                # fetch with the latest spelling the caller gave.
                state.source = source
            return state

    def _open_local(self, repo_url: str) -> git.Repo | None:
        try:
            source = parse_repo_url(repo_url)
        except RepoError:
            return None
        if source.local is None:
            return None
        import git  # here: importing GitPython costs a one-shot command ~0.1 s

        try:
            return git.Repo(source.local)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError, OSError):
            return None

    def _lookup(self, state: MirrorState, rev: str) -> str | None:
        """Resolve ``rev`` in the mirror without any network access.

        Remembered until this process next fetches the mirror (a fetch
        generation): resolving ``HEAD`` for every app of a repository is one
        git run, not one per app, and the same one (``git for-each-ref``,
        :func:`read_refs`) reads every branch and tag. A fetch by another process
        sharing the cache is seen at this process's next fetch (every refresh fetches).
        """
        known, sha = state.cached_revision(rev)
        if known:
            return sha
        generation = state.generation
        if not state.mirror_ready():
            return None
        runner, mirror, shown = self._git, state.mirror, state.source.shown
        refs = state.ref_table(lambda: read_refs(runner, mirror, shown))
        sha = lookup_revision(runner, mirror, shown, rev, refs)
        state.remember_revision(generation, rev, sha)
        return sha

    def _fetch(self, state: MirrorState, since: float) -> None:
        def fetch() -> None:
            with mirror_file_lock(state, self._fetch_timeout):
                ensure_mirror(self._git, state, self._scratch)
                self._do_fetch(state)

        fetch_coalesced(state, since, fetch)

    def _do_fetch(self, state: MirrorState) -> None:
        fetch_mirror(self._git, state, self._fetch_timeout)

    def _extract(self, state: MirrorState, sha: str, final: Path) -> None:
        extract_tree(self._git, state, sha, final, self._scratch)

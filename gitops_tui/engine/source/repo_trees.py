"""Checkouts: read-only trees of one commit each, extracted once, pruned least recently used.

``<repo dir>/trees/<sha>/`` holds the tree of commit ``<sha>`` as ``git
archive`` writes it from the mirror (neutral attributes: the blobs byte for
byte), made read-only and renamed into place atomically;
``<repo dir>/subtrees/<key>/`` holds one directory of a commit the same way
(:mod:`.repo_subtrees`). Symlinks stay
symlinks: the renderers check containment. Each use touches the tree's mtime
(strictly increasing within a process), and :func:`prune_trees` keeps the most
recently used ones across the whole cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tarfile
import threading
import time
from pathlib import Path

from gitops_tui.engine.source.repo_errors import RepoError, RepoErrorKind, summarise_stderr
from gitops_tui.engine.source.repo_git import GitRunner
from gitops_tui.engine.source.repo_mirror import MirrorState
from gitops_tui.engine.source.repo_refs import FULL_SHA
from gitops_tui.engine.source.repo_scratch import ScratchNames, rmtree

_log = logging.getLogger(__name__)


class TreeLocks:
    """One lock per (repository directory name, commit): held while a tree is made or used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._last_touch_ns = 0

    def lock(self, key: str, sha: str) -> threading.Lock:
        with self._lock:
            lock = self._locks.get((key, sha))
            if lock is None:
                lock = self._locks[(key, sha)] = threading.Lock()
            return lock

    def touch(self, path: Path) -> None:
        """Mark a tree as used now; strictly increasing within this process (LRU order)."""
        with self._lock:
            now = max(time.time_ns(), self._last_touch_ns + 1)
            self._last_touch_ns = now
        with contextlib.suppress(OSError):
            os.utime(path, ns=(now, now), follow_symlinks=False)


def make_read_only(top: Path) -> None:
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


def extract_tree(
    git: GitRunner, state: MirrorState, sha: str, final: Path, scratch: ScratchNames
) -> None:
    """Write the tree of commit ``sha`` (full) to ``final``, read-only, atomically."""
    extract_archive(git, state, sha, final, scratch, what=sha[:12])


def extract_archive(
    git: GitRunner,
    state: MirrorState,
    tree_ish: str,
    final: Path,
    scratch: ScratchNames,
    *,
    what: str,
    prefix: str = "",
) -> None:
    """Write ``tree_ish`` (a full commit or tree id) to ``final``, read-only, atomically.

    ``prefix`` (a normalised relative directory, see ``normal_path``) places the
    tree at ``final/<prefix>/`` (git writes the directory entry even for an empty
    tree); ``what`` names it in errors. Extracted under a scratch name in
    ``final``'s parent, then renamed into place: a concurrent process that won
    the race keeps its tree.
    """
    parent = final.parent
    name = scratch.new(tree_ish[:12])
    tmp = parent / name
    archive = parent / f"{name}.tar"
    args = ["archive", "--format=tar", f"--output={archive}"]
    if prefix:
        args.append(f"--prefix={prefix}/")
    try:
        status, _out, err, timed_out = git.run_local(state.mirror, [*args, tree_ish])
        if timed_out:
            raise RepoError(
                f"timed out after {git.local_timeout:g} s extracting {what} of "
                f"{state.source.shown}",
                RepoErrorKind.TIMEOUT,
            )
        if status != 0:
            raise RepoError(
                f"could not extract {what} of {state.source.shown}: {summarise_stderr(err)}",
                RepoErrorKind.FAILED,
            )
        tmp.mkdir()
        if prefix or not _tree_is_empty(git, state, tree_ish):
            # git writes a lone pax header for an empty commit tree, which tarfile
            # cannot read ("end of file header"): the empty directory is right.
            with tarfile.open(archive, "r:") as tar:
                tar.extractall(tmp, filter="tar")
        make_read_only(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():  # another process won the race: use its tree
                raise
        with contextlib.suppress(OSError):
            os.chmod(final, 0o555)
    except (OSError, tarfile.TarError) as exc:
        raise RepoError(
            f"could not extract {what} of {state.source.shown}: {exc}", RepoErrorKind.FAILED
        ) from None
    finally:
        archive.unlink(missing_ok=True)
        if tmp.exists():
            rmtree(tmp)
        scratch.done(name)


def _tree_is_empty(git: GitRunner, state: MirrorState, sha: str) -> bool:
    """True when commit ``sha`` holds no files at all (every file was removed)."""
    out = git.output(
        state.mirror,
        state.source.shown,
        ["ls-tree", "--name-only", sha],
        what=f"listing the tree of {sha[:12]}",
    )
    return not out.strip()


TREE_KINDS = ("trees", "subtrees")
"""The directories of a repository's cache holding checkouts (pruned together)."""


def lock_key(repo_dir: str, kind: str) -> str:
    """The :class:`TreeLocks` key of the checkouts in ``<repo_dir>/<kind>/``."""
    return repo_dir if kind == "trees" else f"{repo_dir}/{kind}"


def prune_trees(
    root: Path, keep: Path, max_checkouts: int, locks: TreeLocks, scratch: ScratchNames
) -> None:
    """Keep the ``max_checkouts`` most recently used trees across the cache at ``root``.

    Whole commits (``trees/``) and single paths (``subtrees/``) count alike.

    ``keep`` (just handed out) and trees whose lock is held stay.
    """
    trees: list[tuple[int, Path]] = []
    try:
        repo_dirs = list(root.iterdir())
    except OSError:
        return
    for repo_dir in repo_dirs:
        for kind in TREE_KINDS:
            tree_root = repo_dir / kind
            if not tree_root.is_dir():
                continue
            for entry in tree_root.iterdir():
                if entry.name.startswith(".") or not FULL_SHA.fullmatch(entry.name):
                    continue
                with contextlib.suppress(OSError):
                    trees.append((entry.lstat().st_mtime_ns, entry))
    if len(trees) <= max_checkouts:
        return
    trees.sort(key=lambda item: item[0], reverse=True)
    for _mtime, path in trees[max_checkouts:]:
        if path == keep:
            continue
        lock = locks.lock(lock_key(path.parent.parent.name, path.parent.name), path.name)
        if not lock.acquire(blocking=False):
            continue  # being extracted or handed out right now
        name = scratch.new("del")
        doomed = path.parent / name
        try:
            os.rename(path, doomed)
            rmtree(doomed)
            _log.debug("pruned checkout %s", path)
        except OSError:
            continue
        finally:
            scratch.done(name)
            lock.release()

"""The directory tree ids of one commit: which app paths changed between two commits.

One ``git ls-tree -r -t`` per commit (remembered) lists every directory's tree id
and every symlink and submodule. A plain directory app whose path holds no symlink
and no submodule anywhere below it reads nothing but the blobs under that path, so
its rendered manifests are a function of the path's tree id: a commit that leaves
the tree alone need not render the app again. Everything else (Helm, Kustomize,
a path through a symlink, the repository root) keeps the commit as its key.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.source.repo_git import GitRunner

MAX_TREE_ENTRIES = 200_000
"""A bigger commit gets no index (its apps are keyed by the commit, as before)."""

_TREE = "040000"
_LINK = "120000"
_SUBMODULE = "160000"


@dataclass(frozen=True, slots=True)
class TreeIndex:
    """Directory path -> tree id, and the directories holding a link or submodule below."""

    trees: dict[str, str]
    """Every directory of the commit (not the root) -> its tree id."""
    tainted: frozenset[str]
    """Directories with a symlink or submodule somewhere below them (or that are one)."""
    names: frozenset[str]
    """Every path in the commit (files, links, submodules and directories)."""

    def plain_tree(self, path: str) -> str | None:
        """The tree id of ``path`` if every part of it is a real directory with no
        symlink or submodule anywhere below it; None otherwise (or for the root)."""
        norm = normal_path(path)
        if norm is None or norm in self.tainted:
            return None
        return self.trees.get(norm)

    def has(self, path: str) -> bool:
        return path in self.names


def normal_path(path: str) -> str | None:
    """``apps/x`` for ``./apps/x/``; None for the root, absolute paths or any ``..``.

    Exactly the directory the renderer opens: no whitespace stripped (``"x "`` is
    its own directory), and a ``..`` anywhere is refused, not folded (``link/..``
    is the parent of the link's target when the renderer resolves it).
    """
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return None
    if ".." in path.split("/"):
        return None
    norm = posixpath.normpath(path)
    if norm in (".", ""):
        return None
    return norm


def read_tree_index(git: GitRunner, mirror: Path, sha: str) -> TreeIndex | None:
    """The :class:`TreeIndex` of commit ``sha`` (a full SHA) in ``mirror``, or None.

    None when git fails, times out, or the commit has more than
    :data:`MAX_TREE_ENTRIES` entries: callers then key by the commit.
    """
    status, out, _err, timed_out = git.run_local(
        mirror, ["ls-tree", "-r", "-t", "-z", "--full-tree", sha]
    )
    if status != 0 or timed_out:
        return None
    trees: dict[str, str] = {}
    tainted: set[str] = set()
    names: set[str] = set()
    entries = out.split("\0")
    if len(entries) > MAX_TREE_ENTRIES:
        return None
    for entry in entries:
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) != 3 or not path:
            return None
        mode, _type, oid = parts
        names.add(path)
        if mode == _TREE:
            trees[path] = oid
        elif mode in (_LINK, _SUBMODULE):
            tainted.add(path)
            parent = posixpath.dirname(path)
            while parent:
                tainted.add(parent)
                parent = posixpath.dirname(parent)
    return TreeIndex(trees=trees, tainted=frozenset(tainted), names=frozenset(names))

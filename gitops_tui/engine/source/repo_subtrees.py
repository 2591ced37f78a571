"""Checkouts of one app path: a commit's plain directory without the rest of the commit.

A commit that changes one app's files re-renders that app only (the others'
manifests are keyed by their path's tree id, see ``sources.content_key``). A plain
directory app reads nothing but the files under its path, so it needs only that
directory, not the commit's whole tree: ``<repo dir>/subtrees/<key>/<path>/``
holds the tree of ``<path>`` (``git archive --prefix=<path>/ <tree id>``), keyed
by the path and its tree id (a later commit that leaves the path alone shares
it), read-only, renamed into place atomically, pruned with the whole trees.

Only a path whose every part is a real directory and that has no symlink or
submodule anywhere below it (``TreeIndex.plain_tree``) gets one: the checkout
holds nothing else, so a renderer must not read outside the path (Helm, Kustomize
and ``$ref`` value files use the whole commit). Many paths of one commit asked
for (a cold start renders every app) are cheaper as one archive of the commit:
past :data:`SUBTREES_PER_COMMIT` extractions, the whole tree is used.
"""

from __future__ import annotations

import hashlib
import threading

SUBTREES_PER_COMMIT = 16
"""Single-path extractions per commit before the whole commit is extracted instead."""

_REMEMBERED = 256


def subtree_key(path: str, tree: str) -> str:
    """The directory name (40 hex digits) of ``path`` (normalised) holding ``tree``."""
    return hashlib.sha256(f"{path}\0{tree}".encode()).hexdigest()[:40]


class SubtreeBudget:
    """How many single-path extractions each commit had (the last few commits remembered)."""

    def __init__(self, per_commit: int = SUBTREES_PER_COMMIT) -> None:
        self._per_commit = per_commit
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}

    def take(self, repo: str, sha: str) -> bool:
        """True (and counted) while commit ``sha`` of ``repo`` is under its budget."""
        with self._lock:
            count = self._counts.pop((repo, sha), 0)
            if len(self._counts) >= _REMEMBERED:
                del self._counts[next(iter(self._counts))]
            self._counts[(repo, sha)] = count + 1  # last inserted: most recent
            return count < self._per_commit

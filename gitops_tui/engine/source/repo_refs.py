"""Revisions in a mirror: which names are allowed, what they resolve to, what is there.

Resolution follows Argo CD's repo server (``util/git/client.go``): ``HEAD`` is
the remote's default branch (kept at :data:`HEAD_REF` by each fetch), branches
win over tags of the same name, annotated tags are peeled to their commit, a
full SHA or a unique prefix of 4+ hex digits names a commit. No network here:
everything reads the local mirror.

Branches, tags and ``HEAD`` are looked up in a :data:`RefTable`: every ref of
the mirror read by ONE ``git for-each-ref`` (once per fetch generation, see
``MirrorState.ref_table``), annotated tags peeled to their commit, refs that
name no commit (a tag of a tree or a blob) kept as None so they never resolve,
as ``rev-parse <ref>^{commit}`` would not. SHAs (and the rare tag of a tag)
are still peeled by ``git rev-parse``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeAlias

from gitops_tui.engine.source.repo_errors import RepoError, RepoErrorKind
from gitops_tui.engine.source.repo_git import GitRunner

HEAD_REF = "refs/gitops-tui/HEAD"
"""Where the mirror keeps the commit the remote's ``HEAD`` pointed to at the last fetch."""

FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{4,39}")

MAX_TABLE_REFS = 50_000
"""Above this many refs (repository content is not trusted) no table is kept:
each name is peeled by ``git rev-parse`` as before."""

NESTED_TAG = ""
"""In a :data:`RefTable`: a tag of a tag, peeled by ``git rev-parse`` when asked for."""

RefTable: TypeAlias = Mapping[str, str | None]
"""Full ref name -> the commit it names, None when it names no commit, or :data:`NESTED_TAG`."""


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    short: str
    author: str
    date: datetime
    message_first_line: str


def valid_revision(rev: str) -> bool:
    """A branch or tag name git would accept (``check-ref-format`` rules, roughly).

    Rejecting revision syntax (``main~1``, ``v1^{tree}``, ``@{-1}``, ``a:b``)
    keeps user input from selecting anything but a ref or a commit.
    """
    if not rev or rev.startswith(("-", "/", ".")) or rev.endswith(("/", ".", ".lock")):
        return False
    if any(ord(c) <= 32 or ord(c) == 127 or c in "~^:?*[\\" for c in rev):
        return False
    return ".." not in rev and "@{" not in rev and "//" not in rev and rev != "@"


def _peel(git: GitRunner, mirror: Path, shown: str, spec: str) -> str | None:
    status, out, _err, timed_out = git.run_local(
        mirror, ["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"]
    )
    if timed_out:
        raise RepoError(
            f"timed out after {git.local_timeout:g} s resolving a revision in {shown}",
            RepoErrorKind.TIMEOUT,
        )
    sha = out.strip()
    return sha if status == 0 and FULL_SHA.fullmatch(sha) else None


def read_refs(git: GitRunner, mirror: Path, shown: str) -> RefTable | None:
    """Every branch, tag and :data:`HEAD_REF` of ``mirror`` in one ``git for-each-ref``.

    None (look each name up instead) when git fails or there are more than
    :data:`MAX_TABLE_REFS` refs.
    """
    status, out, _err, timed_out = git.run_local(
        mirror,
        [
            "for-each-ref",
            f"--count={MAX_TABLE_REFS + 1}",
            "--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)",
            "refs/heads",
            "refs/tags",
            HEAD_REF,
        ],
    )
    if timed_out:
        raise RepoError(
            f"timed out after {git.local_timeout:g} s listing the refs of {shown}",
            RepoErrorKind.TIMEOUT,
        )
    lines = out.splitlines()
    if status != 0 or len(lines) > MAX_TABLE_REFS:
        return None
    table: dict[str, str | None] = {}
    for line in lines:
        fields = line.split("\x00")
        if len(fields) != 5:
            return None
        name, sha, kind, peeled, peeled_kind = fields
        if kind == "commit" and FULL_SHA.fullmatch(sha):
            table[name] = sha
        elif kind == "tag" and peeled_kind == "commit" and FULL_SHA.fullmatch(peeled):
            table[name] = peeled
        elif kind == "tag" and peeled_kind == "tag":
            table[name] = NESTED_TAG
        else:
            table[name] = None  # a tree or a blob: not a revision
    return table


def lookup_revision(
    git: GitRunner, mirror: Path, shown: str, rev: str, refs: RefTable | None = None
) -> str | None:
    """The commit ``rev`` (validated) names in the fetched ``mirror``, or None.

    ``refs``: the mirror's :func:`read_refs` (branches, tags and ``HEAD`` are
    then looked up there, no git run); None: each candidate ref is peeled.
    """
    if FULL_SHA.fullmatch(rev):
        return _peel(git, mirror, shown, rev.lower())
    if rev == "HEAD":
        candidates = [HEAD_REF]
    elif rev.startswith("refs/"):
        candidates = [rev] if rev.startswith(("refs/heads/", "refs/tags/")) else []
    else:
        candidates = [f"refs/heads/{rev}", f"refs/tags/{rev}"]
    for candidate in candidates:
        if refs is None:
            sha = _peel(git, mirror, shown, candidate)
        else:
            sha = refs.get(candidate)
            if sha == NESTED_TAG:
                sha = _peel(git, mirror, shown, candidate)
        if sha is not None:
            return sha
    if _SHORT_SHA.fullmatch(rev):
        return _peel(git, mirror, shown, rev.lower())
    return None


def read_commit_info(git: GitRunner, mirror: Path, shown: str, full: str) -> CommitInfo:
    """Author, date and subject of the commit ``full`` (a full SHA) in ``mirror``."""
    out = git.output(
        mirror,
        shown,
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
    return CommitInfo(
        sha=parts[0],
        short=parts[1],
        author=parts[2],
        date=datetime.fromisoformat(parts[3]),
        message_first_line=body.splitlines()[0] if body else "",
    )


def list_revisions(git: GitRunner, mirror: Path, shown: str) -> list[str]:
    """Branch names (sorted) then tag names (newest first) in ``mirror``."""
    out = git.output(
        mirror,
        shown,
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

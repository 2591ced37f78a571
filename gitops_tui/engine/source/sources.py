"""From an Application's sources to its desired manifests: resolve, check out, render, cache.

Rendered manifests are cached by (repo, content, path, source options, app,
namespace, referenced commits): an unchanged revision is never rendered twice.
The content is the Git tree id of the app's path for a plain directory app with
no symlink or submodule below it (it reads nothing else: a commit elsewhere in
the repository does not render it again, and only that path is extracted to
render it: ``RepoCache.checkout_path``), else the resolved commit SHA (Helm and
Kustomize may read outside the path: the whole commit is extracted).
"""

from __future__ import annotations

import copy
import json
import threading
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.app.application import Application, Source
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.redact import redact_text, url_userinfo
from gitops_tui.engine.source.kustomize_refs import KUSTOMIZATION_NAMES
from gitops_tui.engine.source.limits import LimitExceeded, ManifestBudget, ManifestLimits
from gitops_tui.engine.source.render import (
    RenderError,
    RenderPolicy,
    defaulted_key,
    find_duplicates,
    render_source,
)
from gitops_tui.engine.source.repo import RepoCache, RepoError
from gitops_tui.engine.source.repo_tree_index import normal_path

MAX_OBJECT_BYTES = 3 * 1024 * 1024
"""Largest object (as JSON) the Kubernetes API server accepts in one request (3 MiB).

A bigger object can never be applied; the server refuses it (HTTP 413) before
reading it, often by closing the connection, which a client sees as a network
error. Refusing it here says what is wrong instead.
"""


class SourceError(GitOpsError):
    """Manifests could not be produced; ``kind`` is ``repo`` or ``render``."""

    title = "Manifest generation failed"

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(redact_text(message))


@dataclass(frozen=True, slots=True)
class Generated:
    """The rendered manifests of an app (shared with the manifest cache: read-only)."""

    revisions: tuple[str, ...]  # one resolved SHA per source
    manifests: tuple[Manifest, ...]
    duplicates: tuple[str, ...] = ()
    cached: bool = False

    @property
    def revision(self) -> str:
        return self.revisions[0] if self.revisions else ""


class ManifestCache:
    """Rendered manifests by render key, least recently used dropped first."""

    def __init__(self, limit: int = 4096) -> None:
        self._items: OrderedDict[tuple[str, ...], tuple[Manifest, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._floor = self._limit = limit
        self.renders = 0

    def fit(self, needed: int) -> None:
        """Hold at least ``needed`` entries (never fewer than the initial limit).

        A full pass over more apps than the cache holds evicts each entry just
        before it is needed again (least recently used, cyclic access): every
        re-compare would render every app. The engine sizes it to its fleet.
        """
        with self._lock:
            self._limit = max(self._floor, needed)

    def get(self, key: tuple[str, ...]) -> tuple[Manifest, ...] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], manifests: tuple[Manifest, ...]) -> None:
        with self._lock:
            self._items[key] = manifests
            self.renders += 1
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def drop_app(self, app: str) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] == app]:
                del self._items[key]


def resolve_revisions(
    app: Application,
    repos: RepoCache,
    *,
    refresh: bool,
    override: str | None = None,
    since: float | None = None,
) -> tuple[str, ...]:
    """One commit SHA per source (``override`` replaces the first source's revision).

    ``since``: when the refresh was asked for (see :meth:`RepoCache.resolve`).
    """
    shas: list[str] = []
    for index, source in enumerate(app.sources):
        revision = override if (override and index == 0) else source.target_revision
        try:
            shas.append(
                repos.resolve(source.repo_url, revision or "HEAD", refresh=refresh, since=since)
            )
        except RepoError as exc:
            raise SourceError(
                "repo", without_credentials(f"{source.repo_url}: {exc}", source.repo_url)
            ) from None
    return tuple(shas)


def generate(
    app: Application,
    repos: RepoCache,
    cache: ManifestCache,
    *,
    revisions: tuple[str, ...],
    timeout: float = 90.0,
    policy: RenderPolicy | None = None,
    limits: ManifestLimits = ManifestLimits(),
) -> Generated:
    """Render every manifest-producing source of ``app`` at ``revisions``.

    ``policy``: what rendering may fetch from elsewhere (default: ``RenderPolicy()``).
    Over ``limits`` (objects or bytes per app) the app fails with a ``SourceError``
    naming the limit; plain directories are measured before they are parsed.
    """
    policy = policy if policy is not None else RenderPolicy()
    if len(revisions) != len(app.sources):
        raise ValueError("one revision per source")
    roots: dict[int, Path] = {}

    def root(index: int) -> Path:
        # checked out only when a source must be rendered: a refresh whose manifests
        # are all cached touches no tree (no stat, lock or utime per app)
        if index not in roots:
            source, sha = app.sources[index], revisions[index]
            try:
                roots[index] = repos.checkout(source.repo_url, sha)
            except RepoError as exc:
                message = f"{source.repo_url}@{sha[:7]}: {exc}"
                raise SourceError("repo", without_credentials(message, source.repo_url)) from None
        return roots[index]

    def path_root(index: int) -> Path:
        # a plain directory keyed by its tree reads only its path: that path alone
        # is extracted, not the commit (a commit touching one app costs one app)
        source, sha = app.sources[index], revisions[index]
        if source.ref or index in roots:
            return root(index)
        try:
            return repos.checkout_path(source.repo_url, sha, source.path)
        except RepoError as exc:
            message = f"{source.repo_url}@{sha[:7]}: {exc}"
            raise SourceError("repo", without_credentials(message, source.repo_url)) from None

    ref_key = ",".join(f"{s.ref}={revisions[i]}" for i, s in enumerate(app.sources) if s.ref)
    namespace = app.destination.namespace
    out: list[Manifest] = []
    all_cached = True
    budget = ManifestBudget(limits, app.name)
    for index, source in enumerate(app.sources):
        if not source.renders_manifests:
            continue
        content = content_key(source, repos, revisions[index])
        key = (
            app.name,
            source.repo_url,
            content,
            source.options_fingerprint(),
            namespace,
            ref_key,
            policy.cache_key(),
        )
        found = cache.get(key)
        try:
            if found is None:
                all_cached = False
                ref_roots = {s.ref: root(i) for i, s in enumerate(app.sources) if s.ref}
                here = path_root(index) if content.startswith("tree:") else root(index)
                budget.before_render(source, here)
                found = tuple(
                    _render(
                        source,
                        here,
                        app,
                        namespace,
                        ref_roots,
                        timeout,
                        policy,
                        revisions[index],
                    )
                )
                _check_sizes(found, namespace)
                budget.add(found)  # over the limits: not kept in the cache either
                cache.put(key, found)
            else:
                budget.add(found)
        except LimitExceeded as exc:
            raise SourceError("render", str(exc)) from None
        # shared with the cache, not copied: callers treat manifests as read-only
        # (prepare_desired copies what it changes), so N apps hold one copy of their
        # manifests, not two. Argo CD documents (child Applications, ApplicationSets)
        # are copied: they become parsed apps that keep their document.
        out.extend(copy.deepcopy(obj) if _argo_document(obj) else obj for obj in found)
    # the last one wins on duplicates (Argo CD's DeduplicateTargetObjects); report them.
    # An object written without a namespace is the same as one written with the
    # destination namespace.
    dupes = find_duplicates(out, namespace)
    if dupes:
        last = {defaulted_key(obj, namespace): i for i, obj in enumerate(out)}
        out = [obj for i, obj in enumerate(out) if last[defaulted_key(obj, namespace)] == i]
    return Generated(
        revisions=revisions,
        manifests=tuple(out),
        duplicates=tuple(k.display for k in dupes),
        cached=all_cached,
    )


_TOOL_FILES = (*KUSTOMIZATION_NAMES, "Chart.yaml")


def content_key(source: Source, repos: RepoCache, sha: str) -> str:
    """What ``source``'s rendered manifests depend on in the repository at ``sha``.

    ``tree:<id>`` of the app path for a plain directory app whose path and
    everything below it are real directories and files (no symlink, no submodule)
    and that Kustomize or Helm would not render (no section for them, no
    kustomization or ``Chart.yaml`` in the path): such a render reads only the
    blobs of that tree. Otherwise the commit ``sha`` itself (safety over speed).
    """
    if source.helm is not None or source.kustomize is not None or source.chart:
        return sha
    norm = normal_path(source.path)
    if norm is None:
        return sha
    index = repos.tree_index(source.repo_url, sha)
    tree = index.plain_tree(norm) if index is not None else None
    if index is None or tree is None:
        return sha
    if source.directory is None and any(index.has(f"{norm}/{n}") for n in _TOOL_FILES):
        return sha
    return f"tree:{tree}"


def _argo_document(obj: Manifest) -> bool:
    return str(obj.get("apiVersion", "")).startswith("argoproj.io/")


def content_changed(
    app: Application, repos: RepoCache, old: tuple[str, ...], new: tuple[str, ...]
) -> bool:
    """True unless rendering ``app`` at ``new`` surely gives what it gave at ``old``.

    Unchanged only when every source is at the same commit, or renders a plain
    directory whose tree id (``content_key``) is the same at both commits. Used to
    order work after a commit (the apps whose files changed first), never to skip it.
    """
    if len(old) != len(new) or len(new) != len(app.sources):
        return True
    for source, before, after in zip(app.sources, old, new, strict=True):
        if before == after:
            continue
        if source.ref or not source.renders_manifests:
            return True  # read by the other sources (Helm value files): a new commit
        key = content_key(source, repos, after)
        if not key.startswith("tree:") or key != content_key(source, repos, before):
            return True
    return False


def _render(
    source: Source,
    root: Path,
    app: Application,
    namespace: str,
    ref_roots: dict[str, Path],
    timeout: float,
    policy: RenderPolicy,
    revision: str,
) -> list[Manifest]:
    try:
        return render_source(
            source,
            root,
            app_name=app.name,
            namespace=namespace,
            ref_roots=ref_roots,
            timeout=timeout,
            policy=policy,
            revision=revision,
        )
    except RenderError as exc:
        raise SourceError("render", str(exc)) from None


def _check_sizes(manifests: tuple[Manifest, ...], namespace: str) -> None:
    """Refuse objects the API server would never accept (see ``MAX_OBJECT_BYTES``)."""
    for obj in manifests:
        size = len(json.dumps(obj, separators=(",", ":")).encode())
        if size > MAX_OBJECT_BYTES:
            raise SourceError(
                "render",
                f"{defaulted_key(obj, namespace).display}: object is {size / (1024 * 1024):.1f} MiB as "
                f"JSON, more than the {MAX_OBJECT_BYTES >> 20} MiB the Kubernetes API server "
                "accepts in one request",
            )


def without_credentials(message: str, url: str) -> str:
    """``message`` without the user name and password written in ``url``.

    ``redact_text`` only finds credentials inside URLs; git also echoes them
    elsewhere (``unable to look up user:password@host`` for a ``git://`` URL), so
    the ones this URL carries are removed wherever they appear.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return message
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    # a password with an unescaped "/" ends the netloc early: redaction's reading wins
    userinfo = max(userinfo, url_userinfo(url), key=len)
    if ":" not in userinfo and parts.scheme.lower() in ("ssh", "git+ssh", "ssh+git"):
        return message  # an SSH user name (git@...) is no secret, as in redact_text
    secrets = {userinfo, userinfo.partition(":")[2]}
    secrets |= {urllib.parse.unquote(item) for item in secrets}
    for secret in sorted((item for item in secrets if len(item) >= 3), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message

"""From an Application's sources to its desired manifests: resolve, check out, render, cache.

Rendered manifests are cached by (repo, resolved SHA, path, source options, app,
namespace, referenced commits): an unchanged revision is never rendered twice.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.apps import Application, Source
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.redact import redact_text
from gitops_tui.engine.render import RenderError, find_duplicates, render_source
from gitops_tui.engine.repo import RepoCache, RepoError


class SourceError(Exception):
    """Manifests could not be produced; ``kind`` is ``repo`` or ``render``."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(redact_text(message))


@dataclass(frozen=True, slots=True)
class Generated:
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
        self._limit = limit
        self.renders = 0

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
    app: Application, repos: RepoCache, *, refresh: bool, override: str | None = None
) -> tuple[str, ...]:
    """One commit SHA per source (``override`` replaces the first source's revision)."""
    shas: list[str] = []
    for index, source in enumerate(app.sources):
        revision = override if (override and index == 0) else source.target_revision
        try:
            shas.append(repos.resolve(source.repo_url, revision or "HEAD", refresh=refresh))
        except RepoError as exc:
            raise SourceError("repo", f"{source.repo_url}: {exc}") from None
    return tuple(shas)


def generate(
    app: Application,
    repos: RepoCache,
    cache: ManifestCache,
    *,
    revisions: tuple[str, ...],
    timeout: float = 90.0,
) -> Generated:
    """Render every manifest-producing source of ``app`` at ``revisions``."""
    roots: dict[int, Path] = {}
    for index, (source, sha) in enumerate(zip(app.sources, revisions, strict=True)):
        try:
            roots[index] = repos.checkout(source.repo_url, sha)
        except RepoError as exc:
            raise SourceError("repo", f"{source.repo_url}@{sha[:7]}: {exc}") from None
    ref_roots = {s.ref: roots[i] for i, s in enumerate(app.sources) if s.ref}
    ref_key = ",".join(f"{s.ref}={revisions[i]}" for i, s in enumerate(app.sources) if s.ref)
    namespace = app.destination.namespace
    out: list[Manifest] = []
    all_cached = True
    for index, source in enumerate(app.sources):
        if not source.renders_manifests:
            continue
        key = (
            app.name,
            source.repo_url,
            revisions[index],
            source.options_fingerprint(),
            namespace,
            ref_key,
        )
        found = cache.get(key)
        if found is None:
            all_cached = False
            found = tuple(_render(source, roots[index], app, namespace, ref_roots, timeout))
            cache.put(key, found)
        out.extend(copy.deepcopy(list(found)))
    # the last source wins on duplicates (Argo CD multi-source rule); report them
    dupes = find_duplicates(out)
    if dupes:
        last = {ResourceKey.of(obj): i for i, obj in enumerate(out)}
        out = [obj for i, obj in enumerate(out) if last[ResourceKey.of(obj)] == i]
    return Generated(
        revisions=revisions,
        manifests=tuple(out),
        duplicates=tuple(k.display for k in dupes),
        cached=all_cached,
    )


def _render(
    source: Source,
    root: Path,
    app: Application,
    namespace: str,
    ref_roots: dict[str, Path],
    timeout: float,
) -> list[Manifest]:
    try:
        return render_source(
            source,
            root,
            app_name=app.name,
            namespace=namespace,
            ref_roots=ref_roots,
            timeout=timeout,
        )
    except RenderError as exc:
        raise SourceError("render", str(exc)) from None

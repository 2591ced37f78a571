"""AppProject restrictions (Argo CD ``argoproj.io/v1alpha1`` ``AppProject``).

A project limits where an app's manifests may come from (``sourceRepos``), where
they may go (``destinations``) and which kinds they may hold (cluster-scoped
kinds only when ``clusterResourceWhitelist`` lists them; namespaced kinds unless
``namespaceResourceBlacklist`` lists them or a ``namespaceResourceWhitelist``
omits them). Patterns are globs, as in Argo CD.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.model import Manifest

GroupKind = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    source_repos: tuple[str, ...]
    destinations: tuple[tuple[str, str, str], ...]  # (server, name, namespace) globs
    cluster_whitelist: tuple[GroupKind, ...]
    namespace_blacklist: tuple[GroupKind, ...]
    namespace_whitelist: tuple[GroupKind, ...] | None


def _group_kinds(items: Any) -> tuple[GroupKind, ...]:
    out: list[GroupKind] = []
    for item in items or ():
        if isinstance(item, Mapping):
            out.append((str(item.get("group") or ""), str(item.get("kind") or "")))
    return tuple(out)


def project_from_object(obj: Manifest) -> Project:
    spec = obj.get("spec") or {}
    destinations = tuple(
        (str(d.get("server") or ""), str(d.get("name") or ""), str(d.get("namespace") or ""))
        for d in spec.get("destinations") or ()
        if isinstance(d, Mapping)
    )
    whitelist = spec.get("namespaceResourceWhitelist")
    return Project(
        name=str((obj.get("metadata") or {}).get("name") or ""),
        source_repos=tuple(str(r) for r in spec.get("sourceRepos") or ()),
        destinations=destinations,
        cluster_whitelist=_group_kinds(spec.get("clusterResourceWhitelist")),
        namespace_blacklist=_group_kinds(spec.get("namespaceResourceBlacklist")),
        namespace_whitelist=_group_kinds(whitelist) if whitelist is not None else None,
    )


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def _listed(items: Sequence[GroupKind], group: str, kind: str) -> bool:
    return any(_glob(g or "", group) and _glob(k, kind) for g, k in items)


def app_violations(app: Application, project: Project | None) -> list[str]:
    """Why ``app`` may not use ``project`` (empty list: permitted)."""
    if project is None:
        if app.project == "default":
            return []  # Argo CD's default project permits everything
        return [f"spec.project: project {app.project!r} does not exist"]
    problems: list[str] = []
    for source in app.sources:
        if not any(_glob(pattern, source.repo_url) for pattern in project.source_repos):
            problems.append(
                f"spec.source.repoURL: repository {source.repo_url!r} is not permitted in project {project.name!r}"
            )
    dest = app.destination
    permitted = any(
        _destination_matches(entry, dest.server, dest.name, dest.namespace)
        for entry in project.destinations
    )
    if not permitted:
        where = dest.name or dest.server
        problems.append(
            f"spec.destination: {where}/{dest.namespace} is not a permitted destination of project {project.name!r}"
        )
    return problems


def _destination_matches(
    entry: tuple[str, str, str], server: str, name: str, namespace: str
) -> bool:
    """A project destination (server, name, namespace globs) against an app's destination."""
    pat_server, pat_name, pat_namespace = entry
    if not _glob(pat_namespace or "*", namespace):
        return False
    if pat_server == "*" or pat_name == "*":
        return True
    by_server = bool(pat_server and server and _glob(pat_server, server))
    by_name = bool(pat_name and name and _glob(pat_name, name))
    return by_server or by_name


def kind_permitted(project: Project | None, group: str, kind: str, *, namespaced: bool) -> bool:
    if project is None:
        return True
    if not namespaced:
        return _listed(project.cluster_whitelist, group, kind)
    if _listed(project.namespace_blacklist, group, kind):
        return False
    if project.namespace_whitelist is not None:
        return _listed(project.namespace_whitelist, group, kind)
    return True

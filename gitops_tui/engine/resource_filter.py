"""Which (group, kind) gitops-tui looks at on a cluster: Argo CD's ``resource.exclusions`` and
``resource.inclusions`` (``util/settings/resources_filter.go``, ``filtered_resource.go``).

An entry ``{apiGroups, kinds, clusters}`` matches when each of its lists matches (an
empty or missing list matches anything): ``apiGroups`` and ``clusters`` are globs
(``*``, ``?``, ``[...]``, ``{a,b}``; ``*`` crosses dots and slashes), ``kinds`` are exact
names or ``*``. A cluster is named by its API server URL; the default context's cluster
also answers to Argo CD's in-cluster address ``https://kubernetes.default.svc``.

A kind is excluded on a cluster when an exclusion matches it (Argo CD's hard-coded
``CORE_EXCLUSIONS`` always count), or when some inclusion names that cluster and none
includes the kind. An excluded kind is neither watched nor cached, its objects in Git
are dropped from the desired state (with a warning condition) and a prune never
deletes one.

The filter in force is process-wide (one engine per process), installed with the
resource customizations it comes from.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.model import Manifest, ResourceKey

IN_CLUSTER_URL = "https://kubernetes.default.svc"


@functools.lru_cache(maxsize=1024)
def glob_regex(pattern: str) -> re.Pattern[str] | None:
    """A glob as Argo CD's ``util/glob`` (gobwas/glob without separators); None if invalid."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                return None
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        return None
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None


def glob_match(pattern: str, text: str) -> bool:
    found = glob_regex(pattern)
    return found is not None and found.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class FilteredResource:
    """One ``{apiGroups, kinds, clusters}`` entry."""

    api_groups: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()

    @classmethod
    def of(cls, item: Mapping[str, Sequence[str]]) -> FilteredResource:
        return cls(
            tuple(item.get("apiGroups") or ()),
            tuple(item.get("kinds") or ()),
            tuple(item.get("clusters") or ()),
        )

    def match_cluster(self, cluster_names: Iterable[str]) -> bool:
        if not self.clusters:
            return True
        return any(glob_match(p, c) for p in self.clusters for c in cluster_names)

    def match(self, group: str, kind: str, cluster_names: Iterable[str]) -> bool:
        group_ok = not self.api_groups or any(glob_match(p, group) for p in self.api_groups)
        kind_ok = not self.kinds or any(k in ("*", kind) for k in self.kinds)
        return group_ok and kind_ok and self.match_cluster(cluster_names)

    def as_dict(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, values in (
            ("apiGroups", self.api_groups),
            ("kinds", self.kinds),
            ("clusters", self.clusters),
        ):
            if values:
                out[name] = list(values)
        return out


CORE_EXCLUSIONS: tuple[FilteredResource, ...] = (
    FilteredResource(api_groups=("events.k8s.io", "metrics.k8s.io")),
    FilteredResource(api_groups=("",), kinds=("Event",)),
    FilteredResource(api_groups=("coordination.k8s.io",), kinds=("Lease",)),
)
"""Excluded whatever the settings say, as Argo CD's ``coreExcludedResources``."""


@dataclass(frozen=True, slots=True)
class ResourceFilter:
    """``resource.exclusions`` / ``resource.inclusions`` as configured (core ones added)."""

    exclusions: tuple[FilteredResource, ...] = ()
    inclusions: tuple[FilteredResource, ...] = ()

    @classmethod
    def of(cls, exclusions: Any = (), inclusions: Any = ()) -> ResourceFilter:
        return cls(
            tuple(FilteredResource.of(i) for i in exclusions or ()),
            tuple(FilteredResource.of(i) for i in inclusions or ()),
        )

    def is_excluded(self, group: str, kind: str, cluster_names: Iterable[str]) -> bool:
        """Argo CD's ``IsExcludedResource``: excluded wins, then included, then any
        inclusion for this cluster makes everything else excluded."""
        names = tuple(cluster_names)
        if any(f.match(group, kind, names) for f in (*CORE_EXCLUSIONS, *self.exclusions)):
            return True
        if any(f.match(group, kind, names) for f in self.inclusions):
            return False
        return any(f.match_cluster(names) for f in self.inclusions)


_lock = threading.Lock()
_active = ResourceFilter()


def install(resource_filter: ResourceFilter) -> None:
    """Make ``resource_filter`` the one in force (the customizations install it)."""
    global _active
    with _lock:
        _active = resource_filter


def active() -> ResourceFilter:
    return _active


def is_excluded(group: str, kind: str, cluster_names: Iterable[str]) -> bool:
    """Whether the filter in force excludes (group, kind) on the cluster so named."""
    return _active.is_excluded(group, kind, cluster_names)


def split_excluded(
    manifests: Iterable[Manifest], excludes: Callable[[str, str], bool]
) -> tuple[list[Manifest], list[str]]:
    """Drop desired objects of excluded kinds, as Argo CD's comparison does; the second
    list holds its ``ExcludedResourceWarning`` message for each one dropped."""
    kept: list[Manifest] = []
    messages: list[str] = []
    for obj in manifests:
        key = ResourceKey.of(obj)
        if excludes(key.group, key.kind):
            messages.append(
                f"Resource {key.group}/{key.kind} {key.name} is excluded in the settings"
            )
        else:
            kept.append(obj)
    return kept, messages

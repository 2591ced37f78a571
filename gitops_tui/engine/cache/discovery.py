"""API discovery: the kinds a cluster serves, their scope, verbs and URLs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from gitops_tui.engine.cache.kubeclient import KubeClient, path_segment
from gitops_tui.engine.model import Manifest, group_of


@dataclass(frozen=True, slots=True)
class ApiResource:
    """A served kind: how to reach it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{path_segment('namespace', namespace)}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, namespace: str, name: str) -> str:
        """The URL of one object; an empty name raises (never a collection URL: a LIST)."""
        where = f" in namespace {namespace}" if self.namespaced and namespace else ""
        segment = path_segment(f"{self.kind}{where}", name)
        return f"{self.collection_path(namespace if self.namespaced else '')}/{segment}"


class Discovery:
    """The kinds the server serves (aggregated discovery: two requests)."""

    _ACCEPT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._by_kind: dict[tuple[str, str], ApiResource] = {}
        self._lock = threading.Lock()
        self.loaded_at = 0.0

    def refresh(self) -> None:
        found: dict[tuple[str, str], ApiResource] = {}
        for root in ("/api", "/apis"):
            doc = self._client.request("GET", root, accept=self._ACCEPT)
            for group in doc.get("items") or []:
                name = str((group.get("metadata") or {}).get("name") or "")
                # versions are listed in preference order: keep the first that serves a kind
                for version in group.get("versions") or []:
                    for res in version.get("resources") or []:
                        kind = str((res.get("responseKind") or {}).get("kind") or "")
                        if not kind or (name, kind) in found:
                            continue
                        found[(name, kind)] = ApiResource(
                            group=name,
                            version=str(version.get("version")),
                            kind=kind,
                            plural=str(res.get("resource")),
                            namespaced=res.get("scope") == "Namespaced",
                            verbs=frozenset(res.get("verbs") or ()),
                        )
        with self._lock:
            self._by_kind = found
            self.loaded_at = time.monotonic()

    def lookup(self, group: str, kind: str) -> ApiResource | None:
        with self._lock:
            return self._by_kind.get((group, kind))

    def resources(self) -> list[ApiResource]:
        """Every served kind (as of the last refresh)."""
        with self._lock:
            return list(self._by_kind.values())

    def for_object(self, obj: Manifest) -> ApiResource | None:
        return self.lookup(group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", "")))

    def resolve(self, group: str, kind: str, *, max_age: float = 1.0) -> ApiResource | None:
        """``lookup``, refreshing discovery once if the kind is unknown (a new CRD) and
        discovery is older than ``max_age`` seconds."""
        found = self.lookup(group, kind)
        if found is None and time.monotonic() - self.loaded_at > max_age:
            self.refresh()
            found = self.lookup(group, kind)
        return found

"""Value types shared by the whole engine: resource keys and Argo CD's status words.

Everything here is immutable so that snapshots can be handed to other threads
(the UI) without copying or locking.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
"""A Kubernetes object as plain JSON-compatible data."""

APPLICATION_GROUP = "argoproj.io"
"""The API group of Argo CD's kinds (Application, AppProject, ApplicationSet)."""
APPLICATION_KIND = "Application"
PROJECT_KIND = "AppProject"


class SyncStatus(enum.StrEnum):
    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


class HealthStatus(enum.StrEnum):
    """Argo CD's health words. ``severity`` orders them best to worst."""

    HEALTHY = "Healthy"
    SUSPENDED = "Suspended"
    PROGRESSING = "Progressing"
    MISSING = "Missing"
    DEGRADED = "Degraded"
    UNKNOWN = "Unknown"

    @property
    def severity(self) -> int:
        return _HEALTH_ORDER.index(self)


_HEALTH_ORDER = [
    HealthStatus.HEALTHY,
    HealthStatus.SUSPENDED,
    HealthStatus.PROGRESSING,
    HealthStatus.MISSING,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
]


def group_of(api_version: str) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` -> ``""`` (the core group)."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


@dataclass(frozen=True, order=True, slots=True)
class ResourceKey:
    """Identity of an object as Argo CD matches desired and live: no version."""

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Manifest) -> ResourceKey:
        meta = obj.get("metadata") or {}
        return cls(
            group=group_of(str(obj.get("apiVersion", ""))),
            kind=str(obj.get("kind", "")),
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name", "")),
        )

    @classmethod
    def parse(cls, text: str) -> ResourceKey:
        """Parse ``GROUP/KIND/NAMESPACE/NAME`` (group and namespace may be empty)."""
        parts = text.split("/")
        if len(parts) != 4 or not parts[1] or not parts[3]:
            raise ValueError(
                f"resource {text!r} is not GROUP/KIND/NAMESPACE/NAME "
                "(use an empty group or namespace, e.g. /ConfigMap/default/cfg)"
            )
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.group}/{self.kind}/{self.namespace}/{self.name}"

    @property
    def display(self) -> str:
        """Short human form: ``Deployment default/web``."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True, slots=True)
class Condition:
    """An app condition as Argo CD names them (``ComparisonError``, ...)."""

    type: str
    message: str


class ConditionType(enum.StrEnum):
    INVALID_SPEC = "InvalidSpecError"
    COMPARISON_ERROR = "ComparisonError"
    REPO_ERROR = "RepoError"
    SHARED_RESOURCE = "SharedResourceWarning"
    SYNC_ERROR = "SyncError"
    CLUSTER_UNREACHABLE = "ClusterUnreachable"
    ORPHANED_RESOURCE = "OrphanedResourceWarning"
    UNKNOWN_KIND = "UnknownKind"
    EXCLUDED_RESOURCE = "ExcludedResourceWarning"
    REPEATED_RESOURCE = "RepeatedResourceWarning"
    SELF_HEAL_BACKOFF = "SelfHealBackoffWarning"  # not Argo CD's: a self-heal waits
    MANAGED_BY_ARGOCD = "ManagedByArgoCD"  # not Argo CD's: its controller reconciles the app

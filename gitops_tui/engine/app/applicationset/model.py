"""The ApplicationSet model, the inputs of generation and its result."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.applicationset.gotemplate import Options
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.model import Condition, Manifest

API_VERSION = "argoproj.io/v1alpha1"
KIND = "ApplicationSet"
DEFAULT_NAMESPACE = "argocd"

MAX_GENERATED = 10_000
"""Most parameter sets one generator (or the whole set) may yield; more is an error."""

ERROR_OCCURRED = "ErrorOccurred"
"""Argo CD's ApplicationSet condition type for a failed generation."""

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
"""The Application finalizer that makes deleting an app delete its resources."""


class ApplicationsSync(enum.StrEnum):
    """``spec.syncPolicy.applicationsSync``: what the set may do to its Applications."""

    CREATE_ONLY = "create-only"
    CREATE_UPDATE = "create-update"
    CREATE_DELETE = "create-delete"
    SYNC = "sync"

    @property
    def may_update(self) -> bool:
        return self in (ApplicationsSync.CREATE_UPDATE, ApplicationsSync.SYNC)

    @property
    def may_delete(self) -> bool:
        return self in (ApplicationsSync.CREATE_DELETE, ApplicationsSync.SYNC)


@dataclass(frozen=True)
class IgnoreDifference:
    """One ``spec.ignoreApplicationDifferences`` entry; ``name`` empty means every app."""

    name: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplicationSet:
    """A valid ApplicationSet (the fields generation and planning use, plus the raw doc)."""

    name: str
    namespace: str
    origin: str
    generators: tuple[Mapping[str, Any], ...]
    template: Mapping[str, Any]
    template_patch: str = ""
    go_template: bool = False
    go_options: Options = field(default_factory=Options)
    applications_sync: ApplicationsSync = ApplicationsSync.SYNC
    preserve_resources_on_deletion: bool = False
    ignore_differences: tuple[IgnoreDifference, ...] = ()
    preserved_annotations: tuple[str, ...] = ()
    preserved_labels: tuple[str, ...] = ()
    raw: Manifest = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class InvalidApplicationSet:
    """An ApplicationSet document that failed validation, with every problem found."""

    name: str
    origin: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster the ``clusters`` generator may choose: a kubeconfig context in local mode
    (name = context, server = its cluster's URL), in Argo CD mode a cluster Secret
    (``secret``) or Argo CD's implicit in-cluster entry (:mod:`.cluster_secrets`)."""

    name: str
    server: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    project: str = ""
    secret: bool = False


Checkout = Callable[[str, str], tuple[str, Path]]
"""``(repo_url, revision) -> (sha, read-only tree directory)``; raises ``GitOpsError``.

The engine passes :class:`gitops_tui.engine.source.repo.RepoCache`'s ``resolve`` and
``checkout`` (the app layer does not import the source layer)."""


@dataclass(frozen=True)
class Inputs:
    """What generation may read beyond the ApplicationSet: plain data, no engine."""

    clusters: tuple[ClusterInfo, ...] = ()
    checkout: Checkout | None = None
    max_generated: int = MAX_GENERATED
    argocd_clusters: bool = False
    """``clusters`` are Argo CD's (``cluster_secrets.argocd_clusters``), not kubeconfig
    contexts: the generator then selects and names them as Argo CD's controller does."""
    clusters_error: str = ""
    """Why the clusters could not be read: the ``clusters`` generator fails with it."""


@dataclass(frozen=True)
class Generated:
    """The outcome of one ApplicationSet: its Applications, or error conditions and none."""

    appset: ApplicationSet | InvalidApplicationSet
    applications: tuple[Application, ...] = ()
    conditions: tuple[Condition, ...] = ()

    @property
    def name(self) -> str:
        return self.appset.name

    @property
    def ok(self) -> bool:
        return not self.conditions and isinstance(self.appset, ApplicationSet)


class GenerationError(GitOpsError):
    """Generation of one ApplicationSet failed; the message names the generator and limit."""

    title = "ApplicationSet error"


def error_condition(message: str) -> Condition:
    return Condition(ERROR_OCCURRED, message)

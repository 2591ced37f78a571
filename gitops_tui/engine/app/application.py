"""Argo CD ``Application`` (argoproj.io/v1alpha1): the model, as immutable value types.

``parse.parse_application`` builds these from a manifest (validated as Argo CD does);
``loading.load_application_files`` from files and directories. An Application that
fails validation is an ``InvalidApplication`` holding every problem found.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.engine.model import Condition, ConditionType, Manifest

API_VERSION = "argoproj.io/v1alpha1"
KIND = "Application"
DEFAULT_PROJECT = "default"
DEFAULT_APP_NAMESPACE = "argocd"
DEFAULT_REVISION_HISTORY_LIMIT = 10


@dataclass(frozen=True)
class DirectoryOptions:
    """``spec.source.directory``: which files of a plain directory are manifests."""

    recurse: bool = False
    include: str = ""
    exclude: str = ""


@dataclass(frozen=True)
class Source:
    """One ``spec.source`` / ``spec.sources[]`` entry. Empty strings mean "not set".

    ``kustomize`` and ``helm`` hold the validated sections as written (camelCase keys).
    """

    repo_url: str
    target_revision: str = "HEAD"
    path: str = ""
    chart: str = ""
    ref: str = ""
    directory: DirectoryOptions | None = None
    kustomize: Mapping[str, Any] | None = None
    helm: Mapping[str, Any] | None = None

    @property
    def renders_manifests(self) -> bool:
        """False for a ``ref``-only source that just lends value files to others."""
        return bool(self.path or self.chart)

    def options_fingerprint(self) -> str:
        """Stable hash of what shapes the rendered output, besides the commit itself.

        Combine it with the resolved commit SHA, the app name and destination
        namespace (and referenced sources' commits) to key a manifest cache.
        """
        options = {
            "repoURL": self.repo_url,
            "path": self.path,
            "chart": self.chart,
            "directory": None
            if self.directory is None
            else [self.directory.recurse, self.directory.include, self.directory.exclude],
            "kustomize": self.kustomize,
            "helm": self.helm,
        }
        text = json.dumps(options, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Destination:
    """``spec.destination``: exactly one of ``server`` and ``name``.

    An empty ``namespace`` means not set: namespaced objects without one keep none.
    """

    server: str = ""
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """``spec.syncPolicy.retry``. ``limit`` < 0 retries forever; 0 never retries."""

    limit: int = 0
    duration_s: float = 5.0
    factor: float = 2.0
    max_duration_s: float = 180.0

    def wait(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): min(max, duration*factor^n)."""
        try:
            delay = self.duration_s * math.pow(self.factor, max(attempt, 0))
        except OverflowError:
            delay = math.inf
        if self.max_duration_s > 0:
            return min(self.max_duration_s, delay)
        return delay


@dataclass(frozen=True)
class SyncPolicy:
    """``spec.syncPolicy``; ``options`` holds the ``syncOptions`` as name -> value."""

    automated: bool = False
    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False
    options: Mapping[str, str] = field(default_factory=dict)
    retry: RetryPolicy | None = None

    def option_enabled(self, name: str) -> bool:
        """True when sync option ``name`` is set to ``true``."""
        return self.options.get(name) == "true"


@dataclass(frozen=True)
class Application:
    """A valid Argo CD Application. ``origin`` is a file path or ``cluster:<namespace>``."""

    name: str
    namespace: str
    project: str
    sources: tuple[Source, ...]
    destination: Destination
    sync_policy: SyncPolicy = field(default_factory=SyncPolicy)
    ignore_differences: tuple[Mapping[str, Any], ...] = ()
    revision_history_limit: int = DEFAULT_REVISION_HISTORY_LIMIT
    origin: str = ""
    raw: Manifest = field(default_factory=dict, compare=False)

    @property
    def source(self) -> Source:
        """The first (for single-source apps, the only) source."""
        return self.sources[0]

    @property
    def is_multi_source(self) -> bool:
        """True when the app uses ``spec.sources`` (even with one entry), as Argo CD."""
        spec = self.raw.get("spec")
        return len(self.sources) > 1 or (isinstance(spec, dict) and bool(spec.get("sources")))


@dataclass(frozen=True)
class InvalidApplication:
    """An Application document that failed validation, with every problem found."""

    name: str
    origin: str
    conditions: tuple[Condition, ...]

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(condition.message for condition in self.conditions)


def invalid_application(name: str, origin: str, messages: Sequence[str]) -> InvalidApplication:
    """An ``InvalidApplication`` with one ``InvalidSpecError`` condition per message."""
    conditions = tuple(Condition(ConditionType.INVALID_SPEC, message) for message in messages)
    return InvalidApplication(name=name, origin=origin, conditions=conditions)

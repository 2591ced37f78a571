"""Per-resource Argo CD annotations: sync waves, hooks, delete policies, sync and compare options.

Follows ``gitops-engine/pkg/sync/{syncwaves,hook,hook/helm,resource}``: CSV values are
trimmed and de-duplicated, Helm's hook annotations are mapped only when the Argo CD one
is absent, and unknown values are ignored (``unknown_hook_types`` reports them).
Unlike upstream, a sync wave that is not an integer raises instead of silently
falling back, so a typo cannot reorder a sync.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from gitops_tui.engine.model import Manifest, ResourceKey

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
COMPARE_OPTIONS = "argocd.argoproj.io/compare-options"
IGNORE_HEALTHCHECK = "argocd.argoproj.io/ignore-healthcheck"
HELM_HOOK = "helm.sh/hook"
HELM_HOOK_WEIGHT = "helm.sh/hook-weight"
HELM_HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"

PRE_SYNC = "PreSync"
SYNC = "Sync"
POST_SYNC = "PostSync"
SYNC_FAIL = "SyncFail"
POST_DELETE = "PostDelete"
SKIP = "Skip"

HOOK_TYPES = frozenset({PRE_SYNC, SYNC, POST_SYNC, SYNC_FAIL, POST_DELETE, SKIP})
"""Values accepted in ``argocd.argoproj.io/hook`` (PostDelete: Argo CD >= 2.10)."""

HELM_HOOK_PHASES: Mapping[str, str] = {
    "pre-install": PRE_SYNC,
    "pre-upgrade": PRE_SYNC,
    "post-install": POST_SYNC,
    "post-upgrade": POST_SYNC,
}
"""Helm hook types Argo CD runs; others (``test``, ``pre-delete``, ...) are ignored."""

HELM_CRD_INSTALL = "crd-install"

HOOK_SUCCEEDED = "HookSucceeded"
HOOK_FAILED = "HookFailed"
BEFORE_HOOK_CREATION = "BeforeHookCreation"
NEVER = "Never"
HOOK_DELETE_POLICIES = frozenset({HOOK_SUCCEEDED, HOOK_FAILED, BEFORE_HOOK_CREATION, NEVER})

HELM_DELETE_POLICIES: Mapping[str, str] = {
    "before-hook-creation": BEFORE_HOOK_CREATION,
    "hook-succeeded": HOOK_SUCCEEDED,
    "hook-failed": HOOK_FAILED,
}

KNOWN_APP_SYNC_OPTIONS = frozenset(
    {
        "CreateNamespace",
        "PruneLast",
        "ServerSideApply",
        "ApplyOutOfSyncOnly",
        "Validate",
        "PrunePropagationPolicy",
        "Replace",
        "Force",
        "RespectIgnoreDifferences",
        "FailOnSharedResource",
        "SkipDryRunOnMissingResource",
        "Prune",
        "Delete",
        "ClientSideApplyMigration",
        "ServerSideApplyForceConflicts",
    }
)

_INTEGER = re.compile(r"[+-]?[0-9]+")


def annotations_of(obj: Manifest) -> Mapping[str, str]:
    """The object's annotations (empty when absent); values as strings."""
    raw = (obj.get("metadata") or {}).get("annotations") or {}
    return {str(k): str(v) for k, v in raw.items()}


def csv_values(text: str) -> list[str]:
    """Split a CSV annotation value: trimmed, empty items dropped, duplicates removed."""
    values: list[str] = []
    for item in text.split(","):
        value = item.strip()
        if value and value not in values:
            values.append(value)
    return values


def _annotation_csv(obj: Manifest, key: str) -> list[str]:
    return csv_values(annotations_of(obj).get(key, ""))


def _parse_wave(obj: Manifest, key: str, text: str) -> int:
    value = text.strip()
    if not _INTEGER.fullmatch(value):
        raise ValueError(
            f"{ResourceKey.of(obj).display}: annotation {key}={text!r} is not an integer"
        )
    return int(value)


def sync_wave(obj: Manifest) -> int:
    """``argocd.argoproj.io/sync-wave``, else ``helm.sh/hook-weight``, else 0.

    Raises ``ValueError`` naming the object and the value when it is not an integer.
    """
    annotations = annotations_of(obj)
    for key in (SYNC_WAVE, HELM_HOOK_WEIGHT):
        if key in annotations:
            return _parse_wave(obj, key, annotations[key])
    return 0


def _helm_hook_phases(obj: Manifest) -> frozenset[str]:
    values = _annotation_csv(obj, HELM_HOOK)
    return frozenset(HELM_HOOK_PHASES[v] for v in values if v in HELM_HOOK_PHASES)


def hook_phases(obj: Manifest) -> frozenset[str]:
    """Hook types of the object (may include ``Skip``); empty when it names none.

    Helm's ``helm.sh/hook`` is mapped only when the Argo CD annotation yields no
    known type, as upstream does.
    """
    argo = frozenset(v for v in _annotation_csv(obj, HOOK) if v in HOOK_TYPES)
    return argo if argo else _helm_hook_phases(obj)


def unknown_hook_types(obj: Manifest) -> list[str]:
    """Values of ``argocd.argoproj.io/hook`` that are not hook types (likely typos)."""
    return [v for v in _annotation_csv(obj, HOOK) if v not in HOOK_TYPES]


def is_skipped(obj: Manifest) -> bool:
    """``argocd.argoproj.io/hook: Skip`` alone: Argo CD never applies the object."""
    return hook_phases(obj) == {SKIP}


def is_hook(obj: Manifest) -> bool:
    """Whether the object is a hook (run in its phases, never pruned, not in app health).

    Any ``argocd.argoproj.io/hook`` annotation makes a hook unless it is just Skip;
    otherwise any ``helm.sh/hook`` except ``crd-install`` does. A hook with no
    runnable type (e.g. Helm ``test``) is a hook that is never run.
    """
    annotations = annotations_of(obj)
    if HOOK in annotations:
        return not is_skipped(obj)
    helm = annotations.get(HELM_HOOK)
    return helm is not None and helm.strip() != HELM_CRD_INSTALL


def hook_delete_policies(obj: Manifest) -> frozenset[str]:
    """Delete policies from the Argo CD and Helm annotations; default BeforeHookCreation."""
    policies = {v for v in _annotation_csv(obj, HOOK_DELETE_POLICY) if v in HOOK_DELETE_POLICIES}
    policies |= {
        HELM_DELETE_POLICIES[v]
        for v in _annotation_csv(obj, HELM_HOOK_DELETE_POLICY)
        if v in HELM_DELETE_POLICIES
    }
    return frozenset(policies) if policies else frozenset({BEFORE_HOOK_CREATION})


def parse_sync_option_list(items: Iterable[str]) -> dict[str, str]:
    """``["Key=Value", ...]`` -> ``{"Key": "Value"}``; whitespace tolerant, last one wins.

    An item without ``=`` maps to an empty value.
    """
    options: dict[str, str] = {}
    for item in items:
        key, _, value = str(item).partition("=")
        if key.strip():
            options[key.strip()] = value.strip()
    return options


def sync_options(obj: Manifest) -> dict[str, str]:
    """The ``argocd.argoproj.io/sync-options`` CSV as a dict (``Prune=false`` -> Prune: false)."""
    return parse_sync_option_list(_annotation_csv(obj, SYNC_OPTIONS))


def unknown_sync_options(opts: Mapping[str, str] | Iterable[str]) -> list[str]:
    """Option names that Argo CD does not know, in their given order."""
    return [name for name in opts if name not in KNOWN_APP_SYNC_OPTIONS]


def compare_options(obj: Manifest) -> frozenset[str]:
    """Items of ``argocd.argoproj.io/compare-options`` (e.g. ``IgnoreExtraneous``)."""
    return frozenset(_annotation_csv(obj, COMPARE_OPTIONS))


def option_is_true(options: Mapping[str, str], name: str) -> bool:
    """``Name=true`` present (case-insensitive value)."""
    return options.get(name, "").lower() == "true"


def option_is_false(options: Mapping[str, str], name: str) -> bool:
    """``Name=false`` present (case-insensitive value)."""
    return options.get(name, "").lower() == "false"

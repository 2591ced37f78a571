"""Verdicts where the local engine disagreed with a real Argo CD (tests/argocd/
test_argocd_agreement.py), pinned without a cluster."""

from __future__ import annotations

import types
from typing import Any

from gitops_tui.engine.cache.cluster import UnknownKindError
from gitops_tui.engine.diff.compare import PredictionCache, compare_app
from gitops_tui.engine.model import HealthStatus, Manifest, ResourceKey, SyncStatus


class NoWidgets:
    """A cluster without the Widget CRD and nothing else live."""

    def __init__(self) -> None:
        self.cache = types.SimpleNamespace(claimed_by=lambda _app: [])

    def live(self, key: ResourceKey) -> Manifest | None:
        if key.kind == "Widget":
            raise UnknownKindError(key.group, key.kind)
        return None

    def resource(self, group: str, kind: str) -> Any:
        raise UnknownKindError(group, kind)


def test_an_object_whose_crd_is_missing_is_out_of_sync_and_missing() -> None:
    """Argo CD v3.2: a desired object of a kind the cluster does not serve is
    OutOfSync with health Missing (it does not exist); it does not make the app
    Missing (its kind has no health check), like a missing ConfigMap."""
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "ns"},
    }
    comparison = compare_app(
        app="app",
        desired=[widget],
        conn=NoWidgets(),  # type: ignore[arg-type]
        rules=[],
        predictions=PredictionCache(),
        claimed_elsewhere=lambda _key: None,
    )
    (row,) = comparison.resources
    assert row.status == SyncStatus.OUT_OF_SYNC
    assert row.health is not None and row.health.status == HealthStatus.MISSING
    assert "Widget" in row.health.message
    assert comparison.health == HealthStatus.HEALTHY

"""App health with missing objects, as a live Argo CD (v3.2) decides it (issue 13's measurement):
a missing object counts as Missing only when its kind has a health check, built-in or
configured; missing objects of kinds without one are left out."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.health.customizations import installed, parse_keys
from gitops_tui.engine.health.dispatch import aggregate_health, app_health_input
from gitops_tui.engine.model import HealthStatus

H = HealthStatus


def obj(api: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "d"}, **extra}


DEPLOYMENT = obj(
    "apps/v1",
    "Deployment",
    spec={"replicas": 1},
    status={"updatedReplicas": 1, "replicas": 1, "availableReplicas": 1},
)
SERVICE = obj("v1", "Service", spec={"type": "ClusterIP"})
CONFIGMAP = obj("v1", "ConfigMap")
SECRET = obj("v1", "Secret")


def app_health(pairs: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> HealthStatus:
    """(desired, live) per object -> the app's health."""
    return aggregate_health(
        [(app_health_input(live, desired=desired), False) for desired, live in pairs]
    )


def test_guestbook_with_its_service_deleted_is_missing() -> None:
    assert app_health([(DEPLOYMENT, DEPLOYMENT), (SERVICE, None)]) is H.MISSING


def test_never_synced_app_of_configmaps_and_secrets_is_healthy() -> None:
    assert app_health([(CONFIGMAP, None), (SECRET, None)]) is H.HEALTHY


def test_missing_configmap_beside_live_objects_is_left_out() -> None:
    assert app_health([(DEPLOYMENT, DEPLOYMENT), (CONFIGMAP, None)]) is H.HEALTHY


def test_never_synced_app_with_a_workload_is_missing() -> None:
    assert app_health([(DEPLOYMENT, None), (CONFIGMAP, None)]) is H.MISSING


def test_degraded_is_still_worse_than_missing() -> None:
    crashed = obj("v1", "Pod", status={"phase": "Failed", "message": "oom"})
    assert app_health([(crashed, crashed), (SERVICE, None)]) is H.DEGRADED


def test_a_configured_lua_check_makes_its_kind_count_when_missing() -> None:
    custom = parse_keys(
        {"resource.customizations.health.ConfigMap": 'return {status = "Healthy"}'}, "cm"
    )
    with installed(custom):
        assert app_health([(DEPLOYMENT, DEPLOYMENT), (CONFIGMAP, None)]) is H.MISSING
    assert app_health([(DEPLOYMENT, DEPLOYMENT), (CONFIGMAP, None)]) is H.HEALTHY


def test_custom_resource_with_a_built_in_rule_counts_when_missing() -> None:
    cert = obj("cert-manager.io/v1", "Certificate")
    widget = obj("example.com/v1", "Widget")
    assert app_health([(DEPLOYMENT, DEPLOYMENT), (cert, None)]) is H.MISSING
    assert app_health([(DEPLOYMENT, DEPLOYMENT), (widget, None)]) is H.HEALTHY


def test_input_without_the_desired_object_stays_missing() -> None:
    assert app_health_input(None) is H.MISSING
    assert app_health_input(None, desired=CONFIGMAP) is None
    assert app_health_input(None, desired=SERVICE) is H.MISSING

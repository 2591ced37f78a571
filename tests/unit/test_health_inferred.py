"""The inferred health of custom resources without a rule (Kubernetes status conventions)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.engine.health.customizations import Customizations, installed
from gitops_tui.engine.health.dispatch import aggregate_health, app_health_input, resource_health
from gitops_tui.engine.model import HealthStatus

H = HealthStatus


def widget(status: Any = None, generation: int = 2, api: str = "example.com/v1") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": api,
        "kind": "Widget",
        "metadata": {"name": "w", "generation": generation},
    }
    if status is not None:
        obj["status"] = status
    return obj


def cond(kind: str, status: str, message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "message": message}


@pytest.mark.parametrize(
    ("status", "expected", "words"),
    [
        (
            {"observedGeneration": 2, "conditions": [cond("Ready", "True", "all good")]},
            H.HEALTHY,
            "all good",
        ),
        (
            {"observedGeneration": 1, "conditions": [cond("Ready", "True")]},
            H.PROGRESSING,
            "generation 2 not yet observed",
        ),
        (
            {"conditions": [cond("Stalled", "True", "bad spec"), cond("Ready", "False")]},
            H.DEGRADED,
            "bad spec",
        ),
        ({"conditions": [cond("Reconciling", "True", "working")]}, H.PROGRESSING, "working"),
        ({"conditions": [cond("Ready", "False", "waiting on db")]}, H.PROGRESSING, "waiting on db"),
        ({"observedGeneration": 2}, H.HEALTHY, "current"),
    ],
)
def test_inferred_rule(status: dict[str, Any], expected: HealthStatus, words: str) -> None:
    result = resource_health(widget(status), inferred=True)
    assert result is not None and result.rule == "inferred"
    assert result.status is expected and words in result.message
    assert result.message.startswith("inferred: ")
    assert resource_health(widget(status)) is None  # Argo CD: no rule, no health


@pytest.mark.parametrize(
    "status",
    [
        None,
        {"phase": "Running"},
        {"conditions": "broken"},
        {"conditions": [cond("Available", "True")]},
    ],
)
def test_no_convention_no_inferred_health(status: Any) -> None:
    assert resource_health(widget(status), inferred=True) is None


def test_kubernetes_own_groups_are_not_inferred_but_sig_crds_are() -> None:
    status = {"observedGeneration": 2, "conditions": [cond("Ready", "True")]}
    assert resource_health(widget(status, api="storage.k8s.io/v1"), inferred=True) is None
    assert (
        resource_health(widget(status, api="cluster.x-k8s.io/v1beta1"), inferred=True) is not None
    )


def test_a_kind_with_a_rule_keeps_its_rule() -> None:
    cert = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "c"},
        "status": {"observedGeneration": 1},
    }
    result = resource_health(cert, inferred=True)
    assert result is not None and result.rule == "built-in"


def test_inferred_counts_in_app_health_only_when_configured() -> None:
    stalled = widget({"conditions": [cond("Stalled", "True")]})
    assert app_health_input(stalled) is None
    assert aggregate_health([(app_health_input(stalled), False)]) is H.HEALTHY
    with installed(Customizations(inferred_in_app_health=True)):
        assert app_health_input(stalled) is H.DEGRADED

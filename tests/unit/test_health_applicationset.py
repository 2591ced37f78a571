"""An ApplicationSet's health (Argo CD v3.2's ``resource_customizations/argoproj.io/
ApplicationSet/health.lua``) and what it does to the App of Apps parent that renders it."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.engine.health.dispatch import aggregate_health, app_health_input, resource_health
from gitops_tui.engine.model import HealthStatus


def appset(*conditions: tuple[str, str, str]) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "fleet", "namespace": "argocd"},
        "spec": {"generators": []},
    }
    if conditions:
        obj["status"] = {
            "conditions": [
                {"type": kind, "status": status, "message": message}
                for kind, status, message in conditions
            ]
        }
    return obj


UP_TO_DATE = [
    ("ErrorOccurred", "False", "Successfully generated parameters for all Applications"),
    ("ParametersGenerated", "True", "Successfully generated parameters for all Applications"),
    ("ResourcesUpToDate", "True", "ApplicationSet up to date"),
]


@pytest.mark.parametrize(
    ("conditions", "health", "message"),
    [
        (UP_TO_DATE, HealthStatus.HEALTHY, "ApplicationSet up to date"),
        (
            [
                ("ErrorOccurred", "True", "Merge requires two or more"),
                ("ParametersGenerated", "False", "Merge requires two or more"),
                ("ResourcesUpToDate", "False", "generation failed"),
            ],
            HealthStatus.DEGRADED,
            "Merge requires two or more",
        ),
        ([], HealthStatus.PROGRESSING, "Waiting for the status to be reported"),
        (
            [*UP_TO_DATE[:2], ("ResourcesUpToDate", "False", "could not create application")],
            HealthStatus.DEGRADED,
            "could not create application",
        ),
        (
            [*UP_TO_DATE, ("RolloutProgressing", "True", "performing rollout of step 1")],
            HealthStatus.PROGRESSING,
            "performing rollout of step 1",
        ),
    ],
)
def test_applicationset_health_from_its_conditions(
    conditions: list[tuple[str, str, str]], health: HealthStatus, message: str
) -> None:
    result = resource_health(appset(*conditions))
    assert result is not None
    assert (result.status, result.message) == (health, message)


def test_the_parent_counts_the_sets_it_renders() -> None:
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    failing = appset(("ErrorOccurred", "True", "Merge requires two or more"))
    items = [(app_health_input(configmap), False), (app_health_input(failing), False)]
    assert aggregate_health(items) == HealthStatus.DEGRADED
    healthy = [(app_health_input(configmap), False), (app_health_input(appset(*UP_TO_DATE)), False)]
    assert aggregate_health(healthy) == HealthStatus.HEALTHY
    # a set the parent renders that is not in the cluster yet makes it Missing
    assert app_health_input(None, desired=appset()) == HealthStatus.MISSING

"""``resource.customizations.knownTypeFields``: fields of custom resources that embed a
Kubernetes type are compared as that type (Argo CD's known-types normalizer)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.engine.diff.known_types import (
    canonical_duration,
    canonical_quantity,
    normalize_known_types,
)
from gitops_tui.engine.diff.resource_diff import diff_resource
from gitops_tui.engine.health.customizations import installed, parse_keys
from gitops_tui.engine.model import ResourceKey


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("1000m", "1"),
        ("1", "1"),
        (1, "1"),
        (0.25, "250m"),
        ("0.5", "500m"),
        ("1.5", "1500m"),
        ("1000", "1k"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5Gi", "512Mi"),  # below 1Gi but not below 1024: still binary
        ("0.5Ki", "512"),  # below 1024: decimal
        ("2000Mi", "2000Mi"),
        ("1e3", "1e3"),
        ("1.5e3", "1500"),
        ("1E", "1E"),  # exa, not an exponent
        ("1.1n", "2n"),  # precision is nano, rounded up
        ("-1000m", "-1"),
        ("0", "0"),
    ],
)
def test_quantities_take_their_canonical_form(given: Any, canonical: str) -> None:
    assert canonical_quantity(given) == canonical


@pytest.mark.parametrize("bad", ["", "abc", "1Xi", "1.2.3", True, None, [1]])
def test_what_is_not_a_quantity_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        canonical_quantity(bad)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("60s", "1m0s"),
        ("1h", "1h0m0s"),
        ("90m", "1h30m0s"),
        ("1.5s", "1.5s"),
        ("1500us", "1.5ms"),
        ("300ms", "300ms"),
        ("0", "0s"),
        ("-1.5h", "-1h30m0s"),
    ],
)
def test_durations_take_gos_form(given: str, canonical: str) -> None:
    assert canonical_duration(given) == canonical


WIDGET_FIELDS = (
    "- field: spec.jobTemplate.spec.template.spec\n  type: core/v1/PodSpec\n"
    "- field: spec.budget\n  type: core/Quantity\n"
    "- field: spec.every\n  type: meta/v1/Duration\n"
)


def widget(cpu: str, memory: str, budget: Any, every: str, **pod: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "web"},
        "spec": {
            "budget": budget,
            "every": every,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "c",
                                    "image": "busybox",
                                    "resources": {"limits": {"cpu": cpu, "memory": memory}},
                                }
                            ],
                            **pod,
                        }
                    }
                }
            },
        },
    }


KEY = ResourceKey("example.com", "Widget", "web", "w")


def test_a_configured_known_type_field_hides_only_format_differences() -> None:
    desired = widget("1000m", "1024Mi", "0.5", "60s", hostNetwork=False, nodeSelector=None)
    live = widget("1", "1Gi", "500m", "1m0s")
    assert diff_resource(KEY, desired, live).modified  # without the customization
    rules = parse_keys(
        {"resource.customizations.knownTypeFields.example.com_Widget": WIDGET_FIELDS},
        "argocd-cm argocd/argocd-cm",
    )
    assert rules.problems == ()
    with installed(rules):
        assert not diff_resource(KEY, desired, live).modified
        # a real difference still shows
        changed = diff_resource(KEY, widget("2", "1Gi", "500m", "1m0s"), live)
        assert changed.modified
        assert changed.changed_paths == (
            "spec.jobTemplate.spec.template.spec.containers[0].resources.limits.cpu",
        )
        # a pointer field's false is kept (Go keeps it): a difference
        pointer = widget("1", "1Gi", "500m", "1m0s", automountServiceAccountToken=False)
        assert diff_resource(KEY, pointer, live).modified


def test_rollouts_pod_template_is_a_pod_spec_by_default_as_in_argo_cd() -> None:
    def rollout(cpu: str) -> dict[str, Any]:
        container = {"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}}}
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": "r", "namespace": "web"},
            "spec": {"template": {"spec": {"containers": [container]}}},
        }

    key = ResourceKey("argoproj.io", "Rollout", "web", "r")
    assert not diff_resource(key, rollout("500m"), rollout("0.5")).modified
    assert diff_resource(key, rollout("500m"), rollout("0.6")).modified


def test_a_value_that_is_not_of_its_type_is_left_as_it_is() -> None:
    obj = {"spec": {"budget": "lots", "items": [{"size": "1000m"}, {"size": None}]}}
    out = normalize_known_types(
        obj, [("spec.budget", "core/Quantity"), ("spec.items.size", "core/Quantity")]
    )
    assert out == {"spec": {"budget": "lots", "items": [{"size": "1"}, {"size": None}]}}
    assert obj["spec"]["items"][0]["size"] == "1000m"  # the input is not changed


def test_an_unsupported_type_is_reported_with_its_key() -> None:
    parsed = parse_keys(
        {
            "resource.customizations.knownTypeFields.example.com_Widget": "- {field: spec, type: apps/v1/DeploymentSpec}\n"
        },
        "config.yaml",
    )
    assert parsed.known_type_fields == {}
    assert (
        "config.yaml: resource.customizations.knownTypeFields.example.com_Widget"
        in parsed.problems[0]
    )
    assert "'apps/v1/DeploymentSpec' is not supported" in parsed.problems[0]

"""Building ApplicationSet documents for the tests."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.app.applicationset import (
    ApplicationSet,
    ClusterInfo,
    Generated,
    Inputs,
    generate,
    parse_applicationset,
)

REPO = "https://git.example.com/org/apps.git"


def app_template(
    name: str = "{{name}}",
    path: str = "apps/{{name}}",
    server: str = "https://kubernetes.default.svc",
    namespace: str = "default",
    **meta: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, **meta},
        "spec": {
            "project": "default",
            "source": {"repoURL": REPO, "path": path, "targetRevision": "HEAD"},
            "destination": {"server": server, "namespace": namespace},
        },
    }


def appset_doc(
    generators: list[dict[str, Any]],
    template: dict[str, Any] | None = None,
    *,
    name: str = "set",
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"generators": generators, "template": template or app_template(), **spec},
    }


def parsed(doc: dict[str, Any]) -> ApplicationSet:
    result = parse_applicationset(doc, "set.yaml")
    assert isinstance(result, ApplicationSet), result
    return result


def run(doc: dict[str, Any], inputs: Inputs | None = None) -> Generated:
    return generate(parse_applicationset(doc, "set.yaml"), inputs or Inputs())


def names(generated: Generated) -> list[str]:
    assert generated.ok, generated.conditions
    return [app.name for app in generated.applications]


def only_condition(generated: Generated) -> str:
    assert not generated.applications
    assert len(generated.conditions) == 1, generated.conditions
    assert generated.conditions[0].type == "ErrorOccurred"
    return generated.conditions[0].message


CLUSTERS = (
    ClusterInfo("staging", "https://1.2.3.4", labels={"env": "staging"}),
    ClusterInfo("production", "https://2.4.6.8", labels={"env": "prod", "kafka": "yes"}),
)

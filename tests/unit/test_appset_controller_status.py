"""ApplicationSets as Argo CD's ApplicationSet controller reports them (the Argo CD backend
and ``--from-cluster``): pure functions over the objects read from the cluster."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.app.applicationset.controller_status import (
    appset_owner,
    appset_snapshot,
    controller_preview,
)


def app(name: str, owner: str | None = None, api: str = "argoproj.io/v1alpha1") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "argocd"}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": api, "kind": "ApplicationSet", "name": owner}]
    return {"metadata": meta}


def appset(
    name: str, *, conditions: list[Any], resources: list[str], **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": spec,
        "status": {"conditions": conditions, "resources": [{"name": r} for r in resources]},
    }


def test_owner_is_an_argo_cd_applicationset_only() -> None:
    assert appset_owner(app("a", "fleet")) == "fleet"
    assert appset_owner(app("a", "fleet", api="example.com/v1")) is None
    assert appset_owner(app("a")) is None
    assert appset_owner({"metadata": {"ownerReferences": "junk"}}) is None


def test_snapshot_keeps_the_trouble_conditions_and_the_sets_apps() -> None:
    obj = appset(
        "fleet",
        conditions=[
            {"type": "ErrorOccurred", "status": "True", "message": "bad \x1b[31mtemplate",
             "lastTransitionTime": "2026-12-01T12:00:00Z"},
            {"type": "ParametersGenerated", "status": "True", "message": "fine"},
            {"type": "ResourcesUpToDate", "status": "False", "message": "not yet"},
        ],
        resources=["b", "listed-only"],
        syncPolicy={"applicationsSync": "create-only"},
    )  # fmt: skip
    apps = [app("a", "fleet"), app("b", "fleet"), app("c", "other"), app("d")]
    snap = appset_snapshot(obj, apps, "argocd", "cluster:argocd")
    assert snap.applications == ("a", "b", "listed-only")
    assert [c.type for c in snap.conditions] == ["ErrorOccurred", "ResourcesUpToDate"]
    assert "\x1b" not in snap.conditions[0].message  # made printable
    assert (snap.policy, snap.origin, snap.generated_at) == (
        "create-only", "cluster:argocd", 1796126400.0
    )  # fmt: skip


def test_preview_is_the_controllers_view() -> None:
    obj = appset("fleet", conditions=[], resources=["a", "new"])
    preview = controller_preview(obj, [app("a", "fleet"), app("gone", "fleet")])
    assert [c.name for c in preview.added] == ["new"]
    assert [c.name for c in preview.removed] == ["gone"]
    assert preview.unchanged == ("a",) and preview.policy == "sync"
    assert "ApplicationSet controller" in preview.source

"""The pure plan: generated vs existing Applications under each applicationsSync policy,
ownership, ignoreApplicationDifferences, preservedFields and preserveResourcesOnDeletion."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from appset_helpers import app_template, appset_doc, parsed, run

from gitops_tui.engine.app.applicationset import Action, ApplicationsSync, plan, plan_set_deletion
from gitops_tui.engine.app.applicationset.model import RESOURCES_FINALIZER


def set_doc(*app_names: str, policy: str | None = None, **spec: Any) -> dict[str, Any]:
    extra: dict[str, Any] = dict(spec)
    if policy:
        extra["syncPolicy"] = {"applicationsSync": policy}
    return appset_doc([{"list": {"elements": [{"name": n} for n in app_names]}}], **extra)


def existing(
    name: str, *, owner: str | None = "set", path: str | None = None, **meta: Any
) -> dict[str, Any]:
    """An existing app as the set would generate it (so unchanged: with the resources
    finalizer Argo CD's controller adds), owned by ``owner``."""
    template = app_template(name=name, path=path or f"apps/{name}")
    meta.setdefault("finalizers", [RESOURCES_FINALIZER])
    doc: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {**template["metadata"], "namespace": "argocd", **meta},
        "spec": template["spec"],
    }
    if owner is not None:
        doc["metadata"]["ownerReferences"] = [
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": owner,
             "controller": True, "uid": "u1"}
        ]  # fmt: skip
    return doc


def summary(result: Any) -> dict[str, list[tuple[str, bool]]]:
    return {
        action.value: [(c.name, c.allowed) for c in result.of(action)]
        for action in (Action.CREATE, Action.UPDATE, Action.DELETE)
    }


CURRENT = [
    existing("keep"),
    existing("moved", path="apps/old-place"),
    existing("gone", finalizers=[RESOURCES_FINALIZER]),
    existing("gone-kept", finalizers=[]),
]


@pytest.mark.parametrize(
    ("policy", "update_allowed", "delete_allowed"),
    [
        ("create-only", False, False),
        ("create-update", True, False),
        ("create-delete", False, True),
        ("sync", True, True),
        (None, True, True),
    ],
)
def test_each_policy_allows_what_argo_cd_allows(
    policy: str | None, update_allowed: bool, delete_allowed: bool
) -> None:
    result = plan(run(set_doc("keep", "moved", "new", policy=policy)), CURRENT)
    assert summary(result) == {
        "create": [("new", True)],
        "update": [("moved", update_allowed)],
        "delete": [("gone", delete_allowed), ("gone-kept", delete_allowed)],
    }
    assert result.unchanged == ("keep",)
    moved = result.of(Action.UPDATE)[0]
    assert moved.fields == ("spec.source.path",)
    if not update_allowed:
        assert moved.reason == f"applicationsSync {policy}: updates are skipped"
    pending = {(c.action.value, c.name) for c in result.pending}
    assert ("create", "new") in pending
    assert (("update", "moved") in pending) is update_allowed


def test_a_delete_cascades_only_with_the_resources_finalizer() -> None:
    result = plan(run(set_doc("keep")), CURRENT)
    cascade = {c.name: c.cascade for c in result.of(Action.DELETE)}
    assert cascade == {"gone": True, "gone-kept": False, "moved": True}


def test_only_the_sets_own_apps_are_deleted_and_others_are_conflicts() -> None:
    current = [
        existing("mine"),
        existing("foreign", owner="other-set"),
        existing("handmade", owner=None),
        existing("elsewhere", namespace="team-ns"),
        existing("stranger", owner=None),
        existing("neighbour", owner="other-set"),
    ]
    result = plan(run(set_doc("foreign", "handmade")), current)
    assert [c.name for c in result.of(Action.DELETE)] == ["mine"]
    assert [(c.name, c.message) for c in result.conflicts] == [
        (
            "foreign",
            "Application 'foreign' exists and is owned by ApplicationSet 'other-set': "
            "ApplicationSet 'set' leaves it alone",
        )
    ]
    # an unowned app with a generated name is adopted, as Argo CD's controller does
    (adopted,) = result.of(Action.UPDATE)
    assert adopted.name == "handmade" and adopted.adopt
    assert adopted.fields == ("metadata.ownerReferences",)


def test_ignore_application_differences_keeps_the_existing_values() -> None:
    current = [existing("a", path="hand-edited")]
    current[0]["spec"]["syncPolicy"] = {"automated": {"prune": True}}
    ignore = [
        {"jsonPointers": ["/spec/source/path"]},
        {"name": "a", "jqPathExpressions": [".spec.syncPolicy"]},
    ]
    result = plan(run(set_doc("a", ignoreApplicationDifferences=ignore)), current)
    assert result.changes == () and result.unchanged == ("a",)
    # an entry for another app name does not apply
    other = [{"name": "b", "jsonPointers": ["/spec/source/path"]}]
    result = plan(run(set_doc("a", ignoreApplicationDifferences=other)), current)
    assert result.of(Action.UPDATE)[0].fields == ("spec.source.path", "spec.syncPolicy")


def test_unsupported_jq_path_is_a_condition() -> None:
    ignore = [{"jqPathExpressions": [".spec.sources[] | select(.x)"]}]
    result = plan(run(set_doc("a", ignoreApplicationDifferences=ignore)), [existing("a")])
    assert result.changes == ()
    assert "jq path '.spec.sources[] | select(.x)' is not supported" in result.conditions[0].message


def test_preserved_annotations_and_labels_are_not_overwritten() -> None:
    current = [
        existing(
            "a",
            annotations={"notified.notifications.argoproj.io": "{}", "mine": "x"},
            labels={"team": "a"},
        )
    ]
    result = plan(run(set_doc("a")), current)
    assert result.of(Action.UPDATE)[0].fields == (
        "metadata.annotations.mine",
        "metadata.labels.team",
    )
    spec = {"preservedFields": {"annotations": ["mine"], "labels": ["team"]}}
    assert plan(run(set_doc("a", **spec)), current).unchanged == ("a",)


def test_a_failed_generation_plans_nothing() -> None:
    broken = set_doc("a", "a")  # duplicate names
    result = plan(run(broken), [existing("other")])
    assert result.changes == ()
    assert "duplicate generated Application names" in result.conditions[0].message


def test_deleting_the_set_cascades_unless_preserve_resources_on_deletion() -> None:
    current = [
        existing("a", finalizers=[RESOURCES_FINALIZER]),
        existing("b", finalizers=[]),
        existing("c", owner="x"),
    ]
    result = plan_set_deletion(parsed(set_doc("a")), current)
    assert [(c.name, c.cascade) for c in result.changes] == [("a", True), ("b", False)]
    preserve = set_doc("a")
    preserve["spec"]["syncPolicy"] = {"preserveResourcesOnDeletion": True}
    result = plan_set_deletion(parsed(preserve), current)
    assert [(c.name, c.cascade) for c in result.changes] == [("a", False), ("b", False)]


def test_plan_is_pure() -> None:
    current = copy.deepcopy(CURRENT)
    generated = run(
        set_doc("keep", "moved", ignoreApplicationDifferences=[{"jsonPointers": ["/spec/project"]}])
    )
    before = copy.deepcopy(generated.applications[1].raw)
    plan(generated, current)
    assert current == CURRENT
    assert generated.applications[1].raw == before
    assert (
        parsed(set_doc("a", policy="create-only")).applications_sync is ApplicationsSync.CREATE_ONLY
    )

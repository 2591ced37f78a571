"""Field takeovers of a forced server-side apply, read from managedFields; the force default."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.cli import build_parser
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.sync.plan import SyncPlan, SyncTask, TaskAction
from gitops_tui.engine.sync.takeover import (
    field_paths,
    forces_conflicts,
    taken_fields,
    takeover_note,
    with_takeovers,
)


def managed(*entries: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {
            "managedFields": [
                {"manager": m, "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": f}
                for m, f in entries
            ]
        }
    }


SPEC = {
    "f:spec": {
        "f:replicas": {},
        "f:template": {"f:spec": {"f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}}}}},
    }
}


def test_field_paths_flatten_fields_v1() -> None:
    assert field_paths(SPEC) == {
        ".spec.replicas",
        ".spec.template.spec.containers[name=web]",
        ".spec.template.spec.containers[name=web].image",
    }


def test_taken_fields_are_those_lost_by_another_manager_and_gained_by_ours() -> None:
    live = managed(
        ("gitops-tui", {"f:spec": {"f:template": {}}}),
        ("kubectl-scale", {"f:spec": {"f:replicas": {}}}),
        ("kubectl-edit", {"f:metadata": {"f:labels": {"f:team": {}}}}),
    )
    predicted = managed(
        ("gitops-tui", {"f:spec": {"f:template": {}, "f:replicas": {}}}),
        ("kubectl-edit", {"f:metadata": {"f:labels": {"f:team": {}}}}),
    )
    assert taken_fields(live, predicted) == {"kubectl-scale": [".spec.replicas"]}
    note = takeover_note(taken_fields(live, predicted), force=True)
    assert note == 'takes .spec.replicas from "kubectl-scale"'
    refused = takeover_note(taken_fields(live, predicted), force=False)
    assert refused.startswith('conflicts: .spec.replicas from "kubectl-scale"')
    assert taken_fields(live, live) == {}


def test_notes_are_bounded_and_printable() -> None:
    many = {f"f:k{i}": {} for i in range(10)}
    live = managed(("evil\x1b[31m", {"f:data": many}))
    predicted = managed(("gitops-tui", {"f:data": many}))
    note = takeover_note(taken_fields(live, predicted), force=True)
    assert "\x1b" not in note
    assert "and 6 more" in note


@pytest.mark.parametrize(
    ("options", "app_options", "force", "default", "expected"),
    [
        ({}, {}, False, True, True),
        ({}, {}, False, False, False),
        ({}, {"ServerSideApplyForceConflicts": "false"}, False, True, False),
        (
            {"ServerSideApplyForceConflicts": "true"},
            {"ServerSideApplyForceConflicts": "false"},
            False,
            True,
            True,
        ),
        ({}, {"ServerSideApplyForceConflicts": "false"}, True, True, True),
        ({"Force": "true"}, {}, False, False, True),
    ],
)
def test_forces_conflicts(
    options: dict[str, str], app_options: dict[str, str], force: bool, default: bool, expected: bool
) -> None:
    assert forces_conflicts(options, app_options, force=force, default=default) is expected


def test_with_takeovers_notes_updates_only_under_server_side_apply() -> None:
    key = ResourceKey("apps", "Deployment", "ns", "web")
    live = managed(("kubectl-scale", {"f:spec": {"f:replicas": {}}}))
    predicted = managed(("gitops-tui", {"f:spec": {"f:replicas": {}}}))
    desired = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    task = SyncTask(key, TaskAction.UPDATE, "Sync", 0, desired, live)
    plan = with_takeovers(
        SyncPlan((task,)), {key: (live, predicted)}, {}, force=False, default=True
    )
    assert plan.tasks[0].note == 'takes .spec.replicas from "kubectl-scale"'
    csa = with_takeovers(
        SyncPlan((task,)),
        {key: (live, predicted)},
        {"ServerSideApply": "false"},
        force=False,
        default=True,
    )
    assert csa.tasks[0].note == ""


def test_cli_force_and_no_force_conflicts() -> None:
    parser = build_parser()
    args = parser.parse_args(["sync", "app"])
    assert args.force_conflicts is True and args.force is False
    assert parser.parse_args(["sync", "app", "--no-force-conflicts"]).force_conflicts is False
    with pytest.raises(SystemExit):
        parser.parse_args(["sync", "app", "--force", "--no-force-conflicts"])

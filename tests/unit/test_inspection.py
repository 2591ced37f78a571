"""The pure part of inspection: managedFields folded, Events read, ordered and bounded."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.controller.inspect import field_selector
from gitops_tui.engine.inspection import (
    MAX_EVENT_TEXT,
    ClusterEvent,
    event_from_manifest,
    fold_managed_fields,
    newest_first,
    parse_time,
)
from gitops_tui.engine.model import ResourceKey


def test_managed_fields_are_removed_from_a_copy_and_summarised() -> None:
    obj: dict[str, Any] = {
        "kind": "ConfigMap",
        "metadata": {
            "name": "a",
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Apply",
                    "time": "2026-12-01T10:00:00Z",
                    "fieldsV1": {"f:data": {".": {}, "f:a": {}, "f:b": {}}},
                },
                {"manager": "ctrl", "operation": "Update", "subresource": "status"},
                "not an entry",
            ],
        },
    }
    folded, entries = fold_managed_fields(obj)
    assert "managedFields" not in folded["metadata"]
    assert "managedFields" in obj["metadata"]  # the input is left alone
    assert [(e.manager, e.fields, e.subresource) for e in entries] == [
        ("kubectl", 2, ""),
        ("ctrl", 0, "status"),
    ]
    assert entries[0].summary == "kubectl (Apply, 2 fields at 2026-12-01T10:00:00Z)"


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "metadata": {"name": "e1", "uid": "u1", "creationTimestamp": "2026-12-01T10:00:00Z"},
        "involvedObject": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "namespace": "ns",
        },
        "reason": "ScalingReplicaSet",
        "message": "Scaled up",
        "type": "Normal",
        "source": {"component": "deployment-controller"},
    }
    base.update(fields)
    return base


def test_an_event_names_its_object_by_group_and_prefers_the_latest_time() -> None:
    got = event_from_manifest(
        event(
            lastTimestamp="2026-12-01T10:05:00Z",
            firstTimestamp="2026-12-01T10:01:00Z",
            count=4,
            type="Warning",
        )
    )
    assert got is not None
    assert got.object == ResourceKey("apps", "Deployment", "ns", "web")
    assert got.warning and got.count == 4 and got.source == "deployment-controller"
    assert got.last_seen == parse_time("2026-12-01T10:05:00Z")
    assert got.first_seen == parse_time("2026-12-01T10:01:00Z")
    # events.k8s.io style: series and eventTime (micro time), no lastTimestamp
    series = event_from_manifest(
        event(
            eventTime="2026-12-01T10:00:00.123456Z",
            series={"count": 9, "lastObservedTime": "2026-12-01T11:00:00.000001Z"},
        )
    )
    assert series is not None and series.count == 9
    assert series.last_seen == parse_time("2026-12-01T11:00:00.000001Z")
    assert event_from_manifest({"metadata": {}, "involvedObject": {"kind": "Pod"}}) is None


def test_event_text_is_bounded() -> None:
    got = event_from_manifest(event(message="x" * 10 * MAX_EVENT_TEXT, count="lots"))
    assert got is not None
    assert len(got.message) == MAX_EVENT_TEXT and got.message.endswith("\u2026")
    assert got.count == 1


def ev(uid: str, at: float | None) -> ClusterEvent:
    return ClusterEvent(uid, ResourceKey("", "Pod", "ns", "p"), "Normal", "R", "", 1, at)


def test_newest_first_bounded_each_event_once_undated_last() -> None:
    events = [ev("a", 10.0), ev("b", None), ev("c", 30.0), ev("a", 10.0), ev("d", 20.0)]
    assert [e.uid for e in newest_first(events)] == ["c", "d", "a", "b"]
    assert [e.uid for e in newest_first(events, limit=2)] == ["c", "d"]


def test_field_selector_escapes_what_the_api_server_would_split_on() -> None:
    key = ResourceKey("apps", "Deployment", "ns", "a,b=c\\d")
    assert field_selector(key) == (
        "involvedObject.kind=Deployment,involvedObject.name=a\\,b\\=c\\\\d,"
        "involvedObject.namespace=ns"
    )
    cluster_scoped = ResourceKey("", "Namespace", "", "ns")
    assert field_selector(cluster_scoped) == "involvedObject.kind=Namespace,involvedObject.name=ns"

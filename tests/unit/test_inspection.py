"""The pure part of inspection: managedFields folded, Events read, ordered and bounded."""

from __future__ import annotations

from typing import Any

import pytest

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


class PagingClient:
    """Serves ``pages`` of Events with ``continue`` tokens; records each request."""

    def __init__(self, pages: int, per_page: int) -> None:
        self.pages, self.per_page = pages, per_page
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        query = kwargs["query"]
        self.requests.append((path, query))
        page = int(query["continue"] or 0)
        items = [
            event(
                metadata={"uid": f"u{page}-{n}", "name": "e"},
                lastTimestamp=f"2026-12-01T10:{page % 60:02d}:{n % 60:02d}Z",
            )
            for n in range(self.per_page)
        ]
        more = str(page + 1) if page + 1 < self.pages else None
        return {"items": items, "metadata": {"continue": more}}


def test_event_lists_follow_continue_tokens_up_to_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gitops_tui.engine.controller import inspect as inspect_module

    monkeypatch.setattr(inspect_module, "MAX_EVENTS_SCANNED", 25)
    client = PagingClient(pages=100, per_page=10)
    found = inspect_module._list_events(client, "ns", None)  # type: ignore[arg-type]
    assert len(found) == 30 and len(client.requests) == 3  # stops once 25 were read
    assert client.requests[0] == (
        "/api/v1/namespaces/ns/events",
        {"limit": 500, "fieldSelector": None, "continue": None},
    )
    assert client.requests[1][1]["continue"] == "1"
    small = PagingClient(pages=2, per_page=3)
    assert len(inspect_module._list_events(small, "", None)) == 6  # type: ignore[arg-type]
    assert small.requests[0][0] == "/api/v1/events"


def test_an_apps_event_namespaces_include_default_for_cluster_scoped_objects() -> None:
    from gitops_tui.engine.controller.inspect import MAX_EVENT_NAMESPACES, _event_namespaces

    keys = {ResourceKey("", "ConfigMap", "b", "x"), ResourceKey("", "Namespace", "", "b")}
    assert _event_namespaces(keys) == ["b", "default"]
    many = {ResourceKey("", "ConfigMap", f"ns{i:03d}", "x") for i in range(50)}
    assert len(_event_namespaces(many)) == MAX_EVENT_NAMESPACES

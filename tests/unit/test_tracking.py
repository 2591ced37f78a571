"""Tracking ids as Argo CD writes and reads them (``util/argo/resource_tracking.go``,
``controller/state.go`` ``isSelfReferencedObj``)."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.cache.tracking import (
    TRACKING_ANNOTATION,
    claimed_root_app,
    tracked_app,
    tracking_id,
    with_tracking,
)
from gitops_tui.engine.model import ResourceKey


def obj(kind: str, name: str, namespace: str = "", mark: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if mark is not None:
        meta["annotations"] = {TRACKING_ANNOTATION: mark}
    return {"apiVersion": "v1", "kind": kind, "metadata": meta}


def test_a_cluster_scoped_object_gets_the_destination_namespace_in_its_id() -> None:
    marked = with_tracking(obj("Namespace", "team"), "web", destination_namespace="prod")
    assert marked["metadata"]["annotations"][TRACKING_ANNOTATION] == "web:/Namespace:prod/team"
    # a namespaced object keeps its own namespace
    key = ResourceKey("", "ConfigMap", "dev", "cfg")
    assert tracking_id("web", key, "prod") == "web:/ConfigMap:dev/cfg"


def test_a_cluster_scoped_object_is_tracked_whatever_namespace_its_id_carries() -> None:
    for mark in ("web:/Namespace:prod/team", "web:/Namespace:/team"):
        assert tracked_app(obj("Namespace", "team", mark=mark)) == "web"
    # a namespaced object must match its own namespace
    assert tracked_app(obj("ConfigMap", "cfg", "dev", "web:/ConfigMap:prod/cfg")) is None
    assert tracked_app(obj("ConfigMap", "cfg", "dev", "web:/ConfigMap:/cfg")) is None


def test_a_copied_id_is_claimed_but_not_tracked() -> None:
    copy = obj("Namespace", "other", mark="web:/Namespace:prod/team")
    assert claimed_root_app(copy) == "web" and tracked_app(copy) is None
    generated_hook = obj("ConfigMap", "pre-abc", "prod", "web:/ConfigMap:prod/")
    assert claimed_root_app(generated_hook) == "web" and tracked_app(generated_hook) is None
    child = obj("ConfigMap", "cfg", "prod", "web:/ConfigMap:prod/cfg")
    child["metadata"]["ownerReferences"] = [{"uid": "u"}]
    assert claimed_root_app(child) is None and tracked_app(child) is None

"""The desired objects' digest of the compare signature: equal digests only for equal
JSON (types kept apart as JSON keeps them), independent of which objects are shared;
and an app's other claims answered without a scan when only it wants the object."""

from __future__ import annotations

import copy
import json
from typing import Any

from gitops_tui.engine.controller.compare_signature import manifests_digest
from gitops_tui.engine.controller.state import AppTable
from gitops_tui.engine.model import ResourceKey


def deployment(replicas: Any = 2, name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": name}},
        "spec": {"replicas": replicas, "paused": False, "template": {"spec": {"x": [1, 2.5]}}},
    }


def test_equal_objects_digest_equal_whatever_is_shared() -> None:
    shared = "registry.local/web:1.0"
    a = [deployment(), {"kind": "ConfigMap", "data": {"a": shared, "b": shared}}]
    # the same values in distinct objects (a fresh render, another deep copy)
    b = copy.deepcopy(a)
    b[1]["data"] = {"a": "".join(["registry.local/", "web:1.0"]), "b": "registry.local/web:1.0"}
    assert b[1]["data"]["a"] is not b[1]["data"]["b"]
    assert manifests_digest(a) == manifests_digest(b)


def test_values_json_keeps_apart_digest_apart() -> None:
    base = manifests_digest([deployment(2)])
    for other in (True, 2.0, "2", None, 3):
        assert json.dumps(other) != json.dumps(2)
        assert manifests_digest([deployment(other)]) != base, other
    assert manifests_digest([deployment(0.0)]) != manifests_digest([deployment(-0.0)])
    assert manifests_digest([deployment(name="web2")]) != manifests_digest([deployment()])
    assert manifests_digest([]) != manifests_digest([{}])


def test_a_cycle_is_refused_as_json_refuses_it() -> None:
    looped: dict[str, Any] = {"kind": "ConfigMap"}
    looped["data"] = looped
    try:
        manifests_digest([looped])
    except ValueError:
        return
    raise AssertionError("a cyclic object was digested")


def test_claims_elsewhere_only_name_other_apps() -> None:
    table = AppTable()
    key = ResourceKey("", "ConfigMap", "ns", "cm")
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}}
    for name in ("b", "c"):
        table.states[name] = None  # type: ignore[assignment]
    table.index_desired("b", "ctx", [obj])
    assert table.claims_elsewhere("ctx", [key], "b") == {key: None}
    assert table.claims_elsewhere("ctx", [key], "a") == {key: "b"}
    table.index_desired("c", "ctx", [obj])
    assert table.claims_elsewhere("ctx", [key], "b") == {key: "c"}
    assert table.claims_elsewhere("ctx", [key], "c") == {key: "b"}
    del table.states["b"]  # an app the table no longer holds protects nothing
    assert table.claims_elsewhere("ctx", [key], "c") == {key: None}

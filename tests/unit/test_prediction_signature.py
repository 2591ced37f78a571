"""Predictions are keyed by the live object's signature: status updates cost no dry run.

A fake connection counts dry runs (the cluster test in
tests/cluster/test_prediction_cluster.py checks the same against the real server).
"""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.engine.diff.compare import PredictionCache, live_signature, predict


class _Conn:
    name = "test"

    def __init__(self) -> None:
        self.calls = 0

    def apply(self, desired: dict[str, Any], *, dry_run: bool, force: bool) -> dict[str, Any]:
        self.calls += 1
        return {**copy.deepcopy(self.live), "spec": desired["spec"]}

    live: dict[str, Any] = {}


def _deploy(rv: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "d",
            "namespace": "ns",
            "resourceVersion": rv,
            "generation": 1,
            "labels": {"app": "d"},
            "managedFields": [
                {
                    "manager": "gitops-tui",
                    "operation": "Apply",
                    "time": "2026-01-01T00:00:00Z",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}},
                },
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "subresource": "status",
                    "time": "2026-01-01T00:00:00Z",
                    "fieldsV1": {"f:status": {"f:replicas": {}}},
                },
            ],
        },
        "spec": {"replicas": replicas},
        "status": {"replicas": 0},
    }


DESIRED = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "d"},
    "spec": {"replicas": 1},
}


def _predict(conn: _Conn, live: dict[str, Any], cache: PredictionCache) -> dict[str, Any]:
    conn.live = live
    return predict(conn, DESIRED, live, cache)[0]  # type: ignore[arg-type]


def test_a_status_only_update_costs_no_dry_run_and_shows_the_new_status() -> None:
    conn, cache = _Conn(), PredictionCache()
    _predict(conn, _deploy("10"), cache)
    later = _deploy("11")
    later["status"] = {"replicas": 1, "readyReplicas": 1}
    entry = later["metadata"]["managedFields"][1]
    entry["time"] = "2026-01-01T00:00:05Z"
    entry["fieldsV1"] = {"f:status": {"f:replicas": {}, "f:readyReplicas": {}}}
    predicted = _predict(conn, later, cache)
    assert conn.calls == 1
    assert predicted["status"] == later["status"]
    assert predicted["metadata"]["resourceVersion"] == "11"
    assert predicted["metadata"]["managedFields"][1]["fieldsV1"] == entry["fieldsV1"]


def test_a_spec_change_by_another_manager_asks_the_server_again() -> None:
    conn, cache = _Conn(), PredictionCache()
    _predict(conn, _deploy("10"), cache)
    scaled = _deploy("11", replicas=3)
    scaled["metadata"]["generation"] = 2
    scaled["metadata"]["managedFields"].append(
        {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    )
    _predict(conn, scaled, cache)
    assert conn.calls == 2


def test_metadata_and_field_ownership_changes_ask_the_server_again() -> None:
    conn, cache = _Conn(), PredictionCache()
    base = _deploy("10")
    _predict(conn, base, cache)
    relabelled = _deploy("11")
    relabelled["metadata"]["labels"] = {"app": "other"}
    _predict(conn, relabelled, cache)
    assert conn.calls == 2
    taken = _deploy("12")
    taken["metadata"]["managedFields"][0]["manager"] = "someone-else"  # same values, new owner
    _predict(conn, taken, cache)
    assert conn.calls == 3


def test_the_signature_ignores_only_status_versions_and_times() -> None:
    base = _deploy("10")
    same = _deploy("99")
    same["status"] = {"replicas": 5}
    same["metadata"]["managedFields"][0]["time"] = "2030-01-01T00:00:00Z"
    assert live_signature(base) == live_signature(same)
    other = _deploy("10")
    other["metadata"]["annotations"] = {"a": "b"}
    assert live_signature(base) != live_signature(other)

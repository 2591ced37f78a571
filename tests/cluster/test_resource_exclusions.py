"""``resource.exclusions`` on the real control plane: excluded kinds are left out of the
desired state, never watched, and never pruned, even when they carry our tracking id;
an exclusion added to ``argocd-cm`` while running closes the watch at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.controller.engine import Engine
from gitops_tui.engine.health.customizations import parse_keys
from gitops_tui.engine.model import ResourceKey, SyncStatus
from gitops_tui.engine.snapshot import OperationPhase

pytestmark = pytest.mark.cluster


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def sa(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}


def tracked(obj: dict[str, Any], namespace: str) -> str:
    placed = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
    return yaml.safe_dump(with_tracking(placed, namespace))


def kinds(engine: Engine, app: str) -> set[str]:
    return {r.key.kind for r in engine.snapshot().by_name[app].resources}


def warnings(engine: Engine, app: str) -> list[str]:
    return [
        c.message
        for c in engine.snapshot().by_name[app].conditions
        if c.type == "ExcludedResourceWarning"
    ]


def connection(engine: Engine) -> ClusterConnection:
    (conn,) = engine.clusters.connections()
    return conn


def exists(kubeconfig: Path, namespace: str, kind: str, name: str) -> bool:
    got = kubectl(kubeconfig, "-n", namespace, "get", kind, name, check=False)
    return got.returncode == 0


def test_a_prune_never_deletes_an_excluded_kind_even_with_our_tracking_id(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([cm("settings"), sa("runner")])})
    # once managed by this app (our tracking id), then left Git: a prune candidate,
    # were ConfigMaps not excluded
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=tracked(cm("stray"), namespace))
    exclusions = parse_keys(
        {"resource.exclusions": "- apiGroups: ['']\n  kinds: [ConfigMap]\n  clusters: ['*']\n"},
        "config.yaml",
    )
    assert exclusions.problems == ()
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(
        sandbox.kubeconfig,
        tmp_path,
        [doc],
        argocd_config_map=False,
        customizations=exclusions,
    ) as engine:
        assert kinds(engine, namespace) == {"ServiceAccount"}  # neither settings nor stray
        assert warnings(engine, namespace) == [
            "Resource /ConfigMap settings is excluded in the settings"
        ]
        assert not connection(engine).cache.is_watched("", "ConfigMap")

        op = engine.sync(SyncRequest(app=namespace, prune=True))
        final = engine.wait_for_operation(namespace, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        assert {r.key.name for r in final.results} == {"runner"}  # nothing else touched
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
            what="Synced",
        )
    assert exists(sandbox.kubeconfig, namespace, "configmap", "stray")  # not pruned
    assert not exists(sandbox.kubeconfig, namespace, "configmap", "settings")  # not synced
    assert exists(sandbox.kubeconfig, namespace, "serviceaccount", "runner")


def argocd_cm(namespace: str, data: dict[str, str]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": namespace},
            "data": data,
        }
    )


def test_an_exclusion_added_to_argocd_cm_closes_the_watch_live(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    objs = [cm("settings"), sa("runner")]
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(objs)})
    for obj in objs:
        kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=tracked(obj, namespace))
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    runner = ResourceKey("", "ServiceAccount", namespace, "runner")
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], argocd_namespace=namespace) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
            what="Synced",
        )
        assert kinds(engine, namespace) == {"ConfigMap", "ServiceAccount"}
        cache = connection(engine).cache
        watch = cache._watches[("", "ServiceAccount")]
        assert cache.get(runner) is not None

        exclusions = "- apiGroups: ['']\n  kinds: [ConfigMap, ServiceAccount]\n"
        kubectl(
            sandbox.kubeconfig,
            "apply",
            "-f",
            "-",
            stdin=argocd_cm(namespace, {"resource.exclusions": exclusions}),
        )
        wait_for(lambda: kinds(engine, namespace) == set(), what="both kinds left the app")
        assert sorted(warnings(engine, namespace)) == [
            "Resource /ConfigMap settings is excluded in the settings",
            "Resource /ServiceAccount runner is excluded in the settings",
        ]
        assert engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED
        # the ServiceAccount watch is closed now (its connection shut down, its thread
        # gone long before the server's watch timeout), and nothing of it is cached
        wait_for(lambda: not watch._thread.is_alive(), what="the watch thread ended")
        assert ("", "ServiceAccount") not in cache._watches
        assert cache.get(runner) is None
        # ConfigMaps: only argocd-cm itself is still followed (the settings live there)
        assert [o["metadata"]["name"] for o in cache.objects() if o["kind"] == "ConfigMap"] == [
            "argocd-cm"
        ]

        kubectl(sandbox.kubeconfig, "-n", namespace, "delete", "configmap", "argocd-cm")
        wait_for(
            lambda: kinds(engine, namespace) == {"ConfigMap", "ServiceAccount"},
            what="both kinds back once argocd-cm is gone",
        )
        assert cache.is_watched("", "ServiceAccount") and cache.get(runner) is not None
        assert warnings(engine, namespace) == []

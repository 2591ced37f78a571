"""Application and AppProject objects read from a cluster, followed live."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.model import ConditionType, SyncStatus

pytestmark = pytest.mark.cluster


def crd(kind: str, plural: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.argoproj.io"},
        "spec": {
            "group": "argoproj.io",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def argo_crds(sandbox):  # type: ignore[no-untyped-def]
    crds = [crd("Application", "applications"), crd("AppProject", "appprojects")]
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all(crds))
    kubectl(
        sandbox.kubeconfig,
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/applications.argoproj.io",
        "crd/appprojects.argoproj.io",
    )
    yield
    # other test modules expect a cluster without Argo CD's CRDs
    kubectl(
        sandbox.kubeconfig, "delete", "-f", "-", "--wait=true", stdin=dump_all(crds), check=False
    )


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def in_ns(doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    doc["metadata"]["namespace"] = namespace
    return doc


def test_apps_and_projects_from_the_cluster_followed_live(
    sandbox, argo_crds, namespace, tmp_path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "a/cm.yaml": dump_all([cm("a")]),
            "b/cm.yaml": dump_all([cm("b")]),
            "c/roles.yaml": dump_all(
                [
                    cm("c"),
                    {
                        "apiVersion": "rbac.authorization.k8s.io/v1",
                        "kind": "ClusterRole",
                        "metadata": {"name": f"{namespace}-reader"},
                        "rules": [],
                    },
                ]
            ),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    team = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "team", "namespace": namespace},
        "spec": {"sourceRepos": [url], "destinations": [{"server": "*", "namespace": namespace}]},
    }
    strict = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "strict", "namespace": namespace},
        "spec": {
            "sourceRepos": ["https://git.example/only/*"],
            "destinations": [{"server": "*", "namespace": "*"}],
        },
    }
    ok = in_ns(application(f"{namespace}-ok", url, "a", namespace), namespace)
    ok["spec"]["project"] = "team"
    refused = in_ns(application(f"{namespace}-refused", url, "a", namespace), namespace)
    refused["spec"]["project"] = "strict"
    kinds = in_ns(application(f"{namespace}-kinds", url, "c", namespace), namespace)
    kinds["spec"]["project"] = "team"
    kubectl(
        sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all([team, strict, ok, refused, kinds])
    )

    with running_engine(sandbox.kubeconfig, tmp_path, [], from_cluster=namespace) as engine:
        wait_for(
            lambda: (
                {f"{namespace}-ok", f"{namespace}-refused", f"{namespace}-kinds"}
                <= set(engine.snapshot().by_name)
            ),
            what="apps read from the cluster",
        )
        engine.wait_until_compared(timeout=30)
        snap = engine.snapshot().by_name
        assert (
            snap[f"{namespace}-ok"].sync == SyncStatus.OUT_OF_SYNC
            and not snap[f"{namespace}-ok"].conditions
        )
        assert snap[f"{namespace}-refused"].sync == SyncStatus.UNKNOWN
        assert (
            "not permitted in project 'strict'"
            in snap[f"{namespace}-refused"].conditions[0].message
        )
        kinds_snap = snap[f"{namespace}-kinds"]
        assert [r.key.kind for r in kinds_snap.resources] == [
            "ConfigMap"
        ]  # the ClusterRole is refused
        assert any(
            c.type == ConditionType.INVALID_SPEC and "ClusterRole" in c.message
            for c in kinds_snap.conditions
        )

        # creation, change and deletion of Application objects are followed live
        new = in_ns(application(f"{namespace}-new", url, "b", namespace), namespace)
        kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(new))
        wait_for(lambda: f"{namespace}-new" in engine.snapshot().by_name, what="new app appears")
        new["spec"]["source"]["path"] = "a"
        kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(new))
        wait_for(
            lambda: engine.snapshot().by_name[f"{namespace}-new"].path == "a",
            what="app change followed",
        )
        kubectl(
            sandbox.kubeconfig,
            "-n",
            namespace,
            "delete",
            "applications.argoproj.io",
            f"{namespace}-new",
        )
        wait_for(
            lambda: f"{namespace}-new" not in engine.snapshot().by_name,
            what="deleted app disappears",
        )


def test_parent_applies_application_objects_when_the_cluster_has_the_crd(
    sandbox, argo_crds, namespace, tmp_path
) -> None:
    from gitops_tui.engine.api import SyncRequest
    from gitops_tui.engine.snapshot import OperationPhase

    repo = make_repo(tmp_path / "repo", {"child/cm.yaml": dump_all([cm("child-cm")])})
    url = f"file://{repo.working_tree_dir}"
    child = application(f"{namespace}-child", url, "child", namespace)
    child["metadata"]["namespace"] = namespace
    from gitrepo import commit

    commit(repo, {"parent/apps.yaml": dump_all([child])}, "parent")
    parent = application(namespace, url, "parent", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        op = engine.sync(SyncRequest(app=namespace))
        final = engine.wait_for_operation(namespace, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        # applied to the cluster as Argo CD would, and registered as a child app
        got = kubectl(
            sandbox.kubeconfig, "-n", namespace, "get", "applications.argoproj.io", "-o", "name"
        )
        assert f"application.argoproj.io/{namespace}-child" in got.stdout
        wait_for(lambda: f"{namespace}-child" in engine.snapshot().by_name, what="child registered")
        assert engine.snapshot().by_name[f"{namespace}-child"].parent == namespace


def test_live_application_health_is_opt_in(sandbox, argo_crds, namespace, tmp_path) -> None:
    from gitrepo import commit

    from gitops_tui.engine.api import SyncRequest
    from gitops_tui.engine.model import HealthStatus
    from gitops_tui.engine.snapshot import OperationPhase

    repo = make_repo(tmp_path / "repo", {"child/cm.yaml": dump_all([cm("child-cm")])})
    url = f"file://{repo.working_tree_dir}"
    name = f"{namespace}-child"
    child = application(name, url, "child", namespace)
    child["metadata"]["namespace"] = namespace
    commit(repo, {"parent/apps.yaml": dump_all([child])}, "parent")
    parent = application(namespace, url, "parent", namespace)

    def sync(engine, app: str) -> None:  # type: ignore[no-untyped-def]
        op = engine.sync(SyncRequest(app=app))
        final = engine.wait_for_operation(app, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final

    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        sync(engine, namespace)
        wait_for(lambda: name in engine.snapshot().by_name, what="child registered")
        engine.wait_until_compared(timeout=30)
        sync(engine, name)
        # no Argo CD writes the live Application's status: by default it has no health
        # (Argo CD >= 1.8), and the parent follows the child app gitops-tui compares itself
        wait_for(
            lambda: engine.snapshot().by_name[namespace].health == HealthStatus.HEALTHY,
            what="parent healthy",
        )

    kubectl(
        sandbox.kubeconfig,
        "-n",
        namespace,
        "patch",
        "applications.argoproj.io",
        name,
        "--type=merge",
        "-p",
        '{"status": {"health": {"status": "Degraded", "message": "from Argo CD"}}}',
    )
    # applicationHealth: true reads status.health, as the argoproj.io_Application customization
    with running_engine(sandbox.kubeconfig, tmp_path, [parent], application_health=True) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].health == HealthStatus.DEGRADED,
            what="parent degraded by the live Application's status",
        )

"""Several clusters: two sandboxes at once, one going down while the other carries on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, running_engine, wait_for

from gitops_tui.engine.model import ConditionType, SyncStatus
from gitops_tui.sandbox.controlplane import Sandbox

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def second_sandbox(tmp_path_factory):  # type: ignore[no-untyped-def]
    box = Sandbox(tmp_path_factory.mktemp("second"), name="second")
    box.up(nodes=1)
    yield box
    box.down()


def merged_kubeconfig(path: Path, *files: Path) -> Path:
    merged: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
    }
    for index, file in enumerate(files):
        doc = yaml.safe_load(file.read_text())
        for section in ("clusters", "users", "contexts"):
            merged[section].extend(doc[section])
        if index == 0:
            merged["current-context"] = doc["current-context"]
    path.write_text(yaml.safe_dump(merged))
    return path


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def test_apps_on_two_clusters_and_one_going_down(
    sandbox, second_sandbox, namespace, tmp_path
) -> None:
    kubeconfig = merged_kubeconfig(
        tmp_path / "kubeconfig", sandbox.kubeconfig, second_sandbox.kubeconfig
    )
    second = second_sandbox.status()
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("shared-name")])})
    url = f"file://{repo.working_tree_dir}"
    first_app = application(f"{namespace}-one", url, "app", "default")
    first_app["spec"]["destination"] = {"name": "sandbox-test", "namespace": "default"}
    second_app = application(f"{namespace}-two", url, "app", "default")
    second_app["spec"]["destination"] = {"server": second.server, "namespace": "default"}
    lost_app = application(f"{namespace}-lost", url, "app", "default")
    lost_app["spec"]["destination"] = {"name": "no-such-context", "namespace": "default"}
    docs = [first_app, second_app, lost_app]
    with running_engine(kubeconfig, tmp_path, docs) as engine:
        snap = engine.snapshot()
        one, two, lost = (snap.by_name[d["metadata"]["name"]] for d in docs)
        assert one.sync == two.sync == SyncStatus.OUT_OF_SYNC  # compared on both clusters
        assert lost.sync == SyncStatus.UNKNOWN
        assert "no-such-context" in lost.conditions[0].message
        assert {c.name for c in snap.clusters} == {"sandbox-test", "second"}

        second_sandbox.stop_component("kube-apiserver")
        try:
            engine.refresh()
            two = wait_for(
                lambda: (
                    (a := engine.snapshot().by_name[f"{namespace}-two"]).sync == SyncStatus.UNKNOWN
                    and a
                ),
                timeout=30,
                what="second cluster's app Unknown",
            )
            assert any(c.type == ConditionType.CLUSTER_UNREACHABLE for c in two.conditions)
            one = engine.snapshot().by_name[f"{namespace}-one"]
            assert one.sync == SyncStatus.OUT_OF_SYNC and not one.conditions
        finally:
            second_sandbox.start_component("kube-apiserver")
        wait_for(
            lambda: engine.snapshot().by_name[f"{namespace}-two"].sync == SyncStatus.OUT_OF_SYNC,
            timeout=60,
            what="second cluster's app recovers",
        )


def test_switching_the_default_context_moves_in_cluster_apps(
    sandbox, second_sandbox, namespace, tmp_path
) -> None:
    kubeconfig = merged_kubeconfig(
        tmp_path / "kubeconfig", sandbox.kubeconfig, second_sandbox.kubeconfig
    )
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("only-on-second")])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", "default")  # in-cluster
    # the object exists on the second cluster only
    from helpers import kubectl

    from gitops_tui.engine.cache.tracking import with_tracking

    obj = with_tracking(
        {**cm("only-on-second"), "metadata": {"name": "only-on-second", "namespace": "default"}},
        namespace,
    )
    kubectl(
        second_sandbox.kubeconfig,
        "apply",
        "--server-side",
        "--field-manager=gitops-tui",
        "-f",
        "-",
        stdin=dump_all([obj]),
    )
    with running_engine(kubeconfig, tmp_path, [doc]) as engine:
        assert engine.default_context == "sandbox-test"
        assert (
            engine.snapshot().by_name[namespace].sync == SyncStatus.OUT_OF_SYNC
        )  # missing on the first
        assert set(engine.contexts()) == {"sandbox-test", "second"}
        engine.set_default_context("second")
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
            timeout=30,
            what="the app compared against the second cluster",
        )
        with pytest.raises(Exception, match="no context 'nope'"):
            engine.set_default_context("nope")


def test_sync_and_prune_reach_the_destination_cluster_only(
    sandbox, second_sandbox, namespace, tmp_path
) -> None:
    """An app on the second (non-default) context: created there, pruned there, and the
    first cluster's namesakes (even one carrying the same tracking mark) are untouched."""
    from gitrepo import commit
    from helpers import kubectl

    from gitops_tui.engine.api import SyncRequest
    from gitops_tui.engine.cache.tracking import with_tracking
    from gitops_tui.engine.snapshot import OperationPhase

    kubeconfig = merged_kubeconfig(
        tmp_path / "kubeconfig", sandbox.kubeconfig, second_sandbox.kubeconfig
    )
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("keep"), cm("stale")])})
    doc = application(
        namespace,
        f"file://{repo.working_tree_dir}",
        "app",
        namespace,
        sync_options=["CreateNamespace=true"],
    )
    doc["spec"]["destination"] = {"name": "second", "namespace": namespace}
    # a decoy on the default cluster: same namespace, name and tracking mark as "stale"
    decoy = with_tracking(
        {**cm("stale"), "metadata": {"name": "stale", "namespace": namespace}}, namespace
    )
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all([decoy]))

    def uid(box_kubeconfig: Path, name: str) -> str | None:
        got = kubectl(
            box_kubeconfig, "-n", namespace, "get", "configmap", name, "-o", "json", check=False
        )
        return yaml.safe_load(got.stdout)["metadata"]["uid"] if got.returncode == 0 else None

    decoy_uid = uid(sandbox.kubeconfig, "stale")
    second = second_sandbox.kubeconfig
    try:
        with running_engine(kubeconfig, tmp_path, [doc]) as engine:
            assert engine.default_context == "sandbox-test"
            op = engine.sync(SyncRequest(app=namespace))
            final = engine.wait_for_operation(namespace, op, timeout=90)
            assert final is not None and final.phase is OperationPhase.SUCCEEDED, final
            assert uid(second, "keep") and uid(second, "stale")
            assert uid(sandbox.kubeconfig, "keep") is None  # nothing on the default cluster

            sha = commit(repo, {"app/cm.yaml": dump_all([cm("keep")])}, "drop stale")
            engine.refresh(namespace)
            wait_for(
                lambda: engine.snapshot().by_name[namespace].revision == sha,
                timeout=60,
                what="the new revision compared",
            )
            preview = engine.preview(SyncRequest(app=namespace, prune=True))
            assert [t.key.name for t in preview.plan.tasks if t.is_prune] == ["stale"]
            op = engine.sync(SyncRequest(app=namespace, prune=True))
            final = engine.wait_for_operation(namespace, op, timeout=90)
            assert final is not None and final.phase is OperationPhase.SUCCEEDED, final
            wait_for(lambda: uid(second, "stale") is None, what="stale pruned on the second")
            assert uid(second, "keep")
            assert uid(sandbox.kubeconfig, "stale") == decoy_uid
    finally:
        kubectl(second, "delete", "namespace", namespace, "--wait=false", check=False)

"""The engine's comparison against a real cluster and real Git repositories.

The sync-status scenarios (synced, scale drift, extra/missing object, new commit) also
ask ``kubectl diff --server-side`` about the same manifests. The normalisation rules
themselves (stringData vs data, int/float quantities, defaulted fields, fields of
other managers, ignoreDifferences) are cross-checked case by case, each rule with a
Synced and an OutOfSync case, in ``test_normalisation_rules_agree_with_kubectl_diff_server_side``.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.model import HealthStatus, ResourceKey, SyncStatus
from gitops_tui.headless import app_to_json, cmd_diff, cmd_list

pytestmark = pytest.mark.cluster


def deployment(name: str = "web", replicas: int = 2, image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": name, "image": image, "ports": [{"containerPort": 80}]}]
                },
            },
        },
    }


def service(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 80}]},
    }


def configmap(name: str = "settings", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": data or {"mode": "prod"},
    }


def as_applied(objs: list[dict[str, Any]], app: str, namespace: str) -> list[dict[str, Any]]:
    """What the engine would apply: destination namespace and tracking annotation added."""
    out = []
    for obj in objs:
        item = copy.deepcopy(obj)
        item["metadata"]["namespace"] = namespace
        out.append(with_tracking(item, app))
    return out


def apply(kubeconfig: Path, objs: list[dict[str, Any]]) -> None:
    kubectl(
        kubeconfig,
        "apply",
        "--server-side",
        "--field-manager=gitops-tui",
        "-f",
        "-",
        stdin=dump_all(objs),
    )


def kubectl_diff_says_out_of_sync(kubeconfig: Path, objs: list[dict[str, Any]]) -> bool:
    result = kubectl(
        kubeconfig,
        "diff",
        "--server-side",
        "--force-conflicts",
        "--field-manager=gitops-tui",
        "-f",
        "-",
        stdin=dump_all(objs),
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 1


@pytest.fixture
def gitops_repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    manifests = [deployment(), service(), configmap()]
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(manifests)})
    return repo, manifests


def test_synced_app_is_synced_and_healthy(sandbox, namespace, tmp_path, gitops_repo) -> None:
    repo, manifests = gitops_repo
    applied = as_applied(manifests, namespace, namespace)
    apply(sandbox.kubeconfig, applied)
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        app = wait_for(
            lambda: (
                (a := engine.snapshot().by_name[namespace]).health == HealthStatus.HEALTHY and a
            ),
            what="Healthy",
        )
        assert app.sync == SyncStatus.SYNCED, [(r.key, r.changed_paths) for r in app.resources]
        assert app.revision == repo.head.commit.hexsha
        assert {r.key.kind for r in app.resources} == {"Deployment", "Service", "ConfigMap"}
        assert all(not d.modified for d in engine.diffs(namespace))
        # the tree shows Deployment -> ReplicaSet -> Pods
        dep = next(r for r in app.resources if r.key.kind == "Deployment")
        assert [c.key.kind for c in dep.children] == ["ReplicaSet"]
        assert sorted(p.key.kind for p in dep.children[0].children) == ["Pod", "Pod"]
    assert not kubectl_diff_says_out_of_sync(sandbox.kubeconfig, applied)


def test_scale_drift_is_out_of_sync_naming_replicas(
    sandbox, namespace, tmp_path, gitops_repo
) -> None:
    repo, manifests = gitops_repo
    applied = as_applied(manifests, namespace, namespace)
    apply(sandbox.kubeconfig, applied)
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED, what="Synced"
        )
        kubectl(sandbox.kubeconfig, "-n", namespace, "scale", "deployment/web", "--replicas=5")
        app = wait_for(
            lambda: (
                (a := engine.snapshot().by_name[namespace]).sync == SyncStatus.OUT_OF_SYNC and a
            ),
            what="OutOfSync after scale",
        )
        dep = next(r for r in app.resources if r.key.kind == "Deployment")
        assert dep.status == SyncStatus.OUT_OF_SYNC
        assert dep.changed_paths == ("spec.replicas",)
        assert [r.key.kind for r in app.resources if r.status == SyncStatus.OUT_OF_SYNC] == [
            "Deployment"
        ]
    assert kubectl_diff_says_out_of_sync(sandbox.kubeconfig, applied)


def test_extra_tracked_object_requires_pruning_and_missing_one_is_out_of_sync(
    sandbox, namespace, tmp_path, gitops_repo
) -> None:
    repo, manifests = gitops_repo
    applied = as_applied(manifests, namespace, namespace)
    # the ConfigMap is not applied (missing); an old tracked ConfigMap is (extra)
    extra = as_applied([configmap("old-settings")], namespace, namespace)
    untracked = configmap("someone-elses")
    untracked["metadata"]["namespace"] = namespace
    other_app = as_applied([configmap("other-app-cm")], "other", namespace)
    apply(sandbox.kubeconfig, applied[:2] + extra + [untracked] + other_app)
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        app = engine.snapshot().by_name[namespace]
        by_name = {r.key.name: r for r in app.resources}
        assert app.sync == SyncStatus.OUT_OF_SYNC
        assert by_name["old-settings"].requires_pruning
        assert by_name["old-settings"].status == SyncStatus.OUT_OF_SYNC
        assert by_name["settings"].status == SyncStatus.OUT_OF_SYNC
        assert by_name["settings"].health == HealthStatus.MISSING or not by_name["settings"].exists
        assert "someone-elses" not in by_name and "other-app-cm" not in by_name
    assert kubectl_diff_says_out_of_sync(sandbox.kubeconfig, applied)


def test_new_commit_changes_revision_and_status(sandbox, namespace, tmp_path, gitops_repo) -> None:
    repo, manifests = gitops_repo
    apply(sandbox.kubeconfig, as_applied(manifests, namespace, namespace))
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED, what="Synced"
        )
        changed = [deployment(image="nginx:1.28"), service(), configmap()]
        sha = commit(repo, {"app/all.yaml": dump_all(changed)}, "bump image")
        app = wait_for(
            lambda: (a := engine.snapshot().by_name[namespace]).revision == sha and a,
            timeout=10,
            what="new revision picked up by the file watcher",
        )
        app = wait_for(
            lambda: (
                (a := engine.snapshot().by_name[namespace]).sync == SyncStatus.OUT_OF_SYNC and a
            ),
            what="OutOfSync",
        )
        dep = next(r for r in app.resources if r.key.kind == "Deployment")
        assert dep.changed_paths == ("spec.template.spec.containers[0].image",)
    assert kubectl_diff_says_out_of_sync(
        sandbox.kubeconfig, as_applied(changed, namespace, namespace)
    )


def test_ignore_differences_hides_what_it_names_and_nothing_else(
    sandbox, namespace, tmp_path, gitops_repo
) -> None:
    repo, manifests = gitops_repo
    apply(sandbox.kubeconfig, as_applied(manifests, namespace, namespace))
    doc = application(
        namespace,
        f"file://{repo.working_tree_dir}",
        "app",
        namespace,
        extra_spec={
            "ignoreDifferences": [
                {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}
            ]
        },
    )
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED, what="Synced"
        )
        kubectl(sandbox.kubeconfig, "-n", namespace, "scale", "deployment/web", "--replicas=4")
        wait_for(lambda: engine.snapshot().by_name[namespace].compared_at > 0, what="compare")
        # give the watch event time to arrive and be compared, then check it stays Synced
        dep_key = ResourceKey("apps", "Deployment", namespace, "web")
        wait_for(
            lambda: (
                (engine.clusters.connection("sandbox-test").cache.get(dep_key) or {})
                .get("spec", {})
                .get("replicas")
                == 4
            ),
            what="cache sees the scale",
        )
        engine.refresh(namespace)
        engine.wait_until_compared(apps=[namespace])
        assert engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED
        kubectl(
            sandbox.kubeconfig, "-n", namespace, "set", "image", "deployment/web", "web=nginx:1.29"
        )
        app = wait_for(
            lambda: (
                (a := engine.snapshot().by_name[namespace]).sync == SyncStatus.OUT_OF_SYNC and a
            ),
            what="image drift still visible",
        )
        dep = next(r for r in app.resources if r.key.kind == "Deployment")
        assert dep.changed_paths == ("spec.template.spec.containers[0].image",)


def test_secret_values_never_reach_diff_list_or_logs(sandbox, namespace, tmp_path, caplog) -> None:
    canary = "canary-9f8e7d6c5b4a"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "type": "Opaque",
        "stringData": {"password": canary},
    }
    repo = make_repo(tmp_path / "repo", {"app/secret.yaml": yaml.safe_dump(secret)})
    live = as_applied([{**secret, "stringData": {"password": canary + "-old"}}], "sec", namespace)
    apply(sandbox.kubeconfig, live)
    doc = application("sec", f"file://{repo.working_tree_dir}", "app", namespace)
    caplog.set_level(logging.DEBUG)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        app = engine.snapshot().by_name["sec"]
        assert app.sync == SyncStatus.OUT_OF_SYNC
        diffs = engine.diffs("sec")
        full = engine.diffs("sec", context=-1)
        from io import StringIO

        listing, diff_out = StringIO(), StringIO()
        cmd_list(engine, output="json", out=listing)
        cmd_diff(engine, "sec", exit_code=True, output="text", out=diff_out)
        texts = [listing.getvalue(), diff_out.getvalue(), json.dumps(app_to_json(app)), caplog.text]
        for d in diffs + full:
            texts += [d.unified, d.desired_yaml, d.live_yaml, repr(d)]
        assert "+++++" in diff_out.getvalue() or "++++++++" in diff_out.getvalue()
    forbidden = [
        canary,
        base64.b64encode(canary.encode()).decode(),
        base64.b64encode((canary + "-old").encode()).decode(),
    ]
    for text in texts:
        for value in forbidden:
            assert value not in text


def test_kustomize_and_helm_apps(sandbox, namespace, tmp_path) -> None:
    chart = {
        "chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        "chart/values.yaml": "replicas: 1\nmessage: hello\n",
        "chart/templates/cm.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
            "data:\n  message: {{ .Values.message | quote }}\n"
        ),
        "kust/kustomization.yaml": "resources:\n- cm.yaml\nnamePrefix: k-\n",
        "kust/cm.yaml": yaml.safe_dump(configmap("base")),
    }
    repo = make_repo(tmp_path / "repo", chart)
    url = f"file://{repo.working_tree_dir}"
    docs = [
        application(
            "helmy",
            url,
            "chart",
            namespace,
            source_extra={"helm": {"valuesObject": {"message": "hi"}}},
        ),
        application("kusty", url, "kust", namespace),
    ]
    with running_engine(sandbox.kubeconfig, tmp_path, docs) as engine:
        helmy = engine.snapshot().by_name["helmy"]
        kusty = engine.snapshot().by_name["kusty"]
        assert [r.key.name for r in helmy.resources] == ["helmy-cm"]
        assert [r.key.name for r in kusty.resources] == ["k-base"]
        assert helmy.sync == kusty.sync == SyncStatus.OUT_OF_SYNC
        assert not helmy.conditions and not kusty.conditions
        diff = engine.diffs("helmy")[0]
        assert "message: hi" in diff.desired_yaml


def test_broken_app_and_unreachable_repo_beside_a_good_one(
    sandbox, namespace, tmp_path, gitops_repo
) -> None:
    repo, manifests = gitops_repo
    apply(sandbox.kubeconfig, as_applied(manifests, namespace, namespace))
    url = f"file://{repo.working_tree_dir}"
    bad_yaml = make_repo(
        tmp_path / "bad", {"app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"}
    )
    docs = [
        application(namespace, url, "app", namespace),
        application("broken-yaml", f"file://{bad_yaml.working_tree_dir}", "app", namespace),
        application("no-repo", "http://127.0.0.1:9/nothing.git", "app", namespace),
        application("bad-rev", url, "app", namespace, revision="no-such-branch"),
    ]
    with running_engine(sandbox.kubeconfig, tmp_path, docs) as engine:
        snap = engine.snapshot().by_name
        assert snap[namespace].sync == SyncStatus.SYNCED
        for name in ("broken-yaml", "no-repo", "bad-rev"):
            assert snap[name].sync == SyncStatus.UNKNOWN, name
            assert snap[name].conditions, name
        assert "broken.yaml" in snap["broken-yaml"].conditions[0].message
        assert snap["no-repo"].conditions[0].type == "RepoError"
        assert "no-such-branch" in snap["bad-rev"].conditions[0].message


# -- the normalisation rules themselves, against kubectl diff --server-side ---------------


def secret(name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **fields}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def with_resources(dep: dict[str, Any], **limits: Any) -> dict[str, Any]:
    out = copy.deepcopy(dep)
    out["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": limits}
    return out


def with_spec(dep: dict[str, Any], **spec: Any) -> dict[str, Any]:
    out = copy.deepcopy(dep)
    out["spec"].update(spec)
    return out


# name -> (live as applied by us, desired in Git, what another field manager then
# changes on the live object (a kubectl argv or None), ignoreDifferences, expected)
NORMALISATION_CASES: dict[str, tuple[Any, Any, list[str] | None, list[Any], SyncStatus]] = {
    "stringdata-same": (
        secret("s1", data={"a": b64("x")}),
        secret("s1", stringData={"a": "x"}),
        None,
        [],
        SyncStatus.SYNCED,
    ),
    "stringdata-differs": (
        secret("s2", data={"a": b64("x")}),
        secret("s2", stringData={"a": "other"}),
        None,
        [],
        SyncStatus.OUT_OF_SYNC,
    ),
    "quantity-float-vs-milli": (
        with_resources(deployment("q1"), cpu="500m", memory="1Gi"),
        with_resources(deployment("q1"), cpu=0.5, memory="1024Mi"),
        None,
        [],
        SyncStatus.SYNCED,
    ),
    "quantity-int-differs": (
        with_resources(deployment("q2"), cpu="500m"),
        with_resources(deployment("q2"), cpu=1),
        None,
        [],
        SyncStatus.OUT_OF_SYNC,
    ),
    "default-left-out": (
        deployment("d1"),
        deployment("d1"),  # strategy, revisionHistoryLimit, ... defaulted live only
        None,
        [],
        SyncStatus.SYNCED,
    ),
    "default-written-out": (
        deployment("d2"),
        with_spec(deployment("d2"), revisionHistoryLimit=10, progressDeadlineSeconds=600),
        None,
        [],
        SyncStatus.SYNCED,
    ),
    "default-overridden": (
        deployment("d3"),
        with_spec(deployment("d3"), revisionHistoryLimit=3),
        None,
        [],
        SyncStatus.OUT_OF_SYNC,
    ),
    "managed-by-another-manager": (  # a label only another manager owns: not ours to diff
        configmap("m1"),
        configmap("m1"),
        ["label", "configmap", "m1", "team=other", "--field-manager=someone-else"],
        [],
        SyncStatus.SYNCED,
    ),
    "ours-changed-by-another-manager": (
        configmap("m2"),
        configmap("m2"),
        [
            "patch",
            "configmap",
            "m2",
            "--field-manager=someone-else",
            "-p",
            '{"data":{"mode":"dev"}}',
        ],
        [],
        SyncStatus.OUT_OF_SYNC,
    ),
    "ignored-field-drifts": (
        deployment("i1"),
        deployment("i1"),
        ["scale", "deployment/i1", "--replicas=4"],
        [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
        SyncStatus.SYNCED,
    ),
    "ignored-field-and-another-drift": (
        deployment("i2"),
        deployment("i2"),
        [
            "patch",
            "deployment",
            "i2",
            "--field-manager=someone-else",
            "-p",
            '{"spec":{"replicas":4,"template":{"spec":{"containers":[{"name":"i2","image":"nginx:1.29"}]}}}}',
        ],
        [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
        SyncStatus.OUT_OF_SYNC,
    ),
}


def _ignored(desired: dict[str, Any], live: dict[str, Any], rules: list[Any]) -> dict[str, Any]:
    """``desired`` with every ignored JSON pointer set to the live value (what
    ignoreDifferences means), so kubectl can be asked the same question."""
    out = copy.deepcopy(desired)
    for rule in rules:
        for pointer in rule.get("jsonPointers", []):
            parts = pointer.strip("/").split("/")
            src: Any = live
            for part in parts:
                src = src[part]
            dst = out
            for part in parts[:-1]:
                dst = dst.setdefault(part, {})
            dst[parts[-1]] = src
    return out


def test_normalisation_rules_agree_with_kubectl_diff_server_side(
    sandbox, namespace, tmp_path
) -> None:
    """Each rule (stringData vs data, int/float quantities, defaulted fields, fields of
    other managers, ignoreDifferences) gets a Synced and an OutOfSync case; the engine's
    verdict must be the expected one AND kubectl diff --server-side's."""
    files, docs = {}, []
    for index, (case, (live, desired, _change, ignore, _want)) in enumerate(
        NORMALISATION_CASES.items()
    ):
        app = f"{namespace}-n{index}"
        apply(sandbox.kubeconfig, as_applied([live], app, namespace))
        files[f"{case}/obj.yaml"] = dump_all([desired])
        extra = {"ignoreDifferences": ignore} if ignore else None
        docs.append((case, app, application(app, "", case, namespace, extra_spec=extra)))
    for _live, _desired, change, _ignore, _want in NORMALISATION_CASES.values():
        if change:
            kubectl(sandbox.kubeconfig, "-n", namespace, *change)
    repo = make_repo(tmp_path / "repo", files)
    url = f"file://{repo.working_tree_dir}"
    for _case, _app, doc in docs:
        doc["spec"]["source"]["repoURL"] = url
    verdicts: dict[str, tuple[SyncStatus, SyncStatus, bool]] = {}
    with running_engine(sandbox.kubeconfig, tmp_path, [d for _c, _a, d in docs]) as engine:
        for case, app, _doc in docs:
            live, desired, _change, ignore, want = NORMALISATION_CASES[case]
            [applied] = as_applied([desired], app, namespace)
            key = ResourceKey.of(applied)
            current = json.loads(
                kubectl(
                    sandbox.kubeconfig, "-n", namespace, "get", key.kind, key.name, "-o", "json"
                ).stdout
            )
            asked = _ignored(applied, current, ignore)
            verdicts[case] = (
                want,
                engine.snapshot().by_name[app].sync,
                kubectl_diff_says_out_of_sync(sandbox.kubeconfig, [asked]),
            )
    wrong = {
        case: (str(want), str(ours), "kubectl: OutOfSync" if theirs else "kubectl: Synced")
        for case, (want, ours, theirs) in verdicts.items()
        if ours != want or theirs != (want == SyncStatus.OUT_OF_SYNC)
    }
    assert wrong == {}, wrong
    both = {want for want, _o, _t in verdicts.values()}
    assert both == {SyncStatus.SYNCED, SyncStatus.OUT_OF_SYNC}  # not trivially agreeing

"""``appset apply NAME --from-cluster``: the set and its Applications written by server-side
apply, owned by the set (the cluster's garbage collector follows the ownerReferences)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import dump_all, kubectl, wait_for

from gitops_tui import appset_cli
from gitops_tui.cli import build_parser

pytestmark = pytest.mark.cluster


def crd(kind: str, plural: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.argoproj.io"},
        "spec": {
            "group": "argoproj.io",
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural,
                      "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1alpha1", "served": True, "storage": True,
                 "schema": {"openAPIV3Schema": {"type": "object",
                                                "x-kubernetes-preserve-unknown-fields": True}}}
            ],
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def argo_crds(sandbox):  # type: ignore[no-untyped-def]
    crds = [crd("Application", "applications"), crd("ApplicationSet", "applicationsets")]
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all(crds))
    kubectl(
        sandbox.kubeconfig, "wait", "--for=condition=Established", "--timeout=60s",
        "crd/applications.argoproj.io", "crd/applicationsets.argoproj.io",
    )  # fmt: skip
    yield
    finish_deletions(sandbox.kubeconfig, None, everything=True)
    # other test modules expect a cluster without Argo CD's CRDs
    kubectl(
        sandbox.kubeconfig, "delete", "-f", "-", "--wait=true", stdin=dump_all(crds), check=False
    )


def appset(name: str, url: str, namespace: str, policy: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "generators": [
                {"git": {"repoURL": url, "revision": "HEAD", "directories": [{"path": "apps/*"}]}}
            ],
            "syncPolicy": {"applicationsSync": policy},
            "template": {
                "metadata": {"name": "{{path.basename}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": url, "targetRevision": "HEAD", "path": "{{path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
                },
            },
        },
    }


def apply(kubeconfig: Path, tmp: Path, *args: str) -> tuple[int, str]:
    parsed = build_parser().parse_args(
        [
            "appset",
            "apply",
            *args,
            "--kubeconfig",
            str(kubeconfig),
            "--config",
            str(tmp / "none.yaml"),
        ]
    )
    (tmp / "none.yaml").write_text("{}\n")
    out = io.StringIO()
    return appset_cli.run(parsed, out=out), out.getvalue()


def finish_deletions(kubeconfig: Path, namespace: str | None, *, everything: bool = False) -> None:
    """What Argo CD's application controller (not running here) does with the resources
    finalizer of a deleted app: deletes its resources, then removes the finalizer. Here
    the finalizer is removed (of every app: ``everything``, so the namespace can go)."""
    where = ["-A"] if namespace is None else ["-n", namespace]
    listed = kubectl(kubeconfig, "get", "applications.argoproj.io", *where, "-o", "json")
    for app in json.loads(listed.stdout)["items"]:
        meta = app["metadata"]
        if meta.get("finalizers") and (everything or meta.get("deletionTimestamp")):
            kubectl(
                kubeconfig, "-n", meta["namespace"], "patch", "applications.argoproj.io",
                meta["name"], "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
                check=False,
            )  # fmt: skip


def apps_in(kubeconfig: Path, namespace: str) -> dict[str, Any]:
    listed = kubectl(kubeconfig, "-n", namespace, "get", "applications.argoproj.io", "-o", "json")
    return {i["metadata"]["name"]: i for i in json.loads(listed.stdout)["items"]}


def test_apply_writes_owned_apps_follows_git_and_never_deletes_others(
    sandbox, argo_crds, namespace, tmp_path
) -> None:
    repo = make_repo(tmp_path / "repo", {"apps/a/x.yaml": "{}\n", "apps/b/x.yaml": "{}\n"})
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(appset("fleet", url, namespace, "sync")))
    # an Application the set does not own, with a name it no longer generates later
    kubectl(
        sandbox.kubeconfig, "apply", "-f", "-",
        stdin=dump_all([{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                         "metadata": {"name": "other", "namespace": namespace},
                         "spec": {"project": "default"}}]),
    )  # fmt: skip
    code, text = apply(
        sandbox.kubeconfig, tmp_path, "fleet", str(set_file), "--from-cluster", namespace
    )
    assert code == 0, text
    assert "created a" in text and "created b" in text
    [the_set] = json.loads(
        kubectl(
            sandbox.kubeconfig, "-n", namespace, "get", "applicationsets.argoproj.io", "-o", "json"
        ).stdout
    )["items"]
    uid = the_set["metadata"]["uid"]
    apps = apps_in(sandbox.kubeconfig, namespace)
    assert set(apps) == {"a", "b", "other"}
    for name in ("a", "b"):
        [ref] = apps[name]["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == (
            "ApplicationSet", "fleet", uid, True
        )  # fmt: skip
        assert apps[name]["spec"]["source"]["path"] == f"apps/{name}"
        # as Argo CD's controller writes them: deleting the app deletes its resources
        assert apps[name]["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]

    commit(repo, {"apps/c/x.yaml": "{}\n"}, "add c, remove b", delete=["apps/b"])
    code, text = apply(
        sandbox.kubeconfig, tmp_path, "fleet", str(set_file), "--from-cluster", namespace
    )
    assert code == 0, text
    assert "created c" in text and "deleted b" in text
    b = apps_in(sandbox.kubeconfig, namespace)["b"]  # deleted: its finalizer holds it
    assert b["metadata"]["deletionTimestamp"]
    finish_deletions(sandbox.kubeconfig, namespace)
    wait_for(
        lambda: set(apps_in(sandbox.kubeconfig, namespace)) == {"a", "c", "other"},
        timeout=60,
        what="b deleted",
    )

    # the set deleted: the cluster's garbage collector deletes its Applications (uid matched)
    kubectl(sandbox.kubeconfig, "-n", namespace, "delete", "applicationsets.argoproj.io", "fleet")

    def collected() -> bool:
        finish_deletions(sandbox.kubeconfig, namespace)
        return set(apps_in(sandbox.kubeconfig, namespace)) == {"other"}

    wait_for(collected, timeout=60, what="the set's Applications garbage collected", step=0.5)


def test_create_only_keeps_a_removed_app_and_read_only_sends_nothing(
    sandbox, argo_crds, namespace, tmp_path
) -> None:
    repo = make_repo(tmp_path / "repo", {"apps/a/x.yaml": "{}\n", "apps/b/x.yaml": "{}\n"})
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(appset("keep", url, namespace, "create-only")))
    code, text = apply(
        sandbox.kubeconfig,
        tmp_path,
        "keep",
        str(set_file),
        "--from-cluster",
        namespace,
        "--read-only",
    )
    assert code == 2
    assert (
        kubectl(
            sandbox.kubeconfig, "-n", namespace, "get", "applicationsets.argoproj.io", "-o", "name"
        ).stdout
        == ""
    )
    assert apps_in(sandbox.kubeconfig, namespace) == {}

    code, text = apply(
        sandbox.kubeconfig, tmp_path, "keep", str(set_file), "--from-cluster", namespace
    )
    assert code == 0, text
    commit(repo, {}, "remove b", delete=["apps/b"])
    code, text = apply(
        sandbox.kubeconfig,
        tmp_path,
        "keep",
        str(set_file),
        "--from-cluster",
        namespace,
        "-o",
        "json",
    )
    assert code == 0, text
    result = json.loads(text)
    assert result["applied"] == [] and result["unchanged"] == ["a"]
    assert result["skipped"] == [
        {"name": "b", "action": "delete",
         "reason": "applicationsSync create-only: deletions are skipped"}
    ]  # fmt: skip
    assert set(apps_in(sandbox.kubeconfig, namespace)) == {"a", "b"}

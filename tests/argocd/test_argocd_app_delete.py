"""Deleting an Application itself with a cascade choice, against a real Argo CD, over
both backends: foreground (its resources go, then the Application) and orphan (the
Application goes, its resources stay, even when it carried Argo CD's resources
finalizer). Read-only refuses before anything is sent (audit log / recording proxy)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from argocd_server_proxy import RecordingProxy
from argocd_server_support import Server, server
from argocd_server_support import backend as server_backend
from audit import WRITE_VERBS, audit_events, audit_mark
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, run_cli, wait_for
from test_argocd_backend import backend as kube_backend
from test_argocd_backend import cm, deployment, synced, unique
from test_argocd_server import synced as server_synced

from gitops_tui.argocd.app_delete import FOREGROUND
from gitops_tui.engine.api import ReadOnlyError
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]
__all__ = ["server"]  # the module-scoped fixture, imported

TIMEOUT = 90.0


@pytest.fixture
def apps(sandbox: Any, argocd: Any) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:  # a test that failed half-way: no finalizer left to block the delete
        kubectl(sandbox.kubeconfig, "-n", "argocd", "patch", "applications.argoproj.io", name,
                "--type", "merge", "-p", '{"metadata":{"finalizers":null}}', check=False)  # fmt: skip
        kubectl(sandbox.kubeconfig, "-n", "argocd", "delete", "applications.argoproj.io", name,
                "--ignore-not-found", "--wait=false", check=False)  # fmt: skip


def create(kc: Path, names: list[str], doc: dict[str, Any], *, finalizer: bool = False) -> str:
    if finalizer:
        doc["metadata"]["finalizers"] = [FOREGROUND]
    names.append(doc["metadata"]["name"])
    kubectl(kc, "apply", "-f", "-", stdin=yaml.safe_dump(doc))
    return str(doc["metadata"]["name"])


def app_exists(kc: Path, name: str) -> bool:
    done = kubectl(kc, "-n", "argocd", "get", "applications.argoproj.io", name, "-o", "json",
                   check=False)  # fmt: skip
    return done.returncode == 0 and bool(json.loads(done.stdout))


def exists(kc: Path, namespace: str, kind: str, name: str) -> bool:
    return kubectl(kc, "-n", namespace, "get", kind, name, check=False).returncode == 0


def repo_url(tmp_path: Path, namespace: str) -> str:
    repo = make_repo(
        tmp_path / "repo",
        {
            "fg/all.yaml": dump_all([cm("fg-conf"), deployment("fg-web")]),
            "or/all.yaml": dump_all([cm("or-conf"), deployment("or-web")]),
        },
    )
    return f"file://{repo.working_tree_dir}"


def test_kube_backend_deletes_the_application_foreground_and_orphan(
    sandbox: Any, sandbox_box: Any, argocd: Any, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    kc = sandbox.kubeconfig
    url = repo_url(tmp_path, namespace)
    fg = create(kc, apps, application(unique("delfg"), url, "fg", namespace))
    orphan = create(kc, apps, application(unique("delor"), url, "or", namespace), finalizer=True)
    with kube_backend(kc) as engine:
        wait_for(lambda: {fg, orphan} <= set(engine.app_names()), timeout=TIMEOUT, what="apps")
        synced(engine, fg)
        synced(engine, orphan)
        assert exists(kc, namespace, "deployment", "fg-web")

        # read-only: refused before anything is sent (the audit log of the argocd namespace)
        mark = audit_mark(sandbox_box)
        with kube_backend(kc, read_only_policy=ReadOnlyPolicy(flag=True)) as ro:
            wait_for(lambda: fg in ro.app_names(), timeout=TIMEOUT, what="read-only list")
            with pytest.raises(ReadOnlyError, match="delete of Application"):
                ro.delete_app(fg, "foreground")
        events = audit_events(sandbox_box, kc, mark, "argocd")
        assert [e for e in events if e.get("verb") in WRITE_VERBS] == []
        assert app_exists(kc, fg)

        done = engine.delete_app(fg, "foreground")
        assert "deletion requested (foreground)" in done
        wait_for(
            lambda: (
                not app_exists(kc, fg)
                and not exists(kc, namespace, "deployment", "fg-web")
                and not exists(kc, namespace, "configmap", "fg-conf")
            ),
            timeout=TIMEOUT,
            what="Argo CD to delete the app's resources, then the Application",
        )
    assert exists(kc, namespace, "deployment", "or-web")

    # the headless command, orphan: the Application had the resources finalizer; it is
    # removed first, so the Application goes and its resources stay
    done = run_cli(["--kubeconfig", str(kc), "--argocd", "delete-app", orphan, "--cascade",
                    "orphan", "--yes"], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "the Application only (its resources stay)" in done.stdout, done.stdout
    wait_for(lambda: not app_exists(kc, orphan), timeout=TIMEOUT, what="the Application gone")
    assert exists(kc, namespace, "deployment", "or-web")
    assert exists(kc, namespace, "configmap", "or-conf")


def test_server_backend_deletes_the_application_foreground_and_orphan(
    sandbox: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    kc = sandbox.kubeconfig
    url = repo_url(tmp_path, namespace)
    fg = create(kc, apps, application(unique("sdelfg"), url, "fg", namespace))
    orphan = create(kc, apps, application(unique("sdelor"), url, "or", namespace), finalizer=True)
    with server_backend(server.target()) as engine:
        wait_for(lambda: {fg, orphan} <= set(engine.app_names()), timeout=TIMEOUT, what="apps")
        server_synced(engine, fg)
        server_synced(engine, orphan)

        # read-only (the admin token behind it): refused, only GETs reach the server
        with RecordingProxy(server.port) as proxy:
            target = server.target("ci", port=proxy.port)
            with server_backend(target, read_only_policy=ReadOnlyPolicy(flag=True)) as ro:
                wait_for(lambda: fg in ro.app_names(), timeout=TIMEOUT, what="read-only list")
                with pytest.raises(ReadOnlyError, match="delete of Application"):
                    ro.delete_app(fg, "foreground")
                recorded = proxy.recorded()
        assert {m for m, _ in recorded} == {"GET"}, recorded

        assert "deletion requested (foreground)" in engine.delete_app(fg, "foreground")
        assert "resources stay" in engine.delete_app(orphan, "orphan")
        wait_for(
            lambda: (
                not app_exists(kc, fg)
                and not exists(kc, namespace, "deployment", "fg-web")
                and not exists(kc, namespace, "configmap", "fg-conf")
            ),
            timeout=TIMEOUT,
            what="Argo CD to delete the app's resources, then the Application",
        )
        wait_for(lambda: not app_exists(kc, orphan), timeout=TIMEOUT, what="orphan app gone")
    assert exists(kc, namespace, "deployment", "or-web")
    assert exists(kc, namespace, "configmap", "or-conf")

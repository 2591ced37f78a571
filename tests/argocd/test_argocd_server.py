"""The Argo CD API server backend (``--argocd-server``) against a real Argo CD v3.2.11.

The API server runs with authentication (``argocd_server_support.server``): accounts
``ci`` (role:admin) and ``viewer`` (role:readonly) with API keys, tokens made through
the server's own ``/api/v1/session`` and ``/api/v1/account/<name>/token``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from argocd_server_proxy import RecordingProxy
from argocd_server_support import Server, backend, server
from gitrepo import commit, make_repo
from helpers import application, deployment, dump_all, kubectl, run_cli, wait_for

from gitops_tui.argocd.server_backend import UNREACHABLE, ArgoCDServerBackend
from gitops_tui.argocd.server_config import ServerTarget
from gitops_tui.engine.api import (
    EngineError,
    OperationPhase,
    ReadOnlyError,
    ResultCode,
    SyncRequest,
)
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.inspect import tree_keys
from gitops_tui.engine.model import HealthStatus, ResourceKey, SyncStatus
from gitops_tui.sandbox.podlogs import append_pod_log

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]
__all__ = ["server"]  # the module-scoped fixture, imported

TIMEOUT = 90.0


@pytest.fixture
def apps(sandbox: Any, server: Server) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        kubectl(sandbox.kubeconfig, "-n", "argocd", "delete", "applications.argoproj.io", name,
                "--ignore-not-found", "--wait=false", check=False)  # fmt: skip


def create_app(kubeconfig: Path, names: list[str], doc: dict[str, Any]) -> str:
    names.append(doc["metadata"]["name"])
    kubectl(kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(doc))
    return str(doc["metadata"]["name"])


def app_json(kubeconfig: Path, name: str) -> dict[str, Any]:
    out = kubectl(kubeconfig, "-n", "argocd", "get", "applications.argoproj.io", name, "-o", "json")
    return dict(json.loads(out.stdout))


def cm(name: str, value: str = "1", **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"v": value}}


def secret(name: str, value: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "stringData": {"password": value}}  # fmt: skip


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def synced(engine: ArgoCDServerBackend, name: str, **request: Any) -> Any:
    op = engine.sync(SyncRequest(app=name, **request))
    final = engine.wait_for_operation(name, op, timeout=TIMEOUT)
    assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
    wait_for(
        lambda: engine.snapshot().by_name[name].sync == SyncStatus.SYNCED,
        timeout=30,
        what=f"{name} Synced after its sync",
    )
    return final


def _verdicts_agree(engine: ArgoCDServerBackend, kc: Path, names: list[str]) -> bool:
    for name in names:
        theirs = app_json(kc, name).get("status") or {}
        ours = engine.snapshot().by_name.get(name)
        if ours is None or not (theirs.get("sync") and theirs.get("health")):
            return False
        expected = (
            theirs["sync"]["status"],
            theirs["health"]["status"],
            theirs["sync"].get("revision", ""),
            [(c["type"], c["message"]) for c in theirs.get("conditions", [])],
            sorted((r.get("kind"), r.get("name"), r.get("status"),
                    (r.get("health") or {}).get("status")) for r in theirs.get("resources", [])),
        )  # fmt: skip
        got = (
            ours.sync.value,
            ours.health.value,
            ours.revision,
            [(c.type, c.message) for c in ours.conditions],
            sorted((r.key.kind, r.key.name, r.status and r.status.value,
                    r.health and r.health.value) for r in ours.resources),
        )  # fmt: skip
        if got != expected:
            return False
    return True


def test_server_list_tree_diff_events_and_actions_agree_with_argocd(
    sandbox: Any,
    server: Server,
    apps: list[str],
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"web/all.yaml": dump_all([cm("web-config"), deployment("web"), secret("pw", "hunter2")])},
    )
    url = f"file://{repo.working_tree_dir}"
    auto = create_app(sandbox.kubeconfig, apps,
                      application(unique("auto"), url, "web", namespace, automated={"prune": True}))  # fmt: skip
    manual = create_app(sandbox.kubeconfig, apps,
                        application(unique("manual"), url, "missing-dir", namespace))  # fmt: skip
    kc = sandbox.kubeconfig
    with backend(server.target()) as engine:
        assert engine.backend_label == f"Argo CD API 127.0.0.1:{server.port}"
        wait_for(
            lambda: (
                _verdicts_agree(engine, kc, [auto, manual])
                and engine.snapshot().by_name[auto].sync == SyncStatus.SYNCED
                and engine.snapshot().by_name[auto].health == HealthStatus.HEALTHY
            ),
            timeout=TIMEOUT,
            what="the backend to agree with kubectl (automated app Synced + Healthy)",
            step=0.5,
        )
        assert engine.snapshot().by_name[manual].sync == SyncStatus.UNKNOWN
        assert engine.snapshot().by_name[auto].origin == f"argocd-server:127.0.0.1:{server.port}"
        assert not any(n.children for n in engine.snapshot().by_name[auto].resources)  # unasked
        engine.follow_tree(auto)  # what the console's app view does

        def tree() -> bool:
            nodes = engine.snapshot().by_name[auto].resources
            web = next(n for n in nodes if n.key.kind == "Deployment")
            return bool(web.children) and bool(web.children[0].children)

        wait_for(tree, timeout=60, what="Deployment -> ReplicaSet -> Pod from /resource-tree")
        web = next(
            n for n in engine.snapshot().by_name[auto].resources if n.key.kind == "Deployment"
        )
        assert web.children[0].key.kind == "ReplicaSet"
        assert web.children[0].children[0].key.kind == "Pod"

        # managed resources: Argo CD's states, Secret values never shown
        diffs = {d.key.kind: d for d in engine.diffs(auto)}
        assert set(diffs) >= {"ConfigMap", "Deployment", "Secret"}
        assert not any(d.modified for d in diffs.values())
        shown = diffs["Secret"].live_yaml + diffs["Secret"].desired_yaml
        assert "hunter2" not in shown and base64.b64encode(b"hunter2").decode() not in shown
        assert "++++" in shown
        pw = ResourceKey("", "Secret", namespace, "pw")
        live = engine.live_object(auto, pw)
        assert live.live is not None and "hunter2" not in json.dumps(live.live)
        assert base64.b64encode(b"hunter2").decode() not in json.dumps(live.live)
        assert engine.live_object(auto, web.key).desired is not None  # Argo CD's target state
        with pytest.raises(EngineError, match="not one of"):
            engine.live_object(auto, ResourceKey("", "ConfigMap", namespace, "not-in-the-app"))

        wait_for(
            lambda: any(e.object == web.key for e in engine.events(auto)),
            timeout=30,
            what="the Deployment's events through /events",
        )
        assert all(e.object == web.key for e in engine.events(auto, web.key))

        # resource actions through the API server (Argo CD's built-in Deployment actions)
        names = {a.name for a in engine.actions(auto, web.key)}
        assert "restart" in names, names
        outcome = engine.run_action(auto, web.key, "restart")
        assert outcome.changes
        wait_for(
            lambda: (
                "kubectl.kubernetes.io/restartedAt"
                in kubectl(
                    kc,
                    "-n",
                    namespace,
                    "get",
                    "deployment",
                    "web",
                    "-o",
                    "jsonpath={.spec.template.metadata.annotations}",
                ).stdout
            ),  # fmt: skip
            timeout=30,
            what="the restart action applied by Argo CD",
        )

    # the command line after a real `argocd login`: nothing else needed
    config_dir = tmp_path / "argocd-config"
    login = subprocess.run(
        [str(server_binary()), "login", f"127.0.0.1:{server.port}", "--plaintext",
         "--username", "admin", "--password", server.admin_password],
        env={**os.environ, "ARGOCD_CONFIG_DIR": str(config_dir), "ARGOCD_BINARY_NAME": "argocd"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    monkeypatch.setenv("ARGOCD_CONFIG_DIR", str(config_dir))
    monkeypatch.delenv("ARGOCD_AUTH_TOKEN", raising=False)
    done = run_cli(["--argocd-server", f"127.0.0.1:{server.port}", "list", "-o", "json"], tmp_path)
    assert done.returncode == 0, done.stderr
    listed = {a["name"]: a for a in json.loads(done.stdout)}
    assert listed[auto]["sync"] == "Synced" and listed[manual]["sync"] == "Unknown"


def server_binary() -> Path:
    from gitops_tui.sandbox.argocd_build import find_argocd

    binary = find_argocd()
    assert binary is not None
    return binary


def test_server_commit_refresh_and_sync_with_prune(
    sandbox: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cms.yaml": dump_all([cm("keep"), cm("gone")])})
    name = create_app(sandbox.kubeconfig, apps,
                      application(unique("prune"), f"file://{repo.working_tree_dir}", "app",
                                  namespace, sync_options=["PruneLast=true"]))  # fmt: skip
    with backend(server.target()) as engine:
        assert engine.wait_until_compared(timeout=TIMEOUT, apps=[name])
        synced(engine, name)
        first = engine.snapshot().by_name[name].revision
        new = commit(repo, {"app/cms.yaml": dump_all([cm("keep", "2")])}, "change keep, drop gone")
        engine.refresh(name)  # the app-resync is 180 s: only the refresh makes this quick
        gone = ResourceKey("", "ConfigMap", namespace, "gone")
        keep = ResourceKey("", "ConfigMap", namespace, "keep")

        def out_of_sync() -> bool:
            app = engine.snapshot().by_name[name]
            return app.sync == SyncStatus.OUT_OF_SYNC and any(
                r.key == gone and r.requires_pruning for r in app.resources
            )

        wait_for(out_of_sync, timeout=30, what="OutOfSync with gone to prune after the refresh")
        assert engine.snapshot().by_name[name].revision == new != first
        diff = {d.key: d for d in engine.diffs(name)}
        assert diff[keep].modified and "v: '2'" in diff[keep].unified.replace('"', "'")
        assert diff[gone].is_prune
        # the headless diff over the API server: Argo CD's managed resources, exit 1
        done = run_cli(["--argocd-server", f"127.0.0.1:{server.port}", "--plaintext",
                        "--auth-token", server.tokens["ci"], "diff", name, "--exit-code"],
                       tmp_path)  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "ConfigMap" in done.stdout and "v: '2'" in done.stdout.replace('"', "'")
        final = synced(engine, name, prune=True)
        assert {r.key: r.status for r in final.results}[gone] == ResultCode.PRUNED
        assert final.prune and final.initiated_by.startswith("ci")  # the account Argo CD saw
    left = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "gone", check=False)
    assert left.returncode != 0 and "NotFound" in left.stderr
    operation = app_json(sandbox.kubeconfig, name)["status"]["operationState"]["operation"]
    assert operation["sync"]["syncOptions"] == ["PruneLast=true"]  # the server copied the spec's


def test_server_terminate_and_rollback(
    sandbox: Any, argocd: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    lb = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb", "annotations": {"argocd.argoproj.io/sync-wave": "-1"}},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}], "selector": {"app": "x"}},
    }
    repo = make_repo(tmp_path / "term", {"app/all.yaml": dump_all([lb, cm("after")])})
    term = create_app(sandbox.kubeconfig, apps,
                      application(unique("term"), f"file://{repo.working_tree_dir}", "app",
                                  namespace))  # fmt: skip
    roll_repo = make_repo(tmp_path / "roll", {"app/cm.yaml": dump_all([cm("conf", "one")])})
    first = roll_repo.head.commit.hexsha
    roll = create_app(sandbox.kubeconfig, apps,
                      application(unique("rollback"), f"file://{roll_repo.working_tree_dir}",
                                  "app", namespace, automated={}))  # fmt: skip
    with backend(server.target()) as engine:
        assert engine.wait_until_compared(timeout=TIMEOUT, apps=[term])
        assert engine.terminate(term) is False  # nothing running
        op = engine.sync(SyncRequest(app=term))

        def waiting() -> bool:
            current = engine.snapshot().by_name[term].operation
            return (
                current is not None
                and current.id == op
                and current.phase == OperationPhase.RUNNING
                and "healthy state" in current.message
            )

        wait_for(waiting, timeout=TIMEOUT, what="the sync to wait on wave -1")
        with pytest.raises(EngineError, match="another operation is already in progress"):
            engine.sync(SyncRequest(app=term))
        # Argo CD's race, made certain: the controller's merge patch of the running
        # operation's state (read before the server's Terminating) writes Running back.
        # The terminate is asked again until the operation ends.
        with argocd.paused("controller"):
            assert engine.terminate(term) is True
            kubectl(sandbox.kubeconfig, "-n", "argocd", "patch", "applications.argoproj.io",
                    term, "--type", "merge",
                    "-p", '{"status": {"operationState": {"phase": "Running"}}}')  # fmt: skip
        final = engine.wait_for_operation(term, op, timeout=TIMEOUT)
        assert final is not None and final.phase == OperationPhase.FAILED, (
            final, engine.snapshot().by_name[term].operation,
            app_json(sandbox.kubeconfig, term)["status"].get("operationState"),
        )  # fmt: skip
        assert "terminated" in final.message.lower()

        wait_for(
            lambda: len(engine.history(roll)) == 1 if roll in engine.app_names() else False,
            timeout=TIMEOUT,
            what="the automated first sync in the history",
        )
        second = commit(roll_repo, {"app/cm.yaml": dump_all([cm("conf", "two")])}, "two")
        engine.refresh(roll)
        wait_for(
            lambda: [e.revision for e in engine.history(roll)] == [second, first],
            timeout=TIMEOUT,
            what="the automated sync of the second commit",
        )
        entry = next(e for e in engine.history(roll) if e.revision == first)
        op = engine.rollback(roll, entry.id)
        final = engine.wait_for_operation(roll, op, timeout=TIMEOUT)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        assert final.revision == first
        wait_for(lambda: engine.snapshot().by_name[roll].automated is False, timeout=30,
                 what="automated sync shown off")  # fmt: skip
    after = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "after", check=False)
    assert after.returncode != 0  # wave 0 never ran
    assert "automated" not in app_json(sandbox.kubeconfig, roll)["spec"].get("syncPolicy", {})
    data = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "conf", "-o",
                   "jsonpath={.data.v}")  # fmt: skip
    assert data.stdout == "one"


def test_server_read_only_sends_nothing_mutating_and_a_viewer_is_refused(
    sandbox: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([cm("conf"), deployment("web")])})
    name = create_app(sandbox.kubeconfig, apps,
                      application(unique("ro"), f"file://{repo.working_tree_dir}", "app",
                                  namespace, automated={}))  # fmt: skip
    web = ResourceKey("apps", "Deployment", namespace, "web")
    with RecordingProxy(server.port) as proxy:
        # the admin-role token: only read-only stands between the console and a write
        target = server.target("ci", port=proxy.port)
        with backend(target, read_only_policy=ReadOnlyPolicy(flag=True)) as engine:
            assert engine.read_only and engine.snapshot().read_only
            wait_for(
                lambda: bool(engine.history(name)) if name in engine.app_names() else False,
                timeout=TIMEOUT,
                what=f"Argo CD's automated sync, seen read-only (requests: {proxy.recorded()})",
            )
            engine.follow_tree(name)
            wait_for(
                lambda: any(r.children for r in engine.snapshot().by_name[name].resources),
                timeout=60,
                what="the resource tree read",
            )
            assert engine.diffs(name) and engine.actions(name, web)
            engine.events(name)
            engine.live_object(name, web)
            with pytest.raises(ReadOnlyError, match="--read-only"):
                engine.sync(SyncRequest(app=name))
            with pytest.raises(ReadOnlyError):
                engine.rollback(name, engine.history(name)[0].id)
            with pytest.raises(ReadOnlyError):
                engine.terminate(name)
            with pytest.raises(ReadOnlyError):
                engine.run_action(name, web, "restart")
            engine.refresh(name)  # re-reads the trees; no ?refresh= (the server would annotate)
            engine.refresh(None, hard=True)
            # the connection itself refuses what a forgotten check would send
            with pytest.raises(ReadOnlyError):
                engine._client.request("POST", f"/api/v1/applications/{name}/sync", body={})
        # the command line with --read-only: refused, exit 2
        done = run_cli(["--argocd-server", f"127.0.0.1:{proxy.port}", "--plaintext",
                        "--auth-token", server.tokens["ci"], "--read-only", "sync", name,
                        "--wait"], tmp_path)  # fmt: skip
        assert done.returncode == 2 and "read-only" in done.stderr, done.stderr
        recorded = proxy.recorded()
    paths = [p for _, p in recorded]
    assert any(p.startswith("/api/v1/stream/applications") for p in paths)
    assert any("/resource-tree" in p for p in paths) and any(
        "/managed-resources" in p for p in paths
    )
    assert {m for m, _ in recorded} == {"GET"}, recorded
    assert not [p for p in paths if "refresh=" in p]

    # a view-only account (role:readonly) is refused by Argo CD, with a clear message
    with backend(server.target("viewer")) as engine:
        wait_for(lambda: name in engine.app_names(), timeout=30, what="the viewer's list")
        assert not engine.read_only  # the refusal comes from Argo CD's RBAC, not from us
        with pytest.raises(EngineError, match=rf"refused to sync {name}: permission denied") as e:
            engine.sync(SyncRequest(app=name))
        assert e.value.title == "Permission denied"
        with pytest.raises(EngineError, match=rf"refused to run the action restart .* {name}: "
                           "permission denied"):  # fmt: skip
            engine.run_action(name, web, "restart")
        with pytest.raises(EngineError, match=rf"turn automated sync off for {name}: permission"):
            engine.rollback(name, engine.history(name)[0].id)
    assert "operation" not in app_json(sandbox.kubeconfig, name)


def test_server_killed_and_restarted_mid_session(
    sandbox: Any, argocd: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("conf", "1")])})
    name = create_app(sandbox.kubeconfig, apps,
                      application(unique("restart"), f"file://{repo.working_tree_dir}", "app",
                                  namespace, automated={}))  # fmt: skip
    with backend(server.target()) as engine:
        wait_for(
            # the snapshot, not app_names(): the names are known before the fleet that
            # shows the app is published (a KeyError in the clean-clone CI)
            lambda: getattr(engine.snapshot().by_name.get(name), "sync", None) == SyncStatus.SYNCED,
            timeout=TIMEOUT,
            what="the app Synced",
        )
        argocd.stop_one("server")

        def unknown() -> bool:
            app = engine.snapshot().by_name[name]
            cluster = engine.snapshot().clusters
            return (
                app.sync == SyncStatus.UNKNOWN
                and app.health == HealthStatus.UNKNOWN
                and any(c.type == UNREACHABLE for c in app.conditions)
                and not any(c.reachable for c in cluster)
            )

        wait_for(unknown, timeout=30, what="apps Unknown while the API server is down")
        condition = next(
            c for c in engine.snapshot().by_name[name].conditions if c.type == UNREACHABLE
        )
        assert f"127.0.0.1:{server.port}" in condition.message
        # meanwhile the controller (still running) syncs a new commit
        new = commit(repo, {"app/cm.yaml": dump_all([cm("conf", "2")])}, "two")
        kubectl(sandbox.kubeconfig, "-n", "argocd", "annotate", "applications.argoproj.io", name,
                "argocd.argoproj.io/refresh=normal", "--overwrite")  # fmt: skip
        argocd.start_server(disable_auth=False, port=server.port)

        def recovered() -> bool:
            app = engine.snapshot().by_name[name]
            return (
                app.sync == SyncStatus.SYNCED
                and app.revision == new
                and not any(c.type == UNREACHABLE for c in app.conditions)
            )

        wait_for(recovered, timeout=TIMEOUT, what="the backend back by itself, at the new commit")


def test_server_over_tls_with_its_self_signed_certificate(
    sandbox: Any, argocd: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("conf")])})
    name = create_app(sandbox.kubeconfig, apps,
                      application(unique("tls"), f"file://{repo.working_tree_dir}", "app",
                                  namespace))  # fmt: skip
    argocd.stop_one("server")
    argocd.start_server(disable_auth=False, port=server.port, tls=True)
    try:
        https = ServerTarget(f"127.0.0.1:{server.port}", token=server.tokens["ci"])
        # the certificate is Argo CD's own self-signed one: refused unless --insecure
        with pytest.raises(EngineError, match="unreachable: .*(certificate|CERTIFICATE)"):
            backend(https).__enter__()
        with backend(replace(https, insecure=True)) as engine:
            assert engine.wait_until_compared(timeout=TIMEOUT, apps=[name])
            assert engine.snapshot().by_name[name].sync == SyncStatus.OUT_OF_SYNC
        # plain HTTP to a TLS port: a clear error, not a hang
        with pytest.raises(
            EngineError, match=f"cannot list the Applications of 127.0.0.1:{server.port}"
        ):
            backend(replace(https, plaintext=True)).__enter__()
    finally:
        argocd.stop_one("server")
        argocd.start_server(disable_auth=False, port=server.port)


def test_server_pod_logs_streamed_by_argocd(
    sandbox: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    """Argo CD's ``/logs`` reads the kubelet's (kwok's) log; lines come back printable,
    tail is Argo CD's, a pod outside the app is refused, a follow ends on close()."""
    repo = make_repo(tmp_path / "repo", {"web/all.yaml": dump_all([deployment("web")])})
    name = create_app(sandbox.kubeconfig, apps,
                      application(unique("logs"), f"file://{repo.working_tree_dir}", "web",
                                  namespace, automated={}))  # fmt: skip
    kubectl(sandbox.kubeconfig, "-n", namespace, "run", "stray", "--image=busybox:1.36")
    directory = Path(sandbox.directory)
    with backend(server.target()) as engine:
        wait_for(lambda: name in engine.app_names(), timeout=TIMEOUT, what="the app listed")
        engine.follow_tree(name)

        def running_pod() -> ResourceKey | None:
            app = engine.snapshot().by_name.get(name)
            pods = [k for k in tree_keys(app.resources) if k.kind == "Pod"] if app else []
            if not pods:
                return None
            phase = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "pod", pods[0].name,
                            "-o", "jsonpath={.status.phase}", check=False).stdout  # fmt: skip
            return pods[0] if phase == "Running" else None

        pod = wait_for(running_pod, timeout=TIMEOUT, what="a running Pod in the app's tree")
        mark = uuid.uuid4().hex[:8]
        append_pod_log(directory, [
            f"{mark} one",
            f"{mark} evil ".encode() + b"\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xae end",
            f"{mark} two",
        ])  # fmt: skip
        mine = [line for line in engine.logs(name, pod) if line.startswith(mark)]
        assert mine[0] == f"{mark} one" and mine[2] == f"{mark} two", mine
        evil = mine[1]
        assert evil.endswith(" end") and "\u202e" not in evil
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in evil), repr(evil)
        assert list(engine.logs(name, pod, tail_lines=1)) == [f"{mark} two"]
        assert list(engine.logs(name, pod, tail_lines=0)) == []
        # the command line: the app's tree is read for it (no app view follows it there)
        done = run_cli(["--argocd-server", f"127.0.0.1:{server.port}", "--plaintext",
                        "--auth-token", server.tokens["ci"], "logs", name, pod.name,
                        "--tail", "1"], tmp_path)  # fmt: skip
        assert done.returncode == 0 and done.stdout.strip() == f"{mark} two", done.stderr
        with pytest.raises(EngineError, match="no container 'nope'.*: c"):
            engine.logs(name, pod, "nope")
        with pytest.raises(EngineError, match="not one of"):
            engine.logs(name, ResourceKey("", "Pod", namespace, "stray"))

        stream = engine.logs(name, pod, follow=True, tail_lines=0)
        seen: list[str] = []
        arrived = threading.Event()

        def follow() -> None:
            for line in stream:
                seen.append(line)
                if "followed" in line:
                    arrived.set()

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        # appended until seen: the follow may connect after the first append
        wait_for(lambda: append_pod_log(directory, [f"{mark} followed"]) or arrived.wait(2),
                 timeout=60, what="a followed line through Argo CD")  # fmt: skip
        stream.close()
        reader.join(timeout=30)
        assert not reader.is_alive(), "close() did not end the follow"
        assert not [line for line in seen if line in (f"{mark} one", f"{mark} two")], seen


def test_server_delete_resource_of_the_app_only(
    sandbox: Any, server: Server, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a/all.yaml": dump_all([cm("keep"), cm("gone")]),
                                         "b/all.yaml": dump_all([cm("other")])})  # fmt: skip
    url = f"file://{repo.working_tree_dir}"
    one = create_app(sandbox.kubeconfig, apps, application(unique("del"), url, "a", namespace))
    two = create_app(sandbox.kubeconfig, apps, application(unique("oth"), url, "b", namespace))
    gone = ResourceKey("", "ConfigMap", namespace, "gone")
    other = ResourceKey("", "ConfigMap", namespace, "other")

    def exists(cm_name: str) -> bool:
        done = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", cm_name,
                       check=False)  # fmt: skip
        return done.returncode == 0

    with backend(server.target()) as engine:
        wait_for(lambda: {one, two} <= set(engine.app_names()), timeout=TIMEOUT, what="apps")
        synced(engine, one)
        synced(engine, two)
        assert exists("gone") and exists("other")

        # read-only (the admin token behind it): refused, nothing sent
        with RecordingProxy(server.port) as proxy:
            target = server.target("ci", port=proxy.port)
            with backend(target, read_only_policy=ReadOnlyPolicy(flag=True)) as ro:
                wait_for(lambda: one in ro.app_names(), timeout=TIMEOUT, what="read-only list")
                with pytest.raises(ReadOnlyError):
                    ro.delete_resource(one, gone)
                recorded = proxy.recorded()
        assert {m for m, _ in recorded} == {"GET"}, recorded
        assert exists("gone")

        # another app's object: refused by us before sending, and by Argo CD itself
        with pytest.raises(EngineError, match="not one of"):
            engine.delete_resource(one, other)
        with pytest.raises(EngineError, match=f"delete {other.display} of {one}"):
            engine._actions.delete_resource(one, other, "v1")
        assert exists("other")

        # a view-only account: Argo CD's RBAC refuses, in words
        with backend(server.target("viewer")) as viewer:
            wait_for(lambda: one in viewer.app_names(), timeout=TIMEOUT, what="viewer's list")
            # the list (app_names) can be ahead of the published snapshot: wait on the latter
            wait_for(lambda: one in viewer.snapshot().by_name
                     and bool(viewer.snapshot().by_name[one].resources), timeout=TIMEOUT,
                     what="the viewer's resources")  # fmt: skip
            with pytest.raises(EngineError, match=rf"refused to delete .*{one}: permission") as e:
                viewer.delete_resource(one, gone)
            assert e.value.title == "Permission denied"
        assert exists("gone")

        done = engine.delete_resource(one, gone)
        assert "gone" in done
        wait_for(lambda: not exists("gone"), timeout=60, what="the ConfigMap deleted by Argo CD")
        assert exists("keep") and exists("other")


def test_server_appset_preview_is_what_the_controller_reports(
    sandbox: Any, server: Server, namespace: str
) -> None:
    """The set read through ``/api/v1/applicationsets``: its controller's status (written
    here as the controller writes it), nothing generated by us; apply is refused."""
    name = unique("set")
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "generators": [{"list": {"elements": [{"env": "a"}, {"env": "b"}]}}],
            "template": {
                "metadata": {"name": name + "-{{env}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": "file:///nowhere", "path": "x"},
                    "destination": {
                        "server": "https://kubernetes.default.svc",
                        "namespace": namespace,
                    },  # fmt: skip
                },
            },
        },
    }
    kc = sandbox.kubeconfig
    kubectl(kc, "apply", "-f", "-", stdin=yaml.safe_dump(doc))
    try:
        status = {"status": {
            "conditions": [{"type": "ErrorOccurred", "status": "True", "reason": "X",
                            "message": "boom \x1b]0;owned\x07"}],
            "resources": [{"name": f"{name}-a", "kind": "Application"},
                          {"name": f"{name}-b", "kind": "Application"}],
        }}  # fmt: skip
        kubectl(kc, "-n", "argocd", "patch", "applicationset", name, "--subresource=status",
                "--type=merge", "-p", json.dumps(status))  # fmt: skip
        with backend(server.target()) as engine:
            preview = engine.appset_preview(name)
            assert preview.name == name
            assert [c.name for c in preview.added] == [f"{name}-a", f"{name}-b"]
            assert preview.conditions and "\x1b" not in preview.conditions[0].message
            with pytest.raises(EngineError, match="controller applies"):
                engine.appset_apply(name)
            with pytest.raises(EngineError, match="no ApplicationSet named"):
                engine.appset_preview(name + "-missing")
        policy = ReadOnlyPolicy(flag=True)
        with backend(server.target(), read_only_policy=policy) as ro, pytest.raises(ReadOnlyError):
            ro.appset_apply(name)
    finally:
        kubectl(kc, "-n", "argocd", "delete", "applicationset", name, "--ignore-not-found",
                check=False)  # fmt: skip

"""``--argocd-server``: token discovery (the argocd CLI's config file), error mapping,
the pure mappings of the API server backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_tui.argocd.server_actions import ServerActions, sync_body
from gitops_tui.argocd.server_client import (
    ServerApiError,
    ServerClient,
    _stream_line,
    describe,
    error_from_body,
)
from gitops_tui.argocd.server_config import (
    ServerConfigError,
    ServerTarget,
    config_dir,
    resolve_target,
    validate_server,
)
from gitops_tui.argocd.server_views import managed_diffs, tree_view
from gitops_tui.engine.api import (
    AppSnapshot,
    Destination,
    OperationPhase,
    OperationState,
    ReadOnlyError,
    SyncRequest,
)
from gitops_tui.engine.model import HealthStatus, ResourceKey, SyncStatus

# what `argocd login 127.0.0.1:8080 --plaintext` and `argocd login cd.example.com` write
CLI_CONFIG = """\
contexts:
- name: 127.0.0.1:8080
  server: 127.0.0.1:8080
  user: 127.0.0.1:8080
- name: cd.example.com
  server: cd.example.com
  user: cd.example.com
current-context: cd.example.com
prompts-enabled: false
servers:
- grpc-web-root-path: ""
  plain-text: true
  server: 127.0.0.1:8080
- grpc-web: true
  grpc-web-root-path: ""
  insecure: true
  server: cd.example.com
users:
- auth-token: local-token
  name: 127.0.0.1:8080
- auth-token: remote-token
  name: cd.example.com
  refresh-token: refresh
"""


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".config" / "argocd").mkdir(parents=True)
    (home / ".config" / "argocd" / "config").write_text(CLI_CONFIG)
    return home


def test_token_from_the_argocd_cli_config_of_the_named_server(tmp_path: Path) -> None:
    home = _home(tmp_path)
    target = resolve_target("127.0.0.1:8080", env={}, home=home)
    assert (target.token, target.plaintext, target.insecure) == ("local-token", True, False)
    assert "context 127.0.0.1:8080" in target.token_source
    # no server named: the current context, with its transport settings
    current = resolve_target(None, env={}, home=home)
    assert (current.server, current.token) == ("cd.example.com", "remote-token")
    assert current.insecure and current.grpc_web and not current.plaintext
    # the token never shows in a repr
    assert "remote-token" not in repr(current)
    # a server the config does not know: no token, flags as given
    other = resolve_target("https://other:443/", plaintext=True, env={}, home=home)
    assert (other.server, other.token, other.plaintext, other.base_url) == (
        "other:443", "", True, "http://other:443"
    )  # fmt: skip


def test_token_precedence_flag_then_env_then_config(tmp_path: Path) -> None:
    home = _home(tmp_path)
    env = {"ARGOCD_AUTH_TOKEN": "env-token"}
    assert resolve_target("127.0.0.1:8080", env=env, home=home).token == "env-token"
    flagged = resolve_target("127.0.0.1:8080", token="flag-token", env=env, home=home)
    assert (flagged.token, flagged.token_source) == ("flag-token", "--auth-token")
    with pytest.raises(ServerConfigError, match="control bytes"):
        resolve_target("h:1", token="a\nb", env={}, home=home)


def test_config_dir_as_the_argocd_cli_finds_it(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    assert config_dir({}, home) == home / ".config" / "argocd"
    assert config_dir({"XDG_CONFIG_HOME": "/x"}, home) == Path("/x/argocd")
    (home / ".argocd").mkdir()  # the legacy directory wins when it exists
    assert config_dir({"XDG_CONFIG_HOME": "/x"}, home) == home / ".argocd"
    assert config_dir({"ARGOCD_CONFIG_DIR": "/d"}, home) == Path("/d")
    other = tmp_path / "cfg"
    other.mkdir()
    (other / "config").write_text(CLI_CONFIG)
    got = resolve_target("127.0.0.1:8080", env={"ARGOCD_CONFIG_DIR": str(other)}, home=home)
    assert got.token == "local-token"


def test_no_server_and_no_config_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ServerConfigError, match="--argocd-server HOST"):
        resolve_target(None, env={}, home=tmp_path)
    (tmp_path / ".argocd").mkdir()
    (tmp_path / ".argocd" / "config").write_text("contexts: [unclosed\n")
    with pytest.raises(ServerConfigError, match="cannot read the argocd CLI config"):
        resolve_target("h:1", env={}, home=tmp_path)
    for bad in ("", "a b", "x@evil:1", "-o=x", "h\x1b]0;t"):
        with pytest.raises(ServerConfigError, match="not HOST"):
            validate_server(bad)


def test_permission_denied_names_the_action_and_the_app() -> None:
    body = json.dumps(
        {"error": "permission denied: applications, sync, default/web, sub: viewer",
         "code": 7, "message": "permission denied: applications, sync, default/web, sub: viewer"}
    ).encode()  # fmt: skip
    exc = error_from_body(403, body)
    assert exc.denied and exc.code == 7
    message = describe(exc, "sync", "web")
    assert str(message).startswith("Argo CD refused to sync web: permission denied")
    assert message.title == "Permission denied"
    # gRPC code alone (a stream's error line) is enough
    line = json.dumps({"error": {"grpc_code": 7, "http_code": 403, "message": "denied"}})
    with pytest.raises(ServerApiError) as caught:
        _stream_line(line.encode())
    assert caught.value.denied and caught.value.status == 403
    unauth = error_from_body(401, b'{"code": 16, "message": "invalid session: token expired"}')
    assert "argocd login" in str(describe(unauth, "sync", "web"))
    down = ServerApiError(0, None, "connection refused")
    assert down.unreachable and "unreachable" in str(describe(down, "refresh", "web"))
    # terminal controls from the server are escaped
    evil = error_from_body(500, b'{"code": 2, "message": "boom \\u001b]0;owned\\u0007"}')
    assert "\x1b" not in evil.message and "\x07" not in evil.message


def test_a_read_only_client_sends_nothing_but_plain_gets() -> None:
    client = ServerClient(ServerTarget("127.0.0.1:9", plaintext=True), read_only=True)
    for method in ("POST", "DELETE", "PATCH", "PUT"):
        with pytest.raises(ReadOnlyError):
            client.request(method, "/api/v1/applications/x/sync", body={})
    with pytest.raises(ReadOnlyError):  # a refresh makes the server write an annotation
        client.request("GET", "/api/v1/applications/x", query={"refresh": "normal"})
    with pytest.raises(ServerApiError) as caught:  # a plain GET is sent (nothing listens)
        client.request("GET", "/api/v1/applications", timeout=2)
    assert caught.value.unreachable


def test_tree_view_links_children_by_parent_refs() -> None:
    deploy = {"group": "apps", "kind": "Deployment", "namespace": "n", "name": "web", "uid": "d1",
              "version": "v1", "health": {"status": "Healthy"}}  # fmt: skip
    rs = {"group": "apps", "kind": "ReplicaSet", "namespace": "n", "name": "web-1", "uid": "r1",
          "version": "v1", "parentRefs": [{"uid": "d1"}], "health": {"status": "Healthy"}}  # fmt: skip
    pod = {"kind": "Pod", "namespace": "n", "name": "web-1-x", "uid": "p1", "version": "v1",
           "parentRefs": [{"uid": "r1"}],
           "health": {"status": "Progressing", "message": "\x1b[2Jpulling"}}  # fmt: skip
    web = ResourceKey("apps", "Deployment", "n", "web")
    view = tree_view({"nodes": [deploy, rs, pod]}, [web])
    (child,) = view.children[web]
    assert child.key.kind == "ReplicaSet" and child.children[0].key.name == "web-1-x"
    assert child.children[0].health == HealthStatus.PROGRESSING
    assert "\x1b" not in child.children[0].health_message
    assert view.uids[web] == "d1"


def test_managed_diffs_mask_secrets_and_keep_argo_cds_verdict() -> None:
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pw", "namespace": "n"},
            "data": {"password": "aHVudGVyMg=="}}  # fmt: skip
    target = {**live, "data": {"password": "bmV3LXNlY3JldA=="}}
    cm_live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"},
               "data": {"v": "1"}}  # fmt: skip
    items = [
        {"kind": "Secret", "namespace": "n", "name": "pw", "modified": True,
         "normalizedLiveState": json.dumps(live), "predictedLiveState": json.dumps(target)},
        {"kind": "ConfigMap", "namespace": "n", "name": "c", "modified": False,
         "normalizedLiveState": json.dumps(cm_live), "targetState": json.dumps(cm_live)},
        {"kind": "Job", "namespace": "n", "name": "hook", "hook": True, "targetState": "{}"},
    ]  # fmt: skip
    diffs = managed_diffs({"items": items})
    assert [d.key.kind for d in diffs] == ["Secret", "ConfigMap"]
    secret = diffs[0]
    assert secret.modified
    shown = secret.unified + secret.live_yaml + secret.desired_yaml
    assert "aHVudGVyMg" not in shown and "bmV3LXNlY3JldA" not in shown and "++++" in shown
    assert not diffs[1].modified


def test_sync_body_carries_our_id_and_names_options_only_when_needed() -> None:
    obj = {"spec": {"syncPolicy": {"syncOptions": ["PruneLast=true"]}}}
    key = ResourceKey("", "ConfigMap", "n", "c")
    body = sync_body(obj, SyncRequest(app="a", prune=True, resources=frozenset({key})), "op1")
    assert body["infos"] == [{"name": "gitops-tui-operation", "value": "op1"}]
    assert body["resources"] == [{"group": "", "kind": "ConfigMap", "namespace": "n", "name": "c"}]
    assert "syncOptions" not in body and "revision" not in body  # the server copies the spec's
    body = sync_body(obj, SyncRequest(app="a", apply_out_of_sync_only=True), "op2")
    assert body["syncOptions"] == {"items": ["PruneLast=true", "ApplyOutOfSyncOnly=true"]}
    assert sync_body(obj, SyncRequest(app="a", force=True), "o")["strategy"] == {
        "hook": {"force": True}
    }


def _snap(started: str, by: str = "automated", finished: float | None = 1.0) -> AppSnapshot:
    op = OperationState(id=f"a@{started}", app="a", phase=OperationPhase.SUCCEEDED, message="",
                        revision="r", started_at=0.0, initiated_by=by,
                        finished_at=finished)  # fmt: skip
    return AppSnapshot(name="a", project="default", sync=SyncStatus.SYNCED,
                       health=HealthStatus.HEALTHY, health_message="", revision="r",
                       target_revision="HEAD", repo_url="", path="",
                       destination=Destination(server="", name="", namespace=""), operation=op,
                       last_sync=op)  # fmt: skip


def _pending(actions: ServerActions, before: AppSnapshot) -> None:
    from gitops_tui.argocd.server_actions import _PendingRollback

    actions._pending["a"] = _PendingRollback("ours", before.operation)


def test_a_rollback_claims_the_next_operation_only() -> None:
    import threading

    actions = ServerActions(ServerClient(ServerTarget("h:1", plaintext=True)), threading.Event())
    _pending(actions, _snap("T1"))
    assert actions.claim(_snap("T1")).operation.id == "a@T1"  # type: ignore[union-attr]
    claimed = actions.claim(_snap("T2"))
    assert claimed.operation.id == "ours" and claimed.last_sync.id == "ours"  # type: ignore[union-attr]
    assert actions.claim(_snap("T2")).operation.id == "ours"  # type: ignore[union-attr]
    assert actions.claim(_snap("T3")).operation.id == "a@T3"  # type: ignore[union-attr]


def test_a_rollback_started_in_the_second_of_the_sync_before_is_claimed() -> None:
    """startedAt has whole seconds: an automated sync and the rollback sent right after
    it can share one (the clean-clone CI's wait for the rollback timed out)."""
    import threading

    actions = ServerActions(ServerClient(ServerTarget("h:1", plaintext=True)), threading.Event())
    _pending(actions, _snap("T1", by="automated", finished=1.0))
    assert actions.claim(_snap("T1", by="automated", finished=1.0)).operation.id == "a@T1"  # type: ignore[union-attr]
    running = actions.claim(_snap("T1", by="ci", finished=None))
    assert running.operation.id == "ours"  # type: ignore[union-attr]
    assert actions.claim(_snap("T1", by="ci", finished=2.0)).operation.id == "ours"  # type: ignore[union-attr]
    # the same initiator, ended later: still not the operation shown before
    _pending(actions, _snap("T1", by="ci", finished=1.0))
    assert actions.claim(_snap("T1", by="ci", finished=1.5)).operation.id == "ours"  # type: ignore[union-attr]


def test_the_operation_before_that_only_ended_is_not_claimed() -> None:
    """The app read for the rollback may show the sync before still running: that sync,
    now ended, is not the rollback (its id would hide the rollback's result)."""
    import threading

    actions = ServerActions(ServerClient(ServerTarget("h:1", plaintext=True)), threading.Event())
    _pending(actions, _snap("T1", by="automated", finished=None))
    assert actions.claim(_snap("T1", by="automated", finished=1.0)).operation.id == "a@T1"  # type: ignore[union-attr]
    assert actions.claim(_snap("T2", by="ci", finished=None)).operation.id == "ours"  # type: ignore[union-attr]


def test_command_line_options_and_conflicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops_tui import argocd_cli, cli
    from gitops_tui.config import ConfigError

    parser = cli.build_parser()
    args = parser.parse_args(
        ["--argocd-server", "h:1", "--plaintext", "list", "--insecure", "--grpc-web"]
    )
    assert (args.argocd_server, args.plaintext, args.insecure, args.grpc_web) == (
        "h:1", True, True, True
    )  # fmt: skip
    both = parser.parse_args(["--argocd-server", "h:1", "--argocd", "ops", "list"])
    with pytest.raises(ConfigError, match="leave out --apps, --from-cluster and --argocd"):
        argocd_cli.make_server_backend(both, cli._settings(both))
    # nothing listens there: a clear error at once, exit 2 (no console waiting forever)
    monkeypatch.setenv("ARGOCD_CONFIG_DIR", str(tmp_path))
    code = cli.main(["--argocd-server", "127.0.0.1:9", "--plaintext", "list"])
    assert code == 2

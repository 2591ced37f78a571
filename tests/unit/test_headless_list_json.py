"""``list -o json``: each app's parent, resolved cluster and automation status (a fake engine).

The real engine's App of Apps listing is in ``tests/cluster/test_app_of_apps.py``.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import yaml
from fake_appsets import SAMPLE_APPSETS, SET, appset_apps
from fake_engine import FakeEngine, sample_apps
from helpers import application

from gitops_tui import headless
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.engine.snapshot import AutomationStatus, ClusterState, Destination

ODD = "ev\x1b[31mil\u202e\nname"  # control, bidi and newline characters stay exact in JSON


def listing(engine: FakeEngine) -> dict[str, dict[str, Any]]:
    out = io.StringIO()
    assert headless.cmd_list(engine, output="json", out=out) == headless.EXIT_OK
    text = out.getvalue()
    assert text.isascii()
    return {app["name"]: app for app in json.loads(text)}


def test_parent_cluster_and_automation_are_listed() -> None:
    engine = FakeEngine(
        clusters=(
            ClusterState("kind-dev", "https://127.0.0.1:6443", True),
            ClusterState("edge-1", "https://edge-1.example.com:6443", False, "refused"),
        )
    )
    dest = engine.apps["guestbook"].snapshot.destination
    engine.update_app(
        "guestbook",
        destination=Destination(dest.server, dest.name, dest.namespace, "kind-dev"),
        automation=AutomationStatus("self-heal", f"backing off {ODD}", 2, 1_700_000_123.5),
        sync_options=("Prune=false", "CreateNamespace=true"),
        read_only=True,
    )
    legacy = engine.apps["legacy-batch"].snapshot.destination
    engine.update_app(
        "legacy-batch",
        destination=Destination(legacy.server, legacy.name, legacy.namespace, "edge-1"),
        parent=ODD,
        parent_kind="ApplicationSet",
        automation=AutomationStatus("refused", "allowEmpty is off"),
    )
    apps = listing(engine)

    guestbook = apps["guestbook"]
    assert guestbook["parent"] == "frontend"
    assert guestbook["parentRef"] == {"kind": "Application", "name": "frontend"}
    assert guestbook["cluster"] == {
        "context": "kind-dev",
        "server": "https://127.0.0.1:6443",
        "reachable": True,
    }
    assert guestbook["automation"] == {
        "kind": "self-heal",
        "message": f"backing off {ODD}",
        "attempt": 2,
        "nextAt": 1_700_000_123.5,
    }
    assert guestbook["syncOptions"] == ["Prune=false", "CreateNamespace=true"]
    assert guestbook["readOnly"] is True
    # the destination stays as written; the cluster is what it resolved to
    assert guestbook["destination"] == {
        "server": dest.server,
        "name": dest.name,
        "namespace": dest.namespace,
    }

    assert apps["legacy-batch"]["parent"] == ODD
    assert apps["legacy-batch"]["parentRef"] == {
        "kind": "ApplicationSet",
        "name": ODD,
        "parentRef": None,
    }
    assert apps["legacy-batch"]["cluster"] == {
        "context": "edge-1",
        "server": "https://edge-1.example.com:6443",
        "reachable": False,
    }
    assert apps["legacy-batch"]["automation"] == {
        "kind": "refused",
        "message": "allowEmpty is off",
        "attempt": 0,
        "nextAt": None,
    }

    frontend = apps["frontend"]  # the root of the App of Apps tree, never resolved here
    assert frontend["parent"] is None and frontend["parentRef"] is None
    assert frontend["cluster"] == {"context": None, "server": None, "reachable": None}
    assert frontend["automation"] is None
    assert frontend["readOnly"] is False
    assert frontend["operation"]["phase"] == "Running"
    assert apps["monitoring"]["parent"] == "frontend"


def test_a_context_without_a_connection_has_no_server() -> None:
    engine = FakeEngine(clusters=())
    dest = engine.apps["payments"].snapshot.destination
    engine.update_app(
        "payments", destination=Destination(dest.server, dest.name, dest.namespace, "prod")
    )
    assert listing(engine)["payments"]["cluster"] == {
        "context": "prod",
        "server": None,
        "reachable": None,
    }


def test_a_password_in_the_server_url_is_not_listed() -> None:
    engine = FakeEngine(clusters=(ClusterState("prod", "https://u:s3cr3t-pw@prod:6443", True),))
    dest = engine.apps["payments"].snapshot.destination
    engine.update_app(
        "payments", destination=Destination(dest.server, dest.name, dest.namespace, "prod")
    )
    server = listing(engine)["payments"]["cluster"]["server"]
    assert "s3cr3t-pw" not in server and server.endswith("@prod:6443")


def test_every_listed_app_has_the_documented_keys() -> None:
    documented = {
        "name",
        "project",
        "origin",
        "sync",
        "health",
        "healthMessage",
        "revision",
        "targetRevision",
        "repoURL",
        "path",
        "destination",
        "cluster",
        "parent",
        "parentRef",
        "automated",
        "automation",
        "syncOptions",
        "readOnly",
        "conditions",
        "resources",
        "operation",
        "lastSync",
    }
    for app in listing(FakeEngine()).values():
        assert set(app) == documented
    for key in documented:
        assert f"    {key}" in (headless.__doc__ or "") or f", {key}" in (headless.__doc__ or "")


def test_a_destination_that_no_longer_resolves_lists_no_cluster(tmp_path: Path) -> None:
    """The real engine (not started): a context gone from the kubeconfig is not shown as
    the app's resolved cluster any more."""

    def write_kubeconfig(*contexts: str) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": contexts[0],
            "clusters": [
                {"name": c, "cluster": {"server": f"https://127.0.0.1:{i + 1}"}}
                for i, c in enumerate(contexts)
            ],
            "users": [{"name": c, "user": {"token": "t"}} for c in contexts],
            "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
        }
        (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))

    write_kubeconfig("home", "edge")
    doc = application("web", "file:///nowhere", "web", "prod")
    doc["spec"]["destination"] = {"name": "edge", "namespace": "prod"}
    engine = Engine(
        EngineOptions(
            kubeconfig=tmp_path / "kubeconfig",
            repo_cache_dir=tmp_path / "repos",
            history_path=tmp_path / "history.sqlite3",
        ),
        apps=[parse_application(doc, "test")],
    )
    try:
        state = engine.table.states["web"]
        state.context = engine.clusters.resolve(state.app.destination).context  # type: ignore[union-attr]
        with engine.table.lock:
            state.snapshot = engine.publisher.app_snapshot(state)
        engine.publisher.mark_dirty()
        assert engine.snapshot().by_name["web"].destination.context == "edge"

        write_kubeconfig("home")
        engine.clusters.reload()
        assert engine.links.connection_for(state) is None  # destination.name matches no context
        with engine.table.lock:
            state.snapshot = engine.publisher.app_snapshot(state)
        engine.publisher.mark_dirty()
        out = io.StringIO()
        headless.cmd_list(engine, output="json", out=out)
        [listed] = json.loads(out.getvalue())
        assert listed["cluster"] == {"context": None, "server": None, "reachable": None}
        assert "matches no kubeconfig context" in listed["conditions"][0]["message"]
    finally:
        engine.close()


def test_a_set_rendered_by_a_parent_app_names_that_app() -> None:
    nested = dataclasses.replace(SAMPLE_APPSETS[0], parent="frontend")
    apps = listing(FakeEngine(sample_apps() + appset_apps(), appsets=(nested,)))
    assert apps["edge-a"]["parent"] == SET
    assert apps["edge-a"]["parentRef"] == {
        "kind": "ApplicationSet",
        "name": SET,
        "parentRef": {"kind": "Application", "name": "frontend"},
    }

"""Issue 15, defects 8b and 9: an unreachable cluster and unexpected errors in words;
the "sync started" feedback arrives while the dialog is still open."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, KubeTarget
from gitops_tui.engine.snapshot import ClusterState
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.workers import describe_error

SIZE = (100, 30)
T_DOWN = 1_700_000_000.0  # 22:13:20 UTC


def words(app: GitOpsApp) -> str:
    """The screen's text with the dialog's wrapped lines joined (borders dropped)."""
    lines = [line.strip(" │╭╮╰╯─") for line in screen_text(app).splitlines()]
    return " ".join(" ".join(lines).split())


def closed_port_kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig whose server is a loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends
    path = tmp_path / "kubeconfig"
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
users:
- name: gone
  user: {{token: "abc"}}
contexts:
- name: gone
  context: {{cluster: gone, user: gone}}
current-context: gone
"""
    )
    return path


def real_unreachable_error(tmp_path: Path) -> KubeApiError:
    client = KubeClient(KubeTarget(closed_port_kubeconfig(tmp_path), "gone"))
    with pytest.raises(KubeApiError) as caught:
        client.request("GET", "/api")
    return caught.value


def test_a_closed_port_reads_as_connection_refused_without_reprs(tmp_path: Path) -> None:
    # the real client against a real closed port: urllib3's pool repr used to come through
    error = real_unreachable_error(tmp_path)
    text, _ = describe_error("preview", error)
    assert error.unreachable
    assert "connection refused" in text
    assert "object at 0x" not in text and "HTTPSConnection" not in text
    assert "Max retries" not in text


def test_errors_that_are_no_engine_errors_read_as_sentences(tmp_path: Path) -> None:
    log = tmp_path / "console-errors.log"
    assert describe_error("events", ConnectionRefusedError(111, "Connection refused")) == (
        "events failed: cannot connect (connection refused).",
        "error",
    )
    assert describe_error("logs", TimeoutError("read timed out"))[0] == (
        "logs failed: cannot connect (timed out)."
    )
    assert describe_error("diff", PermissionError(13, "Permission denied", "/x/y"))[0] == (
        "diff failed: permission denied on /x/y."
    )
    text, severity = describe_error("preview", KeyError("metadata"), logged_at=log)
    assert (text, severity) == (
        f"Internal error in preview: KeyError: 'metadata' (the traceback is in {log}).",
        "error",
    )
    text, _ = describe_error("preview", ValueError("<foo.Bar object at 0x7f00deadbeef> broke"))
    assert "0x7f" not in text and "ValueError" in text


async def test_sync_dialog_on_an_unreachable_cluster_offers_only_retry(
    engine: FakeEngine,
) -> None:
    engine.clusters = (
        ClusterState("in-cluster", "https://kubernetes.default.svc", True),
        ClusterState(
            "edge-1", "https://edge-1.example.com:6443", False, "connection refused", T_DOWN
        ),
    )
    engine.publish()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_sync("legacy-batch")  # destination: edge-1
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))
        modal = app.screen
        assert isinstance(modal, SyncModal)
        await wait_for(pilot, lambda: "cannot be dry-run" in words(app))
        text = words(app)
        assert "Cluster edge-1 is unreachable since 22:13:20 UTC (connection refused)" in text
        assert "sync now" not in text
        assert "r: retry" in text
        assert engine.names("preview") == []  # no dry run tried against a dead cluster
        async with settles(pilot):
            await pilot.press("y")
            await pilot.press("enter")
        assert engine.names("sync") == []
        assert modal.check_action("confirm_sync", ()) is False
        # the cluster comes back: the plan is made and offered
        engine.clusters = tuple(ClusterState(c.name, c.server, True) for c in engine.clusters)
        engine.publish()
        await wait_for(pilot, lambda: modal.ready)
        assert engine.names("preview") == [SyncRequest("legacy-batch")]
        assert "sync now" in screen_text(app)


async def test_a_preview_that_cannot_connect_says_so_and_retries(
    engine: FakeEngine, tmp_path: Path
) -> None:
    engine.fail["preview"] = real_unreachable_error(tmp_path)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_sync("guestbook")  # the snapshot still says its cluster is fine
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))
        modal = app.screen
        assert isinstance(modal, SyncModal)
        await wait_for(pilot, lambda: "cannot be dry-run" in words(app))
        text = words(app)
        assert "The cluster cannot be reached (connection refused)" in text
        assert "sync now" not in text and "0x" not in text
        assert all("object at 0x" not in t for _, t in app.notices)
        del engine.fail["preview"]
        await pilot.press("r")
        await wait_for(pilot, lambda: modal.ready)
        assert len(engine.names("preview")) == 2
        assert ("guestbook", False) in engine.names("refresh")


async def test_an_unexpected_error_names_its_kind_and_the_log(
    engine: FakeEngine, private_state_dir: Path
) -> None:
    engine.fail["preview"] = KeyError("metadata")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_sync("guestbook")
        log = private_state_dir / "console-errors.log"
        expected = f"Internal error in preview: KeyError: 'metadata' (the traceback is in {log})."
        await wait_for(pilot, lambda: ("error", expected) in app.notices)
        assert "Traceback" in log.read_text() and "KeyError: 'metadata'" in log.read_text()
        assert "sync now" not in screen_text(app)


async def test_sync_started_is_said_while_the_dialog_is_open(engine: FakeEngine) -> None:
    gate = threading.Event()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_sync("guestbook")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        modal = app.screen
        assert isinstance(modal, SyncModal)
        engine.gate = gate  # the engine takes its time to accept the sync
        await pilot.press("y")
        await wait_for(pilot, lambda: "starting..." in screen_text(app))
        assert app.screen is modal  # the dialog is not blocked: the call runs in a worker
        gate.set()
        await wait_for(pilot, lambda: any("Sync of guestbook started" in t for _, t in app.notices))
        assert app.screen is modal  # said while the dialog is still open
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not modal)
        started = [t for _, t in app.notices if "started" in t]
        assert started == [f"Sync of guestbook started ({modal.operation_id})."]  # once


def test_only_a_failed_connection_reads_as_an_unreachable_cluster() -> None:
    from gitops_tui.engine.api import EngineError
    from gitops_tui.ui.reachability import unreachable_error

    assert unreachable_error(EngineError("the render timed out after 60 s")) is None
    assert unreachable_error(KubeApiError(403, "Forbidden", "connection refused?")) is None
    assert unreachable_error(KubeApiError(0, "Unreachable", "https://x: timed out")) == (
        "the cluster cannot be reached (timed out)"
    )
    assert unreachable_error(ConnectionRefusedError(111, "refused")) == (
        "the cluster cannot be reached (connection refused)"
    )

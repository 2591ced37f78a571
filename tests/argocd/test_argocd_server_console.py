"""The console (pilot) over the API server backend and a real Argo CD: the header names
the server, the diff viewer shows Argo CD's managed resources, a sync from the dialog is
run by Argo CD, and strings Argo CD stores reach the screen sanitised."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from argocd_server_support import Server, server
from gitrepo import make_repo
from helpers import application, dump_all, kubectl
from uitest import screen_text, wait_for

from gitops_tui.argocd.server_backend import ArgoCDServerBackend, ServerOptions
from gitops_tui.engine.model import SyncStatus
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_view import AppViewScreen

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]
SIZE = (140, 36)
HOSTILE = "\x1b]0;pwned\x07\x1b[2J"
__all__ = ["server"]


async def test_console_over_the_api_server(
    sandbox: Any, server: Server, namespace: str, tmp_path: Path
) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"v": "1"}}
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm])})
    url = f"file://{repo.working_tree_dir}"
    tag = uuid.uuid4().hex[:6]
    name, hostile = f"a-{tag}", f"z-{tag}"
    docs = [
        application(name, url, "app", namespace),
        application(hostile, url, f"app/{HOSTILE}", namespace),
    ]
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    engine = ArgoCDServerBackend(ServerOptions(target=server.target()))
    engine.probe()
    engine.start()
    try:
        app = GitOpsApp(engine, close_engine=False)
        async with app.run_test(size=SIZE) as pilot:

            def compared(n: str) -> bool:
                snap = app.fleet.by_name.get(n)
                return snap is not None and bool(snap.compared_at)

            await wait_for(pilot, lambda: compared(name) and compared(hostile), timeout=90)
            text = screen_text(app)
            assert f"Argo CD API 127.0.0.1:{server.port}" in text  # the header names the server
            assert app.fleet.by_name[name].sync == SyncStatus.OUT_OF_SYNC
            bad = app.fleet.by_name[hostile]
            assert "\x1b" not in bad.path and "\\x1b]0;pwned" in bad.path
            assert all("\x1b" not in c.message for c in bad.conditions)
            assert "\x1b" not in text and "\x07" not in text
            # the app view's diff: Argo CD's managed resources (the ConfigMap to create)
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None,
                timeout=30,
            )
            assert any(k.kind == "ConfigMap" for k in app.screen.diffs or {})  # type: ignore[attr-defined]
            # the open app's tree is followed (Argo CD's tree stream), and let go on leaving
            await wait_for(pilot, lambda: engine._trees.view(name) is not None, timeout=30)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not engine._trees.views(), timeout=30)
            # the sync dialog previews Argo CD's resources, y syncs through the API server
            await pilot.press("s")
            await wait_for(
                pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready, timeout=30
            )
            assert "ConfigMap" in screen_text(app)
            await pilot.press("y")
            await wait_for(
                pilot,
                lambda: engine.snapshot().by_name[name].sync == SyncStatus.SYNCED,
                timeout=90,
            )
    finally:
        engine.close()
        kubectl(
            sandbox.kubeconfig, "-n", "argocd", "delete", "applications.argoproj.io", name,
            hostile, "--wait=false", check=False,
        )  # fmt: skip
    got = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "c", check=False)
    assert got.returncode == 0, "Argo CD did not apply the ConfigMap"

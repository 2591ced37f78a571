"""The console over the real engine and the sandbox (pilot tests): diff, sync, prune, read-only."""

from __future__ import annotations

from typing import Any

import pytest
from gitrepo import commit, make_repo
from helpers import application, dump_all, kubectl, running_engine
from uitest import screen_text, wait_for

from gitops_tui.engine.model import SyncStatus
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_view import AppViewScreen

pytestmark = pytest.mark.cluster
SIZE = (100, 30)


def cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": data or {"k": "v"},
    }


async def test_open_diff_sync_then_prune_with_typed_confirmation(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"app/a.yaml": dump_all([cm("keep", v="1")]), "app/b.yaml": dump_all([cm("stale")])},
    )
    url = f"file://{repo.working_tree_dir}"
    with running_engine(
        sandbox.kubeconfig, tmp_path, [application(namespace, url, "app", namespace)]
    ) as engine:
        app = GitOpsApp(engine, close_engine=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: namespace in app.fleet.by_name, timeout=20)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
            await pilot.press("d")
            await wait_for(pilot, lambda: "+++ desired/ConfigMap" in screen_text(app), timeout=20)

            await pilot.press("s")
            await wait_for(
                pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready, timeout=20
            )
            await pilot.press("y")
            await wait_for(
                pilot,
                lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
                timeout=30,
            )
            assert (
                kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "stale").returncode == 0
            )
            await pilot.press("escape")

            commit(repo, delete=["app/b.yaml"], message="drop stale")
            engine.refresh(namespace)
            await wait_for(
                pilot,
                lambda: any(
                    r.requires_pruning for r in engine.snapshot().by_name[namespace].resources
                ),
                timeout=20,
            )
            await pilot.press("p")
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, PruneModal) and app.screen.preview is not None,
                timeout=20,
            )
            assert "ConfigMap" in screen_text(app) and "stale" in screen_text(app)
            await pilot.press(*"wrong-name", "enter")
            await pilot.pause(0.5)
            assert isinstance(app.screen, PruneModal)  # refused: still asking
            assert (
                kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "stale").returncode == 0
            )
            await pilot.press(*["backspace"] * len("wrong-name"), *namespace, "enter")
            await wait_for(
                pilot,
                lambda: (
                    kubectl(
                        sandbox.kubeconfig, "-n", namespace, "get", "cm", "stale", check=False
                    ).returncode
                    != 0
                ),
                timeout=30,
            )
            assert kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "keep").returncode == 0


async def test_read_only_console_offers_no_mutation_and_sends_none(
    sandbox, sandbox_box, namespace, tmp_path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/a.yaml": dump_all([cm("never-applied")])})
    url = f"file://{repo.working_tree_dir}"
    audit_before = sandbox_box.audit_log.read_text().count("\n")
    with running_engine(
        sandbox.kubeconfig,
        tmp_path,
        [application(namespace, url, "app", namespace)],
        read_only=True,
    ) as engine:
        app = GitOpsApp(engine, close_engine=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: namespace in app.fleet.by_name, timeout=20)
            assert "READ-ONLY" in screen_text(app)
            for key in ("s", "p", "t"):
                await pilot.press(key)
                await pilot.pause(0.2)
                assert not isinstance(app.screen, SyncModal | PruneModal)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
            await pilot.press("s", "p")
            await pilot.pause(0.3)
            assert isinstance(app.screen, AppViewScreen)
    assert (
        kubectl(
            sandbox.kubeconfig, "-n", namespace, "get", "cm", "never-applied", check=False
        ).returncode
        != 0
    )
    new_lines = sandbox_box.audit_log.read_text().splitlines()[audit_before:]
    writes = [
        line
        for line in new_lines
        if '"userAgent":"gitops-tui' in line
        and any(f'"verb":"{v}"' in line for v in ("create", "update", "delete", "deletecollection"))
    ]
    assert writes == []

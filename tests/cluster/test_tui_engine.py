"""The console over the real engine and the sandbox (pilot tests): diff, sync, prune, read-only."""

from __future__ import annotations

from typing import Any

import pytest
from audit import audit_events, audit_mark, writes
from gitrepo import commit, make_repo
from helpers import application, dump_all, kubectl, running_engine
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.model import SyncStatus
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_list import AppListScreen
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.history import HistoryScreen

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
            async with settles(pilot, timeout=20):
                await pilot.press(*"wrong-name", "enter")
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
    """Every mutating key, command and palette entry in a read-only console: the audit
    log (read up to a marker request, so it has caught up) shows zero writes of any
    verb, PATCH (server-side apply and its dry runs) included."""
    live = {**cm("drifted", mode="live"), "metadata": {"name": "drifted", "namespace": namespace}}
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all([live]))
    repo = make_repo(
        tmp_path / "repo",
        {"app/a.yaml": dump_all([cm("never-applied"), cm("drifted", mode="git")])},
    )
    url = f"file://{repo.working_tree_dir}"
    mark = audit_mark(sandbox_box)
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
            for keys in (["s"], ["p"], ["t"], ["space", "s"], ["ctrl+r"]):
                async with settles(pilot, timeout=20):
                    await pilot.press(*keys)
                assert isinstance(app.screen, AppListScreen), keys
            for line in (f"sync {namespace}", f"prune {namespace}", "plan"):
                async with settles(pilot, timeout=20):
                    app.run_command_line(line)
                assert isinstance(app.screen, AppListScreen), line
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
            for key in ("s", "p", "t", "r", "R"):
                async with settles(pilot, timeout=20):
                    await pilot.press(key)
                assert isinstance(app.screen, AppViewScreen), key
            await pilot.press("H")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
            async with settles(pilot, timeout=20):
                await pilot.press("R", "enter")
            assert isinstance(app.screen, HistoryScreen)
            refusals = [t for s, t in app.notices if s == "warning" and "read-only" in t]
            assert refusals, app.notices
    assert (
        kubectl(
            sandbox.kubeconfig, "-n", namespace, "get", "cm", "never-applied", check=False
        ).returncode
        != 0
    )
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    assert events, "the console sent no request at all: the audit check would be vacuous"
    assert writes(events, dry_run=None) == []
    got = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "drifted", "-o", "json")
    assert '"mode": "live"' in got.stdout

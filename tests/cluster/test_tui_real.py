"""The console over the real engine and the sandbox (pilot tests), beyond test_tui_engine:

* a sync's progress shown live while a wave waits, and ``t`` terminating it;
* Secrets on screen: canary values (``data`` and ``stringData``, Git and live) never
  appear in any rendered screen nor in a notice;
* a fleet of several hundred apps, with live changes arriving while the console runs.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import pytest
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine
from uitest import screen_text, wait_for

from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.model import SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_list import AppTable
from gitops_tui.ui.screens.app_view import AppViewScreen

pytestmark = pytest.mark.cluster
SIZE = (120, 36)


def cm(name: str, wave: int | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if wave is not None:
        meta["annotations"] = {"argocd.argoproj.io/sync-wave": str(wave)}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def load_balancer(name: str, wave: int) -> dict[str, Any]:
    """A Service that stays Progressing: no load balancer ever gets an address here."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]},
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_sync_progress_is_live_and_t_terminates_the_wave_wait(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(
        tmp_path / "repo", {"app/all.yaml": dump_all([load_balancer("lb", 0), cm("later", 1)])}
    )
    url = f"file://{repo.working_tree_dir}"
    with running_engine(
        sandbox.kubeconfig, tmp_path, [application(namespace, url, "app", namespace)]
    ) as engine:
        app = GitOpsApp(engine, close_engine=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: namespace in app.fleet.by_name, timeout=20)
            await pilot.press("s")
            await wait_for(
                pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready, timeout=30
            )
            modal = app.screen
            await pilot.press("y")
            # progress, live: wave 0 applied, the operation waits for the load balancer
            await wait_for(
                pilot,
                lambda: "Running" in screen_text(app) and "lb" in screen_text(app),
                timeout=30,
            )
            op = engine.snapshot().by_name[namespace].operation
            assert op is not None and op.phase is OperationPhase.RUNNING
            assert modal.operation_id == op.id
            await wait_for(
                pilot,
                lambda: "wave 0" in (engine.snapshot().by_name[namespace].operation or op).message,
                timeout=30,
            )
            await pilot.press("t")
            await wait_for(pilot, lambda: "terminated by user" in screen_text(app), timeout=30)
            last = engine.snapshot().by_name[namespace].last_sync
            assert last is not None and last.phase is OperationPhase.FAILED, last
            assert last.id == op.id and last.message == "terminated by user"
            assert "Failed" in screen_text(app)
    assert kubectl(sandbox.kubeconfig, "-n", namespace, "get", "svc", "lb").returncode == 0
    later = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "later", check=False)
    assert later.returncode != 0, "wave 1 ran after terminate"


async def test_secret_values_never_reach_the_screen(sandbox, namespace, tmp_path) -> None:
    tag = uuid.uuid4().hex[:10]
    canaries = {
        "git-data": f"git-data-{tag}",
        "git-string": f"git-string-{tag}",
        "live-data": f"live-data-{tag}",
    }
    live = with_tracking(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "namespace": namespace},
            "data": {"a": b64(canaries["live-data"]), "same": b64("x")},
        },
        namespace,
    )
    kubectl(
        sandbox.kubeconfig,
        "apply",
        "--server-side",
        "--field-manager=gitops-tui",
        "-f",
        "-",
        stdin=dump_all([live]),
    )
    desired = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "data": {"a": b64(canaries["git-data"]), "same": b64("x")},
        "stringData": {"b": canaries["git-string"]},
    }
    repo = make_repo(tmp_path / "repo", {"app/s.yaml": dump_all([desired, cm("plain")])})
    url = f"file://{repo.working_tree_dir}"
    forbidden = [*canaries.values(), *(b64(v) for v in canaries.values())]
    seen: list[str] = []

    def look() -> str:
        text = screen_text(app)
        seen.append(text)
        return text

    with running_engine(
        sandbox.kubeconfig, tmp_path, [application(namespace, url, "app", namespace)]
    ) as engine:
        app = GitOpsApp(engine, close_engine=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: namespace in app.fleet.by_name, timeout=20)
            look()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
            await pilot.press("d")
            # the diff of the Secret is on screen, values masked
            await wait_for(pilot, lambda: "Secret" in look() and "+++" in look(), timeout=20)
            await pilot.press("c")  # full context: every line of the object
            await wait_for(pilot, lambda: "creds" in look(), timeout=20)
            await pilot.press("v")  # side by side
            await pilot.pause()
            look()
            await pilot.press("s")
            await wait_for(
                pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready, timeout=30
            )
            look()
            await pilot.press("y")
            await wait_for(
                pilot,
                lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
                timeout=60,
            )
            await wait_for(pilot, lambda: "Succeeded" in look(), timeout=20)
            await pilot.press("escape")
            await pilot.press("o")
            await pilot.pause()
            look()
            notices = "\n".join(t for _, t in app.notices)
    # the check can fail: the Secret was there, its values shown as pluses
    assert any("creds" in text for text in seen)
    assert any("++++++++" in text for text in seen), "masked values never shown"
    leaks = [c for c in forbidden for text in [*seen, notices] if c in text]
    assert leaks == [], f"secret values on screen: {sorted(set(leaks))}"
    got = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "secret", "creds", "-o", "json")
    assert b64(canaries["git-string"]) in got.stdout  # the sync did write the new values


async def test_a_fleet_of_several_hundred_apps_with_live_changes(
    sandbox, namespace, tmp_path
) -> None:
    count, changed = 300, 25
    names = [f"{namespace}-{i:03d}" for i in range(count)]
    repo = make_repo(
        tmp_path / "repo",
        {f"apps/{i:03d}/cm.yaml": dump_all([cm(f"cm-{i:03d}")]) for i in range(count)},
    )
    url = f"file://{repo.working_tree_dir}"
    docs = [application(name, url, f"apps/{i:03d}", namespace) for i, name in enumerate(names)]
    started = time.monotonic()
    with running_engine(sandbox.kubeconfig, tmp_path, docs) as engine:
        compared_in = time.monotonic() - started
        assert all(a.sync == SyncStatus.OUT_OF_SYNC for a in engine.snapshot().apps)
        app = GitOpsApp(engine, close_engine=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(app.fleet.apps) == count, timeout=30)
            table = app.screen.query_one(AppTable)
            await wait_for(pilot, lambda: len(table.keys) == count, timeout=30)
            assert f"{count} apps" in screen_text(app)
            # live changes: another tool creates the objects of `changed` apps (tracked)
            live = []
            for i in range(changed):
                obj = cm(f"cm-{i:03d}")
                obj["metadata"]["namespace"] = namespace
                live.append(with_tracking(obj, names[i]))
            applied_at = time.monotonic()
            kubectl(
                sandbox.kubeconfig,
                "apply",
                "--server-side",
                "--field-manager=other-tool",
                "-f",
                "-",
                stdin=dump_all(live),
            )
            # ... the console follows the watch: the header counts them, rows show them
            await wait_for(pilot, lambda: f"{changed} Synced" in screen_text(app), timeout=60)
            followed_in = time.monotonic() - applied_at
            assert all(app.fleet.by_name[n].sync == SyncStatus.SYNCED for n in names[:changed])
            assert all(app.fleet.by_name[n].sync == SyncStatus.OUT_OF_SYNC for n in names[changed:])
            # the console stays responsive while the fleet changes: filter, then open an app
            keys_at = time.monotonic()
            await pilot.press("slash", *names[7], "enter")
            await wait_for(pilot, lambda: table.keys == [names[7]], timeout=10)
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, AppViewScreen) and app.screen.app_name == names[7],
            )
            keys_in = time.monotonic() - keys_at
    print(
        f"fleet of {count}: compared in {compared_in:.1f}s, {changed} live changes shown in "
        f"{followed_in:.1f}s, filter+open in {keys_in:.2f}s"
    )

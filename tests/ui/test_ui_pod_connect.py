"""A shell (``x``) and port-forwards (``F``, ``f``) from the app view's tree, over the
FakeEngine and a fake ``kubectl`` on PATH (a script recording its argv; the real
kubectl is run against the sandbox in tests/cluster/test_pod_connect_cluster.py).

The headless test driver cannot hand a terminal over; it is told it can, so the
console's real ``App.suspend()`` path runs (its suspend and resume signals are
what the test sees), with nothing to restore.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from test_ui_app_view import move_to, open_app
from textual.drivers.headless_driver import HeadlessDriver
from uitest import run_from_palette, screen_text, wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.pod_connect import KUBECTL_MISSING, ExecModal, PortForwardModal
from gitops_tui.ui.port_forwards import PortForwardsModal, forwards_of
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.pod_logs import ChoiceModal

SIZE = (80, 24)
POD = "guestbook-ui-7d9f8-abcde"
PATIENCE = 15.0

FAKE_KUBECTL = """#!/bin/sh
printf '%s\\n' "$@" > "{record}"
case " $* " in
  *" port-forward "*)
    echo "Forwarding from 127.0.0.1:${{9%%:*}} -> ${{9##*:}}"
    exec sleep 600 ;;
  *" exit-1 "*)
    echo "error: unable to upgrade connection: container not found (\\"web\\")" >&2
    exit 1 ;;
esac
exit 0
"""


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake kubectl, first on PATH; returns the file its last argv is written to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv"
    script = bin_dir / "kubectl"
    script.write_text(FAKE_KUBECTL.format(record=record))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return record


@pytest.fixture
def can_suspend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HeadlessDriver, "can_suspend", property(lambda _self: True))


async def test_shell_hands_the_terminal_over_and_gets_it_back(
    engine: FakeEngine, kubectl: Path, can_suspend: None
) -> None:
    app = GitOpsApp(engine)
    handed: list[str] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.app_suspend_signal.subscribe(app, lambda _app: handed.append("suspend"))
        app.app_resume_signal.subscribe(app, lambda _app: handed.append("resume"))
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "9f8-abcde")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExecModal), timeout=PATIENCE)
        assert "Shell into guestbook/" + POD in screen_text(app)
        await pilot.press(*"sh -c 'echo hi; id'", "enter")  # the default, sh, is selected
        await wait_for(pilot, lambda: handed == ["suspend", "resume"], timeout=PATIENCE)
        await wait_for(pilot, lambda: app.screen is screen, timeout=PATIENCE)
        await wait_for(pilot, lambda: "ended." in screen_text(app), timeout=PATIENCE)
        assert kubectl.read_text().splitlines() == [
            "--kubeconfig=/home/op/.kube/config",
            "--context=kind-dev",
            "exec",
            "--stdin",
            "--tty",
            "--namespace=guestbook",
            "--container=guestbook-ui",
            POD,
            "--",
            "sh",
            "-c",
            "echo hi; id",
        ]
        assert ("information", f"Shell in guestbook/{POD} (guestbook-ui) ended.") in app.notices
        assert "guestbook-ui" in screen_text(app)  # the tree is drawn again

        # kubectl's error is said in words when it fails
        app.notices.clear()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExecModal), timeout=PATIENCE)
        await pilot.press(*"exit-1", "enter")
        await wait_for(pilot, lambda: app.notices, timeout=PATIENCE)
        severity, text = app.notices[-1]
        assert severity == "warning" and "ended with exit code 1" in text
        assert "unable to upgrade connection: container not found" in text
        assert handed == ["suspend", "resume"] * 2


async def test_port_forward_runs_in_the_background_is_listed_stopped_and_quit_stops_it(
    engine: FakeEngine, kubectl: Path
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "ReplicaSet")  # a workload: pick a pod
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceModal), timeout=PATIENCE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PortForwardModal), timeout=PATIENCE)
        dialog = app.screen
        assert isinstance(dialog, PortForwardModal)
        assert "declared: 80 (guestbook-ui)" in screen_text(app)
        await pilot.press("enter")
        registry = forwards_of(app)
        await wait_for(pilot, lambda: registry.running(), timeout=PATIENCE)
        (forward,) = registry.running()
        await wait_for(pilot, lambda: forward.ready, timeout=PATIENCE)
        argv = kubectl.read_text().splitlines()
        assert argv[2:] == [
            "port-forward",
            "--namespace=guestbook",
            "--address=127.0.0.1",
            "--",
            f"pod/{POD}",
            f"{dialog.local}:80",
        ]
        label = f"127.0.0.1:{dialog.local} -> guestbook/{POD}:80"
        await wait_for(pilot, lambda: ("information", f"Forwarding {label} (f: forwards)")
                       in app.notices, timeout=PATIENCE)  # fmt: skip

        app.clear_notifications()  # the toast would cover the list
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, PortForwardsModal), timeout=PATIENCE)
        await wait_for(pilot, lambda: "(guestbook)  forwarding" in screen_text(app))
        assert label in screen_text(app), screen_text(app)
        await pilot.press("d")
        await wait_for(pilot, lambda: "stopped" in screen_text(app), timeout=PATIENCE)
        assert forward.process is not None and forward.process.poll() is not None
        await pilot.press("escape")

        # another one, left running: quitting stops it
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceModal), timeout=PATIENCE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PortForwardModal), timeout=PATIENCE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: registry.running(), timeout=PATIENCE)
        (second,) = registry.running()
    assert second.process is not None and second.process.poll() is not None
    assert second.state() == "stopped"


async def test_the_forward_dialog_checks_the_ports(engine: FakeEngine, kubectl: Path) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "9f8-abcde")
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, PortForwardModal), timeout=PATIENCE)
        await pilot.press("backspace", "backspace", "enter")
        await wait_for(pilot, lambda: "between 1 and 65535" in screen_text(app))
        assert isinstance(app.screen, PortForwardModal) and not forwards_of(app).all()
        await pilot.press("escape")
        assert app.screen is screen


async def test_read_only_refuses_both_and_asks_the_engine_nothing(kubectl: Path) -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "9f8-abcde")
        for key, verb in (("x", "exec"), ("F", "port-forward")):
            app.notices.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda: app.notices)
            assert list(app.notices) == [("warning", f"read-only mode: {verb} is disabled.")]
            assert isinstance(app.screen, AppViewScreen)
    assert not kubectl.exists()
    assert "pod_connection" not in {name for name, _ in engine.calls}


async def test_without_kubectl_on_path_it_says_so(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "9f8-abcde")
        for key in ("x", "F"):
            app.notices.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda: app.notices)
            assert list(app.notices) == [("error", KUBECTL_MISSING)]
    assert "pod_connection" not in {name for name, _ in engine.calls}


async def test_the_forward_list_is_in_the_palette_from_anywhere(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await run_from_palette(pilot, "port forwards", "Port forwards")
        await wait_for(pilot, lambda: isinstance(app.screen, PortForwardsModal))
        assert "No port forwards (F on a pod starts one)" in screen_text(app)

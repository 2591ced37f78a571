"""A failed sync's messages at 80x24: whole (wrapped, never cut), in the console's words
(the dialog's key, not the CLI flag). Issue 15, defect 3."""

from __future__ import annotations

import re
from dataclasses import replace

from fake_engine import FakeEngine
from uitest import screen_text, wait_for

from gitops_tui.engine.api import OperationPhase, ResourceResult, ResultCode
from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.hints import for_console
from gitops_tui.ui.modals.sync import SyncModal

DEPLOYMENT = ResourceKey("apps", "Deployment", "guestbook", "guestbook-ui")
CONFLICT = (
    'field ownership conflict: .spec.replicas (managed by "kubectl-edit"). Force conflicts is '
    "off for this sync (--no-force-conflicts or ServerSideApply=false); sync without it, or "
    "with --force (or the Force=true sync option), to take these fields over"
)


def dialog_text(screen: str) -> str:
    """The dialog's content, its lines joined and its spaces collapsed."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if "╭" in line)
    left, right = lines[top].index("╭"), lines[top].index("╮")
    inner = [line[left + 1 : right] for line in lines[top + 1 :] if "╰" not in line[left:]]
    return re.sub(r"\s+", " ", " ".join(inner))


async def fail_the_sync(
    app: GitOpsApp, engine: FakeEngine, pilot, message: str, result: str, keymap=None
) -> str:  # type: ignore[no-untyped-def]
    await pilot.press("j", "s")  # guestbook
    await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
    modal = app.screen
    assert isinstance(modal, SyncModal)
    await pilot.press("y")
    await wait_for(pilot, lambda: modal.operation_id is not None)
    op = engine.apps["guestbook"].snapshot.operation
    assert op is not None
    engine.update_app(
        "guestbook",
        operation=replace(
            op,
            phase=OperationPhase.FAILED,
            message=message,
            finished_at=op.started_at,
            results=(ResourceResult(DEPLOYMENT, ResultCode.SYNC_FAILED, result),),
        ),
    )
    await wait_for(pilot, lambda: "✗ Failed" in screen_text(app))
    return dialog_text(screen_text(app))


async def test_a_long_failure_message_is_shown_whole_at_80x24(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        message = "one or more objects failed to apply: " + CONFLICT
        text = await fail_the_sync(app, engine, pilot, message, CONFLICT)
    assert for_console(message) in text
    assert "to take these fields over" in text
    assert "--force" not in text and "--no-force-conflicts" not in text
    assert "force (key f in the sync dialog)" in text


async def test_a_long_result_message_is_shown_whole_below_the_table(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        text = await fail_the_sync(
            app, engine, pilot, "one or more objects failed to apply", CONFLICT
        )
    assert for_console(CONFLICT) in text


async def test_the_hint_names_the_remapped_key(engine: FakeEngine) -> None:
    app = GitOpsApp(engine, keymap={"sync.force": "F"})
    async with app.run_test(size=(80, 24)) as pilot:
        text = await fail_the_sync(app, engine, pilot, CONFLICT, CONFLICT)
    assert "force (key F in the sync dialog)" in text


def test_for_console_rewrites_only_whole_flags() -> None:
    assert for_console("sync with --force") == "sync with force (key f in the sync dialog)"
    assert for_console("--force-conflicts stays") == "--force-conflicts stays"
    assert for_console("use --prune") == "use prune (key p in the sync dialog)"
    assert for_console("x", {"sync.force": "ctrl+f,F"}) == "x"
    assert "key ctrl+f" in for_console("--force", {"sync.force": "ctrl+f,F"})

"""Terminal safety of the headless commands over a hostile fleet (``hostile_fleet``).

Every text output (list, diff, sync, plan, history, rollback, and the errors on
stderr) holds no control character but newline, shows the payload escaped, and
keeps one line per row; every JSON output is exact (loads back to the hostile
strings) and pure ASCII. The real CLI over a real Git repository is in
``tests/cluster/test_terminal_safety.py``.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import replace
from typing import Any

import pytest
from hostile_fleet import ESC_PAYLOAD, EVIL_APP, EVIL_REV, SHOWN, HostileEngine, evil

from gitops_tui import headless
from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.snapshot import OperationState


class HeadlessHostileEngine(HostileEngine):
    """A sync that finishes at once with the hostile app's recorded operation (the rest
    of ``HeadlessEngine`` is ``FakeEngine``'s)."""

    def sync(self, request: SyncRequest) -> str:
        op_id = super().sync(request)
        self._end_with_recorded_operation(request.app, op_id)
        return op_id

    def rollback(self, app: str, history_id: int) -> str:
        op_id = super().rollback(app, history_id)
        self._end_with_recorded_operation(app, op_id)
        return op_id

    def _end_with_recorded_operation(self, app: str, op_id: str) -> None:
        template = self.apps[EVIL_APP].snapshot.last_sync
        assert template is not None
        self.update_app(app, operation=replace(template, id=op_id, app=app))

    def wait_for_operation(
        self, app: str, op_id: str, timeout: float = 600.0
    ) -> OperationState | None:
        op = self.apps[app].snapshot.operation
        return op if op is not None and op.id == op_id else None


def unsafe(text: str) -> list[str]:
    """Control, format and separator code points other than newline."""
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        }
    )


def run(capsys: pytest.CaptureFixture[str], fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    out = io.StringIO()
    headless.run_guarded(fn, *args, out=out, **kwargs)
    captured = capsys.readouterr()
    assert captured.out == ""
    return out.getvalue(), captured.err


def assert_safe(text: str, *shown: str) -> None:
    assert unsafe(text) == [], text
    assert not re.search(r"\x1b|\x9b", text)
    for part in shown:
        assert part in text, f"{part!r} not in {text!r}"


SYNC_ARGS: dict[str, Any] = {
    "prune": False,
    "dry_run": False,
    "force": False,
    "resources": (),
    "apply_out_of_sync_only": False,
    "wait": True,
    "timeout": 10.0,
}


def test_list_text_is_safe_with_one_line_per_app(capsys: pytest.CaptureFixture[str]) -> None:
    engine = HeadlessHostileEngine()
    out, _ = run(capsys, headless.cmd_list, engine, output="text")
    assert_safe(out, "app" + SHOWN, "project" + SHOWN, "helm fail" + SHOWN, "[blink]m[/]")
    assert len(out.splitlines()) == 1 + len(engine.apps)


def test_diff_text_is_safe_and_keeps_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(
        capsys, headless.cmd_diff, HeadlessHostileEngine(), EVIL_APP, exit_code=True, output="text"
    )
    assert_safe(out, "/cm" + SHOWN, "===== /ConfigMap ns" + SHOWN)
    assert sum(1 for line in out.splitlines() if line.startswith("=====")) == 2
    assert any(line.startswith("-") for line in out.splitlines())


def test_diff_error_on_stderr_is_safe(capsys: pytest.CaptureFixture[str]) -> None:
    engine = HeadlessHostileEngine()
    engine.update_app(EVIL_APP, sync=engine.apps[EVIL_APP].snapshot.sync.UNKNOWN)
    out, err = run(capsys, headless.cmd_diff, engine, EVIL_APP, exit_code=True, output="text")
    assert out == ""
    assert_safe(err, "error: app" + SHOWN, "helm fail" + SHOWN)


def test_sync_text_is_safe(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(
        capsys, headless.cmd_sync, HeadlessHostileEngine(), EVIL_APP, output="text", **SYNC_ARGS
    )
    assert_safe(out, "Sync" + SHOWN, "result" + SHOWN, "Failed: opmessage" + SHOWN)
    lines = out.splitlines()
    assert len(lines) == 2, lines  # one result row, one final status (its "\n" escaped)
    assert "\\nsecond line" in lines[1]


def test_sync_of_several_apps_and_async_start_are_safe(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(
        capsys,
        headless.cmd_sync,
        HeadlessHostileEngine(),
        [EVIL_APP, "payments"],
        output="text",
        **SYNC_ARGS,
    )
    assert_safe(out, "app" + SHOWN)
    out, _ = run(
        capsys,
        headless.cmd_sync,
        HeadlessHostileEngine(),
        EVIL_APP,
        output="text",
        **{**SYNC_ARGS, "wait": False},
    )
    assert_safe(out, "sync of app" + SHOWN)


def test_plan_text_is_safe(capsys: pytest.CaptureFixture[str]) -> None:
    engine = HeadlessHostileEngine()
    engine.plan_errors["payments"] = evil("cannot render")
    out, _ = run(
        capsys, headless.cmd_plan, engine, [EVIL_APP, "payments"], prune=True, output="text"
    )
    assert_safe(out, "app" + SHOWN, "cm" + SHOWN, "cannot plan: cannot render" + SHOWN)


def test_history_text_is_safe(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(capsys, headless.cmd_history, HeadlessHostileEngine(), EVIL_APP, output="text")
    assert_safe(out, "by" + SHOWN, "opmessage" + SHOWN)
    assert len(out.splitlines()) == 2


def test_rollback_text_is_safe(capsys: pytest.CaptureFixture[str]) -> None:
    engine = HeadlessHostileEngine()
    engine.update_app(EVIL_APP, automated=True)
    out, _ = run(capsys, headless.cmd_rollback, engine, EVIL_APP, 7, timeout=5.0)
    assert_safe(out, "automated sync of app" + SHOWN, "opmessage" + SHOWN, "(revision \\x1b]0;p")


def test_engine_errors_on_stderr_are_safe(capsys: pytest.CaptureFixture[str]) -> None:
    engine = HeadlessHostileEngine()
    engine.fail["history"] = EngineError(evil("helm: fail") + "\nline two")
    out, err = run(capsys, headless.cmd_history, engine, EVIL_APP, output="text")
    assert out == ""
    assert_safe(err, "error: helm: fail" + SHOWN, "\nline two")
    _, err = run(capsys, headless.cmd_diff, engine, evil("nope"), exit_code=False, output="text")
    assert_safe(err, "no app named 'nope\\x1b]0;pwned")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("command", ["list", "diff", "sync", "plan", "history"])
def test_json_output_is_exact_and_ascii(capsys: pytest.CaptureFixture[str], command: str) -> None:
    engine = HeadlessHostileEngine()
    calls: dict[str, tuple[Any, ...]] = {
        "list": (headless.cmd_list, engine),
        "diff": (headless.cmd_diff, engine, EVIL_APP),
        "sync": (headless.cmd_sync, engine, EVIL_APP),
        "plan": (headless.cmd_plan, engine, [EVIL_APP]),
        "history": (headless.cmd_history, engine, EVIL_APP),
    }
    extra: dict[str, Any] = {
        "diff": {"exit_code": False},
        "sync": SYNC_ARGS,
        "plan": {"prune": True},
    }
    fn, *args = calls[command]
    out, _ = run(capsys, fn, *args, output="json", **extra.get(command, {}))
    assert out.isascii() and unsafe(out) == []
    strings = _strings(json.loads(out))
    # the hostile strings come back exactly, controls and all
    assert any(ESC_PAYLOAD in s for s in strings), strings
    if command in ("list", "history", "sync"):
        assert any(s == EVIL_REV for s in strings)

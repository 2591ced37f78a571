"""An unexpected exception inside a sync ends the operation in Error, with a message
and no traceback (the cluster tier provokes real API rejections instead; a real
server cannot make our own code raise, so this one path is checked here)."""

from __future__ import annotations

import threading
from typing import Any

from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.engine.sync.plan import build_plan
from gitops_tui.engine.sync.run import SyncSettings, run_sync


class Broken:
    """A cluster connection whose every use raises a programming error."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"boom in {name}")


def test_an_unexpected_exception_ends_in_error_without_a_traceback() -> None:
    desired = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"},
            "data": {"k": "v"},
        }
        for name in ("a", "b")
    ]
    plan = build_plan(desired, {}, {}, [], app_options={}, prune=False)
    states: list[OperationState] = []
    state = run_sync(
        Broken(),  # type: ignore[arg-type]
        plan,
        SyncSettings(app="web", revision="abc", destination_namespace="default", app_options={}),
        operation_id="op-1",
        on_progress=states.append,
        cancel=threading.Event(),
    )
    assert state.phase is OperationPhase.ERROR, state
    assert state.message.startswith("sync error: RuntimeError: boom in "), state.message
    assert "Traceback" not in state.message and "File " not in state.message
    assert state.finished_at is not None
    assert all(s.phase is OperationPhase.RUNNING for s in states[:-1])

"""App of Apps at run time: the child apps a parent declares join, change and leave
the engine's table (the planning itself is ``app_of_apps``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.app_of_apps import plan_children
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppState, AppTable, recorded_last_sync
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.sync.history import HistoryStore


class ChildApps:
    """Registers the child apps of parents (after a sync, and at start-up)."""

    def __init__(
        self,
        table: AppTable,
        publisher: Publisher,
        history: HistoryStore,
        render: Callable[[str], None],
        apps_changed: threading.Event,
    ) -> None:
        self._table = table
        self._publisher = publisher
        self._history = history
        self._render = render  # schedule a fetch and render of a (new or changed) app
        self._apps_changed = apps_changed

    def register(self, parent: str, docs: list[Manifest], *, prune: bool) -> None:
        """Register, update and (with prune) remove the child apps ``parent`` declares."""
        states = self._table.states

        def owner_of(name: str) -> str | None:
            found = states.get(name)
            if found is None:
                return ""
            return found.parent

        def parent_of(name: str) -> str | None:
            found = states.get(name)
            return found.parent if found else None

        changed: list[str] = []
        with self._table.lock:
            pstate = states.get(parent)
            if pstate is None:
                return
            plan = plan_children(
                parent,
                docs,
                existing_children=pstate.children,
                owner_of=owner_of,
                parent_of=parent_of,
                prune=prune,
            )
            by_name = {str((d.get("metadata") or {}).get("name")): d for d in docs}
            for name in (*plan.add, *plan.update):
                parsed = parse_application(by_name[name], f"app:{parent}")
                current = states.get(name)
                if current is None:
                    states[name] = AppState(
                        app=parsed, parent=parent, last_sync=recorded_last_sync(self._history, name)
                    )
                    changed.append(name)
                elif current.app != parsed:
                    current.app = parsed
                    changed.append(name)
                pstate.children.add(name)
            for name in plan.remove:
                removed = states.pop(name, None)
                pstate.children.discard(name)
                if removed is not None:
                    self._table.forget_desired(name)
            pstate.child_problems = [*plan.cycles, *plan.conflicts]
            pstate.snapshot = self._publisher.app_snapshot(pstate)
        if changed or plan.remove:
            self._apps_changed.set()
        for name in changed:
            self._render(name)
        self._publisher.mark_dirty()

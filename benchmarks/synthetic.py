"""A synthetic ``EngineAPI`` publishing fleets of made-up apps: measures the UI alone."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from benchmarks.fixtures import (
    fleet_name,
    fleet_namespace,
)


class SyntheticEngine:
    """An ``EngineAPI`` that publishes fleets of synthetic apps (measures the UI only)."""

    read_only = False
    backend_label = ""  # the local console's header: "local · ctx sandbox" (not a method's repr)

    def __init__(self, n: int, seed: int = 7, churn_pct: float = 1.0) -> None:
        from gitops_tui.engine.snapshot import FleetSnapshot

        self._rng = random.Random(seed)
        self.churn_count = max(1, round(n * churn_pct / 100.0))
        self._paused = threading.Event()
        self._subscribers: list[Callable[[Any], None]] = []
        self._lock = threading.Lock()
        self._generation = 0
        self._latest = FleetSnapshot(generation=0)
        self.apps = [self._app(i) for i in range(n)]
        self._stop = threading.Event()
        self.published = 0

    def _app(self, i: int) -> Any:
        from gitops_tui.engine.model import HealthStatus, ResourceKey, SyncStatus
        from gitops_tui.engine.snapshot import (
            AppSnapshot,
            Destination,
            OperationPhase,
            OperationState,
            ResourceNode,
        )

        name = fleet_name(i)
        ns = fleet_namespace(i)
        kinds = [("", "ServiceAccount"), ("", "Secret")] + [("", "ConfigMap")] * 6
        kinds += [("", "Service"), ("apps", "Deployment")]
        resources = tuple(
            ResourceNode(
                key=ResourceKey(group, kind, ns, f"{name}-{j}"),
                version="v1",
                status=SyncStatus.SYNCED,
                health=HealthStatus.HEALTHY,
            )
            for j, (group, kind) in enumerate(kinds)
        )
        sha = f"{i:040x}"
        return AppSnapshot(
            name=name,
            project="default",
            sync=SyncStatus.SYNCED,
            health=HealthStatus.HEALTHY,
            health_message="",
            revision=sha,
            target_revision="HEAD",
            repo_url="https://git.example.com/platform/fleet.git",
            path=f"apps/{name}",
            destination=Destination("https://kubernetes.default.svc", "", ns),
            resources=resources,
            last_sync=OperationState(
                id=f"op{i}",
                app=name,
                phase=OperationPhase.SUCCEEDED,
                message="successfully synced",
                revision=sha,
                started_at=1_700_000_000.0,
                finished_at=1_700_000_001.0,
            ),
            compared_at=1_700_000_002.0,
        )

    # EngineAPI
    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def snapshot(self) -> Any:
        return self._latest

    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        return None

    def diffs(self, app: str, *, context: int = 3) -> list[Any]:
        return []

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        from gitops_tui.engine.api import EngineError

        raise EngineError("the synthetic bench engine does not do that")

    preview = sync = terminate = rollback = fleet_preview = _refuse

    def history(self, app: str) -> list[Any]:
        return []

    def contexts(self) -> list[str]:
        return ["sandbox"]

    @property
    def default_context(self) -> str | None:
        return "sandbox"

    def set_default_context(self, name: str) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        # the console's EngineAPI grows; anything else is refused, as a read-only engine would
        if name.startswith("_"):
            raise AttributeError(name)
        return self._refuse

    def close(self) -> None:
        self._stop.set()

    # publishing
    def publish(self) -> None:
        from gitops_tui.engine.snapshot import FleetSnapshot

        with self._lock:
            self._generation += 1
            self._latest = FleetSnapshot.build(self._generation, self.apps, read_only=False)
            subscribers = list(self._subscribers)
            snap = self._latest
        self.published += 1
        for callback in subscribers:
            callback(snap)

    def churn(self) -> None:
        """Flip sync and health of ``churn_count`` random apps, as a busy reconciler would."""
        from gitops_tui.engine.model import HealthStatus, SyncStatus

        for _ in range(self.churn_count):
            i = self._rng.randrange(len(self.apps))
            app = self.apps[i]
            out = app.sync == SyncStatus.SYNCED
            self.apps[i] = replace(
                app,
                sync=SyncStatus.OUT_OF_SYNC if out else SyncStatus.SYNCED,
                health=HealthStatus.PROGRESSING if out else HealthStatus.HEALTHY,
                comparing=not app.comparing,
            )
        self.publish()

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def pause_churn(self) -> None:
        self._paused.set()

    def resume_churn(self) -> None:
        self._paused.clear()

    def churn_every(self, interval: float) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval):
                if not self._paused.is_set():
                    self.churn()

        thread = threading.Thread(target=loop, name="synthetic-publisher", daemon=True)
        thread.start()
        return thread

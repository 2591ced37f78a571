"""Writing to ``Application`` objects the way Argo CD's API server does (v3.2,
``server/application/application.go``, ``util/argo.SetAppOperation``).

``AppActions`` sends the patches of ``operations``: an ``operation`` refused while
another runs (``argo.ErrAnotherOperationInProgress``), every write carrying the
``resourceVersion`` it was computed from and conflicts retried, permission errors
turned into messages naming the action and the namespace. Read-only is decided by
the caller (``backend``); the connection it is given refuses writes on its own
when read-only.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from gitops_tui.argocd import operations as ops
from gitops_tui.argocd.status import history_entries, text
from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, path_segment
from gitops_tui.engine.model import Manifest

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
CONFLICT_RETRIES = 10
TERMINATE_HOLD_S = 60.0  # how long a terminate is re-asserted if Argo CD overwrites it
TERMINATE_CHECK_S = 1.0


def _rv(obj: Manifest) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class AppActions:
    """Sync, rollback, terminate and refresh of the Applications under ``apps_path``."""

    def __init__(
        self,
        client: KubeClient,
        apps_path: str,
        *,
        namespace: str,
        username: str,
        stop: threading.Event,
    ) -> None:
        self._client = client
        self._apps_path = apps_path
        self.namespace = namespace
        self.username = username
        self._stop = stop

    def annotate_refresh(self, names: list[str], hard: bool) -> None:
        for app_name in names:
            try:
                self.patch(app_name, ops.refresh_patch(hard=hard))
            except (KubeApiError, EngineError) as exc:
                log.warning("refresh of %s failed: %s", app_name, exc)

    def sync(self, request: SyncRequest) -> str:
        """Set the sync ``operation``; returns its id (carried in ``operation.info``)."""
        op_id = uuid.uuid4().hex[:12]

        def operation(obj: Manifest) -> dict[str, Any]:
            spec = obj.get("spec") or {}
            automated = (spec.get("syncPolicy") or {}).get("automated")
            source = spec.get("source") or {}
            target = str(source.get("targetRevision") or "HEAD")
            auto = isinstance(automated, dict) and automated.get("enabled") is not False
            if auto and not request.dry_run and request.revision not in (None, target):
                raise EngineError(
                    f"cannot sync {request.app} to {request.revision}: automated sync is "
                    f"set to {target} (turn it off first, or roll back from the history)"
                )
            return ops.sync_operation(obj, request, operation_id=op_id, username=self.username)

        self.set_operation(request.app, operation)
        return op_id

    def rollback(self, app: str, history_id: int) -> str:
        """Turn automated sync off (Argo CD refuses a rollback otherwise), then sync the
        history entry's revision and source."""
        obj = self.get(app)
        entry = ops.history_entry(obj, history_id)
        if entry is None:
            ids = [e.id for e in history_entries(app, obj)]
            raise EngineError(f"{app} has no history entry {history_id} (entries: {ids or 'none'})")
        automated = ((obj.get("spec") or {}).get("syncPolicy") or {}).get("automated")
        if automated is not None:
            self.patch_versioned(app, ops.automation_off_patch)
        op_id = uuid.uuid4().hex[:12]
        self.set_operation(
            app,
            lambda current: ops.rollback_operation(
                current,
                ops.history_entry(current, history_id) or entry,
                operation_id=op_id,
                username=self.username,
            ),
        )
        return op_id

    def terminate(self, app: str) -> bool:
        for _ in range(CONFLICT_RETRIES):
            obj = self.get(app)
            state = (obj.get("status") or {}).get("operationState")
            if not obj.get("operation") or not isinstance(state, dict):
                return False
            try:
                self.patch(app, ops.terminate_patch(_rv(obj)))
            except KubeApiError as exc:
                if exc.status != 409:
                    raise self.action_error(f"terminate {app}", exc) from None
                continue
            started = str(state.get("startedAt") or "")
            threading.Thread(
                target=self._hold_terminating,
                args=(app, started),
                name="argocd-terminate",
                daemon=True,
            ).start()
            return True
        raise EngineError(f"could not terminate {app}: the object kept changing (conflicts)")

    def _hold_terminating(self, app: str, started: str) -> None:
        """Argo CD's controller can write ``Running`` back over a ``Terminating`` that
        arrived while it was writing (its re-read before writing narrows the window, it
        does not close it): while this operation is still running, set it again."""
        deadline = time.monotonic() + TERMINATE_HOLD_S
        while time.monotonic() < deadline and not self._stop.wait(TERMINATE_CHECK_S):
            try:
                obj = self.get(app)
            except EngineError:
                return
            state = (obj.get("status") or {}).get("operationState") or {}
            if not obj.get("operation") or str(state.get("startedAt") or "") != started:
                return  # ended, or another operation
            if state.get("phase") == "Running":
                log.info("Argo CD wrote Running over Terminating for %s: terminating again", app)
                with contextlib.suppress(KubeApiError):
                    self.patch(app, ops.terminate_patch(_rv(obj)))

    # -- requests ---------------------------------------------------------------------

    def path(self, app: str) -> str:
        return f"{self._apps_path}/{path_segment('application', app)}"

    def get(self, app: str) -> Manifest:
        try:
            obj = self._client.request("GET", self.path(app))
        except KubeApiError as exc:
            raise self.action_error(f"read {app}", exc) from None
        if not isinstance(obj, dict):
            raise EngineError(f"unexpected answer reading Application {app}")
        return obj

    def patch(self, app: str, body: Mapping[str, Any]) -> Manifest:
        result: Manifest = self._client.request(
            "PATCH", self.path(app), body=body, content_type=MERGE_PATCH
        )
        return result

    def delete(self, path: str, body: Mapping[str, Any]) -> None:
        """A DELETE of ``path`` with DeleteOptions ``body`` (preconditions), as sent."""
        self._client.request("DELETE", path, body=body)

    def patch_versioned(self, app: str, make: Callable[[str], dict[str, Any]]) -> None:
        for _ in range(CONFLICT_RETRIES):
            obj = self.get(app)
            try:
                self.patch(app, make(_rv(obj)))
                return
            except KubeApiError as exc:
                if exc.status != 409:
                    raise self.action_error(f"update {app}", exc) from None
        raise EngineError(f"could not update {app}: the object kept changing (conflicts)")

    def set_operation(self, app: str, make: Callable[[Manifest], dict[str, Any]]) -> None:
        """``argo.SetAppOperation``: refuse while another operation runs, retry conflicts."""
        for _ in range(CONFLICT_RETRIES):
            obj = self.get(app)
            running = obj.get("operation")
            if running:
                who = ((running.get("initiatedBy") or {}).get("username")) or (
                    "automated sync"
                    if (running.get("initiatedBy") or {}).get("automated")
                    else "someone"
                )
                raise EngineError(
                    f"another operation is already in progress for {app} "
                    f"(started by {text(who, 100)}): wait for it or terminate it"
                )
            try:
                self.patch(app, ops.set_operation_patch(_rv(obj), make(obj)))
                return
            except KubeApiError as exc:
                if exc.status != 409:
                    raise self.action_error(f"start an operation on {app}", exc) from None
        raise EngineError(f"could not start an operation on {app}: conflicts kept happening")

    def action_error(self, what: str, exc: KubeApiError) -> EngineError:
        if exc.status == 403:
            return EngineError(
                f"not allowed to {what} in namespace {self.namespace}: {text(exc.message, 300)}",
                title="Permission denied",
            )
        if exc.status == 404:
            return EngineError(
                f"cannot {what}: the Application is gone from namespace {self.namespace}"
            )
        return EngineError(f"cannot {what}: {text(str(exc), 500)}")

"""The API server's own calls for sync, rollback, terminate and refresh.

What ``argocd app sync|rollback|terminate-op|get --refresh`` send (v3.2,
``server/application/application.proto``): ``POST .../sync`` with our operation
id in ``infos`` (the server copies it into ``operation.info``; it also copies
``spec.syncPolicy.syncOptions`` unless the request names options), ``DELETE
.../operation``, ``POST .../rollback`` after turning automated sync off with a
merge ``PATCH`` (the server refuses a rollback of an automated app), and ``GET
...?refresh=normal|hard``. Argo CD's RBAC decides; a refusal is a message naming
the action and the app. The read-only check is the caller's (``server_backend``);
the client of a read-only session refuses these calls on its own as well.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gitops_tui.argocd import operations as ops
from gitops_tui.argocd.server_client import (
    ServerApiError,
    ServerClient,
    app_path,
    describe,
)
from gitops_tui.argocd.status import OPERATION_ID_INFO, history_entries, operation_state
from gitops_tui.engine.api import AppSnapshot, EngineError, OperationState, SyncRequest
from gitops_tui.engine.model import ResourceKey

log = logging.getLogger(__name__)

ROLLBACK_RETRY_S = 10.0
TERMINATE_HOLD_S = 60.0  # how long a terminate is re-asserted if Argo CD overwrites it
TERMINATE_CHECK_S = 1.0
AUTOMATION_OFF = '{"spec": {"syncPolicy": {"automated": null}}}'


def sync_body(obj: Mapping[str, Any], request: SyncRequest, op_id: str) -> dict[str, Any]:
    """The ``ApplicationSyncRequest`` for ``request`` (pure)."""
    body: dict[str, Any] = {
        "name": request.app,
        "prune": request.prune,
        "dryRun": request.dry_run,
        "strategy": {"hook": {"force": True}} if request.force else {"hook": {}},
        "infos": [{"name": OPERATION_ID_INFO, "value": op_id}],
    }
    if request.revision:
        body["revision"] = request.revision
    if request.resources:
        body["resources"] = [
            {"group": k.group, "kind": k.kind, "namespace": k.namespace, "name": k.name}
            for k in sorted(request.resources)
        ]
    if request.apply_out_of_sync_only or not request.force_conflicts:
        # options named in the request replace the spec's: the spec's plus ours
        operation = ops.sync_operation(obj, request, operation_id=op_id, username="")
        body["syncOptions"] = {"items": operation["sync"]["syncOptions"]}
    return body


@dataclass
class _PendingRollback:
    op_id: str  # the id rollback() returned
    before: OperationState | None  # the operation shown when it was sent
    claimed: str = ""  # the id Argo CD's operation has, once claimed


def _is_another(op: OperationState, before: OperationState | None) -> bool:
    """Whether ``op`` is another operation than ``before``: another ``startedAt``
    (its id); or the same second but another initiator; or ``before`` had ended and
    ``op`` has not, or ended at another time. ``before``, only gone from running to
    ended, is not another."""
    if before is None:
        return True
    if op.id != before.id or op.initiated_by != before.initiated_by:
        return True
    return before.finished_at is not None and op.finished_at != before.finished_at


class ServerActions:
    """The mutating calls (each after the caller's read-only check)."""

    def __init__(self, client: ServerClient, stop: threading.Event) -> None:
        self._client = client
        self._stop = stop
        self._lock = threading.Lock()
        # rollbacks sent: app -> our op id, the operation shown before, ours once seen
        self._pending: dict[str, _PendingRollback] = {}

    def refresh(self, names: list[str], hard: bool) -> None:
        for name in names:
            try:
                self._client.request(
                    "GET", app_path(name), query={"refresh": "hard" if hard else "normal"}
                )
            except ServerApiError as exc:
                log.warning("%s", describe(exc, "refresh", name))

    def sync(self, obj: Mapping[str, Any], request: SyncRequest) -> str:
        op_id = uuid.uuid4().hex[:12]
        try:
            self._client.request(
                "POST", app_path(request.app, "/sync"), body=sync_body(obj, request, op_id)
            )
        except ServerApiError as exc:
            raise describe(exc, "sync", request.app) from None
        return op_id

    def rollback(self, obj: Mapping[str, Any], app: str, history_id: int) -> str:
        ids = [e.id for e in history_entries(app, obj)]
        if history_id not in ids:
            raise EngineError(f"{app} has no history entry {history_id} (entries: {ids or 'none'})")
        if ((obj.get("spec") or {}).get("syncPolicy") or {}).get("automated") is not None:
            try:
                self._client.request(
                    "PATCH",
                    app_path(app),
                    body={"name": app, "patch": AUTOMATION_OFF, "patchType": "merge"},
                )
            except ServerApiError as exc:
                raise describe(exc, "turn automated sync off for", app) from None
        op_id = uuid.uuid4().hex[:12]
        state = (obj.get("status") or {}).get("operationState")
        before = operation_state(app, state) if isinstance(state, Mapping) else None
        with self._lock:
            self._pending[app] = _PendingRollback(op_id, before)
        deadline = time.monotonic() + ROLLBACK_RETRY_S
        while True:
            try:
                self._client.request(
                    "POST",
                    app_path(app, "/rollback"),
                    body={"name": app, "id": history_id, "prune": False, "dryRun": False},
                )
                return op_id
            except ServerApiError as exc:
                # the server reads the app from its informer, which may not have seen the
                # PATCH yet: "rollback cannot be initiated when auto-sync is enabled"
                if "auto-sync is enabled" in exc.message and time.monotonic() < deadline:
                    self._stop.wait(0.3)
                    continue
                with self._lock:
                    self._pending.pop(app, None)
                raise describe(exc, "roll back", app) from None

    def terminate(self, app: str) -> bool:
        try:
            self._client.request("DELETE", app_path(app, "/operation"))
        except ServerApiError as exc:
            if "no operation is in progress" in exc.message.lower():
                return False
            raise describe(exc, "terminate the operation of", app) from None
        started = self._started_at(app)
        if started:
            threading.Thread(
                target=self._hold_terminating, args=(app, started),
                name="argocd-server-terminate", daemon=True,
            ).start()  # fmt: skip
        return True

    def _started_at(self, app: str) -> str:
        try:
            obj = self._client.request("GET", app_path(app))
        except ServerApiError:
            return ""
        state = ((obj if isinstance(obj, Mapping) else {}).get("status") or {}).get(
            "operationState"
        )
        return str(state.get("startedAt") or "") if isinstance(state, Mapping) else ""

    def _hold_terminating(self, app: str, started: str) -> None:
        """The server sets ``Terminating`` with an update; the controller's merge patch
        of a running operation's state can write ``Running`` back over it (its copy
        was read before the update). While the same operation still runs, ask again,
        as ``argocd/actions.py`` does for the Kubernetes API way in."""
        deadline = time.monotonic() + TERMINATE_HOLD_S
        while time.monotonic() < deadline and not self._stop.wait(TERMINATE_CHECK_S):
            try:
                obj = self._client.request("GET", app_path(app))
            except ServerApiError:
                return
            body = obj if isinstance(obj, Mapping) else {}
            state = (body.get("status") or {}).get("operationState") or {}
            if not body.get("operation") or str(state.get("startedAt") or "") != started:
                return  # ended, or another operation
            if state.get("phase") == "Running":
                log.info("Argo CD wrote Running over Terminating for %s: terminating again", app)
                try:
                    self._client.request("DELETE", app_path(app, "/operation"))
                except ServerApiError:
                    return

    def delete_resource(self, app: str, key: ResourceKey, version: str) -> str:
        """``DELETE .../resource`` (``argocd app delete-resource``): the server deletes the
        object only if it is in the app's resource tree (foreground propagation)."""
        query = {
            "namespace": key.namespace,
            "resourceName": key.name,
            "version": version or "v1",
            "group": key.group,
            "kind": key.kind,
        }
        try:
            self._client.request("DELETE", app_path(app, "/resource"), query=query)
        except ServerApiError as exc:
            if exc.not_found:
                raise EngineError(
                    f"cannot delete {key.display} of {app}: Argo CD does not find it in "
                    f"the app's resources ({exc.message})"
                ) from None
            raise describe(exc, f"delete {key.display} of", app) from None
        return f"{key.display}: deletion requested from Argo CD (foreground)"

    def claim(self, snap: AppSnapshot) -> AppSnapshot:
        """A rollback carries no operation info: the first operation shown after ours
        was sent that is not the one shown before is ours, under the id we returned;
        its id (``app@startedAt``) is remembered, so a later operation is not taken.

        ``startedAt`` has whole seconds: a rollback sent right after an automated sync
        can start in the same second. The operation before is known by its initiator
        and end as well, so the rollback (another initiator, or not ended yet, or
        ended later) is still told apart from it."""
        op = snap.operation
        with self._lock:
            pending = self._pending.get(snap.name)
            if pending is None or op is None or not op.id.startswith(f"{snap.name}@"):
                return snap
            if pending.claimed:
                if op.id != pending.claimed:
                    return snap
            elif not _is_another(op, pending.before):
                return snap
            pending.claimed = op.id
        op = replace(op, id=pending.op_id)
        return replace(snap, operation=op, last_sync=op if snap.last_sync is not None else None)

"""Resource actions on an app's resources: list them, run one (``EngineAPI.actions`` /
``run_action``). The scripts and built-ins are ``engine/health/actions.py``.

Running an action:

1. refused in read-only mode (the flag, the config file, or the app's context)
   before anything is read or sent;
2. the resource must be one of the app's (compared, live); it is read fresh
   (one GET), so the script sees the current object and the patch carries its
   ``resourceVersion`` (a concurrent change gives a 409, never a lost update);
3. the script's operations are checked before any is sent: ``patch`` only the
   resource the action runs on, ``create`` only a namespaced object in that
   resource's namespace (a script from ``argocd-cm`` is cluster content: not
   trusted to touch anything else);
4. each change is a JSON merge patch of exactly the fields the script changed
   (``fieldManager=gitops-tui``: our manager owns those fields, and only those;
   an apply of the whole returned object would claim every field), the status
   part on the ``status`` subresource as Argo CD does; ``create`` is a POST with
   our field manager;
5. the app is re-compared (the watch sees the change too).

Actions are not written to the sync history: an entry there is a sync of a
revision (rollback redeploys it), which an action is not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gitops_tui.engine.api import EngineError
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import FIELD_MANAGER, KubeApiError
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.operations import Operations
from gitops_tui.engine.controller.state import AppState
from gitops_tui.engine.health import customizations
from gitops_tui.engine.health.actions import (
    ActionError,
    ActionOutcome,
    ImpactedResource,
    ResourceAction,
    discover,
    merge_patch,
    run,
    script_view,
)
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.redact import redact_text

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
SERVER_FIELDS = (
    "resourceVersion",
    "uid",
    "managedFields",
    "creationTimestamp",
    "generation",
    "selfLink",
)


class ResourceActions:
    """Lists and runs the actions of an app's resources."""

    def __init__(
        self,
        operations: Operations,
        links: ClusterLinks,
        schedule: Callable[[str], None],
    ) -> None:
        self._operations = operations
        self._links = links
        self._schedule = schedule

    def _resolve(self, app: str, key: ResourceKey) -> tuple[ClusterConnection, Manifest]:
        state: AppState = self._operations.require_app(app)
        comparison = state.comparison
        if comparison is None or not any(
            r.key == key and r.live is not None for r in comparison.resources
        ):
            raise EngineError(f"{key.kind} {key.name} is not a live resource of app {app}")
        conn = self._links.connection_for(state)
        if conn is None:
            raise EngineError(state.destination_error or f"the cluster of {app} is unreachable")
        try:
            live = conn.get(key)
        except KubeApiError as exc:
            raise EngineError(f"cannot read {key.kind} {key.name}: {exc}") from None
        if live is None:
            raise EngineError(f"{key.kind} {key.name} of app {app} no longer exists")
        return conn, live

    def actions(self, app: str, key: ResourceKey) -> list[ResourceAction]:
        """The actions offered for ``key`` (blocking: one GET)."""
        _conn, live = self._resolve(app, key)
        try:
            return discover(script_view(live), customizations.active())
        except ActionError:
            raise
        except Exception as exc:  # LuaScriptError and the like: say which resource
            raise ActionError(f"{key.kind} {key.name}: {redact_text(str(exc))}") from None

    def run_action(self, app: str, key: ResourceKey, name: str) -> ActionOutcome:
        """Run action ``name`` on ``key`` (blocking). ``ReadOnlyError`` in read-only mode,
        ``ActionError``/``EngineError`` when it cannot run; nothing is sent then."""
        self._operations.refuse_if_read_only(f"action {name[:64]}", app)
        self._operations.refuse_if_argocd(f"action {name[:64]}", app)
        conn, live = self._resolve(app, key)
        given = script_view(live)
        try:
            operations = run(given, name, customizations.active())
        except ActionError:
            raise
        except Exception as exc:
            raise ActionError(f"{key.kind} {key.name}: {redact_text(str(exc))}") from None
        requests = [self._request(conn, key, given, live, op) for op in operations]
        changes = []
        for request in requests:  # every operation checked before the first is sent
            if request is not None:
                changes.append(request())
        log.info("action %s on %s/%s of %s: %s", name, key.kind, key.name, app, changes)
        self._schedule(app)
        return ActionOutcome(app=app, key=key, action=name, changes=tuple(changes))

    def _request(
        self,
        conn: ClusterConnection,
        key: ResourceKey,
        given: Manifest,
        live: Manifest,
        op: ImpactedResource,
    ) -> Callable[[], str] | None:
        target = ResourceKey.of({**op.resource, "metadata": _meta_with_ns(op.resource, key)})
        if op.operation == "patch":
            if target != key:
                raise ActionError(
                    f"the action may patch only {key.kind} {key.name}, not "
                    f"{target.kind} {target.name[:64]}"
                )
            patch = merge_patch(given, op.resource)
            meta = patch.get("metadata")
            if isinstance(meta, dict):  # what the server owns is never patched
                for field in SERVER_FIELDS:
                    meta.pop(field, None)
                if not meta:
                    del patch["metadata"]
            if not patch:
                return None
            return lambda: self._patch(conn, key, live, patch)
        res = conn.resource(target.group, target.kind)
        if not res.namespaced or target.namespace != key.namespace:
            raise ActionError(
                f"the action may create objects only in namespace {key.namespace or '(none)'}, "
                f"not {target.kind} {target.name[:64]} in {target.namespace or 'the cluster'}"
            )
        if not target.name:
            raise ActionError(f"the action creates a {target.kind} without a name")
        body = {**op.resource, "metadata": _meta_with_ns(op.resource, key)}
        return lambda: self._create(conn, target, body)

    def _patch(
        self, conn: ClusterConnection, key: ResourceKey, live: Manifest, patch: dict[str, Any]
    ) -> str:
        status = patch.get("status")
        version = (live.get("metadata") or {}).get("resourceVersion")
        path = conn.resource(key.group, key.kind).object_path(key.namespace, key.name)
        # as Argo CD: the whole patch, then its status part on the status subresource
        # (where there is one: 404 otherwise, and the first patch already set it)
        for sub, body in (("", patch), ("/status", {"status": status} if status else None)):
            if not body:
                continue
            meta = {**(body.get("metadata") or {}), "resourceVersion": version}
            try:
                result = conn.client.request(
                    "PATCH",
                    path + sub,
                    query={"fieldManager": FIELD_MANAGER},
                    body={**body, "metadata": meta},
                    content_type=MERGE_PATCH,
                )
            except KubeApiError as exc:
                if sub and exc.status == 404:
                    continue
                raise EngineError(f"{key.kind} {key.name}: {exc}") from None
            if isinstance(result, dict):
                version = (result.get("metadata") or {}).get("resourceVersion", version)
        return f"patched {key.kind} {key.namespace}/{key.name}".replace(" /", " ")

    def _create(self, conn: ClusterConnection, target: ResourceKey, body: Manifest) -> str:
        try:
            conn.create(body)
        except KubeApiError as exc:
            raise EngineError(f"cannot create {target.kind} {target.name}: {exc}") from None
        return f"created {target.kind} {target.namespace}/{target.name}"


def _meta_with_ns(obj: Manifest, key: ResourceKey) -> dict[str, Any]:
    meta = obj.get("metadata")
    meta = dict(meta) if isinstance(meta, dict) else {}
    if key.namespace and not meta.get("namespace"):
        meta["namespace"] = key.namespace
    return meta

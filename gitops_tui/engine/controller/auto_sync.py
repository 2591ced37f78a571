"""Automated sync at run time: after each compare, and periodically (self-heal and
retry backoffs expire), ask ``Automation`` whether an app syncs now, and start it."""

from __future__ import annotations

import logging
import threading

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.app.application import Application
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.automation import Automation
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.operations import Operations
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppTable
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.model import SyncStatus

log = logging.getLogger(__name__)

AUTOMATION_PERIOD_S = 2.0
"""How often automated apps are re-checked besides after each compare (backoffs expire)."""


class AutoSync:
    """Starts the syncs of automated apps that ``Automation`` decides on."""

    def __init__(
        self,
        table: AppTable,
        automation: Automation,
        operations: Operations,
        publisher: Publisher,
        links: ClusterLinks,
        policy: ReadOnlyPolicy,
        stopped: threading.Event,
        *,
        enabled: bool,
    ) -> None:
        self._table = table
        self._automation = automation
        self._operations = operations
        self._publisher = publisher
        self._links = links
        self._policy = policy
        self._stopped = stopped
        self._enabled = enabled

    def after_compare(self, name: str) -> None:
        if self._policy.everywhere or not self._enabled or self._stopped.is_set():
            return
        with self._table.lock:
            state = self._table.states.get(name)
            if state is None or not isinstance(state.app, Application):
                return
            app = state.app
            snapshot = state.snapshot
            generated = state.generated
            busy = state.operation is not None and not state.operation.phase.done
            argocd = state.argocd is not None  # Argo CD's controller syncs it, not us
            # an App of Apps parent may hold nothing but child apps
            empty = not state.desired and not state.child_docs
        automation = self._automation
        if not app.sync_policy.automated:
            if automation.status(name) is not None:
                automation.clear(name)
                self._publisher.refresh(state)
            return
        if (
            snapshot is None
            or state.comparison is None
            or generated is None
            or busy
            or argocd
            or state.source_error is not None
            or snapshot.sync == SyncStatus.UNKNOWN
        ):
            return
        if self._policy.covers(self._links.context_of(state)):
            return  # automation is off wherever read-only applies
        before = automation.status(name)
        decision = automation.decide(
            name,
            app.sync_policy,
            revision=generated.revision,
            # the snapshot's verdict counts child apps (kept outside the cluster) too
            out_of_sync=snapshot.sync == SyncStatus.OUT_OF_SYNC,
            empty=empty,
            last=state.last_sync,
        )
        if decision.status != before:
            self._publisher.refresh(state)
        if not decision.starts_sync:
            return
        try:
            # selfHeal means Git wins over live edits: take fields back from other managers
            self._operations.sync(
                SyncRequest(
                    app=name,
                    prune=app.sync_policy.prune,
                    force=app.sync_policy.self_heal,
                    initiated_by="automated",
                )
            )
        except GitOpsError as exc:
            log.info("automated sync of %s not started: %s", name, exc)

    def run(self) -> None:
        """Re-check automated apps periodically until stopped."""
        while not self._stopped.wait(AUTOMATION_PERIOD_S):
            for name, state in list(self._table.states.items()):
                app = state.app
                if isinstance(app, Application) and app.sync_policy.automated and not state.running:
                    self.after_compare(name)
            self._automation.note_pass()

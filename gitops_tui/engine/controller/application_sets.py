"""ApplicationSets at run time: the sets in ``--apps`` generate apps of the engine.

As Argo CD's ApplicationSet controller does, the Applications a set generates are
created right away (they are apps of the engine, ``parent`` = the set, compared,
shown and synced like any other); when the generators' output changes, the set's
``applicationsSync`` policy decides what is added, updated and removed
(``policy.plan``: create-only, create-update, create-delete, sync). A set whose
generation fails (an ``ErrorOccurred`` condition) plans nothing: its apps stay as
they are, and the other sets go on. Removing an app here forgets it (the engine's
table); its objects in the cluster are left alone, as an App of Apps prune does.

Inputs: the ``clusters`` generator sees the kubeconfig's contexts (name = context,
server = its cluster's URL), or, with ``--from-cluster`` when Argo CD's namespace
(``argocdNamespace``) of the default context's cluster holds an Argo CD (``argocd-cm``),
Argo CD's cluster Secrets there plus its implicit in-cluster (``argocd_clusters``:
what Argo CD's own controller would generate from); the ``git`` generators read through the engine's
``RepoCache``. Generation runs at start, when the ``--apps`` files change, on a
fleet refresh and every repository poll interval (fetching first), one run at a
time. An app of the same name defined elsewhere (a file, an App of Apps parent,
another set) is never touched: it is a condition on the set.

Sets rendered by an App of Apps parent: as for its child Applications, syncing the
parent registers the ApplicationSet documents it renders (``register_from_app``;
with prune, sets it no longer renders go, with their apps), origin ``app:PARENT``;
they are then generated like the sets of files, with the same bounds. A name
already taken by another set is the parent's problem, not a second set.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.applicationset import (
    Action,
    ApplicationSet,
    AppSetApplied,
    AppSetPreview,
    Checkout,
    ClusterInfo,
    Generated,
    GenerationError,
    Inputs,
    InvalidApplicationSet,
    generate_all,
    load_applicationset_files,
    parse_applicationset,
    plan,
    preview_of,
)
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.cache.argocd_clusters import argocd_installed, read_argocd_clusters
from gitops_tui.engine.cache.destinations import ClusterRegistry
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.controller.automation import Automation
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppState, AppTable, recorded_last_sync
from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.model import Condition, Manifest
from gitops_tui.engine.snapshot import AppSetSnapshot
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.sync.history import HistoryStore

log = logging.getLogger(__name__)

KIND = "ApplicationSet"
CONFLICT = "ErrorOccurred"
MAX_SETS_PER_APP = 100  # ApplicationSet documents one parent app may register


@dataclass
class SetRecord:
    """What the engine knows of one ApplicationSet (guarded by ``AppTable.lock``)."""

    appset: ApplicationSet | InvalidApplicationSet
    conditions: tuple[Condition, ...] = ()
    skipped: tuple[str, ...] = ()
    generated_at: float = 0.0
    children: set[str] = field(default_factory=set)
    done: tuple[str, ...] = ()  # what the last run changed ("created a")
    parent: str = ""  # the App of Apps parent that renders it

    def snapshot(self) -> AppSetSnapshot:
        appset = self.appset
        return AppSetSnapshot(
            name=appset.name,
            namespace=appset.namespace if isinstance(appset, ApplicationSet) else "",
            origin=appset.origin,
            policy=appset.applications_sync.value if isinstance(appset, ApplicationSet) else "",
            conditions=appset.conditions
            if isinstance(appset, InvalidApplicationSet)
            else self.conditions,
            applications=tuple(sorted(self.children)),
            skipped=self.skipped,
            generated_at=self.generated_at,
            parent=self.parent,
        )


def owned_document(app: Application, appset: str) -> dict[str, Any]:
    """The app as the set's controller sees it in the cluster: owned by the set."""
    doc = copy.deepcopy(dict(app.raw))
    meta = doc.setdefault("metadata", {})
    meta["ownerReferences"] = [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": KIND, "name": appset, "controller": True}
    ]
    return doc


class ApplicationSets:
    """The ApplicationSets of ``--apps`` and the apps they generate in the table."""

    def __init__(
        self,
        paths: Sequence[Path],
        table: AppTable,
        publisher: Publisher,
        history: HistoryStore,
        automation: Automation,
        clusters: ClusterRegistry,
        repos: RepoCache,
        render: Callable[[str], None],
        apps_changed: threading.Event,
        stopped: threading.Event,
        *,
        poll_interval_s: float,
        argocd_namespace: str | None = None,
    ) -> None:
        self._paths = list(paths)
        self._argocd_namespace = argocd_namespace  # set with --from-cluster
        self._table = table
        self._publisher = publisher
        self._history = history
        self._automation = automation
        self._clusters = clusters
        self._repos = repos
        self._render = render
        self._apps_changed = apps_changed
        self._stopped = stopped
        self._interval = poll_interval_s
        self._run_lock = threading.Lock()  # one generation at a time
        self._parent_problems: dict[str, list[str]] = {}
        self.sets: dict[str, SetRecord] = {}
        self._from_apps: dict[str, dict[str, Manifest]] = {}  # parent -> set name -> document
        self.runs = 0  # finished generation runs (tests wait on it)

    def snapshots(self) -> tuple[AppSetSnapshot, ...]:
        with self._table.lock:
            return tuple(record.snapshot() for record in self.sets.values())

    # ------------------------------------------------------------------ inputs
    def _inputs(self, *, fetch: bool) -> Inputs:
        repos = self._repos

        def checkout(repo_url: str, revision: str) -> tuple[str, Path]:
            sha = repos.resolve(repo_url, revision, refresh=fetch)
            return sha, repos.checkout(repo_url, sha)

        argocd = self._argocd_inputs(checkout)
        if argocd is not None:
            return argocd
        clusters = tuple(
            ClusterInfo(name=c.name, server=c.server)
            for c in sorted(self._clusters.contexts, key=lambda c: c.name)
        )
        return Inputs(clusters=clusters, checkout=checkout)

    def _argocd_inputs(self, checkout: Checkout) -> Inputs | None:
        """With ``--from-cluster``: Argo CD's clusters when its namespace holds an Argo CD
        (None: no Argo CD there, kubeconfig contexts are the clusters)."""
        namespace, context = self._argocd_namespace, self._clusters.default_context
        if namespace is None or context is None:
            return None
        client = self._clusters.connection(context).client
        try:
            if not argocd_installed(client, namespace):
                return None
            clusters = read_argocd_clusters(client, namespace)
        except (KubeApiError, GenerationError) as exc:
            message = f"cannot read Argo CD's cluster Secrets in namespace {namespace!r}: {exc}"
            log.warning("%s", message)
            return Inputs(checkout=checkout, argocd_clusters=True, clusters_error=message)
        return Inputs(clusters=clusters, checkout=checkout, argocd_clusters=True)

    # ------------------------------------------------------------------ runs
    def poll(self) -> None:
        """The poller thread: generate again (fetching first) every interval."""
        while not self._stopped.wait(self._interval):
            self.reconcile(fetch=True)

    def register_from_app(self, parent: str, docs: list[Manifest], prune: bool) -> list[str]:
        """The ApplicationSet documents ``parent`` renders, after its sync: added and
        updated (with prune, those it no longer renders removed), then generated.
        Returns the parent's problems (names taken elsewhere, too many sets)."""
        problems: list[str] = []
        wanted: dict[str, Manifest] = {}
        for doc in docs:
            name = str((doc.get("metadata") or {}).get("name") or "")
            if len(wanted) >= MAX_SETS_PER_APP:
                problems.append(
                    f"app {parent!r} renders more than {MAX_SETS_PER_APP} ApplicationSets: "
                    "the rest are not registered"
                )
                break
            if name in wanted:
                problems.append(f"ApplicationSet {name!r} is rendered twice; the first counts")
                continue
            wanted[name] = doc
        with self._table.lock:
            current = {} if prune else dict(self._from_apps.get(parent, {}))
            current.update(wanted)
            if current:
                self._from_apps[parent] = current
            else:
                self._from_apps.pop(parent, None)
            state = self._table.states.get(parent)
            if state is not None:
                state.has_sets = bool(current)
        self.reconcile()
        with self._table.lock:
            problems.extend(self._parent_problems.get(parent, ()))
        return problems

    def _load(self) -> list[ApplicationSet | InvalidApplicationSet]:
        """The sets of the files, then those parent apps render (a name once only)."""
        appsets = (
            load_applicationset_files(self._paths, beside_applications=True) if self._paths else []
        )
        seen = {a.name: a.origin for a in appsets}
        problems: dict[str, list[str]] = {}
        with self._table.lock:
            # a parent that is gone (pruned by its own parent, its file removed) renders nothing
            for parent in [p for p in self._from_apps if p not in self._table.states]:
                del self._from_apps[parent]
            from_apps = {p: dict(docs) for p, docs in self._from_apps.items()}
        for parent, docs in sorted(from_apps.items()):
            for name, doc in docs.items():
                origin = f"app:{parent}"
                if name in seen:
                    problems.setdefault(parent, []).append(
                        f"ApplicationSet {name!r} is already defined by {seen[name]}: "
                        "not registered again"
                    )
                    continue
                seen[name] = origin
                appsets.append(parse_applicationset(doc, origin))
        with self._table.lock:
            self._parent_problems = problems
        return appsets

    def _parent_of(self, appset: ApplicationSet | InvalidApplicationSet) -> str:
        origin = appset.origin
        if origin.startswith("app:"):
            parent = origin.removeprefix("app:")
            if appset.name in self._from_apps.get(parent, {}):
                return parent
        return ""

    def reconcile(self, *, fetch: bool = False) -> None:
        """Read the sets, generate, and bring each set's apps in line with its policy."""
        if (not self._paths and not self._from_apps and not self.sets) or self._stopped.is_set():
            return
        with self._run_lock:
            try:
                appsets = self._load()
                results = generate_all(appsets, self._inputs(fetch=fetch))
            except Exception:  # never let a run kill its thread; the next run tries again
                log.exception("ApplicationSet generation failed")
                return
            changed, removed = self._apply(results)
            if changed or removed:
                self._apps_changed.set()
            for name in changed:
                self._render(name)
            self._publisher.mark_dirty()
            self.runs += 1

    def _generate_one(self, name: str) -> Generated:
        """Set ``name`` read from the files (or its parent app) and generated now (fetching first)."""
        appsets = self._load()
        found = [a for a in appsets if a.name == name]
        if not found:
            known = ", ".join(sorted(a.name for a in appsets)) or "none"
            raise EngineError(f"no ApplicationSet named {name!r} (known: {known})")
        return generate_all(found[:1], self._inputs(fetch=True))[0]

    def _owned(self, record: SetRecord | None, name: str) -> list[dict[str, Any]]:
        """The set's current apps as owned documents (the table lock is held)."""
        states = self._table.states
        return [
            owned_document(state.app, name)
            for child in sorted(record.children if record is not None else ())
            if (state := states.get(child)) is not None and isinstance(state.app, Application)
        ]

    def _defined_elsewhere(self, record: SetRecord | None, name: str, wanted: str) -> str | None:
        """Where ``wanted`` is defined when not by this set (the table lock is held)."""
        current = self._table.states.get(wanted)
        if current is None or (record is not None and wanted in record.children):
            return None
        where = (
            f"{current.parent_kind} {current.parent!r}" if current.parent else current.app.origin
        )
        return (
            f"Application {wanted!r} is already defined by {where}: "
            f"ApplicationSet {name!r} leaves it alone"
        )

    def preview(self, name: str) -> AppSetPreview:
        """What set ``name`` generates now (Git fetched) against its apps; nothing changes."""
        with self._run_lock:
            generated = self._generate_one(name)
            with self._table.lock:
                record = self.sets.get(name)
                result = plan(generated, self._owned(record, name))
                elsewhere = {
                    c.name: message
                    for c in result.of(Action.CREATE)
                    if (message := self._defined_elsewhere(record, name, c.name)) is not None
                }
        # a removal here forgets the app: its resources stay whatever its finalizers say
        changes = tuple(
            dataclasses.replace(c, cascade=False) if c.action is Action.DELETE else c
            for c in result.changes
            if c.name not in elsewhere
        )
        result = dataclasses.replace(result, changes=changes)
        return preview_of(
            result,
            conflicts=tuple(elsewhere.values()),
            source="generated now from the set's file and Git",
        )

    def apply(self, name: str) -> AppSetApplied:
        """Generate set ``name`` now (Git fetched) and apply what its policy allows."""
        if self._stopped.is_set():
            raise EngineError("the engine is closed")
        with self._run_lock:
            generated = self._generate_one(name)
            changed, removed = self._apply([generated], only=name)
            if changed or removed:
                self._apps_changed.set()
            for app in changed:
                self._render(app)
            self._publisher.mark_dirty()
            self.runs += 1
            with self._table.lock:
                record = self.sets[name]
                conditions = record.conditions
                return AppSetApplied(
                    name,
                    done=record.done,
                    skipped=record.skipped,
                    conflicts=tuple(c.message for c in conditions if generated.ok),
                    conditions=() if generated.ok else conditions,
                )

    def _apply(
        self, results: list[Generated], *, only: str | None = None
    ) -> tuple[list[str], list[str]]:
        """Each set's plan applied to the table (the pending changes only); ``only``:
        just that set was generated (the others stay as they are)."""
        changed: list[str] = []
        removed: list[str] = []
        now = time.time()
        with self._table.lock:
            seen = {g.name for g in results} if only is None else set(self.sets) - {only}
            seen |= {g.name for g in results}
            # a file that cannot be read now (a typo, a save half done) removes no set
            unreadable = {
                g.appset.origin for g in results if not isinstance(g.appset, ApplicationSet)
            }
            for name in [n for n in self.sets if n not in seen]:
                record = self.sets[name]
                if record.appset.origin in unreadable:
                    record.conditions = (
                        Condition(
                            CONFLICT,
                            f"{record.appset.origin} cannot be read now: ApplicationSet "
                            f"{name!r} and its apps are kept as they were",
                        ),
                    )
                    continue
                # the set is gone: so are its apps (Kubernetes garbage collection)
                removed.extend(self._drop_children(self.sets.pop(name), None))
            for generated in results:
                current = self.sets.get(generated.name)
                if current is None:
                    current = self.sets[generated.name] = SetRecord(generated.appset)
                record = current
                record.appset = generated.appset
                record.parent = self._parent_of(generated.appset)
                record.generated_at = now
                record.done = ()
                if not isinstance(generated.appset, ApplicationSet):
                    record.conditions, record.skipped = (), ()
                    continue
                c, r = self._apply_one(record, generated)
                changed.extend(c)
                removed.extend(r)
        return changed, removed

    def _apply_one(self, record: SetRecord, generated: Generated) -> tuple[list[str], list[str]]:
        states = self._table.states
        name = generated.name
        result = plan(generated, self._owned(record, name))
        record.conditions = result.conditions
        if result.conditions:
            record.skipped = ()
            return [], []  # generation failed: the apps stay as they are
        by_name = {app.name: app for app in generated.applications}
        conflicts: list[str] = [c.message for c in result.conflicts]
        skipped: list[str] = []
        changed: list[str] = []
        removed: list[str] = []
        done: list[str] = []
        for change in result.changes:
            if not change.allowed:
                what = (
                    "kept (no longer generated)"
                    if change.action is Action.DELETE
                    else "not updated"
                )
                skipped.append(f"app {change.name!r} {what}: {change.reason}")
                continue
            if change.action is Action.DELETE:
                gone = self._drop_children(record, {change.name})
                removed.extend(gone)
                done.extend(f"removed {app}" for app in gone)
                continue
            app = by_name[change.name]
            if change.action is Action.UPDATE and change.desired is not None:
                parsed = parse_application(dict(change.desired), app.origin)
                app = parsed if isinstance(parsed, Application) else app
            current = states.get(change.name)
            elsewhere = self._defined_elsewhere(record, name, change.name)
            if current is not None and elsewhere is not None:
                conflicts.append(elsewhere)
                continue
            if current is None:
                states[change.name] = AppState(
                    app=app,
                    parent=name,
                    parent_kind=KIND,
                    last_sync=recorded_last_sync(self._history, change.name),
                )
                changed.append(change.name)
                done.append(f"created {change.name}")
            elif current.app != app:
                current.app = app
                changed.append(change.name)
                done.append(f"updated {change.name}")
            record.children.add(change.name)
        # a child whose state went (say, a file app took the name back): no longer the set's
        record.children = {n for n in record.children if self._is_child(n, name)}
        record.conditions = tuple(Condition(CONFLICT, message) for message in conflicts)
        record.skipped = tuple(skipped)
        record.done = tuple(done)
        return changed, removed

    def _is_child(self, app: str, appset: str) -> bool:
        state = self._table.states.get(app)
        return state is not None and state.parent == appset and state.parent_kind == KIND

    def _drop_children(self, record: SetRecord, names: set[str] | None) -> list[str]:
        """Forget the set's apps (all, or ``names``) from the table (the lock is held)."""
        gone: list[str] = []
        for child in sorted(record.children if names is None else names & record.children):
            record.children.discard(child)
            if not self._is_child(child, record.appset.name):
                continue
            self._table.states.pop(child, None)
            self._automation.forget(child)
            self._table.forget_desired(child)
            gone.append(child)
        return gone

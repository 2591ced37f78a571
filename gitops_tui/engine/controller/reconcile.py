"""One app's reconciliation: render its sources from Git, then compare the desired
objects with the live ones (skipped when nothing the verdict depends on changed)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.app.projects import app_violations, kind_permitted
from gitops_tui.engine.cache.cluster import BASELINE_KINDS, ClusterConnection
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.app_of_apps import (
    APPLICATIONSET_KIND,
    is_application,
    is_applicationset,
    split_children,
    split_sets,
)
from gitops_tui.engine.controller.child_apps import ChildApps
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.compare_signature import manifests_digest
from gitops_tui.engine.controller.options import EngineOptions
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.diff.compare import Comparison, PredictionCache, compare_app, prepare_desired
from gitops_tui.engine.diff.resource_diff import ResourceDiff, diff_resource
from gitops_tui.engine.health.customizations import active as active_customizations
from gitops_tui.engine.health.customizations import system_ignore_rules
from gitops_tui.engine.model import APPLICATION_GROUP, APPLICATION_KIND, Manifest, ResourceKey
from gitops_tui.engine.resource_filter import split_excluded
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import (
    Generated,
    ManifestCache,
    SourceError,
    generate,
    resolve_revisions,
    without_credentials,
)


def ignore_rules(app: Application | InvalidApplication) -> list[IgnoreRule]:
    """The app's ignoreDifferences as rules (entries that do not parse are skipped)."""
    if not isinstance(app, Application):
        return []
    rules = system_ignore_rules(active_customizations())  # argocd-cm, config file
    for spec in app.ignore_differences:
        try:
            rules.append(IgnoreRule.from_spec(spec))
        except ValueError:
            continue
    return rules


def resource_diffs(
    comparison: Comparison, app: Application | InvalidApplication, *, context: int
) -> list[ResourceDiff]:
    """The diff of each resource with a sync status (hooks and copies of another
    object's tracking id left out, as in the listing), with ``context`` lines (the
    comparison's own diffs have 3)."""
    rules = ignore_rules(app)
    out: list[ResourceDiff] = []
    for r in comparison.resources:
        if r.hook or r.status is None:
            continue
        if context == 3:
            out.append(r.diff)
        else:
            out.append(
                diff_resource(
                    r.key,
                    r.predicted if r.live is not None else r.desired,
                    r.live,
                    rules=rules,
                    context=context,
                )
                if r.desired is not None
                else diff_resource(r.key, None, r.live, rules=rules, context=context)
            )
    return out


class Reconciler:
    """Renders and compares apps; keeps the results on their states."""

    def __init__(
        self,
        options: EngineOptions,
        policy: ReadOnlyPolicy,
        table: AppTable,
        links: ClusterLinks,
        children: ChildApps,
        repos: RepoCache,
        manifests: ManifestCache,
        predictions: PredictionCache,
    ) -> None:
        self._options = options
        self._policy = policy
        self._table = table
        self._links = links
        self._children = children
        self._repos = repos
        self._manifests = manifests
        self._predictions = predictions
        self.dry_runs = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dryrun")

    def reconcile(self, state: AppState, render: bool, fetch: bool, hard: bool) -> None:
        """The scheduler's work for one app (``hard`` re-renders past the caches, which
        the manifest cache already dropped)."""
        if render and isinstance(state.app, Application):
            self.render(state, fetch=fetch)
        if isinstance(state.app, Application):
            self.compare(state)

    # ------------------------------------------------------------------ git + render
    def generate(self, app: Application, revisions: tuple[str, ...]) -> Generated:
        """Render ``app``: the config's policy, limited to its project's sourceRepos."""
        table = self._table
        project = table.projects.get(app.project) if table.projects_known else None
        repos = project.source_repos if project is not None else None
        policy = dataclasses.replace(self._options.render_policy, source_repos=repos)
        return generate(
            app,
            self._repos,
            self._manifests,
            revisions=revisions,
            policy=policy,
            limits=self._options.limits,
        )

    def render(self, state: AppState, *, fetch: bool) -> None:
        app = state.app
        assert isinstance(app, Application)
        try:
            # asked for when scheduled: 1,000 apps asked at once share a fetch
            since = state.fetch_asked if fetch else None
            revisions = resolve_revisions(app, self._repos, refresh=fetch, since=since)
        except SourceError as exc:
            with self._table.lock:
                # keep the last known manifests; say why they may be stale
                state.source_error = exc
            return
        stale = self._last_fetch_problem(app) if not fetch else None
        try:
            generated = self.generate(app, revisions)
        except SourceError as exc:
            with self._table.lock:
                state.source_error = exc
                state.generated = None
                state.desired = []
            return
        with self._table.lock:
            state.generated = generated
            state.source_error = stale

    def _last_fetch_problem(self, app: Application) -> SourceError | None:
        """The failed last fetch of one of the app's repositories (manifests may be stale)."""
        for source in app.sources:
            error = self._repos.last_fetch_error(source.repo_url)
            if error:
                return SourceError(
                    "repo", without_credentials(f"{source.repo_url}: {error}", source.repo_url)
                )
        return None

    def restore_children(self, state: AppState) -> None:
        """At start-up, re-register the children of a parent's last successful sync."""
        last = state.last_sync
        app = state.app
        if (
            last is None
            or last.phase != OperationPhase.SUCCEEDED
            or not isinstance(app, Application)
        ):
            return
        docs, sets = state.child_docs, state.set_docs
        if state.generated is None or last.revision != state.generated.revision:
            try:
                revisions = resolve_revisions(
                    app, self._repos, refresh=False, override=last.revision
                )
                others, docs = split_children(self.generate(app, revisions).manifests)
                sets = split_sets(others)[1]
            except SourceError:
                return
        self._children.register(app.name, list(docs), prune=False, sets=list(sets))

    # ------------------------------------------------------------------ compare
    def compare(self, state: AppState) -> None:
        app = state.app
        assert isinstance(app, Application)
        table, options = self._table, self._options
        conn = self._links.connection_for(state)
        if conn is None:
            with table.lock:
                state.comparison = None
            return
        self._links.seed_customizations(conn)
        generated = state.generated
        if generated is None:
            return
        if table.projects_known:
            problems = app_violations(app, table.projects.get(app.project))
            if problems:
                with table.lock:
                    state.project_problems = problems
                    state.comparison = None
                return
        state.project_problems = []
        others, child_docs = split_children(generated.manifests)
        others, set_docs = split_sets(others)
        # without the Application (ApplicationSet) CRD, child apps (sets) live only in
        # gitops-tui (not in the cluster)
        has_crd = conn.discovery.lookup(APPLICATION_GROUP, APPLICATION_KIND) is not None
        has_set_crd = conn.discovery.lookup(APPLICATION_GROUP, APPLICATIONSET_KIND) is not None
        desired, unknown = prepare_desired(
            [
                o
                for o in generated.manifests
                if (has_crd or not is_application(o)) and (has_set_crd or not is_applicationset(o))
            ],
            conn,
            app=app.name,
            namespace=app.destination.namespace,
            tracking=options.tracking,
        )
        desired, excluded = split_excluded(desired, conn.excludes)  # resource.exclusions
        refused: list[str] = []
        if table.projects_known:
            desired, refused = self._permitted(app, conn, desired)
        kinds = {(ResourceKey.of(o).group, ResourceKey.of(o).kind) for o in desired}
        listing = None
        if options.watch:
            conn.cache.watch_kinds(kinds)
        else:
            listing = conn.cache.load_namespace(
                kinds | set(BASELINE_KINDS), app.destination.namespace, for_app=app.name
            )
        with table.lock:
            rendering = sum(1 for source in app.sources if source.renders_manifests)
            table.index_desired(app.name, conn.name, desired, sources=rendering)
            sources, objects = table.rendered_sources(), table.desired_count()
            state.desired = desired
            state.unknown_kinds = unknown
            state.child_docs = child_docs
            state.set_docs = set_docs
            state.refused_kinds = refused
        # the caches hold the whole fleet (with a quarter to spare for what a commit or
        # a sync leaves behind): a pass over the fleet must find last pass's entries.
        # The render cache has an entry per rendering source, not per app.
        self._manifests.fit(sources + sources // 4)
        self._predictions.fit(objects + objects // 4)
        if (child_docs or set_docs) and not state.children_restored:
            state.children_restored = True
            self.restore_children(state)
        signature = (
            self._signature(app, conn, desired, unknown + excluded) if options.watch else None
        )
        if (
            signature is not None
            and state.comparison is not None
            and signature == state.compare_signature
        ):
            return  # nothing the verdict depends on changed: keep the last comparison
        comparison = compare_app(
            app=app.name,
            desired=desired,
            conn=conn,
            rules=ignore_rules(app),
            predictions=self._predictions,
            claimed_elsewhere=lambda key: table.claimed_elsewhere(conn.name, key, app.name),
            executor=self.dry_runs,
            unknown_kinds=unknown,
            excluded=excluded,
            tracking=options.tracking,
            # read-only (flag, config or this context): not even a dry-run PATCH
            dry_run=not self._policy.covers(conn.name),
            application_health=options.application_health,
            listed=listing,
        )
        with table.lock:
            state.comparison = comparison
            state.compare_signature = signature

    def compare_at(
        self, app: Application, conn: ClusterConnection, revision: str
    ) -> tuple[list[Manifest], Comparison, str]:
        """Render ``app`` at ``revision`` and compare it (a sync to another revision):
        the desired objects, the comparison and the resolved revision."""
        table = self._table
        revisions = resolve_revisions(app, self._repos, refresh=False, override=revision)
        generated = self.generate(app, revisions)
        desired, _unknown = prepare_desired(
            list(generated.manifests),
            conn,
            app=app.name,
            namespace=app.destination.namespace,
            tracking=self._options.tracking,
        )
        desired, excluded = split_excluded(desired, conn.excludes)
        comparison = compare_app(
            app=app.name,
            desired=desired,
            conn=conn,
            rules=ignore_rules(app),
            predictions=self._predictions,
            claimed_elsewhere=lambda key: table.claimed_elsewhere(conn.name, key, app.name),
            executor=self.dry_runs,
            excluded=excluded,
            tracking=self._options.tracking,
            dry_run=not self._policy.covers(conn.name),
        )
        return desired, comparison, generated.revision

    def _signature(
        self, app: Application, conn: ClusterConnection, desired: list[Manifest], unknown: list[str]
    ) -> str:
        """What a comparison depends on: desired objects, the live objects' versions (the
        desired ones, the live objects naming the app (hooks and copies too), their
        children), claims of other apps and
        the cluster's reachability. Equal signatures give equal comparisons."""
        live_versions: list[str] = []
        keys = sorted(
            {ResourceKey.of(o) for o in desired}
            | {ResourceKey.of(o) for o in conn.cache.claimed_by(app.name)}
        )
        claims = self._table.claims_elsewhere(conn.name, keys, app.name)
        for key in keys:
            live = conn.cache.get(key)
            meta = (live or {}).get("metadata") or {}
            live_versions.append(f"{key}@{meta.get('resourceVersion', '-')}")
            for child in conn.cache.children_of(str(meta.get("uid") or "")):
                child_meta = child.get("metadata") or {}
                live_versions.append(
                    f"  {child_meta.get('name')}@{child_meta.get('resourceVersion')}"
                )
            live_versions.append(f"claim:{claims[key]}")
        material = json.dumps(
            [
                manifests_digest(desired),  # (not the objects' JSON: ~5x the cost)
                live_versions,
                unknown,
                app.ignore_differences,
                conn.cache.reachable,
                self._policy.covers(conn.name),
                self._links.customizations_fingerprint,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha1(material.encode(), usedforsecurity=False).hexdigest()

    def _permitted(
        self, app: Application, conn: ClusterConnection, desired: list[Manifest]
    ) -> tuple[list[Manifest], list[str]]:
        """Split off objects whose kind the app's project does not permit."""
        project = self._table.projects.get(app.project)
        kept: list[Manifest] = []
        refused: list[str] = []
        for obj in desired:
            key = ResourceKey.of(obj)
            res = conn.discovery.lookup(key.group, key.kind)
            namespaced = res.namespaced if res is not None else bool(key.namespace)
            if kind_permitted(project, key.group, key.kind, namespaced=namespaced):
                kept.append(obj)
            else:
                refused.append(
                    f"{key.display}: kind {key.kind} is not permitted in project {app.project!r}"
                )
        return kept, refused

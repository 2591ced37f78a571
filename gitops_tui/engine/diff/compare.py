"""Compare an app's desired objects with the live cluster (Argo CD's ``CompareAppState``).

For each desired object the live one comes from the watch cache. The object the
desired one *would* produce is predicted by a server-side apply dry run under our
field manager (cached by desired content and the live object's signature: all of it
but its status, resourceVersion and managedFields times, so a warm re-compare and a
controller's status update make no API call); server-defaulted fields therefore never show as
differences. When the dry run is impossible (no CRD, forbidden) the desired
object is laid over the live one instead and the resource says why.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.annotations import compare_options, is_hook, sync_wave
from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.cache.cluster import ClusterConnection, UnknownKindError
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.live_cache import Listing
from gitops_tui.engine.cache.tracking import (
    TrackingMethod,
    add_tracking,
    claimed_app,
    tracked_app,
)
from gitops_tui.engine.diff.prediction_disk import DiskPredictions
from gitops_tui.engine.diff.resource_diff import ResourceDiff, diff_resource
from gitops_tui.engine.health.dispatch import (
    HealthResult,
    aggregate_health,
    app_health_input,
    left_out_of_app_health,
    resource_health,
)
from gitops_tui.engine.model import (
    Condition,
    ConditionType,
    HealthStatus,
    Manifest,
    ResourceKey,
    SyncStatus,
)
from gitops_tui.engine.redact import redact_text


@dataclass(frozen=True, slots=True)
class ResourceComparison:
    """One managed object: desired (with tracking), live, prediction and verdict.

    ``status`` is None, as in Argo CD, for a live hook and for a live object whose
    tracking id was copied from another object: listed, never counted, never pruned.
    """

    key: ResourceKey
    version: str
    desired: Manifest | None
    live: Manifest | None
    predicted: Manifest | None
    diff: ResourceDiff
    status: SyncStatus | None
    health: HealthResult | None
    requires_pruning: bool = False
    hook: bool = False
    wave: int = 0
    message: str = ""

    @property
    def modified(self) -> bool:
        return self.status == SyncStatus.OUT_OF_SYNC


@dataclass(frozen=True, slots=True)
class Comparison:
    resources: tuple[ResourceComparison, ...]
    sync: SyncStatus
    health: HealthStatus
    health_message: str
    conditions: tuple[Condition, ...]
    health_items: tuple[tuple[HealthStatus | None, bool], ...] = ()
    """What ``health`` was aggregated from (an App of Apps parent adds its children)."""

    def by_key(self) -> dict[ResourceKey, ResourceComparison]:
        return {r.key: r for r in self.resources}


class PredictionCache:
    """Server-side dry-run results keyed by (desired content, live signature).

    The live signature (:func:`live_signature`) leaves out what a server-side
    apply of the main resource cannot depend on: ``status``, ``resourceVersion``,
    managedFields times and the status subresource's managedFields entries.
    ``disk`` (optional) keeps them across processes (``prediction_disk``).
    """

    def __init__(self, limit: int = 50_000, *, disk: DiskPredictions | None = None) -> None:
        self.disk = disk
        self._items: OrderedDict[tuple[str, ResourceKey, str, str], Manifest] = OrderedDict()
        self._lock = threading.Lock()
        self._floor = self._limit = limit
        self.hits = 0
        self.misses = 0

    def fit(self, needed: int) -> None:
        """Hold at least ``needed`` predictions (never fewer than the initial limit):
        a fleet with more desired objects than the cache holds would evict each one
        just before its next compare needs it, and dry-run every object again."""
        with self._lock:
            self._limit = max(self._floor, needed)

    @staticmethod
    def fingerprint(obj: Manifest) -> str:
        return hashlib.sha1(
            json.dumps(obj, sort_keys=True).encode(), usedforsecurity=False
        ).hexdigest()

    def get(
        self, cluster: str, key: ResourceKey, desired_fp: str, live_sig: str
    ) -> Manifest | None:
        with self._lock:
            found = self._items.get((cluster, key, desired_fp, live_sig))
            if found is not None:
                self._items.move_to_end((cluster, key, desired_fp, live_sig))
                self.hits += 1
            else:
                self.misses += 1
            return found

    def put(
        self, cluster: str, key: ResourceKey, desired_fp: str, live_sig: str, predicted: Manifest
    ) -> None:
        with self._lock:
            self._items[(cluster, key, desired_fp, live_sig)] = predicted
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def lookup(
        self, conn: ClusterConnection, key: ResourceKey, desired_fp: str, live_sig: str
    ) -> Manifest | None:
        """From memory, else from disk (then kept in memory)."""
        found = self.get(conn.name, key, desired_fp, live_sig)
        if found is None and self.disk is not None:
            found = self.disk.get(conn, key, desired_fp, live_sig)
            if found is not None:
                self.put(conn.name, key, desired_fp, live_sig, found)
        return found

    def keep(
        self,
        conn: ClusterConnection,
        key: ResourceKey,
        desired_fp: str,
        live_sig: str,
        predicted: Manifest,
    ) -> None:
        """In memory and, unless its kind is never written, on disk."""
        self.put(conn.name, key, desired_fp, live_sig, predicted)
        if self.disk is not None:
            self.disk.put(conn, key, desired_fp, live_sig, predicted)


def prepare_desired(
    manifests: Sequence[Manifest],
    conn: ClusterConnection,
    *,
    app: str,
    namespace: str,
    tracking: TrackingMethod,
) -> tuple[list[Manifest], list[str]]:
    """Default namespaces (namespaced kinds only) and add the tracking mark.

    Returns the prepared objects and messages for kinds the cluster does not serve.
    """
    out: list[Manifest] = []
    unknown: list[str] = []
    for obj in manifests:
        item = copy.deepcopy(obj)
        key = ResourceKey.of(item)
        res = conn.discovery.resolve(key.group, key.kind)
        meta = item.setdefault("metadata", {})
        if res is None:
            unknown.append(UnknownKindError(key.group, key.kind).message)
            if not meta.get("namespace") and namespace:
                meta["namespace"] = namespace
        elif res.namespaced:
            if not meta.get("namespace") and namespace:
                meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        out.append(add_tracking(item, app, tracking, namespace))  # item is our copy
    return out, unknown


_LIST_KEYS = ("name", "containerPort", "port", "mountPath", "devicePath", "key", "ip", "type")


def _list_key(items: Sequence[Any]) -> str | None:
    """The field that identifies the maps of a list (as strategic merge's patch keys)."""
    if not items or not all(isinstance(i, Mapping) for i in items):
        return None
    for field_name in _LIST_KEYS:
        values = [i.get(field_name) for i in items]
        if all(v is not None for v in values) and len(set(map(str, values))) == len(values):
            return field_name
    return None


def overlay(live: Any, desired: Any) -> Any:
    """The desired object laid over the live one, without the server's help.

    Maps merge; lists of maps merge item by item on their identifying field
    (``name``, ``containerPort``, ...) so that server-defaulted fields inside
    containers or ports stay as live has them; other lists are replaced.
    Membership always follows ``desired``. Used when no server-side dry run can
    be made (read-only mode, a forbidden or impossible dry run).
    """
    if isinstance(live, Mapping) and isinstance(desired, Mapping):
        merged = dict(live)
        for key, value in desired.items():
            merged[key] = overlay(live.get(key), value) if key in live else copy.deepcopy(value)
        return merged
    if isinstance(live, list) and isinstance(desired, list):
        key = _list_key(desired)
        if key is not None and _list_key(live) == key:
            by_key = {str(item[key]): item for item in live}
            return [
                overlay(by_key[str(item[key])], item)
                if str(item[key]) in by_key
                else copy.deepcopy(item)
                for item in desired
            ]
        if len(live) == len(desired) and all(isinstance(i, Mapping) for i in (*live, *desired)):
            return [overlay(a, b) for a, b in zip(live, desired, strict=True)]
    return copy.deepcopy(desired)


def _rv(obj: Manifest) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _status_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("subresource") == "status"


def live_signature(live: Manifest) -> str:
    """What a server-side apply's result depends on in ``live``: everything but status.

    Spec and other top-level fields, labels, annotations, owners, finalizers,
    generation, uid and every manager's managedFields entry (its fields, not its
    time) are in; ``status``, ``resourceVersion``, managedFields times and the
    entries of the status subresource are out. So a controller writing status
    (a Deployment while pods start) keeps the prediction; a spec or metadata change
    by anyone, or a change of who owns which field, asks the server again.
    """
    meta = live.get("metadata") or {}
    entries = meta.get("managedFields") or []
    fields = [
        {k: v for k, v in entry.items() if k != "time"} if isinstance(entry, dict) else entry
        for entry in entries
        if not _status_entry(entry)
    ]
    slim = {k: v for k, v in meta.items() if k not in ("resourceVersion", "managedFields")}
    body = {k: v for k, v in live.items() if k not in ("metadata", "status")}
    text = json.dumps([body, slim, fields], sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _with_live_status(predicted: Manifest, live: Manifest) -> Manifest:
    """A cached prediction with ``live``'s status, resourceVersion and status managers."""
    if _rv(predicted) == _rv(live):
        return predicted
    out = dict(predicted)
    if "status" in live:
        out["status"] = live["status"]
    else:
        out.pop("status", None)
    meta = dict(out.get("metadata") or {})
    live_meta = live.get("metadata") or {}
    meta["resourceVersion"] = live_meta.get("resourceVersion", "")
    entries = [e for e in meta.get("managedFields") or [] if not _status_entry(e)]
    entries += [e for e in live_meta.get("managedFields") or [] if _status_entry(e)]
    if entries or "managedFields" in meta:
        meta["managedFields"] = entries
    out["metadata"] = meta
    return out


def predict(
    conn: ClusterConnection,
    desired: Manifest,
    live: Manifest,
    cache: PredictionCache,
    *,
    dry_run: bool = True,
) -> tuple[Manifest, str]:
    """The live object a server-side apply of ``desired`` would produce, and a note if guessed.

    ``dry_run=False`` (read-only mode) sends nothing to the server, not even a dry
    run: the prediction is the desired object laid over the live one.
    """
    key = ResourceKey.of(desired)
    if not dry_run:
        return overlay(live, desired), ""
    fp = PredictionCache.fingerprint(desired)
    signature = live_signature(live)
    hit = cache.lookup(conn, key, fp, signature)
    if hit is not None:
        return _with_live_status(hit, live), ""
    try:
        predicted = conn.apply(desired, dry_run=True, force=True)
    except KubeApiError as exc:
        if exc.status == 0:
            raise
        reason = exc.reason or exc.status
        message = _without_values(exc.message, key)
        note = f"server-side dry run unavailable ({reason}: {message}); compared without server defaults"
        return overlay(live, desired), note
    if _rv(predicted) and _rv(live) and _rv(predicted) != _rv(live):
        # The server's object moved on since the cache's copy (another writer, e.g.
        # the deployment controller bumping its revision annotation): a diff of the
        # two would show that writer's change as ours. Compare with the cached copy
        # consistently; the watch event of the newer object brings a fresh comparison.
        return overlay(live, desired), ""
    cache.keep(conn, key, fp, signature, predicted)
    return predicted, ""


def remember_applied(
    cache: PredictionCache, conn: ClusterConnection, applied: Manifest, result: Manifest
) -> None:
    """Keep a real server-side apply's ``result`` as the prediction for ``applied``.

    Applying ``applied`` again to ``result`` produces ``result``: the compare after
    a sync needs no dry run for an object nothing else changed since.
    """
    if not _rv(result):
        return
    key = ResourceKey.of(applied)
    cache.keep(conn, key, PredictionCache.fingerprint(applied), live_signature(result), result)


_VALUE_ECHO = re.compile(r"got &value\.[^\n]*")
_INVALID_VALUE = re.compile(r'Invalid value: "(?:[^"\\]|\\.)*"')


def _without_values(message: str, key: ResourceKey) -> str:
    """A server message without the field values it may echo (Secret data above all).

    Server-side apply type errors print the offending value
    (``got &value.valueUnstructured{Value:...}``); for Secrets the values quoted by
    validation errors go too. Credentials in URLs are redacted.
    """
    message = _VALUE_ECHO.sub("got a value of the wrong type", message)
    if key.group == "" and key.kind == "Secret":
        message = _INVALID_VALUE.sub('Invalid value: "***"', message)
    return redact_text(message)


ShouldPrune = Callable[[ResourceKey], bool]


def compare_app(
    *,
    app: str,
    desired: Sequence[Manifest],
    conn: ClusterConnection,
    rules: Sequence[IgnoreRule],
    predictions: PredictionCache,
    claimed_elsewhere: Callable[[ResourceKey], str | None],
    executor: Executor | None = None,
    unknown_kinds: Sequence[str] = (),
    excluded: Sequence[str] = (),
    tracking: TrackingMethod = "annotation",
    dry_run: bool = True,
    application_health: bool = False,
    listed: Listing | None = None,
) -> Comparison:
    """Compare prepared desired objects (see ``prepare_desired``) with the live cluster.

    ``listed``: what a one-shot command just listed (``LiveCache.load_namespace``); an
    object of a listed kind and namespace is read from it instead of one GET each.

    ``claimed_elsewhere(key)`` names another app that also wants ``key`` (a shared
    resource): such an extra live object is never reported as requiring pruning.
    ``application_health`` turns on the opt-in health rule of live Applications.
    ``excluded``: the messages of desired objects left out by ``resource.exclusions``;
    live objects of excluded kinds are never listed (so never pruned).
    """

    def health_of(live: Manifest) -> HealthResult | None:
        return resource_health(live, application_health=application_health, inferred=True)

    conditions: list[Condition] = [Condition(ConditionType.UNKNOWN_KIND, m) for m in unknown_kinds]
    conditions += [Condition(ConditionType.EXCLUDED_RESOURCE, m) for m in excluded]
    # Hooks in Git are run by syncs, not listed: the hook objects in the cluster are
    # (below, under their generated names), as Argo CD's reconciliation splits them off
    hook_waves = {ResourceKey.of(o): _safe_wave(o) for o in desired if is_hook(o)}
    desired = [o for o in desired if not is_hook(o)]
    desired_keys = {ResourceKey.of(o) for o in desired}

    def one(obj: Manifest) -> ResourceComparison:
        key = ResourceKey.of(obj)
        version = str(obj.get("apiVersion", ""))
        try:
            wave = sync_wave(obj)
        except ValueError:
            wave = 0
        try:
            covered, live = listed.lookup(key) if listed is not None else (False, None)
            if covered:
                pass
            elif key.name:
                live = conn.live(key)
            else:
                # generateName only: no live namesake can exist, and a GET
                # without a name would be answered with a LIST of the collection
                conn.resource(key.group, key.kind)
                live = None
        except UnknownKindError as exc:
            # as Argo CD: it does not exist, so Missing (app health leaves it out: its
            # kind has no health check)
            return ResourceComparison(
                key,
                version,
                obj,
                None,
                None,
                diff_resource(key, obj, None, rules=rules),
                SyncStatus.OUT_OF_SYNC,
                HealthResult(HealthStatus.MISSING, exc.message),
                wave=wave,
                message=exc.message,
            )
        if live is None:
            diff = diff_resource(key, obj, None, rules=rules)
            return ResourceComparison(
                key,
                version,
                obj,
                None,
                None,
                diff,
                SyncStatus.OUT_OF_SYNC,
                HealthResult(HealthStatus.MISSING, "not created yet"),
                wave=wave,
            )
        predicted, note = predict(conn, obj, live, predictions, dry_run=dry_run)
        diff = diff_resource(key, predicted, live, rules=rules)
        status = SyncStatus.OUT_OF_SYNC if diff.modified else SyncStatus.SYNCED
        owner = claimed_app(live, tracking)
        message = note
        if owner and owner != app:
            message = f"also managed by app {owner!r} (shared resource)"
        return ResourceComparison(
            key,
            version,
            obj,
            live,
            predicted,
            diff,
            status,
            health_of(live),
            wave=wave,
            message=message,
        )

    if executor is not None and len(desired) > 1:
        results = list(executor.map(one, desired))
    else:
        results = [one(obj) for obj in desired]

    for result in results:
        if result.message.startswith("also managed by app"):
            conditions.append(
                Condition(ConditionType.SHARED_RESOURCE, f"{result.key.display}: {result.message}")
            )

    # live objects whose tracking names this app and that Git does not have
    for live in conn.cache.claimed_by(app):
        key = ResourceKey.of(live)
        if key in desired_keys or conn.cache.excluded(key.group, key.kind):
            continue
        if is_hook(live) or tracked_app(live, tracking) != app:
            results.append(_listed_without_status(live, key, hook_waves, health_of))
            continue
        other = claimed_elsewhere(key)
        extraneous_ok = "IgnoreExtraneous" in compare_options(live)
        diff = diff_resource(key, None, live, rules=rules)
        status = SyncStatus.SYNCED if extraneous_ok else SyncStatus.OUT_OF_SYNC
        message = f"wanted by app {other!r}: not pruned" if other else ""
        results.append(
            ResourceComparison(
                key,
                str(live.get("apiVersion", "")),
                None,
                live,
                None,
                diff,
                status,
                health_of(live),
                requires_pruning=other is None,
                wave=_safe_wave(live),
                message=message,
            )
        )

    results.sort(key=lambda r: r.key)
    sync = SyncStatus.SYNCED
    if any(r.status == SyncStatus.OUT_OF_SYNC and not r.hook for r in results):
        sync = SyncStatus.OUT_OF_SYNC
    health_items: list[tuple[HealthStatus | None, bool]] = []
    worst_message = ""
    for r in results:
        if r.desired is None or left_out_of_app_health(r.desired, r.live):
            continue
        health_items.append(
            (
                app_health_input(r.live, application_health=application_health, desired=r.desired),
                r.hook,
            )
        )
    health = aggregate_health(health_items)
    for r in results:
        if (
            r.health is not None
            and r.health.status == health
            and r.health.message
            and not r.hook
            and r.health.rule != "inferred"  # shown, not counted (unless configured)
        ):
            worst_message = f"{r.key.display}: {r.health.message}"
            break
    return Comparison(
        tuple(results), sync, health, worst_message, tuple(conditions), tuple(health_items)
    )


def _listed_without_status(
    live: Manifest,
    key: ResourceKey,
    hook_waves: Mapping[ResourceKey, int],
    health_of: Callable[[Manifest], HealthResult | None],
) -> ResourceComparison:
    """A live hook, or a live copy of another object's tracking id: listed as Argo CD
    does (``CompareAppState``), with no sync status, never pruned, no diff.

    A hook has no health either (Argo CD's ``setApplicationHealth`` skips hooks); its
    wave is that of the Git hook of the same key, else 0.
    """
    hook = is_hook(live)
    message = "" if hook else "its tracking id names another object (a copy): not pruned"
    return ResourceComparison(
        key,
        str(live.get("apiVersion", "")),
        None,
        live,
        None,
        ResourceDiff(key, False, "", "", "", ()),
        None,
        None if hook else health_of(live),
        hook=hook,
        wave=hook_waves.get(key, 0) if hook else _safe_wave(live),
        message=message,
    )


def _safe_wave(obj: Manifest) -> int:
    try:
        return sync_wave(obj)
    except ValueError:
        return 0

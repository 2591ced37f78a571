"""Prune never deletes an object the app does not track: a property over random live objects.

Live objects with look-alike names, labels and tracking ids of other apps (copied
annotations, ids naming another object, malformed ids, owner references) go
through the real pipeline pieces, with no API server involved:

* ``LiveCache._apply_event`` builds the tracking index (random puts, replacements
  and deletes, so un-indexing is exercised too); its client and discovery are
  objects that fail the test if anything is ever asked of them;
* ``compare.compare_app`` with no desired objects marks what requires pruning
  (it only reads the cache then) — ``claimed_elsewhere`` names keys another app wants;
* ``plan.build_plan`` turns the candidates into PRUNE tasks.

The property: every PRUNE task is a live object whose tracking annotation is
exactly ``<app>:<group>/<kind>:<namespace>/<name>`` of that very object, with no
owner references, that no other app wants and that Git does not hold.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_tui.engine.cache.live_cache import LiveCache
from gitops_tui.engine.cache.tracking import (
    INSTANCE_LABEL,
    TRACKING_ANNOTATION,
    TrackingMethod,
    tracked_app,
    tracking_id,
)
from gitops_tui.engine.diff.compare import PredictionCache, compare_app
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.sync.plan import TaskAction, build_plan

APP = "web"
APPS = ["web", "web2", "web-", "we", "Web", "web.prod", "webweb", "x-web", "web-canary"]
GROUPS = ["", "apps", "example.com", "web"]
KINDS = ["ConfigMap", "Deployment", "Secret", "Widget", "Namespace"]
NAMESPACES = ["", "default", "prod", "web"]
NAMES = ["web", "web-1", "web-", "db", "web.cfg", "we"]
MALFORMED_IDS = [
    "web",
    "web:",
    ":/ConfigMap:default/web",
    "web:ConfigMap:default/web",
    "web:/ConfigMap:default/",
    "web:/ConfigMap/default/web",
    "web:/ConfigMap:default/web/extra",
    "web :/ConfigMap:default/web",
    "web:apps/Deployment:default",
    "",
]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class NeverCalled:
    """Stands in for the API client and discovery: the index must not need them."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"LiveCache used {name!r} of its client or discovery")


keys = st.builds(
    ResourceKey,
    st.sampled_from(GROUPS),
    st.sampled_from(KINDS),
    st.sampled_from(NAMESPACES),
    st.sampled_from(NAMES),
)


@st.composite
def live_objects(draw: st.DrawFn) -> Manifest:
    key = draw(keys)
    meta: dict[str, Any] = {
        "name": key.name,
        "uid": f"uid-{draw(st.integers(0, 10**9))}",
        "resourceVersion": str(draw(st.integers(1, 10**6))),
    }
    if key.namespace:
        meta["namespace"] = key.namespace
    annotations: dict[str, str] = {}
    mark = draw(st.sampled_from(["exact", "argocd", "other-object", "malformed", "none"]))
    if mark == "exact":
        annotations[TRACKING_ANNOTATION] = tracking_id(draw(st.sampled_from(APPS)), key)
    elif mark == "argocd":  # Argo CD's form: a cluster-scoped object gets a namespace
        app = draw(st.sampled_from(APPS))
        annotations[TRACKING_ANNOTATION] = tracking_id(app, key, draw(st.sampled_from(NAMESPACES)))
    elif mark == "other-object":  # an annotation copied from another object
        annotations[TRACKING_ANNOTATION] = tracking_id(draw(st.sampled_from(APPS)), draw(keys))
    elif mark == "malformed":
        annotations[TRACKING_ANNOTATION] = draw(st.sampled_from(MALFORMED_IDS))
    if draw(st.booleans()):
        meta["labels"] = {INSTANCE_LABEL: draw(st.sampled_from(APPS))}
    if draw(st.integers(0, 5)) == 0:
        annotations["argocd.argoproj.io/hook"] = "PreSync"
    if draw(st.integers(0, 5)) == 0:
        annotations["argocd.argoproj.io/sync-options"] = "Prune=false"
    if annotations:
        meta["annotations"] = annotations
    if draw(st.integers(0, 3)) == 0:
        meta["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "uid-owner"}
        ]
    api_version = f"{key.group}/v1" if key.group else "v1"
    return {"apiVersion": api_version, "kind": key.kind, "metadata": meta}


events = st.lists(st.tuples(st.sampled_from(["put", "put", "put", "delete"]), live_objects()))


@dataclass
class World:
    cache: LiveCache
    live: dict[ResourceKey, Manifest]  # what the cache should hold after the events


def build_world(history: list[tuple[str, Manifest]], tracking: TrackingMethod) -> World:
    cache = LiveCache(NeverCalled(), NeverCalled(), tracking=tracking)  # type: ignore[arg-type]
    live: dict[ResourceKey, Manifest] = {}
    for operation, obj in history:
        key = ResourceKey.of(obj)
        if operation == "put":
            cache._apply_event(key, obj)
            live[key] = obj
        else:
            cache._apply_event(key, None)
            live.pop(key, None)
    return World(cache, live)


def exactly_tracked(obj: Manifest, app: str, tracking: TrackingMethod) -> bool:
    """The specification, written independently of ``tracking.tracked_app``."""
    meta = obj.get("metadata") or {}
    if meta.get("ownerReferences"):
        return False
    if tracking == "label":
        return (meta.get("labels") or {}).get(INSTANCE_LABEL) == app
    key = ResourceKey.of(obj)
    value = (meta.get("annotations") or {}).get(TRACKING_ANNOTATION) or ""
    if key.namespace:
        return value == f"{app}:{key.group}/{key.kind}:{key.namespace}/{key.name}"
    # cluster-scoped: any namespace in the id (Argo CD writes the destination's)
    prefix, suffix = f"{app}:{key.group}/{key.kind}:", f"/{key.name}"
    if not (value.startswith(prefix) and value.endswith(suffix)):
        return False
    return "/" not in value[len(prefix) : len(value) - len(suffix)]


def prune_tasks(
    world: World,
    desired_keys: frozenset[ResourceKey],
    claimed: frozenset[ResourceKey],
    tracking: TrackingMethod,
    prune_last: bool,
) -> list[Any]:
    comparison = compare_app(
        app=APP,
        desired=[],
        conn=types.SimpleNamespace(cache=world.cache),  # type: ignore[arg-type]
        rules=[],
        predictions=PredictionCache(),
        claimed_elsewhere=lambda key: "other-app" if key in claimed else None,
        tracking=tracking,
    )
    candidates = [
        r.live
        for r in comparison.resources
        if r.requires_pruning and r.live is not None and r.key not in desired_keys
    ]
    desired = [
        {
            "apiVersion": f"{k.group}/v1" if k.group else "v1",
            "kind": k.kind,
            "metadata": {"name": k.name, **({"namespace": k.namespace} if k.namespace else {})},
        }
        for k in sorted(desired_keys)
    ]
    plan = build_plan(
        desired,
        {k: v for k, v in world.live.items() if k in desired_keys},
        {},
        candidates,
        app_options={"PruneLast": "true"} if prune_last else {},
        prune=True,
    )
    return [t for t in (*plan.tasks, *plan.sync_fail_tasks) if t.is_prune]


@SETTINGS
@given(history=events)
def test_tracking_index_holds_exactly_the_apps_own_objects(
    history: list[tuple[str, Manifest]],
) -> None:
    world = build_world(history, "annotation")
    for app in APPS:
        indexed = {ResourceKey.of(o) for o in world.cache.tracked_by(app)}
        expected = {k for k, o in world.live.items() if exactly_tracked(o, app, "annotation")}
        assert indexed == expected, app
    for key, obj in world.live.items():
        assert world.cache.get(key) is obj
        owner = tracked_app(obj)
        assert owner is None or exactly_tracked(obj, owner, "annotation")


@SETTINGS
@given(
    history=events,
    desired_keys=st.frozensets(keys, max_size=6),
    claimed=st.frozensets(keys, max_size=6),
    prune_last=st.booleans(),
)
def test_prune_only_ever_deletes_the_apps_own_objects(
    history: list[tuple[str, Manifest]],
    desired_keys: frozenset[ResourceKey],
    claimed: frozenset[ResourceKey],
    prune_last: bool,
) -> None:
    world = build_world(history, "annotation")
    tasks = prune_tasks(world, desired_keys, claimed, "annotation", prune_last)
    pruned = [t for t in tasks if t.action is TaskAction.PRUNE]
    for task in pruned:
        assert task.live is not None and ResourceKey.of(task.live) == task.key
        assert world.live.get(task.key) is task.live, "not the object the cluster holds"
        meta = task.live["metadata"]
        assert exactly_tracked(task.live, APP, "annotation")
        assert not meta.get("ownerReferences")
        assert task.key not in claimed and task.key not in desired_keys
    # ... and every such object is in the plan (pruned, or skipped for Prune=false)
    owned = {
        k
        for k, o in world.live.items()
        if exactly_tracked(o, APP, "annotation")
        and k not in desired_keys
        and k not in claimed
        and "argocd.argoproj.io/hook" not in (o["metadata"].get("annotations") or {})
    }
    assert {t.key for t in tasks} == owned
    skipped = {t.key for t in tasks if t.action is TaskAction.PRUNE_SKIPPED}
    assert all(
        "Prune=false"
        in world.live[k]["metadata"]["annotations"].get("argocd.argoproj.io/sync-options", "")
        for k in skipped
    )


@SETTINGS
@given(history=events, claimed=st.frozensets(keys, max_size=6))
def test_label_tracking_prunes_only_objects_labelled_with_the_app(
    history: list[tuple[str, Manifest]], claimed: frozenset[ResourceKey]
) -> None:
    world = build_world(history, "label")
    tasks = prune_tasks(world, frozenset(), claimed, "label", prune_last=False)
    for task in tasks:
        assert task.live is not None
        meta = task.live["metadata"]
        assert (meta.get("labels") or {}).get(INSTANCE_LABEL) == APP
        assert not meta.get("ownerReferences")
        assert task.key not in claimed
    # ... and every such object is in the plan (pruned, or skipped for Prune=false)
    owned = {
        k
        for k, o in world.live.items()
        if exactly_tracked(o, APP, "label")
        and k not in claimed
        and "argocd.argoproj.io/hook" not in (o["metadata"].get("annotations") or {})
    }
    assert {t.key for t in tasks} == owned


def test_the_property_can_fail() -> None:
    """A look-alike object the index wrongly kept would be caught: check the checker."""
    key = ResourceKey("", "ConfigMap", "default", "web")
    copied = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "annotations": {
                TRACKING_ANNOTATION: tracking_id(APP, ResourceKey("", "ConfigMap", "prod", "web"))
            },
        },
    }
    assert not exactly_tracked(copied, APP, "annotation")
    assert tracked_app(copied) is None
    world = build_world([("put", copied)], "annotation")
    assert world.cache.tracked_by(APP) == []
    assert prune_tasks(world, frozenset(), frozenset(), "annotation", False) == []
    exact = {
        **copied,
        "metadata": {
            **copied["metadata"],
            "annotations": {TRACKING_ANNOTATION: tracking_id(APP, key)},
        },
    }
    world = build_world([("put", exact)], "annotation")
    assert [t.key for t in prune_tasks(world, frozenset(), frozenset(), "annotation", False)] == [
        key
    ]

"""Which live objects belong to an app (Argo CD resource tracking).

Default: the annotation ``argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<ns>/<name>``.
Option: the label ``app.kubernetes.io/instance: <app>``. Objects with owner references
are children, never managed roots.

A cluster-scoped object has no namespace: its id carries the app's destination
namespace instead (what Argo CD writes, ``UnstructuredToAppInstanceValue``), and an id
with an empty namespace (what earlier versions of this engine wrote) is read as well.
Both name the same object: a cluster-scoped object is identified by group, kind and
name alone, so accepting either namespace cannot make an id name a different object.

An object whose tracking id names another object (a copy made by someone, e.g. a
controller copying annotations) is *claimed* by the app but not *tracked*: it is
listed without a sync status and never pruned (Argo CD's ``isSelfReferencedObj``).
"""

from __future__ import annotations

import copy
from typing import Literal

from gitops_tui.engine.model import Manifest, ResourceKey

TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
TrackingMethod = Literal["annotation", "label"]


def tracking_id(app: str, key: ResourceKey, destination_namespace: str = "") -> str:
    """The id Argo CD writes: a cluster-scoped object gets the destination namespace."""
    namespace = key.namespace or destination_namespace
    return f"{app}:{key.group}/{key.kind}:{namespace}/{key.name}"


def parse_tracking_id(value: str) -> tuple[str, ResourceKey] | None:
    """``app:group/kind:ns/name`` -> (app, key); None when malformed.

    The name may be empty: a hook with only ``generateName`` is marked before the
    server names it (Argo CD does the same), so its id names no object; such an
    object is claimed by the app (listed, as a hook) but never tracked.
    """
    try:
        app, rest = value.split(":", 1)
        group_kind, ns_name = rest.rsplit(":", 1)
        group, kind = group_kind.split("/", 1)
        namespace, name = ns_name.split("/", 1)
    except ValueError:
        return None
    if not app or not kind:
        return None
    return app, ResourceKey(group, kind, namespace, name)


def tracked_app(obj: Manifest, method: TrackingMethod = "annotation") -> str | None:
    """The app that manages ``obj`` as a root object, or None."""
    meta = obj.get("metadata") or {}
    if meta.get("ownerReferences"):
        return None
    if method == "label":
        value = (meta.get("labels") or {}).get(INSTANCE_LABEL)
        return str(value) if value else None
    raw = (meta.get("annotations") or {}).get(TRACKING_ANNOTATION)
    if not raw:
        return None
    parsed = parse_tracking_id(str(raw))
    if parsed is None:
        return None
    app, key = parsed
    return app if names_itself(key, ResourceKey.of(obj)) else None


def names_itself(in_id: ResourceKey, actual: ResourceKey) -> bool:
    """Whether a tracking id's key names the object ``actual``.

    Group, kind and name must be equal; the namespace too, except for a
    cluster-scoped object (no namespace), whose id may carry any namespace.
    """
    return (
        in_id.group == actual.group
        and in_id.kind == actual.kind
        and in_id.name == actual.name
        and (actual.namespace == "" or in_id.namespace == actual.namespace)
    )


def claimed_root_app(obj: Manifest, method: TrackingMethod = "annotation") -> str | None:
    """The app named by a root object's tracking data, whether or not the id names it.

    ``tracked_app`` says which of these the app owns; the others are copies.
    """
    if (obj.get("metadata") or {}).get("ownerReferences"):
        return None
    return claimed_app(obj, method)


def claimed_app(obj: Manifest, method: TrackingMethod = "annotation") -> str | None:
    """The app named in the object's tracking data, even if the id points elsewhere."""
    meta = obj.get("metadata") or {}
    if method == "label":
        value = (meta.get("labels") or {}).get(INSTANCE_LABEL)
        return str(value) if value else None
    parsed = parse_tracking_id(str((meta.get("annotations") or {}).get(TRACKING_ANNOTATION) or ""))
    return parsed[0] if parsed else None


def with_tracking(
    obj: Manifest, app: str, method: TrackingMethod = "annotation", destination_namespace: str = ""
) -> Manifest:
    """A copy of the desired object carrying this app's tracking mark.

    ``destination_namespace`` goes into the id of a cluster-scoped object, as Argo CD does.
    """
    return add_tracking(copy.deepcopy(obj), app, method, destination_namespace)


def add_tracking(
    obj: Manifest, app: str, method: TrackingMethod = "annotation", destination_namespace: str = ""
) -> Manifest:
    """``with_tracking`` in place, on an object the caller already owns (a copy); returns it."""
    meta = obj.setdefault("metadata", {})
    if method == "label":
        meta.setdefault("labels", {})[INSTANCE_LABEL] = app
    else:
        meta.setdefault("annotations", {})[TRACKING_ANNOTATION] = tracking_id(
            app, ResourceKey.of(obj), destination_namespace
        )
    return obj

"""Which live objects belong to an app (Argo CD resource tracking).

Default: the annotation ``argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<ns>/<name>``.
Option: the label ``app.kubernetes.io/instance: <app>``. An object whose tracking id
names another object (a copy made by someone) is not the app's; objects with owner
references are children, never managed roots.
"""

from __future__ import annotations

import copy
from typing import Literal

from gitops_tui.engine.model import Manifest, ResourceKey

TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
TrackingMethod = Literal["annotation", "label"]


def tracking_id(app: str, key: ResourceKey) -> str:
    return f"{app}:{key.group}/{key.kind}:{key.namespace}/{key.name}"


def parse_tracking_id(value: str) -> tuple[str, ResourceKey] | None:
    """``app:group/kind:ns/name`` -> (app, key); None when malformed."""
    try:
        app, rest = value.split(":", 1)
        group_kind, ns_name = rest.rsplit(":", 1)
        group, kind = group_kind.split("/", 1)
        namespace, name = ns_name.split("/", 1)
    except ValueError:
        return None
    if not app or not kind or not name:
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
    return app if key == ResourceKey.of(obj) else None


def claimed_app(obj: Manifest, method: TrackingMethod = "annotation") -> str | None:
    """The app named in the object's tracking data, even if the id points elsewhere."""
    meta = obj.get("metadata") or {}
    if method == "label":
        value = (meta.get("labels") or {}).get(INSTANCE_LABEL)
        return str(value) if value else None
    parsed = parse_tracking_id(str((meta.get("annotations") or {}).get(TRACKING_ANNOTATION) or ""))
    return parsed[0] if parsed else None


def with_tracking(obj: Manifest, app: str, method: TrackingMethod = "annotation") -> Manifest:
    """A copy of the desired object carrying this app's tracking mark."""
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    if method == "label":
        meta.setdefault("labels", {})[INSTANCE_LABEL] = app
    else:
        meta.setdefault("annotations", {})[TRACKING_ANNOTATION] = tracking_id(
            app, ResourceKey.of(out)
        )
    return out

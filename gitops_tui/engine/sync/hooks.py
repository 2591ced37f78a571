"""Which live object a hook may replace: only this app's own earlier run of that hook.

A hook with a fixed name is deleted and re-created on every sync
(``BeforeHookCreation``, the default policy) or applied over its namesake. If
the live namesake is not a hook tracked by this very app (another app's object,
an unmanaged one, this app's ordinary resource, a child of another object), the
sync must not touch it: the hook fails with a message naming the owner, and
nothing is deleted or changed.
"""

from __future__ import annotations

from gitops_tui.engine.annotations import is_hook
from gitops_tui.engine.cache.tracking import TrackingMethod, claimed_app, tracked_app
from gitops_tui.engine.model import Manifest, ResourceKey


def foreign_hook_reason(
    live: Manifest, key: ResourceKey, app: str, tracking: TrackingMethod
) -> str | None:
    """None when ``live`` is this app's own hook; else why the hook may not replace it."""
    meta = live.get("metadata") or {}
    owner = tracked_app(live, tracking)
    if owner == app and is_hook(live):
        return None
    if meta.get("ownerReferences"):
        who = "it is owned by another object"
    elif owner == app:
        who = "it is an ordinary resource of this app, not a hook"
    elif owner is not None:
        who = f"it belongs to app {owner!r}"
    else:
        claimed = claimed_app(live, tracking)
        if claimed is not None and claimed != app:
            who = f"its tracking mark names app {claimed!r}"
        else:
            who = "it is not tracked by this app"
    return (
        f"a live {key.display} already exists and is not a hook of app {app!r} ({who}); "
        "the hook was not run and nothing was deleted: rename the hook or use generateName"
    )

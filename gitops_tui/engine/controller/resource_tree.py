"""The resource tree of an app's snapshot: compared objects and their live children."""

from __future__ import annotations

from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.diff.compare import Comparison
from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.snapshot import ResourceNode


def resource_tree(
    comparison: Comparison, conn: ClusterConnection | None
) -> tuple[ResourceNode, ...]:
    """One node per compared object, with its live children (owner references) below."""
    nodes: list[ResourceNode] = []
    for r in comparison.resources:
        live = r.live
        children = _children(conn, live) if (conn is not None and live is not None) else ()
        nodes.append(
            ResourceNode(
                key=r.key,
                version=r.version,
                status=r.status,
                health=r.health.status if r.health else None,
                health_message=r.health.message if r.health else r.message,
                requires_pruning=r.requires_pruning,
                sync_wave=r.wave,
                hook=r.hook,
                exists=live is not None,
                children=children,
                changed_paths=r.diff.changed_paths,
                health_rule=r.health.rule if r.health else "",
            )
        )
    return tuple(nodes)


def _children(conn: ClusterConnection, obj: Manifest, depth: int = 0) -> tuple[ResourceNode, ...]:
    if depth > 4:
        return ()
    uid = str((obj.get("metadata") or {}).get("uid") or "")
    if not uid:
        return ()
    out = []
    for child in conn.cache.children_of(uid):
        health = resource_health(child)
        out.append(
            ResourceNode(
                key=ResourceKey.of(child),
                version=str(child.get("apiVersion", "")),
                status=None,
                health=health.status if health else None,
                health_message=health.message if health else "",
                children=_children(conn, child, depth + 1),
                health_rule=health.rule if health else "",
            )
        )
    return tuple(out)

"""Whether an app's cluster can be reached, in words for a dialog.

The fleet snapshot knows: a ``ClusterState`` that is not reachable (matched to the
app by its destination's context, name or server; the only cluster when there is
one), or a ``ClusterUnreachable`` condition on the app. A dialog that would need
the cluster (a sync's dry run) says so instead of offering to go on. A failed
engine call tells the same when its error is a connection failure.
"""

from __future__ import annotations

import time

from gitops_tui.engine.api import ClusterState, FleetSnapshot, GitOpsError
from gitops_tui.engine.errors import network_reason, without_reprs
from gitops_tui.engine.model import ConditionType

MAX_REASON = 200


def _matches(cluster: ClusterState, fleet: FleetSnapshot, app_name: str) -> bool:
    app = fleet.by_name.get(app_name)
    if app is None:
        return False
    if len(fleet.clusters) == 1:
        return True
    dest = app.destination
    names = {dest.context, dest.name} - {""}
    server = dest.server.rstrip("/")
    return cluster.name in names or bool(server and cluster.server.rstrip("/") == server)


def _short(text: str) -> str:
    text = without_reprs(text).strip()
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + "..."


def cluster_down(fleet: FleetSnapshot, app_name: str) -> str | None:
    """``cluster edge-1 is unreachable since 18:40:12 UTC (connection refused)``, or None
    when nothing says the app's cluster is down."""
    for cluster in fleet.clusters:
        if cluster.reachable or not _matches(cluster, fleet, app_name):
            continue
        since = (
            f" since {time.strftime('%H:%M:%S UTC', time.gmtime(cluster.since))}"
            if cluster.since
            else ""
        )
        why = f" ({_short(cluster.message)})" if cluster.message else ""
        return f"cluster {cluster.name} is unreachable{since}{why}"
    app = fleet.by_name.get(app_name)
    for condition in app.conditions if app is not None else ():
        if condition.type == ConditionType.CLUSTER_UNREACHABLE:
            return _short(condition.message)
    return None


def unreachable_error(error: BaseException) -> str | None:
    """A failed call's error as ``the cluster cannot be reached (connection refused)``
    when it is a connection failure (a ``KubeApiError`` or server error with status 0,
    or a network error), else None."""
    reason = network_reason(error)
    if isinstance(error, GitOpsError):  # its words are its own unless it says "no answer"
        if getattr(error, "status", None) != 0:
            return None
        return f"the cluster cannot be reached ({reason or _short(str(error))})"
    return None if reason is None else f"the cluster cannot be reached ({reason})"


def cannot_plan(down: str) -> str:
    """The dialog's sentence: what is wrong and what it means for the sync."""
    return (
        f"{down[:1].upper()}{down[1:]}: the plan cannot be dry-run against it, so nothing "
        "can be synced now. r: retry when it is back."
    )

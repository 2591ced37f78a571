"""Never two engines on one app: when an Argo CD controller counts as reconciling an app."""

from __future__ import annotations

import datetime as dt
import threading
import time
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import pytest

from gitops_tui.engine.api import EngineError
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient
from gitops_tui.engine.controller.argocd_guard import (
    ArgoCDGuard,
    application_path,
    last_reconcile,
    reconcile_times,
)
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import ResourceKey

NOW = 1_800_000_000.0  # the API server's time in these tests
WINDOW = 600.0


def stamp(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def application(
    reconciled: float | None = None, managers: dict[str, float] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "guestbook", "namespace": "argocd"}
    if managers:
        meta["managedFields"] = [
            {"manager": m, "operation": "Update", "time": stamp(t)} for m, t in managers.items()
        ]
    obj: dict[str, Any] = {"kind": "Application", "metadata": meta}
    if reconciled is not None:
        obj["status"] = {"reconciledAt": stamp(reconciled)}
    return obj


@pytest.mark.parametrize(
    ("times", "seen_ago", "recent"),
    [
        ([NOW - 30], None, True),  # reconciled 30 s ago
        ([NOW - WINDOW], None, True),  # the window's edge is inside
        ([NOW - WINDOW - 1], None, False),  # a stopped controller ages out
        ([], None, False),  # never reconciled (an Application nobody runs)
        ([NOW + 3600], None, True),  # controller clock ahead of the server: counts as now
        ([NOW - 7200], 20.0, True),  # old timestamps, but our watch saw it change 20 s ago
        ([NOW - 7200], WINDOW + 5, False),
        ([NOW - 7200, NOW - 60], None, True),  # the freshest evidence wins
    ],
)
def test_recency_is_measured_against_the_server_clock(
    times: list[float], seen_ago: float | None, recent: bool
) -> None:
    assert (last_reconcile(times, NOW, WINDOW, seen_ago=seen_ago) is not None) is recent


def test_evidence_is_reconciled_at_and_the_controllers_managed_fields_only() -> None:
    obj = application(
        NOW - 900,
        {"argocd-application-controller": NOW - 40, "kubectl-edit": NOW - 1, "gitops-tui": NOW},
    )
    assert sorted(reconcile_times(obj)) == [NOW - 900, NOW - 40]
    # a controller whose clock runs 15 min slow still counts, by the server's clock
    assert last_reconcile(reconcile_times(obj), NOW, WINDOW) == NOW - 40
    # an Application someone edits by hand, never reconciled, does not
    edited = application(None, {"kubectl-edit": NOW - 1, "gitops-tui": NOW})
    assert last_reconcile(reconcile_times(edited), NOW, WINDOW) is None
    # malformed timestamps are no evidence
    assert reconcile_times({"status": {"reconciledAt": "yesterday"}}) == []


class FakeClient:
    """The guard's view of the API server: one Application, the server's Date header."""

    def __init__(self, obj: dict[str, Any] | None, server_now: float) -> None:
        self.obj = obj
        self.now = server_now
        self.paths: list[str] = []

    def request(self, method: str, path: str, **_: Any) -> Any:
        assert method == "GET"
        self.paths.append(path)
        if self.obj is None:
            raise KubeApiError(404, "NotFound", "not found")
        return self.obj

    def server_now(self) -> float:
        return self.now


def guard_over(client: FakeClient, origin: str = "apps/guestbook.yaml") -> ArgoCDGuard:
    conn = SimpleNamespace(client=client, name="sandbox")
    clusters = SimpleNamespace(default_context="sandbox", connection=lambda _ctx: conn)
    links: Any = SimpleNamespace(clusters=clusters)
    table = AppTable()
    table.states["guestbook"] = AppState(app=SimpleNamespace(name="guestbook", origin=origin))  # type: ignore[arg-type]
    return ArgoCDGuard(links, table, lambda _s: None, threading.Event(), namespace="argocd")


def test_refusal_names_the_application_and_the_way_out() -> None:
    client = FakeClient(application(NOW - 30), NOW)
    guard = guard_over(client)
    with pytest.raises(EngineError) as refused:
        guard.refuse("sync", "guestbook", forced=False)
    message = str(refused.value)
    assert "sync of guestbook refused: Argo CD reconciles it" in message
    assert "Application argocd/guestbook on sandbox" in message
    assert "gitops-tui --argocd argocd" in message and "--force-local" in message
    assert client.paths == [application_path("argocd", "guestbook")]  # a fresh GET
    guard.refuse("sync", "guestbook", forced=True)  # forced: goes on


def test_no_argo_cd_or_a_stale_one_does_not_refuse() -> None:
    guard_over(FakeClient(None, NOW)).refuse("sync", "guestbook", forced=False)  # 404
    stale = FakeClient(application(NOW - 3600), NOW)
    guard_over(stale).refuse("sync", "guestbook", forced=False)


def test_a_slow_local_clock_is_corrected_by_the_servers_date() -> None:
    """The verdict uses the server's time: with our clock an hour behind, a stale
    Application would look fresh (and a fresh one stale with our clock ahead)."""
    guard = guard_over(FakeClient(application(NOW - 3600), NOW))
    assert guard.check_now(guard._table.states["guestbook"]) is None
    client = KubeClient.__new__(KubeClient)
    client._clock_offset = None
    header = format_datetime(dt.datetime.fromtimestamp(time.time() + 3600, dt.UTC), usegmt=True)
    client._note_date(header)
    assert abs(client.server_now() - (time.time() + 3600)) < 2.0


def test_the_application_of_an_app_from_the_cluster_is_the_app_itself() -> None:
    guard = guard_over(FakeClient(None, NOW), origin="cluster:team-a")
    state = guard._table.states["guestbook"]
    assert guard.application_key(state) == ResourceKey(
        "argoproj.io", "Application", "team-a", "guestbook"
    )
    files = guard_over(FakeClient(None, NOW))
    assert files.application_key(files._table.states["guestbook"]).namespace == "argocd"

"""Scenario "argocd": Argo CD v3.2.11 and the local engine on the same fleet, one after the other.

Same repository (the fleet's: N apps x 10 objects), same sandbox. Argo CD first:
its CRDs and config objects are installed, N Applications (``argo-NNNN``, each
synced into namespace ``vs-argo-XX``) are created, then redis, the repo server and
the application controller are started (``ArgoCDPeer``): the clock runs from that
start to every app compared, then from the sync requests (the ``operation`` field,
as Argo CD's API server writes it) to every app Synced. CPU seconds and peak RSS of
its three processes are read from ``/proc`` at that moment. Commit to OutOfSync is
timed twice for Argo CD: with polling only, and with the refresh annotation set just
after the commit. Argo CD is stopped, its Applications and namespaces deleted, then
the local engine does the same in namespaces ``vs-local-XX`` (apps ``loc-NNNN``):
cold start to compared, first sync to Synced (in this process: CPU and RSS of this
process), commit to OutOfSync while it watches the repository.

Argo CD's status is followed through a watch of its Application objects
(``AppWatch``): a timestamp is taken when the watch delivers the object that makes
the condition true, the same way the local engine's are taken from its snapshots.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.context import Bench
from benchmarks.figures import ArgoMeasures, argocd_specs
from benchmarks.fixtures import NAMESPACES, app_objects, application, dump_all, git_commit
from benchmarks.resources import process_usage
from benchmarks.scenarios.fleet import first_sync, time_until_out_of_sync, wait_synced
from benchmarks.timing import log, now, summary

ARGO_NAMESPACE = "argocd"
ARGO_PROCESSES = ("controller", "repo-server", "redis")
DEFAULT_POLL_S = 120  # Argo CD's timeout.reconciliation default (+ up to 60 s jitter)
DEFAULT_JITTER_S = 60


def argo_name(i: int) -> str:
    return f"argo-{i:04d}"


def local_name(i: int) -> str:
    return f"loc-{i:04d}"


def side_namespace(side: str, i: int) -> str:
    return f"vs-{side}-{i % NAMESPACES:02d}"


class AppWatch:
    """Argo CD's Application objects of one namespace, followed by a watch."""

    def __init__(self, kubeconfig: Any, namespace: str) -> None:
        from gitops_tui.argocd.watch import Watcher
        from gitops_tui.engine.cache.kubeclient import KubeClient, KubeTarget

        self.client = KubeClient(KubeTarget(kubeconfig, None, read_only=False))
        self.path = f"/apis/argoproj.io/v1alpha1/namespaces/{namespace}/applications"
        self.cond = threading.Condition()
        self.apps: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self.stop_event = threading.Event()
        self.watcher = Watcher(
            self.client,
            self.path,
            "Application",
            on_list=self._listed,
            on_event=self._event,
            on_error=self._error,
            stop=self.stop_event,
        )
        self.thread = threading.Thread(target=self.watcher.run, name="argo-watch", daemon=True)

    @staticmethod
    def _state(obj: Mapping[str, Any]) -> dict[str, Any]:
        status = obj.get("status") or {}
        op = status.get("operationState") or {}
        return {
            "sync": (status.get("sync") or {}).get("status") or "",
            "revision": (status.get("sync") or {}).get("revision") or "",
            "phase": op.get("phase") or "",
            "op_started": op.get("startedAt") or "",
            "op_finished": op.get("finishedAt") or "",
            "operation": bool(obj.get("operation")),
            "reconciled_at": status.get("reconciledAt") or "",
        }

    def _listed(self, items: list[Any]) -> None:
        with self.cond:
            self.apps = {str(o["metadata"]["name"]): self._state(o) for o in items}
            self.cond.notify_all()

    def _event(self, kind: str, obj: Any) -> None:
        name = str((obj.get("metadata") or {}).get("name") or "")
        with self.cond:
            if kind == "DELETED":
                self.apps.pop(name, None)
            else:
                self.apps[name] = self._state(obj)
            self.cond.notify_all()

    def _error(self, message: str) -> None:
        self.errors.append(message)

    def start(self) -> AppWatch:
        self.thread.start()
        if not self.watcher.listed.wait(60):
            raise TimeoutError("the watch of Argo CD's Applications did not list in 60 s")
        return self

    def wait(
        self, predicate: Callable[[dict[str, dict[str, Any]]], bool], timeout: float, what: str
    ) -> float:
        """The clock when ``predicate(apps)`` first held (checked on every watch event)."""
        deadline = now() + timeout
        with self.cond:
            while not predicate(self.apps):
                left = deadline - now()
                if left <= 0:
                    raise TimeoutError(
                        f"Argo CD: timed out after {timeout:.0f} s waiting for {what}"
                    )
                self.cond.wait(min(left, 1.0))
            return now()

    def merge_patch(self, name: str, body: Mapping[str, Any]) -> None:
        self.client.request(
            "PATCH",
            f"{self.path}/{name}",
            body=dict(body),
            content_type="application/merge-patch+json",
        )

    def close(self) -> None:
        self.stop_event.set()
        self.client.close()


def all_compared(names: list[str]) -> Callable[[dict[str, dict[str, Any]]], bool]:
    def check(apps: dict[str, dict[str, Any]]) -> bool:
        return all(
            (s := apps.get(n)) is not None and s["sync"] in ("Synced", "OutOfSync") for n in names
        )

    return check


def all_synced(names: list[str]) -> Callable[[dict[str, dict[str, Any]]], bool]:
    def check(apps: dict[str, dict[str, Any]]) -> bool:
        return all(
            (s := apps.get(n)) is not None
            and s["sync"] == "Synced"
            and s["phase"] == "Succeeded"
            and not s["operation"]
            for n in names
        )

    return check


def operation_spans(watch: AppWatch, names: list[str]) -> dict[str, Any]:
    """How long Argo CD's sync operations took (its own startedAt/finishedAt, 1 s resolution)."""
    import datetime as dt

    def parse(stamp: str) -> float:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    with watch.cond:
        states = [watch.apps.get(n) or {} for n in names]
    spans = [
        parse(s["op_finished"]) - parse(s["op_started"])
        for s in states
        if s.get("op_started") and s.get("op_finished")
    ]
    starts = [parse(s["op_started"]) for s in states if s.get("op_started")]
    ends = [parse(s["op_finished"]) for s in states if s.get("op_finished")]
    if not spans:
        return {}
    return {
        "operation_s": summary(spans),
        "first_start_to_last_finish_s": round(max(ends) - min(starts), 1),
    }


def app_is(name: str, sync: str) -> Callable[[dict[str, dict[str, Any]]], bool]:
    return lambda apps: (apps.get(name) or {}).get("sync") == sync


def create_namespaces(b: Bench, names: list[str]) -> None:
    """The fleet's destination namespaces, made before either side starts.

    Neither side's Applications say ``CreateNamespace=true``: with it, Argo CD creates the
    namespace in a PreSync step and then waits for its health until the app's next
    reconciliation (upstream issue 18500), so every operation took at least one polling
    period and the first sync of 1,000 apps measured the polling period, not the sync.
    """
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in names]
    listing = {"apiVersion": "v1", "kind": "List", "items": items}
    b.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(listing))


def delete_namespaces(b: Bench, names: list[str], timeout: float) -> float:
    """Delete ``names`` and wait until they are gone; seconds taken (not a figure)."""
    t0 = now()
    b.kubectl("delete", "namespace", "--ignore-not-found", "--wait=false", *names)
    deadline = now() + timeout
    while now() < deadline:
        left = b.kubectl("get", "namespace", "-o", "name", *names, "--ignore-not-found")
        if not left.strip():
            return now() - t0
        time.sleep(1.0)
    b.notes.append(f"argocd: namespaces {names[:3]}... not gone after {timeout:.0f} s")
    return now() - t0


def commit_runs(
    b: Bench,
    runs: int,
    change: Callable[[str, str], float],
    revert: Callable[[str, str], None],
) -> list[float]:
    """``runs`` commits to different apps' files; ``change(app_index_name, path)``."""
    fleet = b.fleet()
    n = len(fleet.names)
    step = max(1, n // max(1, runs))
    times: list[float] = []
    for i in range(runs):
        source = fleet.names[(i * step + 2) % n]
        path = f"apps/{source}/all.yaml"
        times.append(change(source, path))
        revert(source, path)
    return times


def changed_file(b: Bench, source: str, tag: str) -> str:
    return dump_all(app_objects(source, b.sizes.replicas, revision=tag))


def original_file(b: Bench, source: str) -> str:
    return dump_all(app_objects(source, b.sizes.replicas))


# ----------------------------------------------------------------------------- Argo CD side


def argo_usage(peer: Any) -> dict[str, Any]:
    """CPU seconds and peak RSS of Argo CD's processes since they started."""
    per_process = {
        name: process_usage(peer.procs[name].popen.pid).as_dict() for name in ARGO_PROCESSES
    }
    return {
        "cpu_s": round(sum(p["cpu_s"] for p in per_process.values()), 2),
        "peak_rss_mib": round(sum(p["peak_rss_mib"] for p in per_process.values()), 1),
        "per_process": per_process,
        "note": "peak RSS: the sum of each process's own peak (an upper bound of the peak "
        "of the sum)",
    }


def argocd_side(b: Bench, peer: Any, runs: int, poll_runs: int, result: dict[str, Any]) -> None:
    """Argo CD's figures into ``result`` (what was measured stays there on a failure)."""
    from gitops_tui.argocd import operations as ops
    from gitops_tui.engine.api import SyncRequest

    fleet = b.fleet()
    n = len(fleet.names)
    names = [argo_name(i) for i in range(n)]
    apps = [
        application(
            argo_name(i),
            fleet.url,
            f"apps/{fleet.names[i]}",
            side_namespace("argo", i),
            create_namespace=False,
        )
        for i in range(n)
    ]
    create_namespaces(b, sorted({side_namespace("argo", i) for i in range(n)}))
    listing = {"apiVersion": "v1", "kind": "List", "items": apps}
    b.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(listing))
    watch = AppWatch(b.kubeconfig, ARGO_NAMESPACE).start()
    # generous: on the shared machine Argo CD's first sync ran at about 4 apps a minute
    timeout = b.compare_timeout() + 15.0 * n
    try:
        t0 = now()
        peer.start()
        log(f"argocd: Argo CD started ({', '.join(peer.procs)})")
        t_cmp = watch.wait(all_compared(names), timeout, "every app compared")
        result["compare_s"] = t_cmp - t0
        log(f"argocd: Argo CD compared {n} apps in {result['compare_s']:.1f} s")
        at_compare = argo_usage(peer)
        result["cpu_at_compare_s"] = at_compare["cpu_s"]
        by_name = {a["metadata"]["name"]: a for a in apps}
        t1 = now()
        for name in names:
            op = ops.sync_operation(
                by_name[name],
                SyncRequest(app=name, initiated_by="bench"),
                operation_id=f"bench-{name}",
                username="bench",
            )
            watch.merge_patch(name, {"operation": op, "status": {"operationState": None}})
        result["sync_requests_s"] = now() - t1
        t_synced = watch.wait(all_synced(names), timeout, "every app Synced")
        result["synced_s"] = t_synced - t1
        result["operations"] = operation_spans(watch, names)
        log(f"argocd: Argo CD synced {n} apps in {result['synced_s']:.1f} s")
        result["usage"] = argo_usage(peer)

        def refresh(name: str) -> None:
            watch.merge_patch(name, ops.refresh_patch(hard=False))

        def timed(annotate: bool, wait_s: float) -> Callable[[str, str], float]:
            def change(source: str, path: str) -> float:
                name = argo_name(fleet.names.index(source))
                t = now()
                git_commit(fleet.repo, {path: changed_file(b, source, f"a{t:.0f}")}, "change")
                if annotate:
                    refresh(name)
                hit = watch.wait(app_is(name, "OutOfSync"), wait_s, f"{name} OutOfSync")
                return hit - t

            return change

        def revert(source: str, path: str) -> None:
            name = argo_name(fleet.names.index(source))
            git_commit(fleet.repo, {path: original_file(b, source)}, "revert")
            refresh(name)
            watch.wait(app_is(name, "Synced"), 120, f"{name} Synced again")

        refresh_times = commit_runs(b, runs, timed(True, 120), revert)
        result["commit_refresh"] = summary(refresh_times)
        # polling: at most one resync period plus one revision-cache period, plus jitter
        poll_wait = 2.0 * peer.app_resync_s + peer.app_resync_jitter_s + 120
        poll_times = commit_runs(b, poll_runs, timed(False, poll_wait), revert)
        result["commit_poll"] = summary(poll_times)
    finally:
        watch.close()


# ----------------------------------------------------------------------------- local side


def local_side(b: Bench, runs: int) -> dict[str, Any]:
    from gitops_tui.engine.controller.engine import Engine

    fleet = b.fleet()
    n = len(fleet.names)
    names = [local_name(i) for i in range(n)]
    apps_file = b.work / "vs-local-apps.yaml"
    apps_file.write_text(
        dump_all(
            [
                application(
                    local_name(i),
                    fleet.url,
                    f"apps/{fleet.names[i]}",
                    side_namespace("local", i),
                    create_namespace=False,
                )
                for i in range(n)
            ]
        )
    )
    create_namespaces(b, sorted({side_namespace("local", i) for i in range(n)}))
    timings = first_sync(b, apps_file=apps_file, names=names, tag="vs-local")
    result: dict[str, Any] = {
        "compare_s": timings["compare_s"],
        "synced_s": timings["all_synced_s"] - timings["compare_s"],
        "usage": timings["usage"],
        "first_sync": timings,
    }
    engine = Engine(b.engine_options("vs-local", apps_file)).start()
    try:
        if not engine.wait_until_compared(timeout=b.compare_timeout()):
            raise TimeoutError("the local engine did not compare every app")

        def change(source: str, path: str) -> float:
            name = local_name(fleet.names.index(source))
            text = changed_file(b, source, f"l{now():.0f}")

            def commit() -> None:
                git_commit(fleet.repo, {path: text}, "change")

            return time_until_out_of_sync(engine, name, commit)

        def revert(source: str, path: str) -> None:
            name = local_name(fleet.names.index(source))
            git_commit(fleet.repo, {path: original_file(b, source)}, "revert")
            wait_synced(engine, name, timeout=b.compare_timeout())

        result["commit_local"] = summary(commit_runs(b, runs, change, revert))
    finally:
        engine.close()
    return result


# ----------------------------------------------------------------------------- the scenario


def make_peer(b: Bench, directory_name: str = "argocd-peer") -> Any:
    from gitops_tui.sandbox.argocd_build import find_argocd
    from gitops_tui.sandbox.argocd_peer import ArgoCDPeer

    binary = find_argocd()
    if binary is None:
        raise RuntimeError(
            "Argo CD is not built: run `make tools` (builds v3.2.11 from Go modules, ~15 min once)"
        )
    poll = b.args.argocd_poll
    processors = None
    if getattr(b.args, "argocd_processors", None):
        status, operation = (int(x) for x in b.args.argocd_processors.split(","))
        processors = (status, operation)
    return ArgoCDPeer(
        binary,
        b.kubeconfig,
        b.work / directory_name,
        app_resync_s=int(poll) if poll else DEFAULT_POLL_S,
        app_resync_jitter_s=0 if poll else DEFAULT_JITTER_S,
        revision_cache_expiration_s=int(poll) if poll else None,
        processors=processors,
    )


def _processors(peer: Any) -> str:
    if peer.processors is None:
        return "20 status / 10 operation processors, defaults"
    status, operation = peer.processors
    return f"{status} status / {operation} operation processors"


def scenario_argocd(b: Bench) -> None:
    fleet = b.fleet()
    n = len(fleet.names)
    runs = b.sizes.argocd_commit_runs
    poll_runs = b.sizes.argocd_poll_runs
    peer = make_peer(b)
    peer.install()
    argo: dict[str, Any] = {}
    try:
        argocd_side(b, peer, runs, poll_runs, argo)
    except Exception as exc:  # the local side still runs; the missing figures are n/a
        log(f"argocd: Argo CD side failed: {type(exc).__name__}: {exc}")
        b.notes.append(f"argocd: Argo CD side failed: {type(exc).__name__}: {exc}")
        for name in ARGO_PROCESSES:
            b.notes.append(f"argocd: {name} log tail: {peer.log_tail(name, 5)[-1500:]}")
        if "usage" not in argo and all(peer.alive(p) for p in ARGO_PROCESSES):
            argo["usage"] = argo_usage(peer) | {"note": "read when the Argo CD side failed"}
    finally:
        peer.stop()
        with contextlib.suppress(Exception):
            peer.uninstall()  # the CRDs, with every Application (no finalizers: nothing pruned)
        took = delete_namespaces(
            b, sorted({side_namespace("argo", i) for i in range(n)}), b.compare_timeout()
        )
        log(f"argocd: Argo CD's namespaces deleted in {took:.1f} s")
    local = local_side(b, runs)
    took = delete_namespaces(
        b, sorted({side_namespace("local", i) for i in range(n)}), b.compare_timeout()
    )
    log(f"argocd: the local engine's namespaces deleted in {took:.1f} s")
    poll_period = float(peer.app_resync_s)
    measures = ArgoMeasures(
        apps=n,
        compare_s={"argocd": argo.get("compare_s"), "local": local.get("compare_s")},
        synced_s={"argocd": argo.get("synced_s"), "local": local.get("synced_s")},
        commit_s={
            "argocd_poll": argo.get("commit_poll"),
            "argocd_refresh": argo.get("commit_refresh"),
            "local": local.get("commit_local"),
        },
        usage={"argocd": argo.get("usage") or {}, "local": local.get("usage") or {}},
        poll_period_s=poll_period if b.args.argocd_poll else 0.0,
    )
    for spec in argocd_specs(measures):
        b.record_spec("argocd", spec)
    b.notes.append(
        "argocd: Argo CD v3.2.11 as local processes (controller: "
        f"{_processors(peer)}), resync {peer.app_resync_s} s + jitter {peer.app_resync_jitter_s} s, "
        f"revision cache {peer.revision_cache_expiration_s or 180} s; sync requests sent in "
        f"{argo.get('sync_requests_s', 0):.1f} s; its operations: "
        f"{json.dumps(argo.get('operations'))}; Argo CD's CPU seconds when every app was "
        f"compared: {argo.get('cpu_at_compare_s')}"
    )

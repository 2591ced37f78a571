"""The on-disk prediction cache: keys, eviction, corruption, permissions, Secrets never written.

The fake connection answers ``/version``, the mutating admission lists and CRD
lookups as a server would; what the server *decides* (dry runs) is tested against
the real API server in tests/cluster/test_prediction_disk_cluster.py.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.cli import _prediction_cache_dir
from gitops_tui.config import Settings
from gitops_tui.engine.cache.discovery import ApiResource
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeTarget
from gitops_tui.engine.diff.compare import PredictionCache, live_signature, predict
from gitops_tui.engine.diff.prediction_disk import DiskPredictions, never_on_disk
from gitops_tui.engine.model import ResourceKey


def resource(group: str, kind: str, plural: str, namespaced: bool = True) -> ApiResource:
    return ApiResource(group, "v1", kind, plural, namespaced, frozenset({"get", "list", "patch"}))


class FakeServer:
    """/version, the admission lists and CRDs; counts requests and dry runs."""

    def __init__(self) -> None:
        self.version = "v1.31.0"
        self.webhooks: list[dict[str, Any]] = []
        self.crds: dict[str, dict[str, Any]] = {
            "widgets.example.com": {"metadata": {"uid": "u1", "resourceVersion": "1"}}
        }
        self.requests: list[str] = []
        self.fail: str | None = None

    def request(self, method: str, path: str, **_: Any) -> Any:
        self.requests.append(path)
        if self.fail and self.fail in path:
            raise KubeApiError(403, "Forbidden", f"{path} is forbidden")
        if path == "/version":
            return {"gitVersion": self.version, "gitCommit": "abc"}
        if path.endswith("mutatingwebhookconfigurations"):
            return {"items": self.webhooks}
        raise AssertionError(path)


class FakeDiscovery:
    kinds = {
        ("", "ConfigMap"): resource("", "ConfigMap", "configmaps"),
        ("", "Secret"): resource("", "Secret", "secrets"),
        ("example.com", "Widget"): resource("example.com", "Widget", "widgets"),
        ("bitnami.com", "SealedSecret"): resource("bitnami.com", "SealedSecret", "sealedsecrets"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): resource(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            namespaced=False,
        ),
    }

    def resolve(self, group: str, kind: str, *, max_age: float = 1.0) -> ApiResource | None:
        return self.kinds.get((group, kind))


class FakeConn:
    def __init__(self, server: FakeServer, url: str = "https://10.0.0.1:6443") -> None:
        self.name = "ctx"
        self.target = KubeTarget(None, "ctx")
        self.server = url
        self.client = server
        self.discovery = FakeDiscovery()
        self.applied = 0
        self._server = server

    def live(self, key: ResourceKey) -> dict[str, Any] | None:
        self._server.requests.append(f"crd/{key.name}")
        if self._server.fail and self._server.fail in key.name:
            raise KubeApiError(403, "Forbidden", "no")
        found = self._server.crds.get(key.name)
        return copy.deepcopy(found) if found else None

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False, force: bool = False) -> Any:
        self.applied += 1
        out = copy.deepcopy(obj)
        out["metadata"]["resourceVersion"] = "7"
        out["metadata"]["uid"] = "uid-1"
        return out


def cm(name: str = "a", value: str = "v", kind: str = "ConfigMap") -> dict[str, Any]:
    api = "example.com/v1" if kind == "Widget" else "v1"
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, "namespace": "ns"},
        "data": {"k": value},
    }


def live_of(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].update(resourceVersion="7", uid="uid-1")
    return out


def entries(root: Path) -> list[Path]:
    return sorted(root.glob("*.json"))


def store_one(disk: DiskPredictions, conn: FakeConn, obj: dict[str, Any]) -> None:
    key = ResourceKey.of(obj)
    fp = PredictionCache.fingerprint(obj)
    disk.put(conn, key, fp, live_signature(live_of(obj)), live_of(obj))


def lookup(disk: DiskPredictions, conn: FakeConn, obj: dict[str, Any]) -> Any:
    key = ResourceKey.of(obj)
    fp = PredictionCache.fingerprint(obj)
    return disk.get(conn, key, fp, live_signature(live_of(obj)))


def test_a_second_process_predicts_without_a_dry_run(tmp_path: Path) -> None:
    server = FakeServer()
    obj = cm()
    first = FakeConn(server)
    predict(first, obj, live_of(obj), PredictionCache(disk=DiskPredictions(tmp_path / "p")))  # type: ignore[arg-type]
    assert first.applied == 1
    second = FakeConn(server)  # a new process: empty memory, same disk
    predicted, note = predict(
        second,  # type: ignore[arg-type]
        obj,
        live_of(obj),
        PredictionCache(disk=DiskPredictions(tmp_path / "p")),
    )
    assert second.applied == 0 and note == ""
    assert predicted["data"] == {"k": "v"}


@pytest.mark.parametrize(
    "change",
    ["desired", "live", "server version", "webhook", "crd", "cluster url"],
)
def test_the_key_names_everything_a_prediction_depends_on(tmp_path: Path, change: str) -> None:
    server = FakeServer()
    obj = cm(kind="Widget")
    disk = DiskPredictions(tmp_path / "p")
    store_one(disk, FakeConn(server), obj)
    assert lookup(DiskPredictions(tmp_path / "p"), FakeConn(server), obj) is not None
    conn = FakeConn(server)
    desired = obj
    live = live_of(obj)
    if change == "desired":
        desired = cm(kind="Widget", value="other")
    elif change == "live":
        live["metadata"]["labels"] = {"touched": "by-someone"}
    elif change == "server version":
        server.version = "v1.32.0"
    elif change == "webhook":
        server.webhooks = [{"metadata": {"uid": "w", "resourceVersion": "3"}}]
    elif change == "crd":
        server.crds["widgets.example.com"]["metadata"]["resourceVersion"] = "2"
    else:
        conn = FakeConn(server, url="https://10.0.0.2:6443")
    fresh = DiskPredictions(tmp_path / "p")  # identities are memoised per process
    key = ResourceKey.of(desired)
    fp = PredictionCache.fingerprint(desired)
    assert fresh.get(conn, key, fp, live_signature(live)) is None  # type: ignore[arg-type]


def test_the_server_fingerprint_is_asked_once_per_process(tmp_path: Path) -> None:
    server = FakeServer()
    disk = DiskPredictions(tmp_path / "p")
    conn = FakeConn(server)
    for i in range(20):
        store_one(disk, conn, cm(f"o{i}"))
        lookup(disk, conn, cm(f"o{i}"))
    assert server.requests.count("/version") == 1
    assert not [r for r in server.requests if r.startswith("crd/")]  # core kinds: no CRD


def test_the_fingerprint_is_asked_once_when_the_dry_run_pool_asks_all_at_once(
    tmp_path: Path,
) -> None:
    """A cold start: eight dry-run threads want the key at the same moment; one of them
    asks the server, the others wait for its answer (they used to ask eight times)."""
    server = FakeServer()
    second_ask = threading.Event()
    askers: list[str] = []
    answer = server.request

    def slow_version(method: str, path: str, **kw: Any) -> Any:
        if path == "/version":
            askers.append(threading.current_thread().name)
            if len(askers) > 1:
                second_ask.set()
            else:
                second_ask.wait(timeout=2.0)  # a second asker, if any, arrives meanwhile
        return answer(method, path, **kw)

    server.request = slow_version  # type: ignore[method-assign]
    disk = DiskPredictions(tmp_path / "p")
    conn = FakeConn(server)
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda i: lookup(disk, conn, cm(f"o{i}")), range(8)))
    assert found == [None] * 8
    assert len(askers) == 1 and server.requests.count("/version") == 1


@pytest.mark.parametrize("kind", ["Secret", "SealedSecret"])
def test_secrets_are_never_written(tmp_path: Path, kind: str) -> None:
    server = FakeServer()
    conn = FakeConn(server)
    obj = cm(kind=kind)
    if kind == "SealedSecret":
        obj["apiVersion"] = "bitnami.com/v1alpha1"
    obj["data"] = {"password": "aHVudGVyMg=="}
    cache = PredictionCache(disk=DiskPredictions(tmp_path / "p"))
    predict(conn, obj, live_of(obj), cache)  # type: ignore[arg-type]
    assert conn.applied == 1
    assert entries(tmp_path / "p") == []
    assert never_on_disk(ResourceKey.of(obj))
    # and the next process dry-runs it again
    again = FakeConn(server)
    predict(again, obj, live_of(obj), PredictionCache(disk=DiskPredictions(tmp_path / "p")))  # type: ignore[arg-type]
    assert again.applied == 1
    assert not any(b"aHVudGVyMg" in p.read_bytes() for p in (tmp_path / "p").iterdir())


def test_permissions_dir_0700_files_0600(tmp_path: Path) -> None:
    root = tmp_path / "cache" / "p"
    root.parent.mkdir()
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    disk = DiskPredictions(root)
    assert disk.usable
    store_one(disk, FakeConn(FakeServer()), cm())
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    [entry] = entries(root)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_a_symlinked_cache_dir_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    (tmp_path / "p").symlink_to(tmp_path / "elsewhere")
    disk = DiskPredictions(tmp_path / "p")
    assert not disk.usable
    store_one(disk, FakeConn(FakeServer()), cm())
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"[1, 2]", b'{"format": 1, "key": "other", "predicted": {}}', b"\xff" * 10],
)
def test_a_corrupt_entry_is_ignored_and_removed(tmp_path: Path, content: bytes) -> None:
    server = FakeServer()
    disk = DiskPredictions(tmp_path / "p")
    store_one(disk, FakeConn(server), cm())
    [entry] = entries(tmp_path / "p")
    entry.write_bytes(content)
    conn = FakeConn(server)
    obj = cm()
    predicted, _ = predict(
        conn, obj, live_of(obj), PredictionCache(disk=DiskPredictions(tmp_path / "p"))
    )  # type: ignore[arg-type]
    assert conn.applied == 1 and predicted["data"] == {"k": "v"}
    # rewritten by the dry run, good again
    assert json.loads(entry.read_bytes())["predicted"]["metadata"]["name"] == "a"


def test_an_entry_for_another_object_under_the_same_name_is_ignored(tmp_path: Path) -> None:
    server = FakeServer()
    disk = DiskPredictions(tmp_path / "p")
    store_one(disk, FakeConn(server), cm("a"))
    [entry] = entries(tmp_path / "p")
    doc = json.loads(entry.read_bytes())
    doc["predicted"]["metadata"]["name"] = "b"
    entry.write_text(json.dumps(doc))
    assert lookup(DiskPredictions(tmp_path / "p"), FakeConn(server), cm("a")) is None


def test_least_recently_used_entries_are_evicted(tmp_path: Path) -> None:
    server = FakeServer()
    conn = FakeConn(server)
    disk = DiskPredictions(tmp_path / "p", max_entries=10)
    for i in range(10):
        before = set(entries(tmp_path / "p"))
        store_one(disk, conn, cm(f"o{i}"))
        [path] = set(entries(tmp_path / "p")) - before
        os.utime(path, (1000.0 + i, 1000.0 + i))  # o0 the oldest, o9 the newest
    assert lookup(disk, conn, cm("o0")) is not None  # used: the newest now
    old = {p.name for p in entries(tmp_path / "p")}
    for i in range(10, 12):
        store_one(disk, conn, cm(f"o{i}"))
    disk.evict()
    left = entries(tmp_path / "p")
    assert len(left) == 8  # down to 80 % of the bound
    assert lookup(disk, conn, cm("o0")) is not None
    assert lookup(disk, conn, cm("o11")) is not None
    assert len(old - {p.name for p in left}) == 4
    assert lookup(disk, conn, cm("o1")) is None  # the least recently used went


def test_the_byte_bound_holds(tmp_path: Path) -> None:
    conn = FakeConn(FakeServer())
    disk = DiskPredictions(tmp_path / "p", max_bytes=4096)
    for i in range(40):
        store_one(disk, conn, cm(f"o{i}", value="x" * 200))
    disk.evict()
    assert sum(p.stat().st_size for p in entries(tmp_path / "p")) <= 4096


def test_a_server_that_refuses_the_fingerprint_turns_the_disk_off(tmp_path: Path) -> None:
    server = FakeServer()
    server.fail = "mutatingwebhookconfigurations"
    conn = FakeConn(server)
    obj = cm()
    predict(conn, obj, live_of(obj), PredictionCache(disk=DiskPredictions(tmp_path / "p")))  # type: ignore[arg-type]
    assert conn.applied == 1 and entries(tmp_path / "p") == []


def test_a_custom_kind_whose_crd_cannot_be_read_is_not_cached(tmp_path: Path) -> None:
    server = FakeServer()
    server.fail = "widgets.example.com"
    disk = DiskPredictions(tmp_path / "p")
    store_one(disk, FakeConn(server), cm(kind="Widget"))
    assert entries(tmp_path / "p") == []


def test_no_cache_flag_and_config_turn_it_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITOPS_TUI_CACHE", str(tmp_path))
    on = _prediction_cache_dir(argparse.Namespace(no_cache=False), Settings())
    assert on == tmp_path / "predictions"
    assert _prediction_cache_dir(argparse.Namespace(no_cache=True), Settings()) is None
    assert (
        _prediction_cache_dir(argparse.Namespace(no_cache=False), Settings(prediction_cache=False))
        is None
    )

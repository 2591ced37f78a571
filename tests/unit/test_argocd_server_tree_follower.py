"""The tree stream of the ``--argocd-server`` backend (``argocd/server_trees.py``) with a
small fake transport: line framing, one GET per connect then streamed trees, a dropped
stream reconnecting (GET once, streaming again), the bound on streams, unfollow.
The real Argo CD is in tests/argocd/test_argocd_server_tree_stream.py."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gitops_tui.argocd import server_trees
from gitops_tui.argocd.server_client import ServerApiError
from gitops_tui.argocd.server_trees import TreeFollower, bounded, stream_path, tree_lines
from gitops_tui.argocd.server_views import MAX_NODES, TreeView
from gitops_tui.engine.model import ResourceKey

WEB = ResourceKey("apps", "Deployment", "ns", "web")
WAIT_S = 30.0


def tree(pods: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"group": "apps", "kind": "Deployment", "namespace": "ns", "name": "web", "uid": "d"},
        {
            "group": "apps",
            "kind": "ReplicaSet",
            "namespace": "ns",
            "name": "web-1",
            "uid": "r",
            "parentRefs": [{"uid": "d"}],
        },  # fmt: skip
    ]
    for i in range(pods):
        nodes.append({"kind": "Pod", "namespace": "ns", "name": f"web-1-{i}", "uid": f"p{i}",
                      "parentRefs": [{"uid": "r"}], "health": {"status": "Healthy"}})  # fmt: skip
    return {"nodes": nodes}


def line(body: dict[str, Any]) -> bytes:
    return json.dumps({"result": body}).encode() + b"\n"


def pods(view: TreeView | None) -> int:
    if view is None or WEB not in view.children:
        return -1
    return sum(len(rs.children) for rs in view.children[WEB])


class FakeConn:
    """One stream's connection: what the test puts in ``feed`` is what the body says;
    None ends it, an exception breaks it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.feed: queue.Queue[bytes | BaseException | None] = queue.Queue()
        self.sock = None
        self.closed = threading.Event()
        self.status = 200
        self.chunked = False

    def getresponse(self) -> FakeConn:
        return self

    def read1(self, size: int) -> bytes:
        item = self.feed.get(timeout=WAIT_S)
        if isinstance(item, BaseException):
            raise item
        return item or b""

    def close(self) -> None:
        self.closed.set()
        self.feed.put(None)


class FakeClient:
    def __init__(self) -> None:
        self.tree = tree(1)
        self.gets: list[str] = []
        self.conns: queue.Queue[FakeConn] = queue.Queue()
        self.refuse = False
        self.deny = False

    def connect_stream(self, path: str, *, query: Any, read_timeout: float | None) -> FakeConn:
        if self.refuse:
            raise ServerApiError(0, None, "connection refused")
        conn = FakeConn(path)
        self.conns.put(conn)
        return conn

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        assert method == "GET"
        self.gets.append(path)
        if self.deny:
            raise ServerApiError(403, 7, "permission denied")
        return self.tree


@pytest.fixture
def follower(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TreeFollower, FakeClient, Callable[..., None]]]:  # fmt: skip
    monkeypatch.setattr(server_trees, "MIN_BACKOFF_S", 0.01)
    monkeypatch.setattr(server_trees, "MAX_BACKOFF_S", 0.05)
    client = FakeClient()
    changed = threading.Condition()

    def on_change() -> None:
        with changed:
            changed.notify_all()

    trees = TreeFollower(client, lambda app: [WEB], on_change, max_streams=1,  # type: ignore[arg-type]
                         idle_s=60, refresh_s=3600)  # fmt: skip

    def until(predicate: Callable[[], bool], what: str) -> None:
        with changed:
            assert changed.wait_for(predicate, WAIT_S), what

    yield trees, client, until
    trees.close()


def test_tree_lines_frame_split_chunks_bound_nodes_and_raise_error_lines() -> None:
    data = line(tree(2)) + line(tree(3))
    chunks = iter([data[:7], data[7:50], data[50:]])
    bodies = list(tree_lines(chunks, "/p"))
    assert [len(b["nodes"]) for b in bodies] == [4, 5]
    big = {"nodes": [{"kind": "Pod", "name": str(i)} for i in range(MAX_NODES + 5)]}
    assert len(bounded(big)["nodes"]) == MAX_NODES
    assert bounded("not a tree") == {"nodes": []}
    error = json.dumps({"error": {"grpc_code": 7, "message": "permission denied"}}).encode()
    with pytest.raises(ServerApiError) as exc:
        list(tree_lines(iter([error + b"\n"]), "/p"))
    assert exc.value.denied
    assert stream_path("a b/c") == "/api/v1/stream/applications/a%20b%2Fc/resource-tree"


def test_one_get_per_connect_then_streamed_trees_and_a_dropped_stream_resumes(
    follower: tuple[TreeFollower, FakeClient, Callable[..., None]],
) -> None:
    trees, client, until = follower
    unfollow = trees.follow("web")
    conn = client.conns.get(timeout=WAIT_S)
    assert conn.path == "/api/v1/stream/applications/web/resource-tree"
    until(lambda: pods(trees.view("web")) == 1, "the tree read once at connect")
    assert client.gets == ["/api/v1/applications/web/resource-tree"]

    conn.feed.put(line(tree(3))[:10])  # a tree split across chunks
    conn.feed.put(line(tree(3))[10:])
    until(lambda: pods(trees.view("web")) == 3, "the streamed tree")
    assert len(client.gets) == 1  # streamed, not read

    # dropped: reconnect, read once (what changed meanwhile), stream again
    client.tree = tree(2)
    conn.feed.put(ConnectionResetError("reset by peer"))
    again = client.conns.get(timeout=WAIT_S)
    until(lambda: pods(trees.view("web")) == 2, "the tree read again after the drop")
    assert len(client.gets) == 2
    again.feed.put(line(tree(4)))
    until(lambda: pods(trees.view("web")) == 4, "streaming again")
    assert len(client.gets) == 2

    unfollow()
    assert again.closed.wait(WAIT_S)
    assert trees.view("web") is None and trees.views() == {}


def test_an_unreachable_server_is_retried_and_streams_are_bounded(
    follower: tuple[TreeFollower, FakeClient, Callable[..., None]],
) -> None:
    trees, client, until = follower
    client.refuse = True
    trees.follow("web")
    trees.follow("db")  # max_streams=1: polled by GET
    until(lambda: trees.view("db") is not None, "the second app read by GET")
    assert client.gets == ["/api/v1/applications/db/resource-tree"]
    assert trees.view("web") is None  # its stream cannot connect yet
    client.refuse = False
    conn = client.conns.get(timeout=WAIT_S)  # retried after a pause
    assert conn.path.endswith("/web/resource-tree")
    until(lambda: trees.view("web") is not None, "the first app's tree once connected")
    assert client.conns.empty()  # one stream only
    assert trees.wait_read("web", WAIT_S)


def test_a_refused_tree_is_empty_until_read_and_a_later_refusal_keeps_it(
    follower: tuple[TreeFollower, FakeClient, Callable[..., None]],
) -> None:
    trees, client, until = follower
    client.deny = True
    trees.follow("web")
    until(lambda: trees.view("web") == TreeView(), "the refused tree empty")
    client.deny = False  # asked again after a pause: read
    until(lambda: pods(trees.view("web")) == 1, "the tree once allowed")
    conn = client.conns.get(timeout=WAIT_S)
    while not client.conns.empty():
        conn = client.conns.get()
    # a just restarted server refuses until its informer has synced: the tree stays
    conn.feed.put(json.dumps({"error": {"grpc_code": 7, "message": "denied"}}).encode() + b"\n")
    again = client.conns.get(timeout=WAIT_S)
    assert again is not conn and pods(trees.view("web")) == 1

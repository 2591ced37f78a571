"""The server-side dry-run prediction stays consistent with the cached live object."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.diff.compare import PredictionCache, live_signature, predict
from gitops_tui.engine.model import ResourceKey


class _Conn:
    """The one call ``predict`` makes: a server-side dry-run apply answered by the server."""

    name = "test"

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.calls = 0

    def apply(self, desired: dict[str, Any], *, dry_run: bool, force: bool) -> dict[str, Any]:
        assert dry_run and force
        self.calls += 1
        return self.answer


def _cm(rv: str, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "ns", "resourceVersion": rv, **metadata},
        "data": {"k": "git"},
    }


def test_a_dry_run_against_a_newer_server_object_is_not_diffed_with_the_cached_copy() -> None:
    live = _cm("10", annotations={"rev": "1"})
    live["data"] = {"k": "live"}
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": "git"},
    }
    # the server already holds resourceVersion 11, where another writer set rev: 2
    conn = _Conn(_cm("11", annotations={"rev": "2"}))
    cache = PredictionCache()
    predicted, note = predict(conn, desired, live, cache)  # type: ignore[arg-type]
    assert note == ""
    assert predicted["metadata"]["annotations"] == {"rev": "1"}  # as the cached live has it
    assert predicted["data"] == {"k": "git"}
    # not cached for the old live object: the next compare asks the server again
    fp = PredictionCache.fingerprint(desired)
    assert cache.get("test", ResourceKey.of(desired), fp, live_signature(live)) is None


def test_a_dry_run_of_the_same_version_is_used_and_cached() -> None:
    live = _cm("10")
    live["data"] = {"k": "live"}
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": "git"},
    }
    answer = _cm("10", labels={"defaulted": "by-server"})
    conn = _Conn(answer)
    cache = PredictionCache()
    assert predict(conn, desired, live, cache)[0] is answer  # type: ignore[arg-type]
    assert predict(conn, desired, live, cache)[0] is answer  # type: ignore[arg-type]
    assert conn.calls == 1

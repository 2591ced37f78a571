"""The desired-object index of ``AppTable`` (shared resources, prune safety) and its cost.

Checked against a brute-force model (a scan of every app's desired keys) through
random sequences of apps added, changed and removed; and its work counted (Python
line events in ``controller/state.py``) for N and 4N apps: it must grow linearly.
"""

from __future__ import annotations

import random
import sys
from types import FrameType
from typing import Any

from gitops_tui.engine.app.application import InvalidApplication
from gitops_tui.engine.controller import state as state_module
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import Manifest, ResourceKey


def cm(name: str, namespace: str = "ns") -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
    }


def add_state(table: AppTable, name: str) -> None:
    table.states[name] = AppState(app=InvalidApplication(name=name, origin="test", conditions=()))


def brute_force(
    desired: dict[str, tuple[str, list[Manifest]]],
    live_apps: set[str],
    cluster: str,
    key: ResourceKey,
    app: str,
) -> str | None:
    others = sorted(
        name
        for name, (c, objs) in desired.items()
        if name != app
        and name in live_apps
        and c == cluster
        and any(ResourceKey.of(o) == key for o in objs)
    )
    return others[0] if others else None


def test_shared_object_is_claimed_by_the_other_app_first_by_name() -> None:
    table = AppTable()
    for name in ("c", "a", "b"):
        add_state(table, name)
    with table.lock:
        table.index_desired("c", "k", [cm("shared"), cm("c-only")])
        table.index_desired("b", "k", [cm("shared")])
        table.index_desired("a", "other", [cm("shared")])  # another cluster
    key = ResourceKey.of(cm("shared"))
    assert table.claimed_elsewhere("k", key, "c") == "b"
    assert table.claimed_elsewhere("k", key, "b") == "c"
    assert table.claimed_elsewhere("k", ResourceKey.of(cm("c-only")), "c") is None
    assert table.claims_elsewhere("k", [key, ResourceKey.of(cm("c-only"))], "c") == {
        key: "b",
        ResourceKey.of(cm("c-only")): None,
    }
    assert table.wanting("k", key) == {"b", "c"}


def test_changed_and_removed_apps_update_the_index() -> None:
    table = AppTable()
    for name in ("a", "b"):
        add_state(table, name)
    shared = ResourceKey.of(cm("x"))
    with table.lock:
        table.index_desired("a", "k", [cm("x")])
        table.index_desired("b", "k", [cm("x")])
    assert table.claimed_elsewhere("k", shared, "a") == "b"
    with table.lock:
        table.index_desired("b", "k", [cm("y")])  # b no longer wants x
    assert table.claimed_elsewhere("k", shared, "a") is None
    assert table.claimed_elsewhere("k", ResourceKey.of(cm("y")), "a") == "b"
    with table.lock:
        table.forget_desired("b")
    assert table.claimed_elsewhere("k", ResourceKey.of(cm("y")), "a") is None
    assert table.wanting("k", ResourceKey.of(cm("y"))) == set()
    # an app dropped from the table without forget_desired protects nothing any more
    with table.lock:
        table.index_desired("b", "k", [cm("x")])
        del table.states["b"]
    assert table.claimed_elsewhere("k", shared, "a") is None


def test_index_agrees_with_a_scan_through_random_changes() -> None:
    rng = random.Random(16)
    table = AppTable()
    model: dict[str, tuple[str, list[Manifest]]] = {}
    names = [f"app-{i}" for i in range(12)]
    objects = [cm(f"o{i}", f"ns{i % 2}") for i in range(15)]
    for _step in range(600):
        name = rng.choice(names)
        action = rng.random()
        with table.lock:
            if action < 0.6:
                if name not in table.states:
                    add_state(table, name)
                cluster = rng.choice(["k1", "k2"])
                wanted = rng.sample(objects, rng.randint(0, 5))
                table.index_desired(name, cluster, wanted)
                model[name] = (cluster, wanted)
            elif action < 0.85:
                table.states.pop(name, None)
                table.forget_desired(name)
                model.pop(name, None)
            else:
                table.states.pop(name, None)  # removed without forget_desired
        live = set(table.states)
        for probe in rng.sample(objects, 4):
            key = ResourceKey.of(probe)
            app = rng.choice(names)
            for cluster in ("k1", "k2"):
                expected = brute_force(model, live, cluster, key, app)
                assert table.claimed_elsewhere(cluster, key, app) == expected
                assert table.claims_elsewhere(cluster, [key], app) == {key: expected}


def _compare_round_lines(n: int) -> int:
    """Python lines run in controller/state.py for one compare round of n apps (10
    objects each, one shared with a neighbour): index, then every key's claim."""
    table = AppTable()
    fleet: dict[str, list[Manifest]] = {}
    for i in range(n):
        name = f"app-{i:05d}"
        add_state(table, name)
        fleet[name] = [cm(f"{name}-{j}", f"ns{i % 20}") for j in range(9)]
        fleet[name].append(cm(f"shared-{i // 2}", "shared"))
    lines = 0
    target = state_module.__file__

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal lines
        if frame.f_code.co_filename != target:
            return None
        if event == "line":
            lines += 1
        return tracer

    sys.settrace(tracer)
    try:
        for name, objs in fleet.items():
            with table.lock:
                table.index_desired(name, "k", objs)
        for name, objs in fleet.items():
            table.claims_elsewhere("k", [ResourceKey.of(o) for o in objs], name)
    finally:
        sys.settrace(None)
    return lines


def test_index_and_claims_work_grows_linearly_with_the_fleet() -> None:
    small, large = _compare_round_lines(100), _compare_round_lines(400)
    assert small > 0
    assert large <= 4.2 * small, (small, large)  # a scan of the fleet per key: ~16x

"""The incremental fleet build (``FleetBuilder``) equals a full ``FleetSnapshot.build``
over random change sequences, patches instead of rebuilding, and never changes a
snapshot it already returned."""

from __future__ import annotations

import random

from gitops_tui.engine.controller.fleet_builder import FleetBuilder, same_content
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import AppSnapshot, Destination, FleetSnapshot


def snap(name: str, rng: random.Random) -> AppSnapshot:
    return AppSnapshot(
        name=name,
        project="default",
        sync=rng.choice(list(SyncStatus)),
        health=rng.choice(list(HealthStatus)),
        health_message="",
        revision="",
        target_revision="main",
        repo_url="https://git.example/r.git",
        path=name,
        destination=Destination("https://kubernetes.default.svc", "", "ns"),
        compared_at=rng.random(),
    )


def check(builder: FleetBuilder, generation: int, table: dict[str, AppSnapshot]) -> FleetSnapshot:
    names, apps = list(table), list(table.values())
    got = builder.build(generation, names, apps, read_only=False)
    want = FleetSnapshot.build(generation, apps, read_only=False)
    assert same_content(got, want)
    assert got.apps == want.apps and got.counts() == want.counts()
    assert list(got.by_name) == list(want.by_name)  # same order as a full build's map
    assert got.generation == generation
    return got


def test_incremental_build_equals_full_build_over_random_changes() -> None:
    rng = random.Random(16)
    for _round in range(20):
        names = [f"app-{i:04d}" for i in rng.sample(range(400), rng.choice([1, 2, 5, 60]))]
        table = {n: snap(n, rng) for n in names}
        builder = FleetBuilder()
        for generation in range(1, 80):
            before = check(builder, generation, table)
            frozen = (before.apps, dict(before.by_name), before.counts())
            roll = rng.random()
            if roll < 0.05 and table:  # an app goes
                del table[rng.choice(list(table))]
            elif roll < 0.1:  # an app comes
                name = f"app-{rng.randrange(400):04d}"
                table[name] = snap(name, rng)
            elif roll < 0.12 and table:  # a snapshot under another name than its key
                key = rng.choice(list(table))
                table[key] = snap(f"renamed-{rng.randrange(9)}", rng)
            else:  # some apps get new snapshots (maybe with the same statuses)
                for key in rng.sample(list(table), min(len(table), rng.randrange(4))):
                    table[key] = snap(table[key].name, rng)
            check(builder, generation + 1000, table)
            # what was returned before is never changed by a later build
            assert (before.apps, dict(before.by_name), before.counts()) == frozen


def test_unchanged_names_are_patched_not_rebuilt() -> None:
    rng = random.Random(5)
    table = {f"a{i}": snap(f"a{i}", rng) for i in range(500)}
    builder = FleetBuilder()
    check(builder, 1, table)
    for generation in range(2, 50):
        for key in rng.sample(list(table), 5):
            table[key] = snap(key, rng)
        check(builder, generation, table)
    assert builder.full_builds == 1
    table["new"] = snap("new", rng)
    check(builder, 99, table)
    assert builder.full_builds == 2


def test_nothing_changed_shares_the_last_build() -> None:
    rng = random.Random(7)
    table = {f"a{i}": snap(f"a{i}", rng) for i in range(50)}
    builder = FleetBuilder()
    first = check(builder, 1, table)
    second = check(builder, 2, table)
    assert second.apps is first.apps and second.by_name is first.by_name

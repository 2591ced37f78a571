"""Micro-benchmark of ``Reconciler._signature`` (issue 16): the compare signature of one
fleet app (its 10 objects, as benchmarks/fixtures.py makes them) against a live cache
holding them; microseconds per call.

    .venv/bin/python -m benchmarks.micro.compare_signature

Only ``Reconciler._signature`` and ``AppTable`` are used (PYTHONPATH=<an older tree> for
a before/after on the same machine); the live cache is a dict with the cache's surface."""

from __future__ import annotations

import copy
import sys
import time
import timeit
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks.fixtures import app_objects
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.reconcile import Reconciler
from gitops_tui.engine.controller.state import AppTable
from gitops_tui.engine.model import ResourceKey


def main() -> None:
    name = "app-00042"
    desired = app_objects(name, 2)
    for obj in desired:
        meta = obj["metadata"]
        meta["namespace"] = name
        meta.setdefault("annotations", {})["argocd.argoproj.io/tracking-id"] = f"{name}:x"
    live: dict[ResourceKey, Any] = {}
    for i, obj in enumerate(desired):
        copy_ = copy.deepcopy(obj)
        copy_["metadata"].update(resourceVersion=str(1000 + i), uid=f"uid-{i}")
        live[ResourceKey.of(copy_)] = copy_
    cache = SimpleNamespace(
        claimed_by=lambda app: list(live.values()),
        get=live.get,
        children_of=lambda uid: [],
        reachable=True,
    )
    conn = SimpleNamespace(name="ctx", cache=cache)
    table = AppTable()
    table.states[name] = None  # type: ignore[assignment]
    table.index_desired(name, "ctx", desired)
    fake_self = SimpleNamespace(
        _table=table,
        _policy=ReadOnlyPolicy(),
        _links=SimpleNamespace(customizations_fingerprint="f"),
    )
    app = SimpleNamespace(name=name, ignore_differences=())

    def call() -> str:
        return Reconciler._signature(fake_self, app, conn, desired, [])  # type: ignore[arg-type]

    n = 2000
    best = min(timeit.Timer(call, timer=time.process_time).repeat(number=n, repeat=5)) / n
    where = Path(sys.modules[Reconciler.__module__].__file__ or "").parents[3]
    print(f"_signature: {best * 1e6:.1f} us per call (10-object app; gitops_tui of {where})")


if __name__ == "__main__":
    main()

"""The render and prediction caches hold the whole fleet (scaling, round 6).

At 5,000 apps the manifest cache (4,096 entries) evicted each app's manifests
just before the next full re-compare needed them (least recently used under a
cyclic pass): every warm re-compare rendered every app, 3.8x the per-app time of
1,000 apps. The engine now fits both caches to the fleet it holds.
"""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.diff.compare import PredictionCache
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.source.sources import ManifestCache


def cm(i: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}}


def test_a_pass_over_more_apps_than_the_limit_misses_every_one_unless_fitted() -> None:
    keys = [(f"app-{i}", "tree:x") for i in range(10)]
    small = ManifestCache(limit=4)
    fitted = ManifestCache(limit=4)
    fitted.fit(len(keys))
    for cache in (small, fitted):
        for key in keys:
            cache.put(key, (cm(0),))
    assert [small.get(k) is not None for k in keys].count(True) == 4
    assert all(fitted.get(k) is not None for k in keys)  # the second pass finds them all


def test_fit_never_goes_below_the_initial_limit() -> None:
    cache = ManifestCache(limit=8)
    cache.fit(2)
    for i in range(8):
        cache.put((f"app-{i}",), (cm(i),))
    assert all(cache.get((f"app-{i}",)) is not None for i in range(8))


def test_predictions_of_a_fleet_larger_than_the_limit_survive_a_pass_once_fitted() -> None:
    keys = [ResourceKey("", "ConfigMap", "ns", f"c{i}") for i in range(20)]
    small = PredictionCache(limit=5)
    fitted = PredictionCache(limit=5)
    fitted.fit(len(keys))
    for cache in (small, fitted):
        for i, key in enumerate(keys):
            cache.put("ctx", key, "fp", "live", cm(i))
    assert sum(small.get("ctx", k, "fp", "live") is not None for k in keys) == 5
    assert all(fitted.get("ctx", k, "fp", "live") is not None for k in keys)


def test_the_render_cache_is_fitted_to_rendering_sources_not_apps() -> None:
    """The render cache holds one entry per source that renders manifests: 3,000 apps of
    two sources each need 6,000 entries, not 3,750 (apps plus a quarter)."""
    from gitops_tui.engine.controller.state import AppTable

    table = AppTable()
    with table.lock:
        table.index_desired("a", "k", [cm(1)], sources=2)
        table.index_desired("b", "k", [cm(2)], sources=3)
        assert table.rendered_sources() == 5
        table.index_desired("a", "k", [cm(1)], sources=1)  # a source removed from a
        assert table.rendered_sources() == 4
        table.forget_desired("b")
        assert table.rendered_sources() == 1
        table.forget_desired("b")  # twice: nothing more to take away
        assert table.rendered_sources() == 1

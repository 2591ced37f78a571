"""The benchmark report builders (``benchmarks/figures.py``): ratios and verdicts.

Pure logic, no timing: the figures a scenario measures go in, the recorded values,
targets and met/not-met come out.
"""

from __future__ import annotations

import pytest

from benchmarks.figures import (
    ArgoMeasures,
    ScalePoint,
    appset_specs,
    argocd_specs,
    check,
    engine_usage_specs,
    ratio,
    scaling_specs,
    tui_backend_ratio_specs,
    tui_specs,
)


def by_name(specs, fragment):  # type: ignore[no-untyped-def]
    found = [s for s in specs if fragment in s.name]
    assert len(found) == 1, [s.name for s in specs]
    return found[0]


def test_check_and_ratio() -> None:
    assert check(1.0, "<", 2.0) is True
    assert check(2.0, "<", 2.0) is False
    assert check(1.3, "<=", 1.3) is True
    assert check(None, "<", 1.0) is None
    assert check(5.0, "", 0.0) is None  # no target: reported, not judged
    with pytest.raises(ValueError):
        check(1.0, "~", 1.0)
    assert ratio(6.0, 2.0) == 3.0
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 2.0) is None


def test_engine_rss_is_judged_at_1000_apps_only() -> None:
    usage = {"cpu_s": 12.5, "peak_rss_mib": 400.0}  # 419.4 MB
    at_1000 = engine_usage_specs("scenario 6", usage, 1000)
    rss = by_name(at_1000, "peak RSS")
    assert rss.unit == "MB"
    assert rss.value == pytest.approx(419.43, abs=0.01)
    assert rss.met is False
    assert by_name(at_1000, "CPU seconds").value == 12.5
    assert by_name(at_1000, "CPU seconds").met is None
    assert by_name(engine_usage_specs("s", {"cpu_s": 1, "peak_rss_mib": 300.0}, 1000), "RSS").met
    at_100 = by_name(engine_usage_specs("scenario 6", usage, 100), "peak RSS")
    assert at_100.met is None
    assert "1000 apps" in at_100.target_text


def point(apps: int, cold: float, rss: float) -> ScalePoint:
    return ScalePoint(
        apps=apps, cold_s=cold, warm_s=cold / 10, first_sync_s=cold * 3,
        cold_rss_mib=rss, first_sync_rss_mib=rss * 2,
    )  # fmt: skip


def test_scaling_ratio_of_per_app_cost_largest_over_second_largest() -> None:
    points = [point(100, 5.0, 10.0), point(1000, 40.0, 100.0), point(5000, 260.0, 400.0)]
    specs = scaling_specs(points, base=1000, top=5000)
    time_ratio = by_name(specs, "cold start, time per app: 5000 / 1000")
    # 260 s / 5000 = 52 ms/app; 40 s / 1000 = 40 ms/app: 1.3x, just inside
    assert time_ratio.value == pytest.approx(1.3)
    assert time_ratio.met is True
    memory = by_name(specs, "scenario 1 engine memory per app: 5000 / 1000")
    assert memory.value == pytest.approx(0.8)  # 400 MiB / 5000 vs 100 MiB / 1000
    assert memory.met is True
    per_app = by_name(specs, "scenario 6 first sync, time per app at 100 apps")
    assert per_app.value == pytest.approx(150.0)  # 15 s / 100 apps in ms
    worse = scaling_specs(
        [point(1000, 40.0, 100.0), point(5000, 261.0, 100.0)], base=1000, top=5000
    )
    assert by_name(worse, "cold start, time per app: 5000").met is False


def test_scaling_without_both_sizes_has_no_ratio() -> None:
    specs = scaling_specs([point(100, 5.0, 10.0)], base=1000, top=5000)
    assert not [s for s in specs if " / " in s.name]


def test_argocd_ratios_are_peer_over_local() -> None:
    m = ArgoMeasures(
        apps=100,
        compare_s={"argocd": 30.0, "local": 10.0},
        synced_s={"argocd": 50.0, "local": None},
        commit_s={
            "argocd_poll": {"p50": 20.0, "p95": 28.0},
            "argocd_refresh": {"p50": 2.0, "p95": 3.0},
            "local": {"p50": 0.5, "p95": 0.9},
        },
        usage={
            "argocd": {"cpu_s": 90.0, "peak_rss_mib": 600.0},
            "local": {"cpu_s": 30.0, "peak_rss_mib": 200.0},
        },
        poll_period_s=30.0,
    )
    specs = argocd_specs(m)
    assert by_name(specs, "every app compared: Argo CD time / local").value == 3.0
    assert by_name(specs, "every app Synced: Argo CD time / local").value is None  # local failed
    assert by_name(specs, "Argo CD, polling only / local").value == 40.0
    assert by_name(specs, "Argo CD, refresh annotation / local").value == 4.0
    assert by_name(specs, "CPU seconds: Argo CD / local").value == 3.0
    assert by_name(specs, "peak RSS: Argo CD / local").value == 3.0
    assert "every 30 s" in by_name(specs, "polling only, p50").note
    assert all(s.met is None for s in specs)  # issue 13 gives ratios, no targets


def test_tui_targets_of_scenario_7() -> None:
    result = {
        "apps": 2000,
        "first_paint_s": 0.4,
        "start_to_paint_s": 2.5,
        "key_latency_ms": {"n": 100, "p50": 12.0, "p95": 31.0},
        "peak_rss_mib": 140.0,  # 146.8 MB
        "churn": {"patches_per_s": 150.0},
    }
    specs = tui_specs(result, "the Argo CD backend")
    assert by_name(specs, "first paint").met is True
    assert by_name(specs, "first paint").detail["start_to_paint_s"] == 2.5
    keys = by_name(specs, "key press")
    assert keys.value == 31.0 and keys.met is False
    assert keys.detail["churn"] == {"patches_per_s": 150.0}
    assert by_name(specs, "peak RSS").met is True


def test_appset_figures_report_time_and_rss_with_failures_noted() -> None:
    runs = {
        "preview": {"wall_s": 3.2, "peak_rss_mib": 180.0, "exit": 0},
        "apply": {"wall_s": 40.0, "peak_rss_mib": 200.0, "exit": 2},
    }
    specs = appset_specs(1000, runs)
    assert [s.value for s in specs] == [3.2, 180.0, 40.0, 200.0]
    assert by_name(specs, "apply, wall time").note == "exit code 2"
    assert by_name(specs, "preview, wall time").note == ""
    assert all(s.met is None for s in specs)


def test_a_scaling_point_is_read_from_a_child_report() -> None:
    from benchmarks.scaling import point_from_report

    def fig(scenario: int, name: str, value: float, detail: dict | None = None) -> dict:  # type: ignore[type-arg]
        return {"scenario": scenario, "name": name, "value": value, "detail": detail or {}}

    sync_usage = {"cpu_s": 50.0, "above_baseline_mib": 120.0}
    s1_usage = {"cpu_s": 9.0, "above_baseline_mib": 90.0,
                "cold_start_only": {"cpu_s": 7.0, "above_baseline_mib": 80.0}}  # fmt: skip
    report = {
        "sizes": {"apps": 200},
        "figures": [
            fig(1, "cold start to every status known (200 apps)", 12.0),
            fig(1, "warm full re-compare (200 apps, median of 3)", 0.4),
            fig(1, "engine CPU seconds, scenario 1 ...", 9.0, s1_usage),
            fig(1, "engine peak RSS, scenario 1 ...", 300.0, s1_usage),
            fig(6, "first sync of 200 apps x 10 objects (start to every app Synced)", 90.0),
            fig(6, "engine peak RSS, scenario 6 first sync (200 apps)", 330.0, sync_usage),
        ],
    }
    p = point_from_report(report)
    assert (p.apps, p.cold_s, p.warm_s, p.first_sync_s) == (200, 12.0, 0.4, 90.0)
    assert (p.cold_rss_mib, p.first_sync_rss_mib) == (80.0, 120.0)  # the engine's share
    assert p.per_app()["first_sync_kib_per_app"] == pytest.approx(120.0 * 1024 / 200)
    report["figures"][0]["value"] = None  # a failed scenario: no point
    with pytest.raises(ValueError):
        point_from_report(report)


def test_the_console_over_argocd_is_compared_with_scenario_7_in_the_same_run() -> None:
    argocd = {"first_paint_s": 3.0, "key_latency_ms": {"p95": 90.0}}
    synthetic = {"first_paint_s": 0.5, "key_latency_ms": {"p95": 30.0}}
    specs = tui_backend_ratio_specs(argocd, synthetic)
    assert by_name(specs, "first paint").value == 6.0
    assert by_name(specs, "key press p95").value == 3.0
    assert by_name(tui_backend_ratio_specs(argocd, {}), "first paint").value is None

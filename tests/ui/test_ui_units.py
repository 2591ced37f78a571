"""The UI's pure parts: filter language, sorting, glyphs, diff rows, plan rows, commands."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fake_engine import FakeEngine, payments

from gitops_tui.engine.api import EngineError, ReadOnlyError, SyncRequest
from gitops_tui.engine.diff.resource_diff import ResourceDiff, diff_resource
from gitops_tui.engine.model import ResourceKey, SyncStatus
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.app_cells import app_cells, automation_flags
from gitops_tui.ui.commands import CommandError, available_verbs, parse_command_line
from gitops_tui.ui.filtering import SORT_ORDER, SORTS, AppFilter, FilterError, next_sort
from gitops_tui.ui.modals.prune import deletions, prune_rows
from gitops_tui.ui.modals.sync import plan_rows
from gitops_tui.ui.styles import SHEETS, css_paths
from gitops_tui.ui.symbols import ASCII, UNICODE, glyphs_for, sync_text, want_ascii
from gitops_tui.ui.widgets.diff_view import classify, split_rows, unified_rows
from gitops_tui.ui.widgets.header import header_text
from gitops_tui.ui.workers import describe_error

APPS = [a.snapshot for a in FakeEngine().apps.values()]


def names(apps: list) -> list[str]:
    return sorted(a.name for a in apps)


# -- filter -------------------------------------------------------------------------------


def test_empty_filter_matches_everything() -> None:
    assert not AppFilter.parse("  ").active
    assert names(AppFilter.parse("").apply(APPS)) == names(APPS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("guest", ["guestbook"]),
        ("GUEST", ["guestbook"]),
        ("sync:OutOfSync", ["frontend", "guestbook"]),
        ("sync:out", ["frontend", "guestbook"]),
        ("health:Degraded", ["payments"]),
        ("health:degraded health:missing", ["legacy-batch", "payments"]),
        ("project:fin", ["payments"]),
        ("cluster:edge", ["legacy-batch"]),
        ("cluster:prod.example", ["payments"]),
        ("ns:monitor", ["monitoring"]),
        ("sync:OutOfSync health:Healthy", ["guestbook"]),
        ("!sync:Synced", ["frontend", "guestbook", "legacy-batch"]),
        ("!guest !front", ["legacy-batch", "monitoring", "payments"]),
        ("nothing-matches-this", []),
    ],
)
def test_filter_terms(text: str, expected: list[str]) -> None:
    assert names(AppFilter.parse(text).apply(APPS)) == expected


@pytest.mark.parametrize("text", ["colour:red", "sync:", "!health:"])
def test_bad_filter_terms_are_refused(text: str) -> None:
    with pytest.raises(FilterError):
        AppFilter.parse(text)


def test_sorts_put_problems_first_and_cycle() -> None:
    by = {key: [a.name for a in sorted(APPS, key=SORTS[key][1])] for key in SORTS}
    assert by["name"] == sorted(a.name for a in APPS)
    assert by["sync"][:2] == ["frontend", "guestbook"]  # OutOfSync first
    assert by["health"][0] == "payments"  # Degraded before Missing before Progressing
    assert by["health"][:3] == ["payments", "legacy-batch", "frontend"]
    assert by["last_sync"][0] == "payments"  # Failed first
    assert [next_sort(s) for s in SORT_ORDER] == [*SORT_ORDER[1:], SORT_ORDER[0]]


# -- glyphs, header, cells ----------------------------------------------------------------


def test_ascii_glyphs_are_ascii_and_complete() -> None:
    for table in (ASCII.sync, ASCII.health, ASCII.phase, ASCII.result, ASCII.action):
        assert all(glyph.isascii() for glyph in table.values())
    for field in ("sync", "health", "phase", "result", "action"):
        assert set(getattr(ASCII, field)) == set(getattr(UNICODE, field))


def test_want_ascii() -> None:
    assert want_ascii({"GITOPS_TUI_ASCII": "1"}, "utf-8")
    assert not want_ascii({"GITOPS_TUI_ASCII": "0"}, "ascii")
    assert want_ascii({}, "ANSI_X3.4-1968")
    assert not want_ascii({}, "UTF-8")


def test_status_reads_without_colour() -> None:
    assert sync_text(UNICODE, SyncStatus.OUT_OF_SYNC).plain == "↻ OutOfSync"
    assert sync_text(ASCII, SyncStatus.SYNCED).plain == "= Synced"


def test_header_counts_and_read_only() -> None:
    fleet = FakeEngine().snapshot()
    text = header_text(fleet, UNICODE, read_only=True, shown=2).plain
    assert "READ-ONLY" in text
    assert "2/5 apps" in text
    assert "✓ 2 Synced" in text and "↻ 2 OutOfSync" in text and "✗ 1 Degraded" in text
    assert "edge-1 unreachable" in text
    assert "READ-ONLY" not in header_text(fleet, ASCII, read_only=False).plain


def test_header_names_the_backend_sanitised() -> None:
    fleet = FakeEngine().snapshot()
    text = header_text(fleet, UNICODE, read_only=False, where="Argo CD argocd @ prod\x1b]0;x\x07")
    assert "Argo CD argocd @ prod\\x1b]0;x\\x07" in text.plain
    assert "\x1b" not in text.plain


def test_the_header_says_which_backend_does_the_work() -> None:
    class ArgoLike(FakeEngine):
        backend_label = "Argo CD argocd @ prod"

    assert GitOpsApp(FakeEngine()).where()[0] == "local"
    assert GitOpsApp(ArgoLike()).where()[0] == "Argo CD argocd @ prod"


def test_app_cells() -> None:
    pay = payments().snapshot
    cells = app_cells(pay, UNICODE)
    assert cells[0] == "payments"
    assert cells[1].plain == "✓ Synced"
    assert cells[2].plain == "✗ Degraded"
    assert cells[4] == "9e8d7c6"
    assert cells[5] == automation_flags(pay) == "APH"
    assert cells[6].plain == "✗ Failed"
    assert cells[8].plain == "▲ SyncError"
    assert automation_flags(replace(pay, auto_prune=False, self_heal=False)) == "A--"


# -- diffs --------------------------------------------------------------------------------


def _diffs(context: int = 3) -> list[ResourceDiff]:
    return FakeEngine().diffs("guestbook", context=context)


def test_unified_rows_classify_lines() -> None:
    rows = unified_rows(_diffs(), compact=True)
    kinds = {kind for kind, *_ in rows}
    assert {"header", "file", "hunk", "add", "remove", "context"} <= kinds
    assert ("remove", "-  GREETING: hi") in rows and ("add", "+  GREETING: hello") in rows
    assert classify("@@ -1 +1 @@") == "hunk"
    assert classify("+++ desired/x") == "file"


def test_in_sync_resource_shows_a_note_and_full_yaml_only_in_full_mode() -> None:
    svc = next(d for d in _diffs() if d.key.kind == "Service")
    assert not svc.modified
    compact = unified_rows([svc], compact=True)
    full = unified_rows([svc], compact=False)
    assert ("note", "No differences: in sync.") in compact
    assert len(full) > len(compact)
    assert unified_rows([], compact=True) == [
        ("note", "No differences: every resource is in sync.")
    ]


def test_split_rows_mark_sides_and_fold_unchanged_runs() -> None:
    key = ResourceKey("", "ConfigMap", "ns", "big")
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big", "namespace": "ns"}}
    live["data"] = {f"k{i:02}": "v" for i in range(30)}
    desired = {**live, "data": {**live["data"], "k15": "changed"}}
    diff = diff_resource(key, desired, live)
    compact = split_rows([diff], 40, compact=True)
    full = split_rows([diff], 40, compact=False)
    assert any(row[0] == "fold" for row in compact)
    assert not any(row[0] == "fold" for row in full)
    changed = [row for row in compact if row[0] == "split" and row[1] == "replace"]
    assert changed and "k15: v" in changed[0][2] and "k15: changed" in changed[0][3]


# -- plans --------------------------------------------------------------------------------


def test_plan_rows_follow_waves() -> None:
    preview = FakeEngine().preview(SyncRequest("guestbook", prune=True))
    rows = plan_rows(preview, UNICODE)
    first = rows["1"]
    assert first[1] == "PreSync -1" and first[2].plain == "◆ Hook"
    assert rows["2"][1] == "Sync 0"
    assert all(row[1] == "" for key, row in rows.items() if int(key) > 2)
    assert [r[3] for r in rows.values()].count("ConfigMap guestbook/old-config") == 1


def test_prune_rows_list_exactly_the_prunes() -> None:
    preview = FakeEngine().preview(SyncRequest("guestbook", prune=True))
    rows = prune_rows(preview, UNICODE)
    assert sorted(r[3 - 1] for r in rows.values()) == [
        "ConfigMap guestbook/keep-me",
        "ConfigMap guestbook/old-config",
    ]
    assert deletions(preview) == {ResourceKey("", "ConfigMap", "guestbook", "old-config")}


# -- commands, errors, styles -------------------------------------------------------------


def test_parse_command_line() -> None:
    assert parse_command_line(":sync guestbook").verb == "sync"
    assert parse_command_line(":sync guestbook").argument == "guestbook"
    assert parse_command_line("refresh!").verb == "hard_refresh"
    assert parse_command_line(":q").verb == "quit"
    assert parse_command_line(":filter health:Degraded sync:OutOfSync").argument == (
        "health:Degraded sync:OutOfSync"
    )
    with pytest.raises(CommandError):
        parse_command_line(":frobnicate")
    with pytest.raises(CommandError):
        parse_command_line(":")


def test_read_only_verbs_exclude_mutations() -> None:
    ids = {v.id for v in available_verbs(read_only=True)}
    assert ids.isdisjoint({"sync", "prune", "terminate"})
    assert {"sync", "prune", "terminate"} <= {v.id for v in available_verbs(read_only=False)}


def test_describe_error() -> None:
    assert describe_error("sync", ReadOnlyError("sync"))[1] == "warning"
    assert describe_error("sync", EngineError("busy")) == ("sync: busy", "error")
    text, severity = describe_error("diff", RuntimeError("boom"))
    assert severity == "error" and "RuntimeError" in text and "boom" in text
    assert "Traceback" not in text


def test_stylesheets_are_found() -> None:
    paths = css_paths()
    assert [p.name for p in paths] == list(SHEETS)
    assert all(p.is_file() for p in paths)


def test_glyphs_for() -> None:
    assert glyphs_for(True) is ASCII and glyphs_for(False) is UNICODE


# -- resolved clusters and automation status (issue 18) ----------------------------------


def test_cluster_filter_matches_the_resolved_context_of_a_server_destination() -> None:
    from gitops_tui.engine.snapshot import Destination

    base = APPS[0]
    by_server = replace(
        base,
        name="by-server",
        destination=Destination("https://10.0.0.7:6443", "", "web", context="staging"),
    )
    in_cluster = replace(
        base,
        name="in-cluster-app",
        destination=Destination("https://kubernetes.default.svc", "", "web", context="dev"),
    )
    apps = [by_server, in_cluster]
    assert names(AppFilter.parse("cluster:staging").apply(apps)) == ["by-server"]
    assert names(AppFilter.parse("cluster:dev").apply(apps)) == ["in-cluster-app"]
    assert names(AppFilter.parse("cluster:in-cluster").apply(apps)) == ["in-cluster-app"]
    # the in-cluster address names the kube context it means
    assert "in-cluster (dev)/web" in app_cells(in_cluster, UNICODE)


def test_app_view_summary_says_what_holds_automation_back() -> None:
    import time

    from gitops_tui.engine.snapshot import AutomationStatus
    from gitops_tui.ui.screens.app_view import app_summary

    at = 1_800_000_000.0
    waiting = replace(
        APPS[0],
        automation=AutomationStatus("self-heal", "self-heal attempt 3 waits", 3, next_at=at),
    )
    clock = time.strftime("%H:%M:%S", time.localtime(at))
    assert (
        f"self-heal attempt 3 waits (backoff) until {clock}" in app_summary(waiting, UNICODE).plain
    )
    refused = replace(APPS[0], automation=AutomationStatus("refused", "x"))
    assert "allowEmpty is off" in app_summary(refused, UNICODE).plain
    assert "self-heal" not in app_summary(APPS[0], UNICODE).plain

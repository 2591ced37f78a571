"""Under churn the header sends only the cells that changed (its counts), not its whole
line: at 200 columns that was about 340 bytes a second of 7b's 2 KB/s budget."""

from __future__ import annotations

from typing import Any

from fake_engine import FakeEngine
from rich.text import Text
from uitest import wait_for

from gitops_tui.engine.model import SyncStatus
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.widgets.header import FleetHeader, changed_span

WIDE = (200, 30)


async def test_a_count_change_sends_the_counts_cells_only(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        header = app.screen.query_one(FleetHeader)
        await wait_for(pilot, lambda: "5 apps" in header.plain)
        spans: list[tuple[int, int, int]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            spans.extend(getattr(renderable, "spans", None) or [(0, 0, WIDE[0])])

        app._display = display  # type: ignore[method-assign]
        before = header.paints
        engine.update_app("monitoring", sync=SyncStatus.OUT_OF_SYNC)
        newest = f"↻ {engine.snapshot().counts()['OutOfSync']} OutOfSync"
        await wait_for(pilot, lambda: newest in header.plain and header.paints > before, 10)
        await pilot.pause()
        y = header.region.y
        on_header = [(x0, x1) for row, x0, x1 in spans if row == y]
        assert on_header, spans
        start = header.content_region.x + header.plain.index("✓")
        # from the first changed count to the end of the text, not the whole line
        assert all(
            x0 >= start and x1 <= header.content_region.x + len(header.plain) + 1
            for x0, x1 in on_header
        ), (on_header, start)
        # and the line on screen is the new one
        assert newest in "".join(s.text for s in header.render_lines(header.region.reset_offset))


def test_changed_span_is_the_cells_from_the_first_difference() -> None:
    a, b = Text("apps │ ✓ 12 Synced"), Text("apps │ ✓ 9 Synced")
    assert changed_span(a, b) == (len("apps │ ✓ "), len("apps │ ✓ 12 Synced"))
    assert changed_span(a, a.copy()) is None  # nothing differs: nothing to draw
    styled = Text("apps │ ✓ 9 Synced")
    styled.stylize("bold", 0, 4)  # the common start looks different: the whole line
    assert changed_span(a, styled) is None
    assert changed_span(Text("a\nb"), Text("a\nc")) is None


def test_the_benchmarks_engine_gives_the_header_of_the_local_console() -> None:
    """Scenario 7's header is the real one (``local · ctx sandbox``): the synthetic
    engine once answered ``backend_label`` with a method, whose repr (100 columns)
    went to the terminal with every header paint and inflated 7b."""
    from benchmarks.synthetic import SyntheticEngine

    app = GitOpsApp(SyntheticEngine(3))  # type: ignore[arg-type]
    assert app.where()[0] == "local"  # the kube context follows once the app runs

"""Changed diff lines are the most readable lines (issue 15, defect 6).

The contrast ratio (WCAG 2 relative luminance) of each diff line's text on its
background, as the view renders it, in the dark and the light theme, in truecolour
and downgraded to the 256-colour palette the way the terminal driver does.
"""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine
from rich.color import Color as RichColor
from rich.color import ColorSystem
from test_ui_app_view import move_to, open_app
from textual.geometry import Region

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.widgets.diff_view import DiffView

MIN_CHANGED = 7.0  # WCAG AAA for normal text


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rgb(color: RichColor, system: ColorSystem) -> tuple[int, int, int]:
    triplet = color.downgrade(system).get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


def kind(text: str) -> str:
    if text.startswith(("+++", "---", "=====", "@@")):
        return "header"
    return {"+": "changed", "-": "changed", " ": "context"}.get(text[:1], "other")


async def measure(theme: str, system: ColorSystem) -> dict[str, list[float]]:
    app = GitOpsApp(FakeEngine())
    ratios: dict[str, list[float]] = {}
    async with app.run_test(size=(100, 40)) as pilot:
        app.theme = theme
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "Deployment")
        await pilot.pause()
        view = screen.query_one(DiffView)
        assert not view.split
        for strip in view.render_lines(Region(0, 0, view.size.width, view.size.height)):
            text = "".join(segment.text for segment in strip)
            if not text.strip():
                continue
            segment = next(s for s in strip if s.text.strip())
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            ratio = contrast(_rgb(style.color, system), _rgb(style.bgcolor, system))
            ratios.setdefault(kind(text), []).append(ratio)
    return ratios


@pytest.mark.parametrize("system", [ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT])
@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_changed_lines_have_the_most_contrast(theme: str, system: ColorSystem) -> None:
    ratios = await measure(theme, system)
    changed, context = ratios["changed"], ratios["context"]
    assert len(changed) >= 2 and context
    assert min(changed) >= MIN_CHANGED, (theme, system, ratios)
    assert min(changed) >= max(context), (theme, system, ratios)
    assert min(context) >= 4.5, (theme, system, ratios)  # context stays readable (AA)

"""Regenerate the screenshots in screenshots/ from the real app against the demo.

    .venv/bin/python scripts/export_screenshots.py [--dir DEMO_DIR] [--out screenshots] [--no-png]

It prepares the demo (sandbox, sample Git repo, Application manifests) exactly as
``make demo`` does, starts the real engine on it, drives the console headless,
and saves what the terminal shows: the application list, the app view with its
resource tree and diff, live YAML, events, a pod's log (lines written into the
sandbox's simulated containers), the action menu of a Deployment, the
sync dialog with its plan, the prune confirmation, and the help screen.

Each is written as SVG (what Textual exports) and as PNG (``cairosvg``, over the
system's libcairo): SVG viewers differ (some collapse runs of spaces, some lack
the web font the SVG names), a PNG looks the same everywhere. The PNG is drawn
with the machine's monospace font (DejaVu Sans Mono where installed): the SVG's
``Fira Code`` is a web font that cairo cannot fetch, and cairo's fallback for an
unknown family is a proportional font, which would misalign the columns.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from gitops_tui.demo import prepare
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.paths import state_dir
from gitops_tui.sandbox.podlogs import append_pod_log
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.actions import ActionMenuModal
from gitops_tui.ui.modals.delete_app_resources import DeleteAppResourcesModal
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.events import EventsScreen
from gitops_tui.ui.screens.live_object import LiveObjectScreen
from gitops_tui.ui.screens.pod_logs import PodLogsScreen

SIZE = (120, 34)
LOG_LINES = [
    'level=info msg="starting web server" addr=:8080 version=1.4.2',
    'level=info msg="connected to cache" host=redis:6379 latency_ms=3',
    'level=info msg="GET /healthz" status=200 duration_ms=1',
    'level=info msg="GET /api/items" status=200 duration_ms=14',
    'level=warn msg="slow request" path=/api/report duration_ms=1830',
    'level=info msg="GET /api/items/42" status=200 duration_ms=9',
    'level=error msg="upstream timeout" path=/api/pay upstream=payments:9000',
    'level=info msg="GET /healthz" status=200 duration_ms=1',
]
PNG_WIDTH = 1800  # pixels: 15 per column at 120 columns, sharp on a README
SVG_FONT = "font-family: Fira Code, monospace;"
PNG_FONT = "font-family: DejaVu Sans Mono, monospace;"


def to_png(svg: Path) -> Path:
    """``svg`` as a PNG beside it (ImportError/OSError when cairosvg or libcairo is missing)."""
    import cairosvg  # deferred: only this script needs it (the dev extra installs it)

    text = svg.read_text(encoding="utf-8")
    if SVG_FONT not in text:
        raise ValueError(f"{svg.name}: the SVG no longer names {SVG_FONT!r}: check the font")
    png = svg.with_suffix(".png")
    cairosvg.svg2png(
        bytestring=text.replace(SVG_FONT, PNG_FONT).encode(),
        write_to=str(png),
        output_width=PNG_WIDTH,
    )
    return png


async def until(pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the console did not reach the expected state")
        await pilot.pause(0.05)
    await pilot.pause(0.3)


async def shoot(engine: Engine, out: Path, sandbox_dir: Path) -> list[Path]:
    app = GitOpsApp(engine, close_engine=False)
    saved: list[Path] = []

    def save(name: str) -> None:
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
        saved.append(path)

    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: len(app.fleet.apps) >= 8 and not any(a.comparing for a in app.fleet.apps)
        )
        save("app-list")

        app.open_app("drifted", diff=True)
        await until(pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs)
        save("app-view-tree-and-diff")

        deployment = next(
            r.key for r in app.fleet.by_name["drifted"].resources if r.key.kind == "Deployment"
        )
        app.push_screen(LiveObjectScreen("drifted", deployment))  # y: live YAML beside Git
        await until(pilot, lambda: getattr(app.screen, "obj", None) is not None)
        save("live-yaml")
        await pilot.press("escape")
        app.push_screen(EventsScreen("drifted", None))  # e on the app's root: its events
        await until(pilot, lambda: getattr(app.screen, "loaded", False))
        save("events")
        await pilot.press("escape")

        pods = [
            child.key
            for root in app.fleet.by_name["drifted"].resources
            for owned in root.children
            for child in owned.children
            if child.key.kind == "Pod"
        ]
        if pods:  # l: a Pod's log, following (the sandbox's simulated containers log)
            append_pod_log(sandbox_dir, LOG_LINES)
            app.push_screen(PodLogsScreen("drifted", pods[0]))
            await until(
                pilot,
                lambda: (
                    isinstance(app.screen, PodLogsScreen)
                    and app.screen.state == "following"
                    and app.screen.view.line_count >= len(LOG_LINES)
                ),
            )
            save("pod-logs")
            await pilot.press("escape")
        else:
            print("no Pod in drifted's tree: the log view is not shot")

        deployments = [
            (a.name, r.key)
            for a in app.fleet.apps
            for r in a.resources
            if r.key.kind == "Deployment" and r.exists
        ]
        if deployments:  # a: the action menu (built-in restart, Lua actions, delete)
            name, key = deployments[0]
            app.push_screen(ActionMenuModal(name, key))
            await until(
                pilot,
                lambda: isinstance(app.screen, ActionMenuModal) and app.screen.actions is not None,
            )
            save("action-menu")
            await pilot.press("escape")
        else:
            print("no live Deployment in the demo: the action menu is not shot")

        await pilot.press("escape")
        app.open_sync("waves")  # hooks and sync waves: the plan shows their order
        await until(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        save("sync-dialog-plan")
        await pilot.press("escape")

        app.open_prune("prune-me")
        await until(
            pilot, lambda: isinstance(app.screen, PruneModal) and app.screen.preview is not None
        )
        await pilot.press(*"prune-")
        save("prune-confirmation")
        await pilot.press("escape")

        app.push_screen(DeleteAppResourcesModal("drifted"))  # ctrl+d: what goes, what stays
        await until(
            pilot,
            lambda: isinstance(app.screen, DeleteAppResourcesModal) and app.screen.plan is not None,
        )
        await pilot.press(*"drif")
        save("delete-app-resources")
        await pilot.press("escape")

        await pilot.press("question_mark")
        await pilot.pause(0.5)
        save("help")
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=state_dir() / "demo")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots"
    )
    parser.add_argument("--no-png", action="store_true", help="SVG only")
    args = parser.parse_args()
    kubeconfig, apps_dir = prepare(args.dir.expanduser().resolve())
    args.out.mkdir(parents=True, exist_ok=True)
    engine = Engine(
        EngineOptions(app_paths=(apps_dir,), kubeconfig=kubeconfig, automation=False)
    ).start()
    try:
        engine.wait_until_compared(timeout=120)
        saved = asyncio.run(shoot(engine, args.out, args.dir.expanduser().resolve() / "sandbox"))
    finally:
        engine.close()
    for path in saved:
        print(f"wrote {path}")
        if args.no_png:
            continue
        try:
            print(f"wrote {to_png(path)}")
        except (ImportError, OSError) as exc:  # no cairosvg, or no libcairo on this machine
            print(f"no PNG ({exc}): install cairosvg and libcairo, or pass --no-png")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

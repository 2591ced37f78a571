"""The command palette provider (``ctrl+p``) and the ``:`` command-line parser.

Both speak the same verbs as the keys; verbs that change a cluster are left
out entirely in read-only mode. Besides ``<Verb> <app>`` the palette offers
fleet-wide entries: refresh all, the port forwards (``f`` in the app view), the
fleet plan (``:plan``) and one ``Context: NAME`` per kubeconfig context (``:ctx NAME``).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from gitops_tui.engine.textsafe import printable

if TYPE_CHECKING:
    from gitops_tui.ui.app import GitOpsApp


@dataclass(frozen=True)
class Verb:
    id: str
    title: str
    help: str
    mutating: bool = False


VERBS: tuple[Verb, ...] = (
    Verb("open", "Open", "resource tree, diff, conditions and operation"),
    Verb("diff", "Diff", "show the app's diff"),
    Verb("sync", "Sync", "preview the plan, then sync", mutating=True),
    Verb("prune", "Prune", "delete live objects no longer in Git", mutating=True),
    Verb("history", "History", "recorded syncs, rollback"),
    Verb("refresh", "Refresh", "re-compare with the cluster"),
    Verb("hard_refresh", "Hard refresh", "re-fetch Git and re-render"),
    Verb("terminate", "Terminate", "stop the running sync", mutating=True),
)


MAX_HITS = 100
"""The palette shows the best hits only; a fleet of thousands would otherwise flood it."""


def shown(text: str) -> str:
    """An entry's text as the palette shows it: app and context names are of outside
    origin (controls escaped; ``highlight`` parses markup, so brackets are escaped there)."""
    return printable(text)


def available_verbs(read_only: bool) -> tuple[Verb, ...]:
    return tuple(v for v in VERBS if not (read_only and v.mutating))


PLAN_ALL = "Plan: every OutOfSync app"


def fleet_entries(app: GitOpsApp) -> list[tuple[str, Callable[[], None], str]]:
    """(text, callback, help) of the entries about the whole fleet rather than one app."""
    from gitops_tui.ui.port_forwards import PortForwardsModal  # a modal: screens import this

    def forwards() -> None:
        app.push_screen(PortForwardsModal())

    entries: list[tuple[str, Callable[[], None], str]] = [
        ("Refresh all apps", partial(app.request_refresh, None), "re-compare every app"),
        (
            "Port forwards",
            forwards,
            "the kubectl port-forwards started here (F on a pod): list, stop",
        ),
    ]
    if not app.read_only:
        entries.append(
            (PLAN_ALL, app.open_fleet_sync, "what a sync of every OutOfSync app does, then sync")
        )
    for name in app.contexts:
        current = " (current)" if name == app.default_context else ""
        entries.append(
            (
                f"Context: {name}",
                partial(app.set_context, name),
                f"in-cluster destinations use this kubeconfig context{current}",
            )
        )
    return entries


class GitOpsCommands(Provider):
    """``<Verb> <app>`` for every app; the current app's verbs are offered first."""

    @property
    def gitops(self) -> GitOpsApp:
        return cast("GitOpsApp", self.app)

    async def discover(self) -> Hits:
        app = self.gitops
        current = app.current_app_name()
        for verb in available_verbs(app.read_only):
            if current is not None:
                yield DiscoveryHit(
                    Content(shown(f"{verb.title} {current}")),
                    partial(app.run_verb, verb.id, current),
                    help=verb.help,
                )
        for text, callback, help_text in fleet_entries(app):
            yield DiscoveryHit(Content(shown(text)), callback, help=help_text)

    async def search(self, query: str) -> Hits:
        app = self.gitops
        matcher = self.matcher(query)
        verbs = available_verbs(app.read_only)
        first = query.split(" ", 1)[0].lower()
        narrowed = [v for v in verbs if first and v.title.lower().startswith(first)]
        scored: list[tuple[float, str, str, str]] = []
        for count, name in enumerate(app.app_names()):
            if count % 500 == 499:
                await asyncio.sleep(0)  # thousands of apps: let the UI breathe
            for verb in narrowed or verbs:
                text = shown(f"{verb.title} {name}")
                score = matcher.match(text)
                if score > 0:
                    scored.append((score, text, verb.id, name))
        helps = {v.id: v.help for v in verbs}
        for score, text, verb_id, name in heapq.nlargest(MAX_HITS, scored):
            yield Hit(
                score,
                matcher.highlight(escape(text)),
                partial(app.run_verb, verb_id, name),
                help=helps[verb_id],
            )
        for text, callback, help_text in fleet_entries(app):
            score = matcher.match(shown(text))
            if score > 0:
                yield Hit(score, matcher.highlight(escape(shown(text))), callback, help=help_text)


# -- the ':' command line -----------------------------------------------------------------

COMMAND_ALIASES: dict[str, str] = {
    "q": "quit",
    "q!": "quit",
    "quit": "quit",
    "exit": "quit",
    "sync": "sync",
    "s": "sync",
    "diff": "diff",
    "d": "diff",
    "open": "open",
    "app": "open",
    "prune": "prune",
    "history": "history",
    "hist": "history",
    "refresh": "refresh",
    "refresh!": "hard_refresh",
    "r": "refresh",
    "r!": "hard_refresh",
    "terminate": "terminate",
    "filter": "filter",
    "f": "filter",
    "sort": "sort",
    "plan": "plan",
    "ctx": "ctx",
    "context": "ctx",
    "clipboard": "clipboard",
    "clip": "clipboard",
    "help": "help",
    "h": "help",
    "?": "help",
}


@dataclass(frozen=True)
class CommandLine:
    verb: str
    argument: str = ""


class CommandError(ValueError):
    pass


def parse_command_line(text: str) -> CommandLine:
    """``:sync web`` -> CommandLine("sync", "web"); CommandError for an unknown verb."""
    body = text.strip().removeprefix(":").strip()
    if not body:
        raise CommandError("empty command")
    word, _, rest = body.partition(" ")
    verb = COMMAND_ALIASES.get(word.lower())
    if verb is None:
        raise CommandError(f"unknown command :{word} (try :help)")
    return CommandLine(verb, rest.strip())

"""The app list's ``ctrl+d``: delete the Application under the cursor (Argo CD mode).

Refused, with the notice every refused verb gives, in read-only mode; refused in
words for an app the local engine reads from Git (deleting it is a Git change),
before any confirmation is asked. Otherwise ``DeleteAppModal`` asks for the cascade
and the typed name; what the engine did is said in a notice.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.modals.delete_app import ARGOCD_ORIGINS, DeleteAppModal
from gitops_tui.ui.screens.base import GitOpsScreen


class AppDeleteVerb(GitOpsScreen[None]):
    """The base of ``AppListScreen``: deleting an Application."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+d",
            "delete_app",
            "Delete the Application (Argo CD)",
            show=False,
            id="list.delete-app",
        ),
    ]

    def _selected(self) -> str | None:
        return self.current_app()

    def action_delete_app(self) -> None:
        name = self._selected()
        if name is None or self.refused("delete", name):
            return
        app = self.gitops.fleet.by_name.get(name)
        if app is None:
            return
        if not app.origin.startswith(ARGOCD_ORIGINS):
            where = printable(app.origin) or "Git"
            self.notify(
                f"{name} is read from {where} by the local engine: deleting the Application "
                "is a Git change (remove it there). In Argo CD mode (--argocd) ctrl+d deletes "
                "it with a cascade choice.",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return

        def done(result: str | None) -> None:
            if result:
                self.notify(result[:1].upper() + result[1:] + ".", timeout=8, markup=False)

        self.app.push_screen(DeleteAppModal(name), callback=done)

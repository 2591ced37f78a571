"""The app list's ``ctrl+d``: delete the Application under the cursor (Argo CD mode), or
its resources (local engine).

Refused, with the notice every refused verb gives, in read-only mode, before any
dialog opens. In Argo CD mode ``DeleteAppModal`` asks for the cascade and the typed
name. For an app the local engine reads from Git (the Application stays there)
``DeleteAppResourcesModal`` lists what its deletion would take from the cluster and
what stays, and asks for the typed name. What the engine did is said in a notice.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from gitops_tui.app_delete_plan import ARGOCD_ORIGINS
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.modals.delete_app import DeleteAppModal
from gitops_tui.ui.modals.delete_app_resources import DeleteAppResourcesModal
from gitops_tui.ui.screens.base import GitOpsScreen


class AppDeleteVerb(GitOpsScreen[None]):
    """The base of ``AppListScreen``: deleting an Application."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+d",
            "delete_app",
            "Delete the Application or its resources",
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

        def done(result: str | None) -> None:
            if result:
                text = printable(result)
                self.notify(text[:1].upper() + text[1:] + ".", timeout=10, markup=False)

        if not app.origin.startswith(ARGOCD_ORIGINS):
            self.app.push_screen(DeleteAppResourcesModal(name), callback=done)
            return
        self.app.push_screen(DeleteAppModal(name), callback=done)

"""A yes/no question: ``y``/``enter`` confirms, ``n``/``esc`` declines."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical

from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal


class ConfirmModal(GitOpsModal[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("enter", "answer(True)", "Yes", show=False, id="confirm.yes-enter"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "No", show=False, id="confirm.no-escape"),
    ]

    def __init__(self, title: str, message: str, *, confirm_label: str = "yes") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield SafeStatic(Text(self.title_text, style="bold"), classes="dialog-title")
            yield SafeStatic(self.message, id="confirm-message", markup=False)
            yield SafeStatic(
                f"y / enter: {self.confirm_label}   n / esc: cancel",
                classes="dialog-hint",
                markup=False,
            )

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

"""Read-only: which kubeconfig contexts the engine must never change, and who said so.

Read-only can be asked for three ways: the ``--read-only`` flag, ``readOnly: true``
in the config file (the whole session), or ``contexts.<name>.readOnly: true`` in
the config file (one context). All three mean the same for the contexts they cover:
no mutating request of any kind reaches the API server (not even a server-side
dry run), automated sync is off, and sync, rollback and terminate are refused
with a message naming where read-only came from.

The engine decides with ``ReadOnlyPolicy.reason``; the connection to a read-only
context also refuses every non-GET request itself (see ``KubeTarget.read_only``),
so a forgotten check cannot send a write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.errors import ReadOnlyError

FLAG_HINT = "start without --read-only to change the cluster"


@dataclass(frozen=True)
class ReadOnlyPolicy:
    """Where read-only applies and why.

    ``flag``: the ``--read-only`` flag was given. ``config_read_only``: the config
    file sets ``readOnly: true``. ``contexts``: contexts marked read-only in the
    config file. ``config_path`` names that file in messages.
    """

    flag: bool = False
    config_read_only: bool = False
    contexts: frozenset[str] = frozenset()
    config_path: Path | None = None

    @property
    def everywhere(self) -> bool:
        """The whole session is read-only (flag or config file)."""
        return self.flag or self.config_read_only

    def covers(self, context: str | None) -> bool:
        """Nothing may be changed in ``context`` (``None``: an unresolved destination)."""
        return self.everywhere or (context is not None and context in self.contexts)

    def any_context_covered(self, contexts: Iterable[str]) -> bool:
        return any(self.covers(c) for c in contexts)

    def _file(self) -> str:
        return str(self.config_path) if self.config_path is not None else "the config file"

    def reason(self, context: str | None) -> str | None:
        """Why ``context`` is read-only, for a message; ``None`` if it is not."""
        if self.flag and self.config_read_only:
            return f"{FLAG_HINT}, and remove readOnly: true from {self._file()}"
        if self.flag:
            return FLAG_HINT
        if self.config_read_only:
            return f"read-only is set by readOnly: true in {self._file()}"
        if context is not None and context in self.contexts:
            return (
                f"context {context} is read-only: contexts.{context}.readOnly is true "
                f"in {self._file()}"
            )
        return None

    def check(self, action: str, context: str | None) -> None:
        """Raise ``ReadOnlyError`` naming the origin if ``action`` in ``context`` is refused."""
        why = self.reason(context)
        if why is not None:
            raise ReadOnlyError(action, why=why)

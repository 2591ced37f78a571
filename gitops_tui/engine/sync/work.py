"""One task of a sync operation made concrete (``Work``), and what the run's steps share.

* ``Work``: a plan task with its hook name generated and its namespace defaulted,
  the slot of its result, and what the dry run could not check;
* ``Outcome``: what a step over a batch of tasks came to;
* ``_Terminated`` (``cancel`` was set: stop starting things; a private signal that
  never leaves the run) and ``TaskError`` (a task failed, with a message for the user);
* ``pause``: the one poll interval every wait of a run uses (hooks, health, CRDs),
  cut short by ``cancel``;
* small readers of manifests (uid, CRD names) and ``batches`` (runs of one kind).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from gitops_tui.engine.errors import EngineSignal, GitOpsError
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.sync.plan import CRD_GROUP, CRD_KIND, SyncTask, TaskAction

POLL_SECONDS = 0.2


def pause(cancel: threading.Event) -> bool:
    """Wait one poll interval; True when ``cancel`` was set (then at once)."""
    return cancel.wait(POLL_SECONDS)


class _Terminated(EngineSignal):
    """``cancel`` was set: stop starting things."""


class TaskError(GitOpsError):
    """A task failed; the message is for the user (no object content)."""

    title = "Sync task failed"


@dataclass
class Work:
    """A plan task made concrete for this operation (hook names, default namespace)."""

    task: SyncTask
    key: ResourceKey
    obj: Manifest | None  # what to write; None for prunes
    slot: tuple[ResourceKey, str]  # result entry
    skip_dry_run: str = ""  # why the dry run could not check it
    created_uid: str = ""  # uid of the hook we created

    @property
    def is_hook(self) -> bool:
        return self.task.action is TaskAction.HOOK

    @property
    def is_prune(self) -> bool:
        return self.task.action is TaskAction.PRUNE

    @property
    def is_apply(self) -> bool:
        return self.task.action in (TaskAction.CREATE, TaskAction.UPDATE, TaskAction.UNCHANGED)

    @property
    def live_uid(self) -> str:
        return str(((self.task.live or {}).get("metadata") or {}).get("uid") or "")


@dataclass
class Outcome:
    """What a step (a batch of tasks) came to."""

    failures: list[str] = field(default_factory=list)
    terminated: bool = False


def uid(obj: Manifest | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("uid") or "")


def is_crd(key: ResourceKey) -> bool:
    return key.group == CRD_GROUP and key.kind == CRD_KIND


def crd_names(obj: Manifest) -> tuple[str, str, str] | None:
    """(group, kind, scope) a CRD manifest defines."""
    spec = obj.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return None
    return group, kind, str(spec.get("scope") or "Namespaced")


def batches(works: Sequence[Work]) -> list[list[Work]]:
    """Consecutive runs of the same kind (applied in parallel; runs one after the other)."""
    out: list[list[Work]] = []
    for work in works:
        if out and (out[-1][0].key.group, out[-1][0].key.kind) == (work.key.group, work.key.kind):
            out[-1].append(work)
        else:
            out.append([work])
    return out

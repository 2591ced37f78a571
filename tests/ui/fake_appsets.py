"""ApplicationSets for the FakeEngine: a set with two generated apps, a broken set, previews.

``edge-fleet`` (policy ``sync``) generated ``edge-a`` and ``edge-b``;
its preview adds ``edge-c``, changes ``edge-b``'s path and removes ``edge-old``;
``broken-set`` generates nothing (its git path escapes the repository).
``FakeEngine(apps=sample_apps() + appset_apps(), appsets=SAMPLE_APPSETS)`` shows them.
"""

from __future__ import annotations

from fake_engine import REPO, REV_GUESTBOOK, T0, FakeApp

from gitops_tui.engine.api import AppSetChange, AppSetPreview, AppSetSnapshot, AppSnapshot
from gitops_tui.engine.model import Condition, HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import Destination

SET = "edge-fleet"
BROKEN = "broken-set"
ESCAPE = "spec.generators[0].git: the path '../outside/*' is outside the repository"


def _generated(name: str, sync: SyncStatus, path: str) -> FakeApp:
    return FakeApp(
        AppSnapshot(
            name=name,
            project="default",
            sync=sync,
            health=HealthStatus.HEALTHY,
            health_message="",
            revision=REV_GUESTBOOK,
            target_revision="main",
            repo_url=REPO,
            path=path,
            destination=Destination("https://kubernetes.default.svc", "in-cluster", name),
            parent=SET,
            parent_kind="ApplicationSet",
            compared_at=T0,
        )
    )


def appset_apps() -> list[FakeApp]:
    return [
        _generated("edge-a", SyncStatus.SYNCED, "edge/a"),
        _generated("edge-b", SyncStatus.OUT_OF_SYNC, "edge/b"),
    ]


SAMPLE_APPSETS = (
    AppSetSnapshot(
        SET,
        "argocd",
        "appsets/edge.yaml",
        "sync",
        applications=("edge-a", "edge-b"),
        generated_at=T0 - 120,
    ),
    AppSetSnapshot(
        BROKEN,
        "argocd",
        "appsets/broken.yaml",
        "create-only",
        conditions=(Condition("ErrorOccurred", ESCAPE),),
        generated_at=T0 - 60,
    ),
)


def sample_previews() -> dict[str, AppSetPreview]:
    added = AppSetChange(
        "edge-c",
        "create",
        True,
        diff=(
            "@@ -0,0 +1,6 @@",
            "+metadata: {}",
            "+spec:",
            "+  destination:",
            "+    namespace: edge-c",
            "+  source:",
            "+    path: edge/c",
        ),
    )
    changed = AppSetChange(
        "edge-b",
        "update",
        True,
        fields=("spec.source.path",),
        diff=("@@ -6,3 +6,3 @@", "   source:", "-    path: edge/b", "+    path: edge/b-v2"),
    )
    removed = AppSetChange("edge-old", "delete", True, cascade=True)
    return {
        SET: AppSetPreview(
            SET,
            "sync",
            added=(added,),
            changed=(changed,),
            removed=(removed,),
            unchanged=("edge-a",),
            source="generated now from the set's file and Git",
        ),
        BROKEN: AppSetPreview(
            BROKEN, "create-only", conditions=(Condition("ErrorOccurred", ESCAPE),)
        ),
    }

"""A fleet whose every string of outside origin is hostile (terminal-safety tests).

Each string carries C0/C1 controls, an OSC 0 title sequence, ``ESC[2J``, a C1
CSI, blink, a bidi override, DEL, NUL and Rich markup; ``evil(tag)`` makes one.
"""

from __future__ import annotations

from dataclasses import replace

from fake_engine import (
    T0,
    FakeApp,
    FakeEngine,
    _key,
    _node,
    _op,
    config_map,
    deployment,
    sample_apps,
)

from gitops_tui.engine.api import HistoryEntry, SyncPreview, SyncRequest
from gitops_tui.engine.model import Condition, HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import (
    AppSnapshot,
    ClusterState,
    Destination,
    OperationPhase,
    ResourceResult,
    ResultCode,
)

ESC_PAYLOAD = "\x1b]0;pwned\x07\x1b[2J\x9b6n\x1b[5m\u202e\x7f\x00"
"""OSC 0 (window title) ended by BEL, clear screen, C1 CSI, blink, bidi override, DEL, NUL."""
MARKUP = "[blink]m[/][link=https://evil.example]k[/link]"
SHOWN = "\\x1b]0;pwned"
"""The escaped form the screen must show wherever the payload is displayed."""


def evil(tag: str) -> str:
    return f"{tag}{ESC_PAYLOAD}{MARKUP}"


EVIL_APP = evil("app")
EVIL_NS = "ns" + ESC_PAYLOAD
EVIL_REV = "\x1b]0;pwned\x07" + "0" * 30


def hostile_app() -> FakeApp:
    cfg_desired = config_map(evil("cm"), EVIL_NS, {"KEY": evil("want")})
    cfg_live = config_map(evil("cm"), EVIL_NS, {"KEY": evil("have")})
    dep = deployment(evil("dep"), EVIL_NS, 2, evil("image"))
    old = config_map(evil("old"), EVIL_NS, {"A": "1"})
    result = ResourceResult(
        _key(cfg_desired), ResultCode.SYNC_FAILED, evil("result"), phase=evil("Sync")
    )
    last = _op(
        evil("op"),
        EVIL_APP,
        OperationPhase.FAILED,
        EVIL_REV,
        message=evil("opmessage") + "\nsecond line",
        results=(result,),
        initiated_by=evil("by"),
    )
    snapshot = AppSnapshot(
        name=EVIL_APP,
        project=evil("project"),
        sync=SyncStatus.OUT_OF_SYNC,
        health=HealthStatus.DEGRADED,
        health_message=evil("health"),
        revision=EVIL_REV,
        target_revision=evil("target"),
        repo_url=evil("https://repo"),
        path=evil("path"),
        destination=Destination(evil("https://server"), evil("cluster"), EVIL_NS),
        conditions=(
            Condition(evil("ComparisonError"), evil("helm fail")),
            Condition("SyncError", evil("second")),
        ),
        resources=(
            _node(
                cfg_desired,
                SyncStatus.OUT_OF_SYNC,
                None,
                changed_paths=(evil("data.KEY"),),
            ),
            _node(
                dep,
                SyncStatus.SYNCED,
                HealthStatus.DEGRADED,
                _node(config_map(evil("child"), EVIL_NS, {}), None, HealthStatus.HEALTHY),
                health_message=evil("nodehealth"),
            ),
            _node(old, SyncStatus.OUT_OF_SYNC, None, requires_pruning=True),
        ),
        last_sync=last,
        parent=evil("parent"),
        compared_at=T0,
    )
    history = [
        HistoryEntry(7, EVIL_APP, EVIL_REV, evil("https://repo"), evil("path"), last),
    ]
    return FakeApp(snapshot, desired=[cfg_desired, dep], live=[cfg_live, dep, old], history=history)


class HostileEngine(FakeEngine):
    """The sample fleet plus the hostile app; previews carry hostile errors too."""

    def __init__(self) -> None:
        super().__init__(
            [*sample_apps(), hostile_app()],
            clusters=(
                ClusterState("in-cluster", "https://kubernetes.default.svc", True),
                ClusterState(evil("down"), evil("https://down"), False, evil("refused")),
            ),
        )

    def preview(self, request: SyncRequest) -> SyncPreview:
        preview = super().preview(request)
        if request.app == EVIL_APP:
            return replace(preview, errors=(evil("preview error"),))
        return preview

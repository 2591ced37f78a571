"""The rule that judged each resource's health reaches the headless JSON and the console's
resource detail line (``ResourceNode.health_rule``)."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from fake_engine import FakeEngine

from gitops_tui import headless
from gitops_tui.engine.model import HealthStatus, ResourceKey
from gitops_tui.engine.snapshot import ResourceNode
from gitops_tui.ui.screens.app_view import node_detail
from gitops_tui.ui.symbols import ASCII

RULE = "Lua (argocd-cm argocd/argocd-cm: resource.customizations.health.example.com_Widget)"


def test_list_json_names_the_rule_of_each_resource() -> None:
    engine = FakeEngine()
    app = engine.apps["guestbook"].snapshot
    first, *rest = app.resources
    judged = replace(first, health=HealthStatus.HEALTHY, health_rule=RULE)
    unjudged = [replace(r, health=None, health_rule="") for r in rest]
    engine.update_app("guestbook", resources=(judged, *unjudged))
    out = io.StringIO()
    assert headless.cmd_list(engine, output="json", out=out) == headless.EXIT_OK
    listed = {a["name"]: a for a in json.loads(out.getvalue())}["guestbook"]["resources"]
    assert listed[0]["healthRule"] == RULE
    assert all(r["healthRule"] is None for r in listed[1:])


def test_the_resource_detail_line_names_the_rule_made_printable() -> None:
    node = ResourceNode(
        key=ResourceKey("example.com", "Widget", "web", "w1"),
        version="example.com/v1",
        status=None,
        health=HealthStatus.DEGRADED,
        health_message="inferred: Ready is False",
        health_rule="inferred\x1b[2J",
    )
    text = node_detail(node, ASCII).plain
    assert "[rule: inferred" in text and "\x1b" not in text
    assert "[rule:" not in node_detail(replace(node, health=None), ASCII).plain

"""Read-only per context behaves exactly like ``--read-only`` for that context.

Against the real sandbox, read from the API server's audit log: a context marked
``readOnly`` in the config file gets no mutating request of any kind (not even the
server-side dry runs of comparison), no automated sync, and sync, rollback and
terminate are refused with a message naming the config key, not the flag. A
second context for the same cluster, not read-only, is the positive control: it
does get dry runs and automated syncs in the same session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import WRITE_VERBS, audit_events
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for
from helpers import run_cli as _cli
from test_security import apply_tracked, cm

from gitops_tui.engine.api import ReadOnlyError, SyncRequest
from gitops_tui.engine.model import ResourceKey, SyncStatus

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
RO, RW = "sandbox-ro", "sandbox-rw"


def writes_by_object(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Object name -> every mutating request on it (dry runs included)."""
    out: dict[str, list[str]] = {}
    for event in events:
        if event.get("verb") in WRITE_VERBS:
            name = str((event.get("objectRef") or {}).get("name") or "")
            out.setdefault(name, []).append(f"{event['verb']} {event.get('requestURI')}")
    return out


def two_context_kubeconfig(source: Path, target: Path) -> Path:
    """The sandbox's kubeconfig with its one context copied as ``sandbox-ro`` and ``sandbox-rw``."""
    config = yaml.safe_load(source.read_text())
    [context] = config["contexts"]
    config["contexts"] = [{**context, "name": RO}, {**context, "name": RW}]
    config["current-context"] = RW
    target.write_text(yaml.safe_dump(config))
    return target


def to_context(doc: dict[str, Any], context: str) -> dict[str, Any]:
    doc["spec"]["destination"] = {
        "name": context,
        "namespace": doc["spec"]["destination"]["namespace"],
    }
    return doc


def test_read_only_context_gets_no_write_no_dry_run_and_no_automation(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, namespace, tmp_path
) -> None:
    kubeconfig = two_context_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig")
    ro, ro_auto, rw, rw_auto = (f"{namespace}-{s}" for s in ("ro", "roauto", "rw", "rwauto"))
    apply_tracked(sandbox.kubeconfig, ro, namespace, [cm("ro-drifted", mode="live")])
    apply_tracked(sandbox.kubeconfig, ro, namespace, [cm("ro-stale", k="v")])
    apply_tracked(sandbox.kubeconfig, ro_auto, namespace, [cm("roauto-drifted", mode="live")])
    apply_tracked(sandbox.kubeconfig, rw, namespace, [cm("rw-drifted", mode="live")])
    apply_tracked(sandbox.kubeconfig, rw_auto, namespace, [cm("rwauto-drifted", mode="live")])
    repo = make_repo(
        tmp_path / "repo",
        {
            "ro/cm.yaml": dump_all([cm("ro-drifted", mode="git"), cm("ro-missing", k="v")]),
            "roauto/cm.yaml": dump_all([cm("roauto-drifted", mode="git")]),
            "rw/cm.yaml": dump_all([cm("rw-drifted", mode="git")]),
            "rwauto/cm.yaml": dump_all([cm("rwauto-drifted", mode="git")]),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    heal = {"prune": True, "selfHeal": True}
    docs = [
        to_context(application(ro, url, "ro", namespace), RO),
        to_context(application(ro_auto, url, "roauto", namespace, automated=heal), RO),
        to_context(application(rw, url, "rw", namespace), RW),
        to_context(application(rw_auto, url, "rwauto", namespace, automated=heal), RW),
    ]
    mark = Path(sandbox_box.audit_log).stat().st_size
    with running_engine(
        kubeconfig, tmp_path, docs, read_only_contexts=frozenset({RO}), automation=True
    ) as engine:
        snapshot = engine.snapshot()
        assert not snapshot.read_only  # only one context is
        assert snapshot.by_name[ro].read_only and snapshot.by_name[ro_auto].read_only
        assert not snapshot.by_name[rw].read_only
        app = snapshot.by_name[ro]
        assert app.sync == SyncStatus.OUT_OF_SYNC
        assert {r.key.name for r in app.resources if r.requires_pruning} == {"ro-stale"}
        assert any(d.modified for d in engine.diffs(ro))
        engine.refresh()
        engine.refresh(ro, hard=True)
        assert engine.wait_until_compared(timeout=30)
        preview = engine.preview(SyncRequest(app=ro, prune=True))
        assert [t.key.name for t in preview.plan.tasks if t.is_prune] == ["ro-stale"]
        refused = []
        for request in (
            SyncRequest(app=ro),
            SyncRequest(app=ro, prune=True),
            SyncRequest(app=ro, dry_run=True),
            SyncRequest(app=ro, force=True, prune=True),
            SyncRequest(
                app=ro,
                resources=frozenset({ResourceKey("", "ConfigMap", namespace, "ro-stale")}),
                prune=True,
            ),
            SyncRequest(app=ro_auto, initiated_by="automated"),
        ):
            with pytest.raises(ReadOnlyError) as error:
                engine.sync(request)
            refused.append(str(error.value))
        with pytest.raises(ReadOnlyError) as rollback:
            engine.rollback(ro, 1)
        with pytest.raises(ReadOnlyError) as terminate:
            engine.terminate(ro)
        why = f"(context {RO} is read-only: contexts.{RO}.readOnly is true in the config file)"
        assert refused[0] == f"read-only mode: sync of {ro} refused {why}"
        assert refused[1] == f"read-only mode: sync with prune of {ro} refused {why}"
        assert str(rollback.value) == f"read-only mode: rollback of {ro} refused {why}"
        assert str(terminate.value) == f"read-only mode: terminate of {ro} refused {why}"
        assert not any("--read-only" in message for message in refused)
        # automation runs in this session (the writable context's app gets synced and
        # healed) but skips the read-only context
        wait_for(
            lambda: engine.snapshot().by_name[rw_auto].sync == SyncStatus.SYNCED,
            timeout=60,
            what="automated sync of the writable context's app",
        )
        assert engine.wait_until_compared(timeout=30)
        ro_auto_now = engine.snapshot().by_name[ro_auto]
        assert ro_auto_now.sync == SyncStatus.OUT_OF_SYNC and ro_auto_now.operation is None
        assert engine.snapshot().by_name[rw_auto].last_sync is not None
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    written = writes_by_object(events)
    # the read-only context: not one mutating request, dry run or not
    assert {name: w for name, w in written.items() if name.startswith("ro")} == {}
    # the writable one, same cluster, same session: dry runs to compare, a real sync
    assert any("dryRun=All" in w for w in written.get("rw-drifted", []))
    assert any("dryRun=All" not in w for w in written.get("rwauto-drifted", []))
    got = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "ro-drifted", "-o", "json")
    assert json.loads(got.stdout)["data"] == {"mode": "live"}
    assert kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "ro-stale").returncode == 0


# --------------------------------------------------------------------------- the CLI


def test_cli_read_only_context_from_the_config_file(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, namespace, tmp_path
) -> None:
    """``contexts.<ctx>.readOnly`` in the config file: commands refuse naming that key and
    file (no flag was given), and diff/list compare without a single dry run."""
    app = namespace
    apply_tracked(sandbox.kubeconfig, app, namespace, [cm("drifted", mode="live")])
    apply_tracked(sandbox.kubeconfig, app, namespace, [cm("stale", k="v")])
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("drifted", mode="git")])})
    app_file = tmp_path / "app.yaml"
    app_file.write_text(
        yaml.safe_dump(application(app, f"file://{repo.working_tree_dir}", "app", namespace))
    )
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"contexts": {sandbox.context: {"readOnly": True}}}))
    common = [
        "--apps",
        str(app_file),
        "--kubeconfig",
        str(sandbox.kubeconfig),
        "--config",
        str(config),
    ]
    why = f"(context {sandbox.context} is read-only: contexts.{sandbox.context}.readOnly is true in {config})"
    mark = Path(sandbox_box.audit_log).stat().st_size
    for command, action in (
        (["sync", *common, app], "sync"),
        (["sync", *common, app, "--prune"], "sync with prune"),
        (["sync", *common, app, "--dry-run"], "sync"),
        (["rollback", *common, app, "1"], "rollback"),
    ):
        result = _cli(command, tmp_path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert f"error: read-only mode: {action} of {app} refused {why}" in result.stderr, (
            result.stderr
        )
        assert "--read-only" not in result.stderr
    diff = _cli(["diff", *common, app], tmp_path)
    assert diff.returncode == 0, diff.stderr
    assert "mode: git" in diff.stdout and "mode: live" in diff.stdout
    listed = _cli(["list", *common, "--output", "json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["sync"] == "OutOfSync"
    written = writes_by_object(audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace))
    assert written == {}  # no write, no dry run
    assert kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "stale").returncode == 0

    # readOnly: true at the top of the file: the file is named, not the flag
    config.write_text(yaml.safe_dump({"readOnly": True}))
    result = _cli(["sync", *common, app], tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert (
        f"error: read-only mode: sync refused (read-only is set by readOnly: true in "
        f"{config})" in result.stderr
    ), result.stderr

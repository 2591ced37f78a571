"""Security properties against the real engine, real Git and the real sandbox cluster.

* Secret values never show: canaries in a Secret's ``data`` and ``stringData``
  (and one the API server echoes in an error) are searched for in every output:
  ``list``/``diff``/``sync``/``history`` (text and JSON), every published
  snapshot, the logs at DEBUG and the history database.
* Credentials in repository URLs never show, wherever the URL or git's messages go.
* Read-only mode sends no mutating request (read from the API server's audit log),
  through the engine and through the CLI.
* Reads stay inside the repository checkout: a symlink to ``/etc/passwd`` is refused
  and no line of ``/etc/passwd`` shows anywhere.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import logging
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import audit_events, writes
from gitrepo import GitDaemon, Symlink, commit, free_port, make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for
from helpers import run_cli as _cli

from gitops_tui import headless
from gitops_tui.engine.api import EngineError, ReadOnlyError, SyncRequest
from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.controller.engine import Engine
from gitops_tui.engine.model import ConditionType, ResourceKey, SyncStatus
from gitops_tui.engine.snapshot import FleetSnapshot

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- helpers


def secret(name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **fields}


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def apply_tracked(kubeconfig: Path, app: str, namespace: str, objs: list[dict[str, Any]]) -> None:
    live = []
    for obj in objs:
        item = json.loads(json.dumps(obj))
        item["metadata"]["namespace"] = namespace
        live.append(with_tracking(item, app))
    kubectl(
        kubeconfig,
        "apply",
        "--server-side",
        "--field-manager=gitops-tui",
        "-f",
        "-",
        stdin=dump_all(live),
    )


class SnapshotLog:
    """Every snapshot the engine publishes (what a front end sees), as text."""

    def __init__(self, engine: Engine) -> None:
        self.texts: list[str] = []
        self._lock = threading.Lock()
        self.unsubscribe = engine.subscribe(self._add)

    def _add(self, snapshot: FleetSnapshot) -> None:
        with self._lock:
            self.texts.append(repr(snapshot))

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.texts)


def files_text(*roots: Path) -> str:
    """The bytes of every file under ``roots`` (or the files themselves), decoded loosely."""
    parts = []
    for root in roots:
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in paths:
            if path.is_symlink():
                continue
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


class DumbHttpGit:
    """Bare repositories served over Git's "dumb" HTTP protocol (static files).

    The server ignores credentials, so a URL carrying a user and password works.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self._server: ThreadingHTTPServer | None = None

    def add(self, work_tree: Path, name: str) -> str:
        bare = self.base / name
        subprocess.run(["git", "clone", "--quiet", "--bare", str(work_tree), str(bare)], check=True)
        subprocess.run(["git", "update-server-info"], cwd=bare, check=True)
        return f"127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        handler = functools.partial(Quiet, directory=str(self.base))
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# --------------------------------------------------------------------------- Secret values


def test_secret_values_appear_in_no_output(sandbox, namespace, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    tag = uuid.uuid4().hex[:8]
    live_data, live_string = f"live-data-{tag}", f"live-string-{tag}"
    git_data, git_string = f"git-data-{tag}", f"git-string-{tag}"
    number = 7_300_000_000 + int(tag[:6], 16)  # a Secret value the API server will echo
    # live: both Secrets exist (tracked), with other values than Git has
    apply_tracked(
        sandbox.kubeconfig,
        namespace,
        namespace,
        [
            secret("sec-s", data={"a": b64(live_data), "b": b64(live_string)}),
            secret("sec-n", stringData={"n": "plain"}),
        ],
    )
    repo = make_repo(
        tmp_path / "repo",
        {
            "app/s.yaml": dump_all(
                [
                    secret("sec-s", data={"a": b64(git_data)}, stringData={"b": git_string}),
                    secret("sec-n", stringData={"n": number}),  # not a string: the server says so
                ]
            )
        },
    )
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    out = io.StringIO()
    errors: list[str] = []
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], watch_local_repos=False) as engine:
        snapshots = SnapshotLog(engine)
        app = wait_for(
            lambda: (
                (a := engine.snapshot().by_name[namespace]).sync == SyncStatus.OUT_OF_SYNC and a
            ),
            what="OutOfSync",
        )
        # the server's complaint about n is shown, without the value it echoes
        [n] = [r for r in app.resources if r.key.name == "sec-n"]
        assert "got a value of the wrong type" in n.health_message, n
        for output in ("text", "json"):
            headless.cmd_list(engine, output=output, out=out)
            headless.cmd_diff(engine, namespace, exit_code=False, output=output, out=out)
        for diff in engine.diffs(namespace, context=-1):
            out.write(diff.unified)
        assert "++++++++" in out.getvalue()  # the masked values are there, as pluses
        # a sync that fails (dry run: n is not a string) ...
        code = headless.cmd_sync(
            engine,
            namespace,
            prune=False,
            dry_run=False,
            force=False,
            resources=[],
            apply_out_of_sync_only=False,
            wait=True,
            output="text",
            timeout=60,
            out=out,
        )
        assert code == headless.EXIT_DIFF, out.getvalue()
        # ... and one that succeeds
        sha = commit(
            repo,
            {
                "app/s.yaml": dump_all(
                    [
                        secret("sec-s", data={"a": b64(git_data)}, stringData={"b": git_string}),
                        secret("sec-n", stringData={"n": f"fixed-{tag}"}),
                    ]
                )
            },
        )
        engine.refresh(namespace)
        wait_for(lambda: engine.snapshot().by_name[namespace].revision == sha, what="new commit")
        assert engine.wait_until_compared(timeout=30)
        for output in ("json", "text"):
            code = headless.cmd_sync(
                engine,
                namespace,
                prune=True,
                dry_run=output == "text",
                force=False,
                resources=[],
                apply_out_of_sync_only=False,
                wait=True,
                output=output,
                timeout=60,
                out=out,
            )
            assert code == headless.EXIT_OK, out.getvalue()
        for output in ("json", "text"):
            headless.cmd_history(engine, namespace, output=output, out=out)
            headless.cmd_diff(engine, namespace, exit_code=False, output=output, out=out)
        try:
            engine.rollback(namespace, 10**9)
        except EngineError as exc:
            errors.append(str(exc))
        snapshots.unsubscribe()
    # the values did reach the cluster (the search below can find something)
    got = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "secret", "sec-s", "-o", "json")
    assert json.loads(got.stdout)["data"] == {"a": b64(git_data), "b": b64(git_string)}
    searched = {
        "command output": out.getvalue(),
        "snapshots": snapshots.text(),
        "logs": caplog.text,
        "errors": "\n".join(errors),
        "history database": files_text(
            *(p for p in tmp_path.iterdir() if p.name.startswith("history"))
        ),
    }
    assert all(searched.values())
    for value in (live_data, live_string, git_data, git_string, str(number), f"fixed-{tag}"):
        for form in (value, b64(value)):
            for where, text in searched.items():
                assert form not in text, f"secret value {form!r} found in the {where}"


# --------------------------------------------------------------------------- URL credentials


def test_repo_url_credentials_appear_in_no_output(  # type: ignore[no-untyped-def]
    sandbox, namespace, tmp_path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"s3cr3t-canary-{uuid.uuid4().hex[:8]}"
    source = make_repo(tmp_path / "src", {"app/cm.yaml": dump_all([cm("from-http", k="v")])})
    http = DumbHttpGit(tmp_path / "served")
    http.base.mkdir()
    location = http.add(Path(str(source.working_tree_dir)), "repo.git")
    daemon = GitDaemon(tmp_path / "served").start()
    http.start()
    good = f"{namespace}-http"
    docs = [
        application(good, f"http://user:{canary}@{location}", "app", namespace),
        application(
            f"{namespace}-closed",
            f"http://user:{canary}@127.0.0.1:{free_port()}/x.git",
            "app",
            namespace,
        ),
        application(
            f"{namespace}-daemon",
            f"http://user:{canary}@127.0.0.1:{daemon.port}/x.git",
            "app",
            namespace,
        ),
        application(f"{namespace}-token", f"http://{canary}@{location}", "app", namespace),
    ]
    out = io.StringIO()
    errors: list[str] = []
    try:
        with running_engine(sandbox.kubeconfig, tmp_path, docs, watch_local_repos=False) as engine:
            snapshots = SnapshotLog(engine)
            fleet = engine.snapshot().by_name
            assert fleet[good].conditions == () and fleet[good].sync == SyncStatus.OUT_OF_SYNC
            assert fleet[good].repo_url == f"http://***@{location}"
            for name, wanted in (
                (f"{namespace}-closed", "Couldn't connect to server"),
                (f"{namespace}-daemon", "http://***@127.0.0.1:"),
            ):
                [condition] = fleet[name].conditions
                assert condition.type == ConditionType.REPO_ERROR.value
                assert wanted in condition.message
                with pytest.raises(EngineError) as refused:
                    engine.sync(SyncRequest(app=name))
                errors.append(str(refused.value))
            # a successful sync puts the (redacted) URL into the history
            code = headless.cmd_sync(
                engine,
                good,
                prune=False,
                dry_run=False,
                force=False,
                resources=[],
                apply_out_of_sync_only=False,
                wait=True,
                output="text",
                timeout=60,
                out=out,
            )
            assert code == headless.EXIT_OK, out.getvalue()
            history = engine.history(good)
            assert history and history[0].repo_url == f"http://***@{location}"
            # the server goes away: the error names the URL, without the password
            http.stop()
            engine.refresh(good)
            condition = wait_for(
                lambda: next(iter(engine.snapshot().by_name[good].conditions), None),
                what="a RepoError once the server is gone",
            )
            assert condition.type == ConditionType.REPO_ERROR.value
            assert f"http://***@{location}" in condition.message
            for output in ("text", "json"):
                headless.cmd_list(engine, output=output, out=out)
                headless.cmd_history(engine, good, output=output, out=out)
                headless.cmd_diff(engine, good, exit_code=False, output=output, out=out)
            try:
                engine.preview(SyncRequest(app=good, revision="0" * 40))
            except EngineError as exc:
                errors.append(str(exc))
            snapshots.unsubscribe()
    finally:
        http.stop()
        daemon.stop()
    searched = {
        "command output": out.getvalue(),
        "snapshots": snapshots.text(),
        "logs": caplog.text,
        "errors": "\n".join(errors),
        "history database": files_text(
            *(p for p in tmp_path.iterdir() if p.name.startswith("history"))
        ),
        "repository cache": files_text(tmp_path / "repo-cache"),
    }
    assert all(searched.values())
    for where, text in searched.items():
        assert canary not in text, f"the password of a repoURL is in the {where}"
    assert "http://***@" in searched["command output"]


@pytest.fixture
def git_scheme_fleet(sandbox, namespace, tmp_path) -> Iterator[tuple[Engine, str]]:  # type: ignore[no-untyped-def]
    """An app whose ``git://`` URL carries a password: git echoes it without the scheme."""
    canary = f"s3cr3t-canary-{uuid.uuid4().hex[:8]}"
    make_repo(tmp_path / "served" / "r", {"app/cm.yaml": dump_all([cm("x", k="v")])})
    with GitDaemon(tmp_path / "served") as daemon:
        url = daemon.url_for(tmp_path / "served" / "r").replace("git://", f"git://user:{canary}@")
        doc = application(namespace, url, "app", namespace)
        with running_engine(sandbox.kubeconfig, tmp_path, [doc], watch_local_repos=False) as engine:
            yield engine, canary


def test_git_scheme_url_password_is_not_in_conditions(git_scheme_fleet) -> None:  # type: ignore[no-untyped-def]
    engine, canary = git_scheme_fleet
    [app] = engine.snapshot().apps
    [condition] = app.conditions
    assert condition.type == ConditionType.REPO_ERROR.value
    assert "unable to look up ***@127.0.0.1:" in condition.message
    assert canary not in repr(engine.snapshot())
    out = io.StringIO()
    headless.cmd_list(engine, output="json", out=out)
    assert canary not in out.getvalue()


def test_git_scheme_url_password_is_not_in_logs(sandbox, namespace, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    canary = f"s3cr3t-canary-{uuid.uuid4().hex[:8]}"
    make_repo(tmp_path / "served" / "r", {"app/cm.yaml": dump_all([cm("x", k="v")])})
    with GitDaemon(tmp_path / "served") as daemon:
        url = daemon.url_for(tmp_path / "served" / "r").replace("git://", f"git://user:{canary}@")
        doc = application(namespace, url, "app", namespace)
        with running_engine(sandbox.kubeconfig, tmp_path, [doc], watch_local_repos=False):
            pass
    assert "unable to look up" in caplog.text
    assert canary not in caplog.text


# --------------------------------------------------------------------------- read-only mode


def test_read_only_session_sends_no_mutation(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, namespace, tmp_path
) -> None:
    """Reads, refreshes, diffs and every kind of change asked for: nothing is written.

    Not even comparison's server-side dry runs are sent: the audit log shows no
    create/update/patch/delete at all, dry run or not.
    """
    manual, auto = namespace, f"{namespace}-auto"
    apply_tracked(sandbox.kubeconfig, manual, namespace, [cm("drifted", mode="live")])
    apply_tracked(sandbox.kubeconfig, manual, namespace, [cm("stale", k="v")])
    apply_tracked(sandbox.kubeconfig, auto, namespace, [cm("auto-drifted", mode="live")])
    repo = make_repo(
        tmp_path / "repo",
        {
            "manual/cm.yaml": dump_all([cm("drifted", mode="git"), cm("missing", k="v")]),
            "auto/cm.yaml": dump_all([cm("auto-drifted", mode="git")]),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    docs = [
        application(manual, url, "manual", namespace),
        application(auto, url, "auto", namespace, automated={"prune": True, "selfHeal": True}),
    ]
    mark = Path(sandbox_box.audit_log).stat().st_size
    with running_engine(
        sandbox.kubeconfig, tmp_path, docs, read_only=True, automation=True
    ) as engine:
        snapshot = engine.snapshot()
        assert snapshot.read_only
        app = snapshot.by_name[manual]
        assert app.sync == SyncStatus.OUT_OF_SYNC
        assert {r.key.name for r in app.resources if r.requires_pruning} == {"stale"}
        assert any(d.modified for d in engine.diffs(manual))
        engine.refresh()
        engine.refresh(manual, hard=True)
        assert engine.wait_until_compared(timeout=30)
        preview = engine.preview(SyncRequest(app=manual, prune=True))
        assert [t.key.name for t in preview.plan.tasks if t.is_prune] == ["stale"]
        refused = []
        for request in (
            SyncRequest(app=manual),
            SyncRequest(app=manual, prune=True),
            SyncRequest(app=manual, dry_run=True),
            SyncRequest(app=manual, force=True, prune=True),
            SyncRequest(
                app=manual,
                resources=frozenset({ResourceKey("", "ConfigMap", namespace, "stale")}),
                prune=True,
            ),
            SyncRequest(app=auto, initiated_by="automated"),
        ):
            with pytest.raises(ReadOnlyError) as error:
                engine.sync(request)
            refused.append(str(error.value))
        with pytest.raises(ReadOnlyError):
            engine.rollback(manual, 1)
        with pytest.raises(ReadOnlyError):
            engine.terminate(manual)
        assert refused[1].startswith("read-only mode: sync with prune refused")
        # automation would sync and self-heal `auto` by now; it must not: wait for
        # three passes of the automation loop itself (measured, not a guessed sleep)
        wait_for(lambda: engine.snapshot().by_name[auto].sync == SyncStatus.OUT_OF_SYNC)
        assert engine.automation.wait_passes(3, timeout=60)
        assert engine.snapshot().by_name[auto].operation is None
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    # zero mutating requests: no write, and not even a dry-run PATCH (read-only mode
    # predicts without the server: desired laid over live)
    assert writes(events, dry_run=False) == []
    assert writes(events, dry_run=True) == []
    print(f"read-only session: {len(events)} namespaced requests, none mutating")
    # and the cluster is as it was
    assert kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "stale").returncode == 0
    got = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "drifted", "-o", "json")
    assert json.loads(got.stdout)["data"] == {"mode": "live"}
    missing = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "missing", check=False)
    assert missing.returncode != 0


@pytest.fixture
def cli_app(sandbox, namespace, tmp_path) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """An app file for the CLI: one drifted object, one to prune. Returns common args."""
    apply_tracked(sandbox.kubeconfig, namespace, namespace, [cm("drifted", mode="live")])
    apply_tracked(sandbox.kubeconfig, namespace, namespace, [cm("stale", k="v")])
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("drifted", mode="git")])})
    app_file = tmp_path / "app.yaml"
    app_file.write_text(
        yaml.safe_dump(application(namespace, f"file://{repo.working_tree_dir}", "app", namespace))
    )
    return ["--apps", str(app_file), "--kubeconfig", str(sandbox.kubeconfig)], namespace


def test_cli_read_only_refuses_changes_with_exit_2(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, cli_app, tmp_path
) -> None:
    common, app = cli_app
    mark = Path(sandbox_box.audit_log).stat().st_size
    for command, refused in (
        (["sync", "--read-only", *common, app, "--prune"], "sync with prune refused"),
        (["sync", "--read-only", *common, app, "--dry-run"], "sync refused"),
        (["rollback", "--read-only", *common, app, "1"], "rollback refused"),
    ):
        result = _cli(command, tmp_path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert f"error: read-only mode: {refused} (start without --read-only" in result.stderr
    listed = _cli(["list", "--read-only", *common, "--output", "json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["sync"] == "OutOfSync"
    assert writes(audit_events(sandbox_box, sandbox.kubeconfig, mark, app), dry_run=False) == []
    assert kubectl(sandbox.kubeconfig, "-n", app, "get", "cm", "stale").returncode == 0


def test_cli_read_only_before_the_subcommand(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, cli_app, tmp_path
) -> None:
    """``gitops-tui --read-only sync APP``: the flag before the subcommand counts too."""
    common, app = cli_app
    mark = Path(sandbox_box.audit_log).stat().st_size
    result = _cli(["--read-only", *common, "sync", app], tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "error: read-only mode: sync refused" in result.stderr
    assert writes(audit_events(sandbox_box, sandbox.kubeconfig, mark, app), dry_run=False) == []


# --------------------------------------------------------------------------- reads stay in the checkout


def test_symlinks_to_etc_passwd_are_refused_and_never_read(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, namespace, tmp_path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    passwd_lines = [
        line for line in Path("/etc/passwd").read_text().splitlines() if len(line) >= 12
    ]
    assert passwd_lines
    chart = {
        "Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "templates/cm.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
            '  p: {{ .Files.Get "p.txt" | quote }}\n'
        ),
    }
    repo = make_repo(
        tmp_path / "repo",
        {
            "plain/cm.yaml": dump_all([cm("plain", k="v")]),
            "plain/passwd.yaml": Symlink("/etc/passwd"),
            "json/passwd.json": Symlink("/etc/passwd"),
            **{f"files/{k}": v for k, v in chart.items()},
            "files/p.txt": Symlink("/etc/passwd"),
            **{f"values/{k}": v for k, v in chart.items()},
            "links/values.yaml": Symlink("/etc/passwd"),
            "kust/kustomization.yaml": "resources:\n- passwd.yaml\n",
            "kust/passwd.yaml": Symlink("/etc/passwd"),
            "whole": Symlink("/etc"),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    cases = {
        "plain": ("plain", {}, "plain/passwd.yaml: symlink points outside the repository"),
        "json": ("json", {}, "json/passwd.json: symlink points outside the repository"),
        "files": ("files", {}, "files/p.txt: symlink points outside the repository"),
        "values": (
            "values",
            {"helm": {"valueFiles": ["../links/values.yaml"]}},
            "helm: ../links/values.yaml: helm value file leaves the repository",
        ),
        "kust": ("kust", {}, "kust/passwd.yaml: symlink points outside the repository"),
        "whole": (
            "whole",
            {"directory": {"include": "passwd"}},
            "whole: path leaves the repository",
        ),
    }
    docs = [
        application(f"{namespace}-{case}", url, path, namespace, source_extra=extra)
        for case, (path, extra, _message) in cases.items()
    ]
    mark = Path(sandbox_box.audit_log).stat().st_size
    out = io.StringIO()
    errors = []
    with running_engine(sandbox.kubeconfig, tmp_path, docs, watch_local_repos=False) as engine:
        snapshots = SnapshotLog(engine)
        engine.refresh(hard=True)
        assert engine.wait_until_compared(timeout=60)
        for case, (_path, _extra, message) in cases.items():
            app = engine.snapshot().by_name[f"{namespace}-{case}"]
            [condition] = app.conditions
            assert condition.type == ConditionType.COMPARISON_ERROR.value
            assert message in condition.message, condition.message
            with pytest.raises(EngineError) as refused:
                engine.sync(SyncRequest(app=app.name))
            errors.append(str(refused.value))
            headless.cmd_diff(engine, app.name, exit_code=False, output="json", out=out)
        for output in ("text", "json"):
            headless.cmd_list(engine, output=output, out=out)
        snapshots.unsubscribe()
    assert (
        writes(audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace), dry_run=False) == []
    )
    searched = {
        "command output": out.getvalue(),
        "snapshots": snapshots.text(),
        "logs": caplog.text,
        "errors": "\n".join(errors),
    }
    for line in passwd_lines:
        for where, text in searched.items():
            assert line not in text, f"/etc/passwd line {line!r} in the {where}"

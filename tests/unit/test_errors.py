"""One base for every engine error: ``GitOpsError`` (``gitops_tui/engine/errors.py``)."""

from __future__ import annotations

import importlib
import inspect
import io
import sys
from pathlib import Path

import pytest
from helpers import run_cli

import gitops_tui.engine
from gitops_tui import headless
from gitops_tui.config import ConfigError
from gitops_tui.engine.api import EngineError, ReadOnlyError, SyncRequest
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.engine.errors import EngineSignal, GitOpsError
from gitops_tui.engine.manifest_yaml import ManifestFileError
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.engine.source.repo import RepoError
from gitops_tui.engine.sync.history import HistoryError
from gitops_tui.sandbox.controlplane import SandboxError
from gitops_tui.sandbox.toolchain import ToolError

ENGINE = Path(gitops_tui.engine.__file__).parent


def _exception_classes(root: Path, package: str) -> list[type[BaseException]]:
    """Every exception class defined in a module of ``package`` (found by rglob under ``root``)."""
    found: list[type[BaseException]] = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        module = importlib.import_module(".".join((package, *parts)))
        found.extend(
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__
        )
    return found


def _outside_the_hierarchy(classes: list[type[BaseException]]) -> list[str]:
    """Classes that are neither a ``GitOpsError`` nor a private ``EngineSignal``."""
    return sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes
        if not issubclass(cls, GitOpsError)
        and cls is not EngineSignal
        and not (issubclass(cls, EngineSignal) and cls.__name__.startswith("_"))
    )


def test_every_engine_exception_derives_from_gitops_error() -> None:
    classes = _exception_classes(ENGINE, "gitops_tui.engine")
    names = {cls.__name__ for cls in classes}
    # the walk sees the errors of the engine's modules (not just a few of them)
    assert {"RepoError", "KubeApiError", "RenderError", "HistoryError", "LimitExceeded"} <= names
    assert len(classes) >= 15
    assert _outside_the_hierarchy(classes) == []


def test_the_walk_reports_a_stray_exception_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same walk over a throwaway package: a class on a builtin base, a public
    # signal and one in a subpackage are reported; the well-formed ones are not
    package = tmp_path / "stray_engine"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    header = "from gitops_tui.engine.errors import EngineSignal, GitOpsError\n"
    (package / "good.py").write_text(
        header + "class FineError(GitOpsError): ...\nclass _Stop(EngineSignal): ...\n"
    )
    (package / "bad.py").write_text(
        header + "class StrayError(ValueError): ...\nclass PublicSignal(EngineSignal): ...\n"
    )
    (package / "sub" / "deep.py").write_text("class DeepError(Exception): ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        classes = _exception_classes(package, "stray_engine")
    finally:
        for name in [m for m in sys.modules if m.startswith("stray_engine")]:
            del sys.modules[name]
    assert _outside_the_hierarchy(classes) == [
        "stray_engine.bad.PublicSignal",
        "stray_engine.bad.StrayError",
        "stray_engine.sub.deep.DeepError",
    ]


def test_errors_outside_the_engine_share_the_base() -> None:
    for cls in (ConfigError, SandboxError, ToolError):
        assert issubclass(cls, GitOpsError), cls


def test_errors_keep_their_builtin_bases_message_and_title() -> None:
    # code that catches the builtin a class always was keeps catching it
    assert isinstance(ConfigError(["a", "b"]), ValueError)
    assert isinstance(ManifestFileError("x"), ValueError)
    assert isinstance(ReadOnlyError("sync"), PermissionError)
    assert isinstance(EngineError("x"), RuntimeError)
    assert isinstance(HistoryError("x"), RuntimeError)
    assert str(ConfigError(["a", "b"])) == "a\nb"
    assert str(ReadOnlyError("sync")).startswith("read-only mode: sync refused")
    api = KubeApiError(403, "Forbidden", "no access to secrets")
    assert (str(api), api.message, api.status) == (
        "Forbidden: no access to secrets",
        api.message,
        403,
    )
    assert api.message == "no access to secrets"
    # every public error has a title of its own (or its parent's), not the generic one
    errors = [
        c
        for c in _exception_classes(ENGINE, "gitops_tui.engine")
        if issubclass(c, GitOpsError) and c is not GitOpsError and not c.__name__.startswith("_")
    ]
    untitled = [c.__name__ for c in errors if c.title == GitOpsError.title]
    assert untitled == []
    assert GitOpsError("boom", title="Sync refused").title == "Sync refused"
    assert RepoError("x").title == "Git error"


def test_run_guarded_turns_any_engine_error_into_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a Kubernetes API error escaping a command was a traceback; now exit 2 and one line
    def fails() -> int:
        raise KubeApiError(0, "", "cannot reach https://127.0.0.1:1: connection refused")

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert headless.run_guarded(fails) == headless.EXIT_ERROR
    assert err.getvalue() == "error: cannot reach https://127.0.0.1:1: connection refused\n"


def test_a_config_error_of_one_string_is_one_problem() -> None:
    # ConfigError("...") listed each character as a problem, one per line
    error = ConfigError("config.yaml: no such config file")
    assert error.problems == ("config.yaml: no such config file",)
    assert str(error) == "config.yaml: no such config file"
    assert ConfigError(["a", "b"]).problems == ("a", "b")


def test_cli_without_apps_says_so_on_one_line(tmp_path: Path) -> None:
    proc = run_cli(["list"], tmp_path, timeout=60)
    assert proc.returncode == headless.EXIT_ERROR
    assert proc.stderr.startswith("error: no applications: pass --apps PATH")
    assert proc.stderr.count("\n") == 1


def test_cli_with_an_unusable_history_file_exits_2_without_a_traceback(tmp_path: Path) -> None:
    # a HistoryError while the engine starts was not in the CLI's hand-made tuple
    state = tmp_path / "state"
    (state / "history.sqlite3").mkdir(parents=True)
    (tmp_path / "apps").mkdir()
    proc = run_cli(["--apps", str(tmp_path / "apps"), "list"], tmp_path, timeout=60, state=state)
    assert proc.returncode == headless.EXIT_ERROR, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        proc.stderr
        == f"error: sync history {state / 'history.sqlite3'} is a directory, not a file\n"
    )


def test_a_sync_whose_planning_fails_with_any_engine_error_ends_in_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # planning caught three hand-listed classes: any other engine error (here a Git
    # one) escaped and left the operation "planning" forever, blocking later syncs
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "file:///nowhere", "path": "web", "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "ns"},
        },
    }
    engine = Engine(
        EngineOptions(
            kubeconfig=tmp_path / "no-kubeconfig",
            repo_cache_dir=tmp_path / "repos",
            history_path=tmp_path / "history.sqlite3",
        ),
        apps=[parse_application(doc, "test")],
    )

    def plan_fails(*_args: object) -> None:
        raise RepoError("file:///nowhere: fetch timed out after 60 s")

    monkeypatch.setattr(engine.operations, "_plan_for", plan_fails)
    try:
        with pytest.raises(EngineError, match="fetch timed out after 60 s"):
            engine.sync(SyncRequest(app="web"))
        operation = engine.table.states["web"].operation
        assert operation is not None
        assert operation.phase == OperationPhase.ERROR
        assert operation.message == "file:///nowhere: fetch timed out after 60 s"
    finally:
        engine.close()

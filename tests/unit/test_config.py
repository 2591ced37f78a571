"""config.yaml: every key, every error, relative paths, and merging with CLI flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.config import (
    CONFIG_FILE,
    DEFAULT_REPO_POLL_INTERVAL_S,
    ConfigError,
    Settings,
    is_read_only,
    load_settings,
    merge_cli,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


# --------------------------------------------------------------------------- defaults and full file


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "nope.yaml")
    assert settings == Settings()
    assert settings.apps == ()
    assert (
        settings.from_cluster is None and settings.kubeconfig is None and settings.context is None
    )
    assert settings.read_only is False and settings.read_only_contexts == frozenset()
    assert settings.repo_poll_interval_s == DEFAULT_REPO_POLL_INTERVAL_S == 60.0
    assert settings.tracking == "annotation"
    assert settings.application_health is False


def test_default_path_is_in_the_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_TUI_CONFIG_DIR", str(tmp_path))
    (tmp_path / CONFIG_FILE).write_text("context: from-default-dir\n")
    assert load_settings().context == "from-default-dir"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "{}\n"])
def test_empty_file_gives_the_defaults(tmp_path: Path, text: str) -> None:
    assert load_settings(write(tmp_path, text)) == Settings()


def test_every_key_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        apps: [apps/, /abs/app.yaml, ../shared]
        fromCluster: argocd
        kubeconfig: kube/config
        context: my-context
        readOnly: true
        contexts:
          prod-cluster: {readOnly: true}
          staging: {readOnly: false}
          dev: {}
          other:
        repoPollInterval: 1m30s
        tracking: label
        kustomizeRemoteBases: false
        helmChartRepositories: true
        applicationHealth: true
        forceConflicts: false
        """.replace("\n        ", "\n"),
    )
    base = path.parent.absolute()
    assert load_settings(path) == Settings(
        apps=(base / "apps", Path("/abs/app.yaml"), base / ".." / "shared"),
        from_cluster="argocd",
        kubeconfig=base / "kube" / "config",
        context="my-context",
        read_only=True,
        read_only_contexts=frozenset({"prod-cluster"}),
        repo_poll_interval_s=90.0,
        tracking="label",
        kustomize_remote_bases=False,
        helm_chart_repositories=True,
        application_health=True,
        force_conflicts=False,
    )


def test_null_values_count_as_unset(tmp_path: Path) -> None:
    text = "apps:\nfromCluster:\nkubeconfig:\ncontext:\nreadOnly:\ncontexts:\nrepoPollInterval:\ntracking:\n"
    text += "applicationHealth:\n"
    text += "forceConflicts:\n"
    assert load_settings(write(tmp_path, text)) == Settings()


# --------------------------------------------------------------------------- paths


def test_relative_app_paths_resolve_against_the_config_files_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "apps: [team/apps.yaml, ./more]\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_settings(path).apps == (
        tmp_path / "conf" / "team" / "apps.yaml",
        tmp_path / "conf" / "more",
    )


def test_a_relative_config_path_still_gives_absolute_app_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "apps: [apps]\n")
    monkeypatch.chdir(tmp_path)
    apps = load_settings(Path("conf") / CONFIG_FILE).apps
    assert apps == (tmp_path / "conf" / "apps",)
    assert apps[0].is_absolute()


def test_home_is_expanded_in_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    settings = load_settings(write(tmp_path, "apps: [~/apps]\nkubeconfig: ~/.kube/config\n"))
    assert settings.apps == (tmp_path / "home" / "apps",)
    assert settings.kubeconfig == tmp_path / "home" / ".kube" / "config"


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("'45'", 45.0),
        ("45", 45.0),
        ("2.5", 2.5),
    ],
)
def test_repo_poll_interval_accepts_durations_and_plain_seconds(
    tmp_path: Path, text: str, seconds: float
) -> None:
    assert (
        load_settings(write(tmp_path, f"repoPollInterval: {text}\n")).repo_poll_interval_s
        == seconds
    )


@pytest.mark.parametrize("text", ["soon", "5 minutes", "-5s", "0s", "0", "true", "[1]", ".inf"])
def test_repo_poll_interval_rejects_bad_durations(tmp_path: Path, text: str) -> None:
    message = error_of(tmp_path, f"repoPollInterval: {text}\n")
    assert "repoPollInterval: " in message
    assert "duration" in message


# --------------------------------------------------------------------------- errors


def test_unknown_keys_are_errors_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, "readonly: true\nfrobnicate: 1\n")
    assert "readonly: unknown key (did you mean readOnly?)" in message
    assert "frobnicate: unknown key" in message
    assert "frobnicate: unknown key (" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apps: apps/\n", "apps: must be a list of paths, not a string"),
        ("apps: [ok, 3]\n", "apps[1]: must be a string, not a number"),
        ("apps: ['']\n", "apps[0]: must not be empty"),
        ("fromCluster: Argo_CD\n", "fromCluster: 'Argo_CD' is not a namespace name"),
        (f"fromCluster: {'a' * 64}\n", "fromCluster: 'aaa"),
        ("fromCluster: [argocd]\n", "fromCluster: must be a string, not a list"),
        ("kubeconfig: 7\n", "kubeconfig: must be a string, not a number"),
        ("context: '  '\n", "context: must not be empty"),
        ("context: {a: b}\n", "context: must be a string, not a mapping"),
        ("readOnly: 'yes please'\n", "readOnly: must be true or false, not a string"),
        ("readOnly: 1\n", "readOnly: must be true or false, not a number"),
        ("contexts: [prod]\n", "contexts: must map context names to settings, not a list"),
        (
            "contexts: {prod: true}\n",
            "contexts.prod: must be a mapping like {readOnly: true}, not a boolean",
        ),
        (
            "contexts: {prod: {readonly: true}}\n",
            "contexts.prod.readonly: unknown key (did you mean readOnly?)",
        ),
        (
            "contexts: {prod: {readOnly: 'true'}}\n",
            "contexts.prod.readOnly: must be true or false, not a string",
        ),
        (
            "tracking: annotation+label\n",
            "tracking: must be one of annotation, label, not 'annotation+label'",
        ),
        ("tracking: 1\n", "tracking: must be one of annotation, label, not 1"),
        ("applicationHealth: 'on'\n", "applicationHealth: must be true or false, not a string"),
    ],
)
def test_each_invalid_value_is_named_by_its_key(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert str(tmp_path / "conf" / CONFIG_FILE) in message
    assert expected in message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "readOnly: maybe\ntracking: nope\ncolour: red\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert len(info.value.problems) == 3
    assert [p.split(": ")[1] for p in info.value.problems] == ["readOnly", "tracking", "colour"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- apps\n- more\n", "must be a mapping of settings, not a list"),
        ("just text\n", "must be a mapping of settings, not a string"),
        ("a: 1\n---\nb: 2\n", "holds 2 YAML documents"),
        ("apps: [unclosed\n", "line "),
        ("a: &x [*x]\n", CONFIG_FILE),
    ],
)
def test_malformed_files_give_a_config_error(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, text)


def test_a_binary_file_gives_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_FILE
    path.write_bytes(b"SQLite format 3\x00\x10\x00")
    with pytest.raises(ConfigError, match="binary"):
        load_settings(path)


def test_a_directory_at_the_path_gives_a_config_error(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / CONFIG_FILE)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


# --------------------------------------------------------------------------- CLI merging


CONFIGURED = Settings(
    apps=(Path("/cfg/apps"),),
    from_cluster="argocd",
    kubeconfig=Path("/cfg/kubeconfig"),
    context="cfg-context",
    read_only=False,
    read_only_contexts=frozenset({"prod"}),
    repo_poll_interval_s=60.0,
    tracking="annotation",
)


def test_no_flags_keep_the_config() -> None:
    assert merge_cli(CONFIGURED) == CONFIGURED
    assert (
        merge_cli(
            CONFIGURED,
            apps=None,
            from_cluster=None,
            kubeconfig=None,
            context=None,
            read_only=None,
            repo_poll_interval_s=None,
            tracking=None,
        )
        == CONFIGURED
    )


def test_given_flags_win() -> None:
    merged = merge_cli(
        CONFIGURED,
        apps=["here.yaml", Path("there")],
        from_cluster="gitops",
        kubeconfig="/tmp/kc",
        context="cli-context",
        repo_poll_interval_s=5.0,
        tracking="label",
    )
    assert merged == Settings(
        apps=(Path("here.yaml"), Path("there")),
        from_cluster="gitops",
        kubeconfig=Path("/tmp/kc"),
        context="cli-context",
        read_only=False,
        read_only_contexts=frozenset({"prod"}),
        repo_poll_interval_s=5.0,
        tracking="label",
    )


def test_apps_flag_replaces_rather_than_extends_and_empty_means_not_given() -> None:
    assert merge_cli(CONFIGURED, apps=["x"]).apps == (Path("x"),)
    assert merge_cli(CONFIGURED, apps=[]).apps == CONFIGURED.apps


def test_read_only_flag_forces_read_only_but_cannot_lift_it() -> None:
    assert merge_cli(CONFIGURED, read_only=True).read_only is True
    assert merge_cli(CONFIGURED, read_only=False).read_only is False
    locked = merge_cli(CONFIGURED, read_only=True)
    assert merge_cli(locked, read_only=False).read_only is True


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"from_cluster": "Not A Namespace"}, "--from-cluster: "),
        ({"tracking": "labels"}, "--tracking: must be one of"),
        ({"repo_poll_interval_s": 0.0}, "--repo-poll-interval: must be a positive duration"),
    ],
)
def test_invalid_flags_give_a_config_error_naming_the_flag(
    flags: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        merge_cli(CONFIGURED, **flags)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- read-only


def test_read_only_globally_applies_to_every_context() -> None:
    settings = Settings(read_only=True)
    assert is_read_only(settings, "anything")
    assert is_read_only(settings, None)


def test_read_only_per_context() -> None:
    settings = Settings(read_only_contexts=frozenset({"prod"}))
    assert is_read_only(settings, "prod")
    assert not is_read_only(settings, "dev")
    assert not is_read_only(settings, None)


def test_no_context_means_the_configured_default_context() -> None:
    assert is_read_only(Settings(context="prod", read_only_contexts=frozenset({"prod"})), None)
    assert not is_read_only(Settings(context="prod", read_only_contexts=frozenset({"prod"})), "dev")


def test_read_only_contexts_from_the_file_drive_is_read_only(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, "contexts:\n  prod-cluster: {readOnly: true}\n  dev: {readOnly: false}\n")
    )
    assert is_read_only(settings, "prod-cluster")
    assert not is_read_only(settings, "dev")

"""``--argocd [NAMESPACE]`` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui import argocd_cli, cli
from gitops_tui.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("argv", "namespace", "command"),
    [
        (["--argocd", "list", "-o", "json"], "argocd", "list"),  # bare flag, then a command
        (["--argocd", "team-a", "list"], "team-a", "list"),
        (["list", "--argocd"], "argocd", "list"),
        (["diff", "app", "--argocd", "ops"], "ops", "diff"),
        (["--argocd"], "argocd", None),
    ],
)
def test_bare_argocd_flag_before_a_command(
    argv: list[str], namespace: str, command: str | None
) -> None:
    parser = cli.build_parser()
    args = parser.parse_args(argocd_cli.bare_flag_before_command(argv, parser))
    assert (args.argocd, args.command) == (namespace, command)


def test_namespace_is_validated_and_local_options_refused() -> None:
    with pytest.raises(ConfigError, match="not a namespace name"):
        argocd_cli.namespace("Bad/Name")
    parser = cli.build_parser()
    args = parser.parse_args(["--argocd", "--from-cluster", "x", "list"])
    with pytest.raises(ConfigError, match="leave out --apps and --from-cluster"):
        argocd_cli.make_backend(args, cli._settings(args))


def test_argocd_per_context_in_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "contexts:\n"
        "  prod: {readOnly: true, argocd: {namespace: ops}}\n"
        "  stage: {argocd: {}}\n"
        "  dev: {readOnly: false}\n"
    )
    settings = load_settings(config)
    assert settings.argocd_contexts == (("prod", "ops"), ("stage", "argocd"))
    assert settings.read_only_contexts == frozenset({"prod"})
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: stage\n"
        "contexts:\n- {name: stage, context: {cluster: c}}\n- {name: dev, context: {cluster: c}}\n"
        "clusters:\n- {name: c, cluster: {server: 'https://127.0.0.1:1'}}\n"
    )
    parser = cli.build_parser()

    def resolved(*argv: str) -> str | None:
        args = parser.parse_args(["--config", str(config), "--kubeconfig", str(kubeconfig), *argv])
        return argocd_cli.argocd_namespace(args, cli._settings(args))

    assert resolved("list") == "argocd"  # the current context, stage
    assert resolved("--context", "prod", "list") == "ops"
    assert resolved("--context", "dev", "list") is None  # the local engine
    assert resolved("--context", "dev", "--argocd", "x", "list") == "x"
    assert resolved("--from-cluster", "argocd", "list") is None  # asked for the local engine


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{argocd: ops}", "contexts.prod.argocd: must be a mapping like {namespace: argocd}"),
        (
            "{argocd: {namspace: x}}",
            "contexts.prod.argocd.namspace: unknown key (did you mean namespace?)",
        ),
        (
            "{argocd: {namespace: Bad_NS}}",
            "contexts.prod.argocd.namespace: 'Bad_NS' is not a namespace name",
        ),
        ("{argcd: {}}", "contexts.prod.argcd: unknown key (did you mean argocd?)"),
    ],
)
def test_argocd_config_errors_name_the_key(tmp_path: Path, entry: str, problem: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"contexts:\n  prod: {entry}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert problem in str(caught.value)

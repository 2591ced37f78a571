"""``--argocd [NAMESPACE]`` on the command line."""

from __future__ import annotations

import pytest

from gitops_tui import argocd_cli, cli
from gitops_tui.config import ConfigError


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

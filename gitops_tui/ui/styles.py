"""Find the ``.tcss`` stylesheets: ``gitops_tui/styles`` in a wheel, ``<repo>/styles`` in a checkout."""

from __future__ import annotations

from pathlib import Path

SHEETS: tuple[str, ...] = ("base.tcss", "app_list.tcss", "app_view.tcss", "modals.tcss")
"""Loaded in this order; later sheets may refine earlier ones."""

_PACKAGE = Path(__file__).resolve().parent.parent


def styles_dir() -> Path:
    """The folder holding the stylesheets (installed package first, then the repo root)."""
    for candidate in (_PACKAGE / "styles", _PACKAGE.parent / "styles"):
        if all((candidate / sheet).is_file() for sheet in SHEETS):
            return candidate
    raise FileNotFoundError(
        f"gitops-tui stylesheets not found in {_PACKAGE / 'styles'} or {_PACKAGE.parent / 'styles'}"
    )


def css_paths() -> list[Path]:
    """Paths for ``App.CSS_PATH``."""
    folder = styles_dir()
    return [folder / sheet for sheet in SHEETS]

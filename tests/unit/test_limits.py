"""Objects and bytes per app are bounded (issue 11 item 14), with real Git and real files.

A directory app over a limit is refused before its files are parsed: the proof is
a file that would not even parse (broken YAML after the limit) failing with the
limit's message, not with a YAML error.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Symlink, make_repo
from helpers import application, dump_all

from gitops_tui.config import ConfigError, load_settings
from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.source.limits import ManifestLimits
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import (
    Generated,
    ManifestCache,
    SourceError,
    generate,
    resolve_revisions,
)


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def render(
    tmp_path: Path,
    files: dict[str, str],
    limits: ManifestLimits,
    *,
    directory: dict[str, Any] | None = None,
    cache: ManifestCache | None = None,
) -> Generated:
    repo = make_repo(tmp_path / "repo", files)
    doc = application(
        "web",
        f"file://{repo.working_tree_dir}",
        "app",
        "prod",
        source_extra={"directory": directory} if directory else None,
    )
    app = parse_application(doc, "test")
    assert isinstance(app, Application)
    repos = RepoCache(tmp_path / "cache")
    revisions = resolve_revisions(app, repos, refresh=True)
    return generate(app, repos, cache or ManifestCache(), revisions=revisions, limits=limits)


def refusal(tmp_path: Path, files: dict[str, str], limits: ManifestLimits, **kw: Any) -> str:
    with pytest.raises(SourceError) as error:
        render(tmp_path, files, limits, **kw)
    assert error.value.kind == "render"
    return str(error.value)


BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n"


def test_too_many_documents_are_refused_before_parsing(tmp_path: Path) -> None:
    docs = dump_all([cm(f"c{i}") for i in range(12)]) + "---\n" + BROKEN
    message = refusal(tmp_path, {"app/a.yaml": docs}, ManifestLimits(max_objects=10))
    assert message == (
        "app web: its manifest files hold more than 10 YAML documents, over the limit of "
        "10 objects per app (limits.objectsPerApp in the config file)"
    )


def test_documents_are_counted_across_files_and_sources_up_to_the_limit(tmp_path: Path) -> None:
    files = {f"app/{n}.yaml": dump_all([cm(f"{n}-{i}") for i in range(5)]) for n in "ab"}
    generated = render(tmp_path, files, ManifestLimits(max_objects=10))
    assert len(generated.manifests) == 10
    message = refusal(tmp_path / "more", files, ManifestLimits(max_objects=9))
    assert "over the limit of 9 objects per app" in message


def test_too_many_bytes_are_refused_before_parsing(tmp_path: Path) -> None:
    text = dump_all([cm("big", blob="x" * 3000)]) + "---\n" + BROKEN
    message = refusal(tmp_path, {"app/a.yaml": text}, ManifestLimits(max_bytes=2048))
    assert message.startswith("app web: its manifest files hold 3.1 KiB, over the limit of 2 KiB")
    assert message.endswith("of manifests per app (limits.manifestBytesPerApp in the config file)")


def test_files_the_source_excludes_do_not_count(tmp_path: Path) -> None:
    files = {
        "app/keep.yaml": dump_all([cm("keep")]),
        "app/skip.yaml": dump_all([cm(f"s{i}", blob="x" * 100) for i in range(50)]),
    }
    limits = ManifestLimits(max_objects=5, max_bytes=1024)
    generated = render(tmp_path, files, limits, directory={"exclude": "skip.yaml"})
    assert [m["metadata"]["name"] for m in generated.manifests] == ["keep"]


def test_objects_are_counted_after_rendering_too(tmp_path: Path) -> None:
    """A JSON ``List`` is one document but many objects: counted once rendered."""
    listing = {"apiVersion": "v1", "kind": "List", "items": [cm(f"c{i}") for i in range(20)]}
    message = refusal(
        tmp_path, {"app/list.json": json.dumps(listing)}, ManifestLimits(max_objects=10)
    )
    assert message == (
        "app web: more than 10 objects, over the limit of 10 objects per app "
        "(limits.objectsPerApp in the config file)"
    )


def test_bytes_are_counted_after_rendering_as_json(tmp_path: Path) -> None:
    """YAML aliases make a small file a big set of objects: bytes count once rendered."""
    items = "".join(
        f"- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}, data: *d}}\n"
        for i in range(20)
    )
    text = (
        f"apiVersion: v1\nkind: List\nmetadata: {{labels: &d {{k: {'x' * 1000}}}}}\nitems:\n{items}"
    )
    assert len(text) < 4096  # the file itself is under the limit
    message = refusal(tmp_path, {"app/a.yaml": text}, ManifestLimits(max_bytes=4096))
    assert message == (
        "app web: its manifests take more than 4 KiB as JSON, over the limit of 4 KiB of "
        "manifests per app (limits.manifestBytesPerApp in the config file)"
    )


def test_an_app_over_the_limit_is_not_kept_in_the_render_cache(tmp_path: Path) -> None:
    cache = ManifestCache()
    listing = {"apiVersion": "v1", "kind": "List", "items": [cm(f"c{i}") for i in range(20)]}
    with pytest.raises(SourceError):
        render(
            tmp_path,
            {"app/list.json": json.dumps(listing)},
            ManifestLimits(max_objects=10),
            cache=cache,
        )
    assert cache.renders == 0


def test_a_file_of_260000_tiny_documents_fails_fast_with_the_default_limits(
    tmp_path: Path,
) -> None:
    """The reported case: 15 MB, 260,000 documents. It took minutes to parse (about a
    minute on this machine for the parse alone); it is now refused before parsing."""
    text = "---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n" for i in range(260_000)
    )
    started = time.monotonic()
    message = refusal(tmp_path, {"app/many.yaml": text}, ManifestLimits())
    elapsed = time.monotonic() - started
    assert message.startswith("app web: its manifest files hold more than 10,000 YAML documents")
    print(f"260,000 documents refused in {elapsed:.2f} s")


# --------------------------------------------------------------------------- config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_limits_default_to_10000_objects_and_50_mib() -> None:
    assert ManifestLimits() == ManifestLimits(max_objects=10_000, max_bytes=50 * 2**20)
    assert load_settings(Path("/nonexistent/config.yaml")).limits == ManifestLimits()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("limits: {objectsPerApp: 500}\n", ManifestLimits(max_objects=500)),
        ("limits: {manifestBytesPerApp: 5Mi}\n", ManifestLimits(max_bytes=5 * 2**20)),
        ("limits: {manifestBytesPerApp: 2M}\n", ManifestLimits(max_bytes=2_000_000)),
        ("limits: {manifestBytesPerApp: 4096}\n", ManifestLimits(max_bytes=4096)),
        ("limits: {objectsPerApp: 7, manifestBytesPerApp: 1Gi}\n", ManifestLimits(7, 2**30)),
        ("limits:\n", ManifestLimits()),
    ],
)
def test_limits_are_read_from_the_config_file(
    tmp_path: Path, text: str, expected: ManifestLimits
) -> None:
    assert load_settings(write(tmp_path, text)).limits == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("limits: {objectsPerApp: 0}\n", "limits.objectsPerApp: must be a positive whole number"),
        ("limits: {objectsPerApp: '10'}\n", "limits.objectsPerApp: must be a positive whole"),
        ("limits: {manifestBytesPerApp: 5 parsecs}\n", "limits.manifestBytesPerApp: must be a"),
        ("limits: {manifestBytesPerApp: -1}\n", "limits.manifestBytesPerApp: must be a positive"),
        (
            "limits: {objectsPerap: 3}\n",
            "limits.objectsPerap: unknown key (did you mean objectsPerApp?)",
        ),
        ("limits: 10\n", "limits: must be a mapping like"),
    ],
)
def test_bad_limits_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert f"{path}: {expected}" in str(error.value)


def test_measuring_never_opens_a_file_outside_the_checkout(tmp_path: Path) -> None:
    """A symlink to a FIFO outside the checkout: opening it would block for ever. It is
    left to the renderer, which refuses it without reading."""
    fifo = tmp_path / "outside.fifo"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def run() -> None:
        outcome.append(refusal(tmp_path, {"app/a.yaml": Symlink(str(fifo))}, ManifestLimits()))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "blocked opening a FIFO outside the checkout"
    assert len(outcome) == 1 and "symlink points outside the repository" in outcome[0], outcome

"""RepoCache against real repositories: local paths, file:// and a local git daemon."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import git
import pytest

from gitops_tui.engine.source.repo import (
    HEAD_REF,
    RepoCache,
    RepoError,
    RepoErrorKind,
    normalize_repo_url,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the git helpers
from gitrepo import FileContent, GitDaemon, Symlink, branch, commit, make_repo, switch, tag

FILES = {
    "apps/web/deploy.yaml": "kind: Deployment\nmetadata:\n  name: web\n",
    "apps/web/svc.yaml": "kind: Service\nmetadata:\n  name: web\n",
    "README.md": "hello\n",
}


@pytest.fixture
def cache(tmp_path: Path) -> RepoCache:
    return RepoCache(tmp_path / "cache", fetch_timeout=30)


@pytest.fixture
def src(tmp_path: Path) -> git.Repo:
    return make_repo(tmp_path / "src", FILES, "first")


def src_dir(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or "")


def tree_files(root: Path) -> dict[str, bytes | str]:
    """Relative path -> file bytes, or ``"-> target"`` for a symlink."""
    out: dict[str, bytes | str] = {}
    for dirpath, _dirs, files in os.walk(root, followlinks=False):
        for name in files + [d for d in _dirs if os.path.islink(os.path.join(dirpath, d))]:
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            out[rel] = f"-> {os.readlink(full)}" if full.is_symlink() else full.read_bytes()
    return out


def commit_tree_files(repo: git.Repo, sha: str) -> dict[str, bytes | str]:
    """The same mapping computed by git itself from the commit's tree."""
    out: dict[str, bytes | str] = {}
    for line in repo.git.ls_tree("-r", "-z", sha).split("\0"):
        if not line:
            continue
        meta, path = line.split("\t", 1)
        mode, _type, blob = meta.split()
        data = repo.git.cat_file(
            "blob", blob, stdout_as_string=False, strip_newline_in_stdout=False
        )
        out[path] = f"-> {data.decode()}" if mode == "120000" else data
    return out


# --------------------------------------------------------------- resolution


def test_resolve_head_branches_tags_and_shas(cache: RepoCache, src: git.Repo) -> None:
    url = str(src_dir(src))
    c1 = src.head.commit.hexsha
    tag(src, "v1")
    branch(src, "feature")
    c2 = commit(src, {"README.md": "two\n"}, "second")
    v2 = tag(src, "v2", annotated=True)
    tag_object = src.git.rev_parse("v2")
    branch(src, "release", c1)
    tag(src, "release", ref=c2)  # a tag with a branch's name: the branch wins
    c3 = commit(src, {"README.md": "three\n"}, "third")

    assert v2 == c2 and tag_object != c2
    assert cache.resolve(url) == c3
    assert cache.resolve(url, "HEAD") == c3
    assert cache.resolve(url, "") == c3
    assert cache.resolve(url, "main") == c3
    assert cache.resolve(url, "refs/heads/main") == c3
    assert cache.resolve(url, "feature") == c1
    assert cache.resolve(url, "v1") == c1
    assert cache.resolve(url, "v2") == c2  # annotated tag peeled to its commit
    assert cache.resolve(url, "refs/tags/v2") == c2
    assert cache.resolve(url, "release") == c1
    assert cache.resolve(url, "refs/tags/release") == c2
    assert cache.resolve(url, c1) == c1
    assert cache.resolve(url, c1.upper()) == c1
    assert cache.resolve(url, c2[:7]) == c2
    assert cache.resolve(url, c2[:4]) == c2

    tree_sha = src.commit(c1).tree.hexsha
    with pytest.raises(RepoError) as err:
        cache.resolve(url, tree_sha)  # an object, but not a commit
    assert err.value.kind is RepoErrorKind.REVISION


def test_head_is_the_sources_current_branch(cache: RepoCache, src: git.Repo) -> None:
    url = f"file://{src_dir(src)}"
    main = src.head.commit.hexsha
    switch(src, "dev", create=True)
    dev = commit(src, {"README.md": "dev\n"}, "on dev")
    assert cache.resolve(url, refresh=True) == dev
    switch(src, "main")
    assert cache.resolve(url, refresh=True) == main
    assert cache.resolve(url, "dev") == dev


def test_new_commit_seen_after_refresh_and_not_before(cache: RepoCache, src: git.Repo) -> None:
    url = str(src_dir(src))
    c1 = cache.resolve(url, "main")
    c2 = commit(src, {"apps/web/deploy.yaml": "kind: Deployment\n"}, "bump")
    assert c2 != c1
    assert cache.resolve(url, "main") == c1
    assert cache.resolve(url) == c1
    assert cache.resolve(url, "main", refresh=True) == c2
    assert cache.resolve(url) == c2  # HEAD moved with the same fetch


def test_unknown_revision_fetches_before_giving_up(cache: RepoCache, src: git.Repo) -> None:
    url = str(src_dir(src))
    cache.resolve(url)
    branch(src, "later")
    c2 = commit(src, {"x.yaml": "a: 1\n"}, "later")
    tag(src, "v9")
    assert cache.resolve(url, "later") != c2  # branch made before the commit
    assert cache.resolve(url, "v9") == c2  # unknown locally: fetched without refresh
    assert cache.resolve(url, c2) == c2


def test_full_sha_already_present_needs_no_fetch(
    cache: RepoCache, src: git.Repo, tmp_path: Path
) -> None:
    url = str(src_dir(src))
    c1 = cache.resolve(url)
    shutil.move(src_dir(src), tmp_path / "moved-away")
    assert cache.resolve(url, c1, refresh=True) == c1
    assert cache.last_fetch_error(url) is None
    with pytest.raises(RepoError) as err:
        cache.resolve(url, "main", refresh=True)
    assert err.value.kind is RepoErrorKind.UNREACHABLE


@pytest.mark.parametrize(
    "revision", ["nope", "feature/none", "0" * 40, "deadbeef", "main~1", "v1^{tree}", "-x"]
)
def test_revision_not_found(cache: RepoCache, src: git.Repo, revision: str) -> None:
    with pytest.raises(RepoError) as err:
        cache.resolve(str(src_dir(src)), revision)
    assert err.value.kind is RepoErrorKind.REVISION
    assert "revision not found" in str(err.value)


def test_deleted_branch_and_force_push(cache: RepoCache, src: git.Repo) -> None:
    url = str(src_dir(src))
    c1 = src.head.commit.hexsha
    branch(src, "feature")
    commit(src, {"README.md": "two\n"}, "second")
    assert cache.resolve(url, "feature") == c1
    src.git.branch("-D", "feature")
    src.git.reset("--hard", c1)
    rewritten = commit(src, {"README.md": "rewritten\n"}, "rewritten")
    assert cache.resolve(url, "main", refresh=True) == rewritten
    with pytest.raises(RepoError) as err:
        cache.resolve(url, "feature")
    assert err.value.kind is RepoErrorKind.REVISION


def test_empty_repository(cache: RepoCache, tmp_path: Path) -> None:
    empty = make_repo(tmp_path / "empty")
    url = str(src_dir(empty))
    with pytest.raises(RepoError) as err:
        cache.resolve(url)
    assert err.value.kind is RepoErrorKind.REVISION
    assert cache.revisions(url) == []
    c1 = commit(empty, {"a.yaml": "a: 1\n"}, "first")
    assert cache.resolve(url, refresh=True) == c1


# ------------------------------------------------------------ bad sources


def test_nonexistent_repository(cache: RepoCache, tmp_path: Path) -> None:
    for url in (str(tmp_path / "missing"), f"file://{tmp_path / 'missing'}"):
        with pytest.raises(RepoError) as err:
            cache.resolve(url)
        assert err.value.kind is RepoErrorKind.UNREACHABLE
        assert "not found or unreachable" in str(err.value)
        assert cache.last_fetch_error(url) == str(err.value)


def test_invalid_urls_are_refused_before_git_runs(cache: RepoCache, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for url in (
        "relative/path",
        f"ext::sh -c touch% {marker}",
        "ftp://host/x",
        "",
        "--upload-pack=x",
    ):
        with pytest.raises(RepoError) as err:
            cache.resolve(url)
        assert err.value.kind is RepoErrorKind.INVALID_URL
    assert not marker.exists()


def test_credentials_never_in_messages_logs_or_files(
    cache: RepoCache, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for url in ("https://user:s3cr3t@127.0.0.1:1/x.git", "https://s3cr3t@127.0.0.1:1/y.git"):
        with pytest.raises(RepoError) as err:
            cache.resolve(url, refresh=True)
        assert err.value.kind is RepoErrorKind.UNREACHABLE
        assert "127.0.0.1" in str(err.value)
        for text in (str(err.value), repr(err.value), cache.last_fetch_error(url) or ""):
            assert "s3cr3t" not in text
    assert "s3cr3t" not in caplog.text
    assert "127.0.0.1" in caplog.text  # the failures were logged, redacted
    for dirpath, _dirs, files in os.walk(cache.root):
        for name in files:
            assert b"s3cr3t" not in Path(dirpath, name).read_bytes(), name
        assert "s3cr3t" not in dirpath


class SilentPort(int):
    connected: threading.Event

    def __new__(cls, value: int) -> SilentPort:
        port = super().__new__(cls, value)
        port.connected = threading.Event()
        return port


@pytest.fixture
def silent_server() -> Iterator[SilentPort]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers.

    Its port (an ``int``) has ``connected``, set once a client has connected.
    """
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            held.append(conn)
            port.connected.set()

    port = SilentPort(server.getsockname()[1])
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_fetch_times_out(tmp_path: Path, silent_server: SilentPort, scheme: str) -> None:
    cache = RepoCache(tmp_path / "cache", fetch_timeout=2)
    url = f"{scheme}://127.0.0.1:{silent_server}/x.git"
    started = time.monotonic()
    with pytest.raises(RepoError) as err:
        cache.resolve(url)
    elapsed = time.monotonic() - started
    assert err.value.kind is RepoErrorKind.TIMEOUT
    assert "timed out after 2 s" in str(err.value)
    assert 1.5 < elapsed < 10


def test_ssh_refused_is_unreachable(cache: RepoCache) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends
    with pytest.raises(RepoError) as err:
        cache.resolve(f"ssh://git@127.0.0.1:{port}/org/repo.git")
    assert err.value.kind is RepoErrorKind.UNREACHABLE


def test_ssh_runs_in_batch_mode_with_the_users_command(
    cache: RepoCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "ssh-args"
    fake_ssh = tmp_path / "my-ssh"
    fake_ssh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\nexit 255\n')
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", f"{fake_ssh} -i /keys/mine")
    with pytest.raises(RepoError):
        cache.resolve("git@example.invalid:org/repo.git")
    args = record.read_text().splitlines()
    assert args[:2] == ["-i", "/keys/mine"]
    assert "BatchMode=yes" in args
    assert "git@example.invalid" in args


# ------------------------------------------------------------- git daemon


def test_git_daemon_clone_fetch_outage_and_recovery(cache: RepoCache, tmp_path: Path) -> None:
    base = tmp_path / "served"
    remote = make_repo(base / "team" / "app", FILES, "first")
    c1 = remote.head.commit.hexsha
    with GitDaemon(base) as daemon:
        url = daemon.url_for(base / "team" / "app")
        assert url.startswith("git://127.0.0.1:")
        assert cache.resolve(url) == c1
        assert cache.revisions(url) == ["main"]

        c2 = commit(remote, {"README.md": "two\n"}, "second")
        assert cache.resolve(url, "main") == c1
        assert cache.resolve(url, "main", refresh=True) == c2

        daemon.stop()
        c3 = commit(remote, {"README.md": "three\n"}, "third")
        with pytest.raises(RepoError) as err:
            cache.resolve(url, "main", refresh=True)
        assert err.value.kind is RepoErrorKind.UNREACHABLE
        assert "unreachable" in str(err.value)
        assert "unreachable" in (cache.last_fetch_error(url) or "")
        # The last known commits keep being served.
        assert cache.resolve(url, "main") == c2
        assert cache.resolve(url) == c2
        assert (cache.checkout(url, c2) / "README.md").read_text() == "two\n"

        daemon.start()
        assert cache.resolve(url, "main", refresh=True) == c3
        assert cache.last_fetch_error(url) is None

        with pytest.raises(RepoError) as err:
            cache.resolve(daemon.url_for(base / "team" / "nope"))
        assert err.value.kind is RepoErrorKind.UNREACHABLE


# ---------------------------------------------------------------- checkout


def _user_repo_state(repo: git.Repo) -> tuple[object, ...]:
    root = src_dir(repo)
    return (
        repo.head.commit.hexsha,
        repo.active_branch.name,
        (root / ".git" / "index").read_bytes(),
        repo.git.status("--porcelain", "--untracked-files=all"),
        sorted(p.name for p in root.iterdir()),
    )


def test_checkout_is_the_commits_tree_not_the_work_tree(cache: RepoCache, tmp_path: Path) -> None:
    files: dict[str, FileContent] = {
        **FILES,
        "bin/run.sh": "#!/bin/sh\necho hi\n",
        "links/inside": Symlink("../apps/web/deploy.yaml"),
        "links/outside": Symlink("../../../../etc/passwd"),
        "crlf.txt": "a\nb\n",
        "subst.txt": "commit $Format:%H$\n",
        "gone.txt": "export-ignored\n",
        ".gitattributes": "* export-subst\ngone.txt export-ignore\ncrlf.txt text eol=crlf\n",
    }
    repo = make_repo(tmp_path / "src", files, "first")
    (src_dir(repo) / "bin" / "run.sh").chmod(0o755)
    c1 = commit(repo, {}, "exec bit")
    c2 = commit(repo, {"README.md": "second\n"}, "second", delete=["apps/web/svc.yaml"])

    # Uncommitted work in the user's repository: staged, unstaged, untracked.
    root = src_dir(repo)
    (root / "apps/web/deploy.yaml").write_text("EDITED\n")
    (root / "README.md").write_text("staged\n")
    repo.git.add("README.md")
    (root / "apps/web/untracked.yaml").write_text("new: 1\n")
    before = _user_repo_state(repo)

    url = str(root)
    d1 = cache.checkout(url, c1)
    d2 = cache.checkout(url, c2)

    assert _user_repo_state(repo) == before
    assert tree_files(d1) == commit_tree_files(repo, c1)
    assert tree_files(d2) == commit_tree_files(repo, c2)
    assert not (d2 / "apps/web/svc.yaml").exists()
    assert (d2 / "apps/web/deploy.yaml").read_text() == FILES["apps/web/deploy.yaml"]
    assert (d2 / "README.md").read_text() == "second\n"
    assert not (d2 / "apps/web/untracked.yaml").exists()
    # Bytes of the blobs: no attribute-driven rewriting.
    assert (d1 / "crlf.txt").read_bytes() == b"a\nb\n"
    assert (d1 / "subst.txt").read_text() == "commit $Format:%H$\n"
    assert (d1 / "gone.txt").is_file()
    assert os.readlink(d1 / "links/outside") == "../../../../etc/passwd"
    assert (d1 / "links/inside").read_text() == FILES["apps/web/deploy.yaml"]

    # Read-only, executable bit kept, and inside the cache.
    assert d1.is_relative_to(cache.root)
    assert stat.S_IMODE((d1 / "bin/run.sh").stat().st_mode) == 0o555
    assert stat.S_IMODE((d1 / "README.md").stat().st_mode) == 0o444
    assert stat.S_IMODE((d1 / "apps").stat().st_mode) == 0o555
    assert stat.S_IMODE(d1.stat().st_mode) == 0o555
    assert cache.checkout(url, c1) == d1
    assert cache.checkout(url, c1[:8]) == d1
    assert cache.checkout(url, "main") == d2


def test_checkout_of_a_commit_that_removed_every_file_is_an_empty_tree(
    cache: RepoCache, src: git.Repo
) -> None:
    """git archive gives a lone pax header for an empty tree; that is no error."""
    url = str(src_dir(src))
    emptied = commit(src, {}, "remove everything", delete=["apps", "README.md"])
    tree = cache.checkout(url, emptied)
    assert tree.is_dir() and list(tree.iterdir()) == []
    assert tree.is_relative_to(cache.root)
    assert stat.S_IMODE(tree.stat().st_mode) == 0o555
    back = commit(src, {"apps/web/deploy.yaml": FILES["apps/web/deploy.yaml"]}, "back")
    assert cache.resolve(url, "main", refresh=True) == back
    assert (cache.checkout(url, back) / "apps/web/deploy.yaml").is_file()
    assert cache.checkout(url, emptied) == tree  # the empty tree stays cached as such


class CountingCache(RepoCache):
    """Counts (and checks the exclusivity of) extractions and fetches. Git still runs."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.extractions = 0
        self.fetches = 0
        self.active_fetches = 0
        self.max_active_fetches = 0
        self.counter_lock = threading.Lock()

    def _extract(self, state, sha, final):  # type: ignore[no-untyped-def]
        with self.counter_lock:
            self.extractions += 1
        super()._extract(state, sha, final)

    def _do_fetch(self, state):  # type: ignore[no-untyped-def]
        with self.counter_lock:
            self.fetches += 1
            self.active_fetches += 1
            self.max_active_fetches = max(self.max_active_fetches, self.active_fetches)
        try:
            time.sleep(0.05)  # widen the window in which a second fetch could overlap
            super()._do_fetch(state)
        finally:
            with self.counter_lock:
                self.active_fetches -= 1


def _run_threads(n: int, target: object) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target()  # type: ignore[operator]
        except Exception as exc:  # collected and checked by the caller
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_resolve_on_one_repo(tmp_path: Path, src: git.Repo) -> None:
    cache = CountingCache(tmp_path / "cache")
    url = str(src_dir(src))
    head = src.head.commit.hexsha
    results = _run_threads(8, lambda: cache.resolve(url, "main", refresh=True))
    assert results == [head] * 8
    assert cache.max_active_fetches == 1
    assert 1 <= cache.fetches < 8  # waiting callers reuse a fetch that started after them


def test_different_repos_fetch_in_parallel(
    tmp_path: Path, src: git.Repo, silent_server: SilentPort
) -> None:
    cache = RepoCache(tmp_path / "cache", fetch_timeout=2.5)
    outcome: list[BaseException | str] = []

    def hang() -> None:
        try:
            cache.resolve(f"git://127.0.0.1:{silent_server}/x")
        except BaseException as exc:  # checked in the test's thread below
            outcome.append(exc)
        else:
            outcome.append("resolved")

    hanging = threading.Thread(target=hang)
    hanging.start()
    assert silent_server.connected.wait(10), "the hanging fetch never connected"
    started = time.monotonic()
    assert cache.resolve(str(src_dir(src))) == src.head.commit.hexsha
    assert time.monotonic() - started < 3
    assert hanging.is_alive()
    started = time.monotonic()
    assert cache.last_fetch_error(f"git://127.0.0.1:{silent_server}/x") is None
    assert time.monotonic() - started < 1  # never waits for the running fetch
    hanging.join(15)
    assert not hanging.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], RepoError), outcome


def test_concurrent_checkout_of_one_sha_extracts_once(tmp_path: Path, src: git.Repo) -> None:
    cache = CountingCache(tmp_path / "cache")
    url = str(src_dir(src))
    sha = cache.resolve(url)
    results = _run_threads(8, lambda: cache.checkout(url, sha))
    assert all(isinstance(r, Path) for r in results), results
    assert len(set(results)) == 1
    assert cache.extractions == 1
    trees = Path(str(results[0])).parent
    assert [p.name for p in trees.iterdir()] == [sha]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_leftover_temp_dirs_are_ignored_and_cleaned(tmp_path: Path, src: git.Repo) -> None:
    url = str(src_dir(src))
    c1 = src.head.commit.hexsha
    c2 = commit(src, {"README.md": "two\n"}, "second")
    trees = RepoCache(tmp_path / "cache").checkout(url, c1).parent

    # What a crash in the middle of extracting c2 leaves behind.
    dead = _dead_pid()
    crashed = trees / f".tmp-{dead}-0badf00d-{c2[:12]}"
    (crashed / "apps").mkdir(parents=True)
    (crashed / "apps" / "half.yaml").write_text("kind: Half")
    crashed_tar = trees / f".tmp-{dead}-0badf00d-{c2[:12]}.tar"
    crashed_tar.write_bytes(b"partial")
    # Another live process still extracting: left alone.
    busy = trees / f".tmp-{os.getppid()}-00c0ffee-{c2[:12]}"
    busy.mkdir()

    restarted = RepoCache(tmp_path / "cache")
    d2 = restarted.checkout(url, c2)
    assert tree_files(d2) == commit_tree_files(src, c2)
    assert not crashed.exists() and not crashed_tar.exists()
    assert busy.exists()
    assert sorted(p.name for p in trees.iterdir()) == sorted([c1, c2, busy.name])


def test_old_checkouts_are_pruned_lru(tmp_path: Path, src: git.Repo) -> None:
    cache = RepoCache(tmp_path / "cache", max_checkouts=2)
    url = str(src_dir(src))
    c1 = src.head.commit.hexsha
    c2 = commit(src, {"README.md": "2\n"}, "2")
    c3 = commit(src, {"README.md": "3\n"}, "3")
    d1 = cache.checkout(url, c1)
    d2 = cache.checkout(url, c2)
    assert cache.checkout(url, c1) == d1  # c1 used again: c2 is now the oldest
    d3 = cache.checkout(url, c3)
    assert d1.is_dir() and d3.is_dir()
    assert not d2.exists()
    assert sorted(p.name for p in d1.parent.iterdir()) == sorted([c1, c3])
    assert (cache.checkout(url, c2) / "README.md").read_text() == "2\n"  # re-extracted


# ------------------------------------------------------------ other queries


def test_commit_info(cache: RepoCache, src: git.Repo) -> None:
    sha = commit(src, {"README.md": "x\n"}, "Bump web to v2\n\nLonger body.\n")
    info = cache.commit_info(str(src_dir(src)), sha[:10])
    assert info.sha == sha
    assert sha.startswith(info.short) and len(info.short) >= 7
    assert info.author == "Test Author"
    assert info.message_first_line == "Bump web to v2"
    assert isinstance(info.date, datetime) and info.date.tzinfo is not None
    assert abs(info.date.timestamp() - src.commit(sha).committed_date) < 5


def test_revisions_lists_branches_then_tags(cache: RepoCache, src: git.Repo) -> None:
    tag(src, "v1")
    branch(src, "zeta")
    branch(src, "alpha")
    url = str(src_dir(src))
    assert cache.revisions(url) == ["alpha", "main", "zeta", "v1"]
    tag(src, "v2", annotated=True)
    assert cache.revisions(url) == ["alpha", "main", "zeta", "v1"]  # cheap: no fetch
    assert set(cache.revisions(url, refresh=True)) == {"alpha", "main", "zeta", "v1", "v2"}


def test_mirror_keeps_no_url_and_has_neutral_attributes(cache: RepoCache, src: git.Repo) -> None:
    url = str(src_dir(src))
    cache.resolve(url)
    (repo_dir,) = list(cache.root.iterdir())
    mirror = git.Repo(repo_dir / "mirror.git")
    assert mirror.bare
    assert "remote" not in mirror.git.config("--local", "--list")
    assert mirror.git.rev_parse(HEAD_REF) == src.head.commit.hexsha
    assert repo_dir.name.endswith("-src")


# ----------------------------------------------------- local sources, URLs


def test_local_path_and_watch_paths(
    cache: RepoCache, src: git.Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = src_dir(src)
    monkeypatch.setenv("HOME", str(tmp_path))
    for url in (str(root), f"file://{root}", "~/src", f"{root}/"):
        assert cache.local_path(url) == root
        paths = cache.watch_paths(url)
        assert root / ".git" / "refs" in paths
        assert root / ".git" / "HEAD" in paths
        assert root not in paths
        assert root in cache.watch_paths(url, work_tree=True)

    # A new commit changes a file under a watched path.
    ref_file = root / ".git" / "refs" / "heads" / "main"
    assert any(ref_file.is_relative_to(p) for p in cache.watch_paths(str(root)))

    assert cache.local_path("https://example.com/org/repo.git") is None
    assert cache.watch_paths("git@example.com:org/repo.git") == []
    assert cache.local_path(str(tmp_path / "missing")) is None
    assert cache.local_path(str(root / "apps")) is None  # not a repository root

    bare = make_repo(tmp_path / "bare.git", bare=True)
    assert cache.local_path(str(tmp_path / "bare.git")) == Path(bare.git_dir)

    worktree = tmp_path / "wt"
    src.git.worktree("add", "--quiet", "-b", "wt", str(worktree))
    paths = cache.watch_paths(str(worktree))
    assert root / ".git" / "refs" in paths
    assert root / ".git" / "worktrees" / "wt" / "HEAD" in paths
    assert cache.local_path(str(worktree)) == worktree


def test_url_normalisation() -> None:
    same = {
        normalize_repo_url("https://GitHub.com/Org/Repo.git"),
        normalize_repo_url("https://github.com/Org/Repo/"),
        normalize_repo_url("  https://github.com/Org/Repo  "),
    }
    assert same == {"https://github.com/Org/Repo"}
    assert normalize_repo_url("https://github.com/org/repo") != normalize_repo_url(
        "https://github.com/Org/Repo"
    )
    assert "tok" not in normalize_repo_url("https://x-access:tok@github.com/org/repo.git")
    assert normalize_repo_url("git@GitHub.com:org/repo.git") == "git@github.com:org/repo"
    assert normalize_repo_url("ssh://git@host:2222/org/repo.git") == "ssh://git@host:2222/org/repo"
    assert normalize_repo_url("/srv/Repos/app.git") == "file:///srv/Repos/app.git"
    assert normalize_repo_url("file:///srv/Repos/app.git/") == "file:///srv/Repos/app.git"


def test_spellings_of_one_repo_share_a_mirror(cache: RepoCache, src: git.Repo) -> None:
    root = src_dir(src)
    head = src.head.commit.hexsha
    for url in (str(root), f"file://{root}", f"{root}/", f"{root}/../src"):
        assert cache.resolve(url) == head
    assert len(list(cache.root.iterdir())) == 1

"""Container logs: lines split, made printable and bounded; options; container choice."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.podlogs import (
    CUT_MARK,
    MAX_LOG_BYTES,
    LineSplitter,
    LogOptions,
    LogStream,
    containers_of,
    default_container,
    parse_duration,
)


def test_lines_split_across_chunks_and_made_printable() -> None:
    splitter = LineSplitter()
    out = splitter.feed(b"first li")
    assert out == []
    out = splitter.feed(b"ne\r\nsecond \x1b]0;pwned\x07 \x1b[2J red\n\xff\xfe bytes\n")
    assert out[0] == "first line"
    assert "\x1b" not in out[1] and "\x07" not in out[1]
    assert out[1] == "second \\x1b]0;pwned\\x07 \\x1b[2J red"
    assert "\\udcff" in out[2]  # undecodable bytes shown, not passed on
    assert splitter.feed(b"no newline at the end") == []
    assert splitter.flush() == ["no newline at the end"]


def test_an_endless_line_is_cut_and_the_rest_skipped() -> None:
    splitter = LineSplitter(max_chars=100)
    out: list[str] = []
    for _ in range(50):  # 5,000 bytes without a newline, in chunks
        out += splitter.feed(b"x" * 100)
    out += splitter.feed(b"tail of the long line\nnext\n")
    assert len(out) == 2, out
    assert out[0] == "x" * 100 + CUT_MARK.format(limit=100)
    assert out[1] == "next"
    assert splitter.cut_lines == 1
    assert len(splitter._pending) == 0


def test_escaping_cannot_make_a_line_longer_than_the_bound() -> None:
    splitter = LineSplitter(max_chars=50)
    (line,) = splitter.feed(b"\x1b" * 40 + b"\n")  # 40 bytes, 160 chars once escaped
    assert line.startswith("\\x1b") and line.endswith(CUT_MARK.format(limit=50))
    assert len(line) == 50 + len(CUT_MARK.format(limit=50))


def test_durations() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("5m") == 300
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800
    for bad in ("", "5x", "m", "1h-5m", "0s", "--all", "400d"):
        with pytest.raises(EngineError):
            parse_duration(bad)


def test_options_become_the_query_bounded() -> None:
    assert LogOptions().query("web") == {"container": "web", "limitBytes": MAX_LOG_BYTES}
    query = LogOptions(follow=True, previous=True, since_seconds=60, tail_lines=5).query("c")
    assert query == {
        "container": "c",
        "follow": "true",
        "previous": "true",
        "sinceSeconds": 60,
        "tailLines": 5,
    }
    with pytest.raises(EngineError, match="tail"):
        LogOptions(tail_lines=-1).checked()
    with pytest.raises(EngineError, match="since"):
        LogOptions(since_seconds=0).checked()


def test_default_container_as_kubectl_picks_it() -> None:
    pod = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/default-container": "app"}},
        "spec": {
            "initContainers": [{"name": "init"}],
            "containers": [{"name": "sidecar"}, {"name": "app"}],
        },
    }
    assert containers_of(pod) == (["sidecar", "app"], ["init"])
    assert default_container(pod) == "app"
    pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] = "nope"
    assert default_container(pod) == "sidecar"
    assert default_container({"spec": "junk"}) is None


class BlockingSource:
    """Yields one chunk, then waits (as a followed log does) until closed."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def chunks(self) -> Iterator[bytes]:
        yield b"one\ntwo\n"
        self.closed.wait(30)

    def close(self) -> None:
        self.closed.set()


def test_close_from_another_thread_ends_a_waiting_follow() -> None:
    stream = LogStream(BlockingSource(), pod="Pod ns/p", container="c", follow=True)
    seen: list[str] = []
    got_two = threading.Event()

    def read() -> None:
        for line in stream:
            seen.append(line)
            if line == "two":
                got_two.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert got_two.wait(10)
    stream.close()
    reader.join(10)
    assert not reader.is_alive()
    assert seen == ["one", "two"] and stream.closed


class BrokenSource:
    def chunks(self) -> Iterator[bytes]:
        yield b"partial\n"
        raise OSError("connection reset by peer")

    def close(self) -> None:
        pass


def test_a_broken_connection_is_an_engine_error_in_words() -> None:
    stream = LogStream(BrokenSource(), pod="Pod ns/p", container="c", follow=True)
    lines: list[str] = []
    with pytest.raises(EngineError, match=r"the log of Pod ns/p \(c\) broke off"):
        for line in stream:
            lines.append(line)
    assert lines == ["partial"]

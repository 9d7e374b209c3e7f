"""Atomic writes: all or nothing, mode kept, changed files refused, Ctrl-C safe."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alttext.fix.atomic import (
    STALE_AFTER_S,
    FileChangedError,
    remove_stale_temporaries,
    write_atomic,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".alttext.tmp"))


def test_replaces_content_and_keeps_mode(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_bytes(b"old\r\n")
    page.chmod(0o640)
    write_atomic(str(page), b"new\r\n", expected=b"old\r\n")
    assert page.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_follows_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    target = tmp_path / "real.md"
    target.write_bytes(b"old")
    link = tmp_path / "link.md"
    link.symlink_to(target.name)
    write_atomic(str(link), b"new", expected=b"old")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize(
    "on_disk",
    [
        pytest.param(b"old but edited", id="edited-longer"),
        pytest.param(b"ol", id="truncated"),
        pytest.param(b"OLD", id="same-size"),
    ],
)
def test_changed_on_disk_is_skipped(tmp_path: Path, on_disk: bytes) -> None:
    page = tmp_path / "page.md"
    page.write_bytes(on_disk)
    with pytest.raises(FileChangedError, match=r"page\.md: changed on disk since it was read"):
        write_atomic(str(page), b"new", expected=b"old")
    assert page.read_bytes() == on_disk
    assert _leftovers(tmp_path) == []


def test_interrupt_before_replace_leaves_file_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "page.md"
    page.write_bytes(b"old")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(page), b"new", expected=b"old")
    assert page.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


_WRITER = textwrap.dedent(
    """
    import signal
    import sys
    from alttext.fix.atomic import write_atomic
    from alttext.interrupts import terminate_as_interrupt
    # Ctrl-C must reach this process even when the test run ignores SIGINT (a backgrounded shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    paths = sys.argv[1:]
    contents = [b"A" * 2_000_000, b"B" * 3_000_000]
    with terminate_as_interrupt():
        print("ready", flush=True)
        turn = 0
        while True:
            for path in paths:
                write_atomic(path, contents[turn % 2])
            turn += 1
    """
)
CONTENTS = (b"A" * 2_000_000, b"B" * 3_000_000)


@contextlib.contextmanager
def _writer(paths: list[Path]) -> Iterator[subprocess.Popen[bytes]]:
    """A process that rewrites `paths` atomically, over and over, until a signal stops it."""
    for path in paths:
        path.write_bytes(CONTENTS[0])
    process = subprocess.Popen([sys.executable, "-c", _WRITER, *map(str, paths)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        yield process
    finally:
        if process.poll() is None:
            process.kill()  # never leave an endless writer behind, whatever failed
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _pages(folder: Path) -> list[Path]:
    return [folder / f"page{index}.md" for index in range(6)]


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_real_interrupt_leaves_each_file_whole(tmp_path: Path, delay: float, signum: int) -> None:
    paths = _pages(tmp_path)
    with _writer(paths) as process:
        time.sleep(delay)
        process.send_signal(signum)
        process.wait(timeout=30)
        assert process.returncode != 0  # it was interrupted mid-loop, not finished
    for path in paths:
        assert path.read_bytes() in CONTENTS
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("delay", [0.05, 0.3])
def test_after_sigkill_the_next_run_removes_the_leftovers(tmp_path: Path, delay: float) -> None:
    paths = _pages(tmp_path)
    with _writer(paths) as process:
        time.sleep(delay)
        process.kill()
        process.wait(timeout=30)
    for path in paths:
        assert path.read_bytes() in CONTENTS
    removed = remove_stale_temporaries(map(str, paths))
    assert _leftovers(tmp_path) == []
    assert all(Path(stale.document) in paths for stale in removed)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_our_own_stale_temporaries_are_removed(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_bytes(b"page")
    (tmp_path / "other.md").write_bytes(b"other")
    dead = _dead_pid()
    hour_ago = time.time() - 2 * STALE_AFTER_S
    files = {
        f".page.md.{dead}-abcd_123.alttext.tmp": True,  # its writer is gone
        f".page.md.{os.getpid()}-abcd_123.alttext.tmp": False,  # being written right now
        ".page.md.k2j4h5g6.alttext.tmp": False,  # an older alttext's, and recent
        ".page.md.q9w8e7r6.alttext.tmp": True,  # an older alttext's, an hour old
        f".other.md.{dead}-abcd_123.alttext.tmp": False,  # not a document of this run
        f".page.md.{dead}-abcd_123.tmp": False,  # not our naming
        f".page.md.{dead}-ab.alttext.tmp": False,  # not our naming
    }
    for name in files:
        (tmp_path / name).write_bytes(b"partial")
    os.utime(tmp_path / ".page.md.q9w8e7r6.alttext.tmp", (hour_ago, hour_ago))
    removed = remove_stale_temporaries([str(tmp_path / "page.md")])
    assert sorted(os.path.basename(stale.path) for stale in removed) == sorted(n for n, gone in files.items() if gone)
    assert sorted(os.listdir(tmp_path)) == sorted(["page.md", "other.md", *(n for n, gone in files.items() if not gone)])


def test_a_link_is_cleaned_where_its_target_lives(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "page.md").write_bytes(b"page")
    (tmp_path / "link.md").symlink_to(tmp_path / "real" / "page.md")
    stale = tmp_path / "real" / f".page.md.{_dead_pid()}-abcdefgh.alttext.tmp"
    stale.write_bytes(b"partial")
    assert [s.document for s in remove_stale_temporaries([str(tmp_path / "link.md")])] == [str(tmp_path / "link.md")]
    assert not stale.exists()


@pytest.mark.slow
def test_the_interrupt_test_passes_with_sigint_ignored(tmp_path: Path) -> None:
    """A backgrounded shell starts the suite with SIGINT ignored; the writer must still stop."""
    test = f"{Path(__file__).resolve()}::test_real_interrupt_leaves_each_file_whole[ctrl-c-0.05]"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        capture_output=True, timeout=120, check=False, cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert b"1 passed" in result.stdout

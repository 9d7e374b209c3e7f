"""Atomic writes: all or nothing, mode kept, changed files refused, Ctrl-C safe."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from alttext.fix.atomic import FileChangedError, write_atomic


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
    import sys
    from alttext.fix.atomic import write_atomic
    paths = sys.argv[1:]
    contents = [b"A" * 2_000_000, b"B" * 3_000_000]
    print("ready", flush=True)
    turn = 0
    while True:
        for path in paths:
            write_atomic(path, contents[turn % 2])
        turn += 1
    """
)


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_real_ctrl_c_leaves_each_file_whole(tmp_path: Path, delay: float) -> None:
    paths = [tmp_path / f"page{index}.md" for index in range(6)]
    for path in paths:
        path.write_bytes(b"A" * 2_000_000)
    process = subprocess.Popen([sys.executable, "-c", _WRITER, *map(str, paths)], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    assert process.returncode != 0  # it was interrupted mid-loop, not finished
    for path in paths:
        assert path.read_bytes() in (b"A" * 2_000_000, b"B" * 3_000_000)

"""SIGTERM stops alttext as Ctrl-C does, and the next run clears what a killed run left."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alttext.cli import main
from alttext.interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED
from tests.fix_helpers import FIX_DATA

# The command line, with Ctrl-C reaching it even when the test run ignores SIGINT.
_CLI = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from alttext.cli import main; sys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [
        pytest.param(signal.SIGTERM, EXIT_TERMINATED, b"terminated", id="sigterm"),
        pytest.param(signal.SIGINT, EXIT_INTERRUPTED, b"interrupted", id="ctrl-c"),
    ],
)
def test_a_signal_ends_a_run_cleanly(tmp_path: Path, signum: int, status: int, word: bytes) -> None:
    # `check -` waits on stdin: a run that is busy when the signal comes.
    process = subprocess.Popen(
        [sys.executable, "-c", _CLI, "check", "-", "--stdin-filename", "x.md"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )
    try:
        time.sleep(1.0)  # past start-up, blocked reading stdin
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == status
    assert err.strip().endswith(b"alttext: " + word)


def test_fix_removes_temporaries_a_killed_run_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "img").mkdir()
    shutil.copyfile(FIX_DATA / "img" / "chart.svg", tmp_path / "img" / "chart.svg")
    (tmp_path / "page.md").write_text("![](img/chart.svg)\n", encoding="utf-8")
    (tmp_path / "done.md").write_text("# Nothing to do here\n", encoding="utf-8")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [tmp_path / f".page.md.{dead.pid}-x1y2z3w4.alttext.tmp", tmp_path / f".done.md.{dead.pid}-a1b2c3d4.alttext.tmp"]
    for path in stale:
        path.write_bytes(b"half a document")
    live = tmp_path / f".page.md.{os.getpid()}-x1y2z3w4.alttext.tmp"
    live.write_bytes(b"being written")
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "--diff", "."]) == 1
    assert all(path.exists() for path in stale)  # --diff writes and removes nothing
    assert main(["fix", "."]) == 1
    assert not any(path.exists() for path in stale)
    assert live.exists()
    err = capsys.readouterr().err
    assert f"page.md: removed .page.md.{dead.pid}-x1y2z3w4.alttext.tmp, left by an interrupted run" in err

"""`alttext check` edges: stdin has the file size limit, and the summary counts only the
files that were really checked."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from alttext import document
from alttext.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stdin_over_the_limit_is_an_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(document, "MAX_DOCUMENT_BYTES", 1024)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"![](a.png)\n" * 200)))
    code, out, err = _run(["check", "-", "--stdin-filename", "big.md"], capsys)
    assert (code, out) == (2, "")
    assert "big.md: error: stdin is over the 0 MiB limit" not in err  # the limit is said in a useful unit
    assert err.splitlines()[0].startswith("big.md: error: stdin is over the")


def test_stdin_at_the_limit_is_checked(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"![](a.png)\n" * 10
    monkeypatch.setattr(document, "MAX_DOCUMENT_BYTES", len(data))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert _run(["check", "-", "--stdin-filename", "a.md"], capsys)[0] == 1


@pytest.mark.slow
def test_endless_stdin_stops_at_the_limit() -> None:
    """A writer that never stops: check reads up to the limit, says so and exits."""
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys\nwhile True: sys.stdout.buffer.write(b'![](a.png) ' * 6000)"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    try:
        checked = subprocess.run(
            [sys.executable, "-m", "alttext", "check", "-", "--stdin-filename", "x.md"],
            stdin=writer.stdout, check=False, capture_output=True, text=True, timeout=120,
        )
    finally:
        writer.kill()
        writer.wait()
    assert checked.returncode == 2
    assert f"x.md: error: stdin is over the {document.MAX_DOCUMENT_BYTES // 2**20} MiB limit" in checked.stderr


@pytest.mark.parametrize(
    ("files", "argv", "last_line"),
    [
        pytest.param({"bad.md": b"caf\xe9"}, ["bad.md"], "1 path could not be checked; no file was checked.", id="only-path-unreadable"),
        pytest.param({}, ["missing.md"], "1 path could not be checked; no file was checked.", id="only-path-missing"),
        pytest.param({"bad.md": b"caf\xe9", "ok.md": b"![A](a.png)"}, ["."], "No problems in 1 file. 1 path could not be checked.", id="one-of-two"),
        pytest.param({"bad.md": b"caf\xe9", "no.md": b"![](a.png)"}, ["."],
                     "1 problem in 1 of 1 file: 1 without alt text, 0 with weak alt text. 1 path could not be checked.", id="findings-and-error"),
        pytest.param({"ok.md": b"![A](a.png)"}, ["."], "No problems in 1 file.", id="clean"),
    ],
)
def test_summary_counts_checked_files(files: dict[str, bytes], argv: list[str], last_line: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    code, _, err = _run(["check", *argv], capsys)
    assert err.splitlines()[-1] == last_line
    assert code == (2 if "could not" in last_line else 0)


def test_summary_for_unreadable_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"caf\xe9")))
    code, _, err = _run(["check", "-", "--stdin-filename", "a.md"], capsys)
    assert code == 2
    assert err.splitlines()[-1] == "1 path could not be checked; no file was checked."

"""Paths and values reach terminals, logs and annotations with every control character visible."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alttext.cli import main
from alttext.findings import Finding
from alttext.output import renderer
from alttext.printable import printable

EVIL_NAME = "red\x1b[31m\nforged:1:1: ALT101 line\u202eevil\x07.md"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("docs/page.md", "docs/page.md", id="plain"),
        pytest.param("a\x1b[2Jb", "a\\x1b[2Jb", id="escape"),
        pytest.param("one\ntwo\rthree\tfour", "one\\ntwo\\rthree\\tfour", id="line-ends-and-tab"),
        pytest.param("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b", id="c0-del-c1"),
        pytest.param("abc\u202edcba\u2066\u200b\u2028", "abc\\u202edcba\\u2066\\u200b\\u2028", id="bidi-zero-width-separator"),
        pytest.param("caf\udce9.md", "caf\\xe9.md", id="undecodable-byte"),
        pytest.param("déjà vu 中文 😀 — “q”", "déjà vu 中文 😀 — “q”", id="printable-unicode-kept"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


def _dangerous(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or unicodedata.bidirectional(char) in (
        "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")


@given(st.text(st.characters()))
def test_printable_leaves_nothing_that_moves_the_cursor_or_reorders_text(text: str) -> None:
    shown = printable(text)
    assert not any(_dangerous(char) for char in shown)
    shown.encode("utf-8")  # no lone surrogate left: printing it cannot fail


@given(st.text(st.characters(categories=("L", "M", "N", "P", "S", "Zs"))))
def test_printable_keeps_what_is_already_visible(text: str) -> None:
    assert printable(text) == text


def _finding(path: str) -> Finding:
    return Finding(path, 1, 1, 1, 10, "ALT101", "Markdown image has no alt text", "x\x1b.png\n")


@pytest.mark.parametrize("format_name", ["text", "github"])
def test_reports_show_control_characters_escaped(format_name: str) -> None:
    report = renderer(format_name)([_finding(EVIL_NAME)], [])
    assert report.count("\n") == 1 and report.endswith("\n")
    assert not any(_dangerous(char) for char in report[:-1])
    assert "red\\x1b[31m\\nforged" in report


def test_check_escapes_names_on_the_terminal(tmp_path: Path) -> None:
    (tmp_path / EVIL_NAME).write_text("![](x.png)\n", encoding="utf-8")
    (tmp_path / os.fsdecode(b"bad\xff.md")).write_text("![](y.png)\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "alttext", "check", "."], cwd=tmp_path, capture_output=True,
                            check=False, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 1, result.stderr
    out = result.stdout.decode("utf-8")
    assert out.splitlines() == sorted([
        "bad\\xff.md:1:1: ALT101 Markdown image has no alt text (y.png)",
        "red\\x1b[31m\\nforged:1:1: ALT101 line\\u202eevil\\x07.md:1:1: ALT101 Markdown image has no alt text (x.png)",
    ])


def test_fix_messages_escape_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / EVIL_NAME).write_text("![](missing.png)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "."]) == 2
    err = capsys.readouterr().err
    assert "red\\x1b[31m\\nforged:1:1: ALT101 line\\u202eevil\\x07.md:1:1: error: image file not found" in err
    assert "\x1b" not in err and "\u202e" not in err

"""Unified diffs that real `git apply` and `patch -p1` accept and apply to the exact new bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from alttext.fix.diff import NO_NEWLINE, unified_diff

CASES = [
    pytest.param("page.md", b"# T\n\n![](a.png)\n", b"# T\n\n![A dog](a.png)\n", id="simple"),
    pytest.param("page.html", b"<p>\r\n<img src=a.png>\r\n</p>\r\n", b"<p>\r\n<img alt=\"A\" src=a.png>\r\n</p>\r\n",
                 id="crlf"),
    pytest.param("page.md", b"intro\n![](a.png)", b"intro\n![A dog](a.png)", id="no-newline-changed-last-line"),
    pytest.param("page.md", b"![](a.png)\nb\nc\nd\ne", b"![A](a.png)\nb\nc\nd\ne", id="no-newline-in-context"),
    pytest.param("page.md", b"![](a.png)\n" + b"text\n" * 20 + b"![](b.png)\n",
                 b"![A](a.png)\n" + b"text\n" * 20 + b"![B](b.png)\n", id="two-hunks"),
    pytest.param("page.html", b"\xef\xbb\xbf<img src=a.png>\n", b"\xef\xbb\xbf<img alt=\"\xc3\xa9\" src=a.png>\n",
                 id="utf8-bom"),
    pytest.param("latin.html", b"<meta charset=latin-1><p>caf\xe9</p>\n<img src=a.png>\n",
                 b"<meta charset=latin-1><p>caf\xe9</p>\n<img alt=\"caf\xe9\" src=a.png>\n", id="latin-1"),
    pytest.param("docs/my page.rst", b".. image:: a.png\n   :width: 3\n",
                 b".. image:: a.png\n   :width: 3\n   :alt: A dog\n", id="space-in-name-subfolder"),
    pytest.param("old-mac.md", b"a\r![](a.png)\rb\r", b"a\r![A](a.png)\rb\r", id="cr-only-lines"),
]


def _tree(root: Path, name: str, content: bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _diff_in(root: Path, name: str, old: bytes, new: bytes, monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.chdir(root)
    return unified_diff(name, old, new)


@pytest.mark.parametrize(("name", "old", "new"), CASES)
def test_git_apply_gives_the_new_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       name: str, old: bytes, new: bytes) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = _tree(tmp_path, name, old)
    patch = _diff_in(tmp_path, name, old, new, monkeypatch)
    (tmp_path / "alt.patch").write_bytes(patch)
    subprocess.run(["git", "apply", "--check", "alt.patch"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "alt.patch"], cwd=tmp_path, check=True)
    assert path.read_bytes() == new


@pytest.mark.skipif(shutil.which("patch") is None, reason="GNU patch is not installed")
@pytest.mark.parametrize(("name", "old", "new"), CASES)
def test_patch_p1_gives_the_new_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      name: str, old: bytes, new: bytes) -> None:
    path = _tree(tmp_path, name, old)
    patch = _diff_in(tmp_path, name, old, new, monkeypatch)
    result = subprocess.run(["patch", "-p1", "--binary", "--forward"], cwd=tmp_path, input=patch,
                            capture_output=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_bytes() == new
    assert not [name for name in os.listdir(path.parent) if name.endswith((".orig", ".rej"))]


def test_no_change_gives_an_empty_diff() -> None:
    assert unified_diff("page.md", b"same\n", b"same\n") == b""


def test_headers_and_markers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    patch = unified_diff("docs/page.md", b"x\n![](a.png)", b"x\n![A](a.png)")
    assert patch == (
        b"--- a/docs/page.md\n+++ b/docs/page.md\n@@ -1,2 +1,2 @@\n x\n"
        b"-![](a.png)\n" + NO_NEWLINE + b"+![A](a.png)\n" + NO_NEWLINE
    )


def test_crlf_lines_keep_their_carriage_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    patch = unified_diff("p.md", b"![](a.png)\r\n", b"![A](a.png)\r\n")
    assert b"-![](a.png)\r\n+![A](a.png)\r\n" in patch

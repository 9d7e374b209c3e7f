"""Unified diffs that real `git apply` and `patch -p1` accept and apply to the exact new bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alttext.fix.diff import NO_NEWLINE, quote_path, unified_diff

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
    *[pytest.param(name, b"![](a.png)\n", b"![A](a.png)\n", id=f"name-{label}") for label, name in [
        ("newline", "new\nline.md"), ("tab", "tab\there.md"), ("quote", 'say "hi".md'),
        ("backslash", "back\\slash.md"), ("non-ascii", "d\u00e9j\u00e0 vu/\u00fcber.md"), ("escape", "esc\x1b[31m.md"),
        ("carriage-return", "cr\rname.md"), ("delete", "del\x7f.md"),
    ]],
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


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        pytest.param(b"a/page.md", b"a/page.md", id="plain"),
        pytest.param(b"a/my page.md", b"a/my page.md", id="space-not-quoted"),
        pytest.param(b"a/new\nline.md", b'"a/new\\nline.md"', id="newline"),
        pytest.param(b'a/"q"\\.md', b'"a/\\"q\\"\\\\.md"', id="quote-backslash"),
        pytest.param("a/\u00e9.md".encode(), b'"a/\\303\\251.md"', id="utf8-octal"),
        pytest.param(b"a/\x07\x08\t\x0b\x0c\r\x1b\x7f", b'"a/\\a\\b\\t\\v\\f\\r\\033\\177"', id="controls"),
    ],
)
def test_quote_path(name: bytes, quoted: bytes) -> None:
    assert quote_path(name) == quoted


def _git_headers(folder: Path, name: str, new: bytes) -> list[bytes]:
    """The ---/+++ lines git itself writes for a change to tracked file `name`."""
    git = ["git", "-C", str(folder), "-c", "core.quotePath=true"]
    subprocess.run([*git, "add", "--", name], check=True)
    (folder / name).write_bytes(new)
    diff = subprocess.run([*git, "diff", "--", name], check=True, capture_output=True).stdout
    return [line for line in diff.split(b"\n") if line.startswith((b"--- ", b"+++ "))]


# File names as people (and hostile trees) make them: anything but / and NUL.
_NAMES = st.text(
    st.one_of(st.sampled_from('\n\t\r "\\\x1b\x7f\u00e9\u4e2d-_.'), st.characters(exclude_characters="/\0",
                                                                             exclude_categories=("Cs",))),
    min_size=1, max_size=12,
).map(lambda stem: stem + ".md")


@pytest.mark.skipif(shutil.which("patch") is None, reason="GNU patch is not installed")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAMES)
@example(name='my "new"\tpage\\ \u00e9\n.md')
def test_any_file_name_round_trips_through_git_apply_and_patch(tmp_path_factory: pytest.TempPathFactory,
                                                              name: str) -> None:
    old, new = b"# T\n\n![](a.png)\n", b"# T\n\n![A dog](a.png)\n"
    folder = tmp_path_factory.mktemp("names")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    path = _tree(folder, name, old)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        patch = unified_diff(name, old, new)
    finally:
        os.chdir(cwd)
    assert patch.split(b"\n")[:2] == _git_headers(folder, name, new)
    path.write_bytes(old)
    (folder / ".alt.patch").write_bytes(patch)
    subprocess.run(["git", "apply", ".alt.patch"], cwd=folder, check=True)
    assert path.read_bytes() == new
    path.write_bytes(old)
    result = subprocess.run(["patch", "-p1", "--binary", "--forward"], cwd=folder, input=patch,
                            capture_output=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_bytes() == new

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from alttext import walk
from alttext.walk import collect_files, matches_any

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def make_tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# page\n", encoding="utf-8")


def relative(paths: list[str], root: Path) -> list[str]:
    return [os.path.relpath(path, root).replace(os.sep, "/") for path in paths]


TREE = [
    "README.md",
    "index.html",
    "docs/guide.markdown",
    "docs/api.rst",
    "docs/page.htm",
    "docs/book.xhtml",
    "docs/UPPER.MD",
    "docs/notes.txt",
    "docs/image.png",
    "node_modules/pkg/README.md",
    ".venv/lib/site-packages/pkg/doc.html",
    "venv/doc.md",
    ".git/description.md",
    "__pycache__/x.md",
    "_build/html/index.html",
    "build/index.html",
    "site/index.html",
    "dist/index.html",
    ".tox/py/README.md",
    "docs/_build/html/api.html",
    # what makes the folders above build output: a marker inside, or the generator's config beside
    "_build/html/.buildinfo",
    "docs/_build/html/.buildinfo",
    "site/sitemap.xml",
    "setup.py",
]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, TREE)
    return tmp_path


def test_walk_finds_documents_and_skips_tool_folders(tree: Path) -> None:
    found = collect_files(["."])
    assert found.errors == []
    assert sorted(found.paths) == sorted(
        [
            "README.md",
            "index.html",
            "docs/guide.markdown",
            "docs/api.rst",
            "docs/page.htm",
            "docs/book.xhtml",
            "docs/UPPER.MD",
        ]
    )


def test_a_named_folder_is_walked_even_if_its_name_is_skipped_below(tree: Path) -> None:
    assert collect_files(["site"]).paths == ["site/index.html"]
    assert collect_files(["docs/_build"]).paths == ["docs/_build/html/api.html"]


def test_named_files_are_always_checked(tree: Path) -> None:
    found = collect_files(["docs/notes.txt", "node_modules/pkg/README.md"])
    assert found.paths == ["docs/notes.txt", "node_modules/pkg/README.md"]


def test_each_file_once_in_order(tree: Path) -> None:
    found = collect_files(["README.md", ".", "README.md"])
    assert found.paths[0] == "README.md"
    assert found.paths.count("README.md") == 1


def test_missing_path_is_an_error_and_the_rest_goes_on(tree: Path) -> None:
    found = collect_files(["nope.md", "README.md"])
    assert found.paths == ["README.md"]
    assert [str(error) for error in found.errors] == ["nope.md: error: no such file or folder"]


@pytest.mark.parametrize(
    ("exclude", "left"),
    [
        pytest.param(["*.html"], ["README.md", "docs/api.rst", "docs/page.htm"], id="suffix"),
        pytest.param(["docs"], ["README.md", "index.html"], id="folder-name"),
        pytest.param(["docs/api.rst"], ["README.md", "docs/page.htm", "index.html"], id="exact-path"),
        pytest.param(["./docs/*.htm"], ["README.md", "docs/api.rst", "index.html"], id="dot-slash-glob"),
        pytest.param(["docs/"], ["README.md", "index.html"], id="folder-with-slash"),
        pytest.param(["READ*"], ["docs/api.rst", "docs/page.htm", "index.html"], id="name-glob"),
    ],
)
def test_exclude_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exclude: list[str], left: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["README.md", "index.html", "docs/api.rst", "docs/page.htm"])
    assert sorted(collect_files(["."], exclude=exclude, root=str(tmp_path)).paths) == left


def test_exclude_applies_to_named_files_too(tree: Path) -> None:
    assert collect_files(["README.md", "index.html"], exclude=["*.md"]).paths == ["index.html"]


def test_include_limits_what_folders_give(tree: Path) -> None:
    found = collect_files([".", "index.html"], include=["docs/*.rst"], root=str(tree))
    assert found.paths == ["docs/api.rst", "index.html"]


@pytest.mark.parametrize(
    ("path", "patterns", "root", "expected"),
    [
        pytest.param("docs/a.md", ["*.md"], ".", True, id="basename"),
        pytest.param("docs/a.md", ["docs"], ".", True, id="folder-part"),
        pytest.param("docs/a.md", ["doc"], ".", False, id="partial-part"),
        pytest.param("docs/drafts/x/a.md", ["docs/drafts"], ".", True, id="below-excluded-folder"),
        pytest.param("docs/a.md", ["*.MD"], ".", False, id="case-sensitive"),
        pytest.param("other/a.md", ["other/*.md"], "/nowhere", True, id="outside-root-as-given"),
    ],
)
def test_matches_any(path: str, patterns: list[str], root: str, expected: bool) -> None:
    assert matches_any(path, patterns, root) is expected


def test_matches_relative_to_the_config_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path / "docs")
    assert matches_any("a.md", ["docs/a.md"], str(tmp_path))


def test_symlink_loop_is_an_error_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["docs/a.md", "docs/sub/b.md"])
    os.symlink("..", tmp_path / "docs" / "sub" / "up")
    found = collect_files(["docs"])
    assert found.paths == ["docs/a.md", "docs/sub/b.md"]
    assert [str(error) for error in found.errors] == [
        "docs/sub/up: error: symbolic link loop: this folder links back to a folder above it"
    ]


def test_symlinked_folder_is_followed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["shared/c.md", "docs/a.md"])
    os.symlink("../shared", tmp_path / "docs" / "linked")
    os.symlink("../shared", tmp_path / "docs" / "linked-again")
    found = collect_files(["docs"])
    assert found.paths == ["docs/a.md", "docs/linked/c.md"]
    assert found.errors == []


def test_dangling_and_self_links_are_listed_for_check_file_to_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.symlink("missing.md", tmp_path / "dangling.md")
    os.symlink("self.md", tmp_path / "self.md")
    found = collect_files(["."])
    assert sorted(found.paths) == ["dangling.md", "self.md"]


def test_unlistable_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["a.md", "locked/b.md"])

    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(walk.os, "scandir", scandir)
    found = collect_files(["."])
    assert found.paths == ["a.md"]
    assert [str(error) for error in found.errors] == ["locked: error: cannot list folder: Permission denied"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@needs_git
def test_gitignore_is_honoured_in_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["README.md", "docs/a.md", "docs/drafts/d.md", "docs/b.tmp.md", "tracked/t.md", "site/s.html"])
    (tmp_path / ".gitignore").write_text("drafts/\n*.tmp.md\ntracked/\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-f", "tracked/t.md")  # tracked although ignored: git still lists it
    found = collect_files(["."])
    assert found.paths == ["README.md", "docs/a.md", "site/s.html", "tracked/t.md"]  # .gitignore decides, not names
    assert found.skipped == [("docs/b.tmp.md", "ignored by .gitignore"), ("docs/drafts/d.md", "ignored by .gitignore")]
    assert collect_files(["docs"]).paths == ["docs/a.md"]


@needs_git
def test_a_named_folder_that_git_ignores_is_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["docs/a.md", "site/index.html", "site/guide/index.html"])
    (tmp_path / ".gitignore").write_text("/site/\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    assert collect_files(["."]).paths == ["docs/a.md"]
    assert collect_files(["site"]).paths == ["site/guide/index.html", "site/index.html"]


@needs_git
def test_without_git_the_folder_is_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["a.md", "drafts/d.md"])
    (tmp_path / ".gitignore").write_text("drafts/\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert collect_files(["."]).paths == ["a.md", "drafts/d.md"]


@needs_git
def test_deleted_tracked_file_is_not_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["a.md", "gone.md"])
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    (tmp_path / "gone.md").unlink()
    assert collect_files(["."]).paths == ["a.md"]

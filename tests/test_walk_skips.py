"""Which folders a walk skips: tool folders always, folders named like build output only when
they look built; in a git checkout .gitignore alone decides. Every skipped document is counted."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alttext.cli import main
from alttext.walk import collect_files
from tests.test_walk import git, make_tree, needs_git


@pytest.mark.parametrize(
    ("files", "checked", "skipped"),
    [
        pytest.param(["docs/site/overview.md", "docs/index.md"], ["docs/index.md", "docs/site/overview.md"], [],
                     id="docs-section-called-site"),
        pytest.param(["guide/build/steps.md", "dist/notes.md"], ["dist/notes.md", "guide/build/steps.md"], [],
                     id="content-called-build-and-dist"),
        pytest.param(["mkdocs.yml", "docs/a.md", "site/a/index.html"], ["docs/a.md"],
                     [("site/a/index.html", "build output (next to mkdocs.yml)")], id="mkdocs-site"),
        pytest.param(["docs/conf.py", "docs/a.rst", "docs/_build/html/a.html"], ["docs/a.rst"],
                     [("docs/_build/html/a.html", "build output (next to conf.py)")], id="sphinx-build"),
        pytest.param(["out/site/sitemap.xml", "out/site/index.html"], [],
                     [("out/site/index.html", "build output (site/sitemap.xml)")], id="site-with-sitemap"),
        pytest.param(["a.md", "node_modules/pkg/README.md"], ["a.md"],
                     [("node_modules/pkg/README.md", "tool folder")], id="tool-folder"),
    ],
)
def test_outside_git(files: list[str], checked: list[str], skipped: list[tuple[str, str]],
                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, files)
    found = collect_files(["."])
    assert found.paths == checked
    assert found.skipped == skipped


@needs_git
def test_in_a_checkout_gitignore_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["mkdocs.yml", "docs/site/a.md", "site/index.html", "build/b.md"])
    (tmp_path / ".gitignore").write_text("/site/\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    found = collect_files(["."])
    assert found.paths == ["build/b.md", "docs/site/a.md"]
    assert found.skipped == [("site/index.html", "ignored by .gitignore")]


def test_summary_says_how_many_were_skipped_and_v_lists_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, ["mkdocs.yml", "docs/a.md", "site/index.html", "site/b/index.html", "node_modules/x/README.md"])
    assert main(["check", "."]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "No problems in 1 file. 3 files skipped (2 in build output, 1 in tool folders); -v lists them."
    ]
    assert main(["check", "-v", "."]) == 0
    assert capsys.readouterr().err.splitlines()[:3] == [
        "node_modules/x/README.md: skipped: tool folder",
        "site/b/index.html: skipped: build output (next to mkdocs.yml)",
        "site/index.html: skipped: build output (next to mkdocs.yml)",
    ]


_NAMES = ["site", "build", "dist", "_build", "docs", "guide", "node_modules", ".git"]
_MARKERS = ["sitemap.xml", ".buildinfo", "mkdocs.yml", "conf.py"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(_NAMES), max_size=3), st.sampled_from(["page.md", *_MARKERS])),
                min_size=1, max_size=12))
def test_every_document_is_either_checked_or_counted_as_skipped(entries: list[tuple[list[str], str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = sorted({"/".join([*parts, name]) for parts, name in entries})
        make_tree(root, files)
        found = collect_files([folder])
        listed = [os.path.relpath(path, folder) for path in found.paths]
        skipped = [os.path.relpath(path, folder) for path, _ in found.skipped]
        documents = [name for name in files if name.endswith(".md")]
        assert sorted(listed + skipped) == sorted(documents)
        assert not set(listed) & set(skipped)
        assert all(".git" not in Path(name).parts and "node_modules" not in Path(name).parts for name in listed)

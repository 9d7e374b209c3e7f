"""Inline marks (`<!-- alttext: decorative -->`, `.. alttext: ignore`) and `decorative` globs,
through the pure core, `check`, and the `fix` pipeline."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alttext.cli import main
from alttext.config import Config, load_config
from alttext.fix import run as pipeline
from alttext.fix.plan import Marking
from alttext.lint import check_document, check_text
from alttext.scan import find_images
from alttext.suppress import Mark, image_marks
from tests.fix_helpers import FIX_DATA, FixedCaptions

ALL = Config()


@pytest.mark.parametrize(
    ("syntax", "text", "rules"),
    [
        pytest.param("markdown", "<!-- alttext: decorative -->\n![](a.png)\n\n![](b.png)\n", [("ALT101", 4)], id="md-decorative"),
        pytest.param("markdown", "<!-- alttext: ignore ALT101 -->\n![](a.png)\n", [], id="md-ignore-rule"),
        pytest.param("markdown", "<!--alttext:ignore markdown-alt-missing-->\n![](a.png)\n", [], id="md-ignore-by-name"),
        pytest.param("markdown", "<!-- alttext: ignore ALT3 -->\n![](a.png)\n", [("ALT101", 2)], id="md-other-rule-kept"),
        pytest.param("markdown", "<!-- alttext: ignore ALT3 -->\n![IMG_2041.JPG](IMG_2041.JPG)\n", [], id="md-quality-silenced"),
        pytest.param("markdown", "<!-- alttext: ignore -->\n\n![](a.png)\n", [("ALT101", 3)], id="md-blank-line-between"),
        pytest.param("markdown", "<!-- alttext: decorative --> ![](a.png) ![](b.png)\n", [], id="md-same-line"),
        pytest.param("markdown", "![](b.png) <!-- alttext: decorative -->\n", [("ALT101", 1)], id="md-after-on-line"),
        pytest.param("html", "<p>\n<!-- alttext: decorative -->\n<img src=a.png>\n<img src=b.png>", [("ALT001", 4)], id="html"),
        pytest.param("html", "<!-- alttext: ignore ALT004 -->\n<map><area href=x></map>", [], id="html-area"),
        pytest.param("rst", ".. alttext: decorative\n.. image:: a.png\n\n.. image:: b.png\n", [("ALT201", 4)], id="rst"),
        pytest.param("rst", "Text\n\n.. alttext: ignore ALT201\n.. figure:: a.png\n\n   Caption\n", [], id="rst-figure"),
        pytest.param("rst", ".. alttext: decorative\n\n.. image:: a.png\n", [("ALT201", 3)], id="rst-blank-between"),
    ],
)
def test_inline_marks(syntax: str, text: str, rules: list[tuple[str, int]]) -> None:
    assert [(f.rule, f.line) for f in check_text("doc", text, syntax, ALL)] == rules


def test_an_unreadable_mark_is_an_error_and_silences_nothing() -> None:
    result = check_document("doc.md", "<!-- alttext: ignore ALT999 -->\n![](a.png)\n", "markdown", ALL)
    assert [(f.rule, f.line) for f in result.findings] == [("ALT101", 2)]
    [error] = result.errors
    assert error.line == 1 and "ALT999" in error.message


def test_marks_in_code_blocks_that_mark_no_image_are_not_read() -> None:
    text = "```html\n<!-- alttext: whatever -->\n```\n\n![ok](a.png)\n"
    assert check_document("doc.md", text, "markdown", ALL).errors == []


@pytest.mark.parametrize(
    ("globs", "src", "decorative"),
    [
        pytest.param(["img/icons/*"], "img/icons/home.svg", True, id="relative-glob"),
        pytest.param(["img/icons/*"], "../img/icons/home.svg", True, id="resolved-from-the-document"),
        pytest.param(["divider.png"], "assets/divider.png?v=2", True, id="file-name-glob"),
        pytest.param(["img/icons/*"], "img/photos/cat.png", False, id="other-folder"),
        pytest.param(["*.svg"], "https://example.com/logo.svg", True, id="remote-by-name"),
        pytest.param(["img/*"], "", False, id="no-src"),
        pytest.param(["img/icons/*"], "/img/icons/home.svg", True, id="site-absolute-as-written"),
    ],
)
def test_decorative_globs(globs: list[str], src: str, decorative: bool, tmp_path: Path) -> None:
    document = str(tmp_path / "docs" / "page.md")
    [ref] = find_images(f"![]({src or '<>'})\n", "markdown")
    marks, _ = image_marks("", "markdown", [ref], decorative=globs, document=document, root=str(tmp_path))
    assert marks[0].decorative is decorative


def test_decorative_key_in_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.alttext]\ndecorative = ["icons/*"]\n')
    (tmp_path / "page.md").write_text("![](icons/home.svg)\n\n![](photo.png)\n")
    assert load_config(str(tmp_path / "pyproject.toml")).decorative == ("icons/*",)
    assert main(["check", str(tmp_path / "page.md")]) == 1
    out = capsys.readouterr().out
    assert "photo.png" in out and "icons/home.svg" not in out


@pytest.fixture()
def marked_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "img").mkdir()
    for name in ("dog.png", "divider.png", "chart.svg"):
        shutil.copyfile(FIX_DATA / "img" / name, tmp_path / "img" / name)
    (tmp_path / "page.md").write_text("<!-- alttext: decorative -->\n![](img/divider.png)\n\n![](img/dog.png)\n")
    (tmp_path / "page.html").write_text(
        '<!-- alttext: decorative -->\n<img src="img/divider.png">\n<!-- alttext: ignore -->\n<img src="img/dog.png">\n'
    )
    (tmp_path / "page.rst").write_text(".. alttext: decorative\n.. image:: img/divider.png\n\n.. image:: img/dog.png\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _fix(root: Path, marking: Marking) -> tuple[dict[str, str], FixedCaptions]:
    settings = pipeline.Settings(root=str(root), marking=marking)
    log = pipeline.Log(stream=io.StringIO())
    collected = pipeline.collect(settings, log)
    captions = FixedCaptions()
    pipeline.caption(collected, settings, log, lambda _settings: captions)
    pipeline.write_all(pipeline.rewrites(collected, log), log)
    return {name: (root / name).read_text() for name in ("page.md", "page.html", "page.rst")}, captions


def test_fix_leaves_marked_images_alone(marked_tree: Path) -> None:
    texts, captions = _fix(marked_tree, Marking())
    captioned = [str(image) for call in captions.calls for image in call]
    assert not any("divider" in image for image in captioned)
    assert texts["page.md"] == "<!-- alttext: decorative -->\n![](img/divider.png)\n\n![A brown dog lying on a rug](img/dog.png)\n"
    assert texts["page.html"] == (
        '<!-- alttext: decorative -->\n<img src="img/divider.png">\n<!-- alttext: ignore -->\n<img src="img/dog.png">\n'
    )
    assert texts["page.rst"].startswith(".. alttext: decorative\n.. image:: img/divider.png\n\n")


def test_fix_writes_empty_alt_for_decorative_only_when_asked(marked_tree: Path) -> None:
    texts, _ = _fix(marked_tree, Marking(write_empty_alt=True))
    assert texts["page.md"].startswith("<!-- alttext: decorative -->\n![](img/divider.png)\n")  # no decorative form
    assert '<img alt="" src="img/divider.png">' in texts["page.html"]
    assert '<img src="img/dog.png">' in texts["page.html"]  # ignored, not decorative: left alone
    assert texts["page.rst"].startswith(".. alttext: decorative\n.. image:: img/divider.png\n   :alt:\n")


def test_fix_cli_honours_decorative_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "img").mkdir()
    shutil.copyfile(FIX_DATA / "img" / "chart.svg", tmp_path / "img" / "chart.svg")
    (tmp_path / "pyproject.toml").write_text('[tool.alttext]\ndecorative = ["img/*.svg"]\n')
    (tmp_path / "page.html").write_text('<img src="img/chart.svg">\n')
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "--diff", "."]) == 0
    assert main(["fix", "--write-decorative", "."]) == 1
    assert (tmp_path / "page.html").read_text() == '<img alt="" src="img/chart.svg">\n'
    assert main(["check", "."]) == 0


_MARKABLE = {
    "markdown": ("<!-- alttext: {} -->", "![](x{}.png)"),
    "html": ("<!-- alttext: {} -->", '<img src="x{}.png">'),
    "rst": (".. alttext: {}", ".. image:: x{}.png"),
}


@settings(max_examples=60, deadline=None)
@given(
    syntax=st.sampled_from(sorted(_MARKABLE)),
    marked=st.lists(st.sampled_from([None, "decorative", "ignore", "ignore ALT3"]), min_size=1, max_size=6),
)
def test_a_mark_silences_exactly_the_image_after_it(syntax: str, marked: list[str | None]) -> None:
    mark_line, image_line = _MARKABLE[syntax]
    blocks = []
    for number, mark in enumerate(marked):
        lines = ([mark_line.format(mark)] if mark else []) + [image_line.format(number)]
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks) + "\n"
    reported = {f.src for f in check_text("doc", text, syntax, ALL)}
    expected = {f"x{n}.png" for n, mark in enumerate(marked) if mark in (None, "ignore ALT3")}
    assert reported == expected


def test_mark_semantics() -> None:
    assert Mark(decorative=True).silences("ALT001")
    assert Mark(ignored=None).silences("ALT304")
    assert not Mark(ignored=frozenset({"ALT301"})).silences("ALT001")


@pytest.mark.slow
def test_sphinx_build_honours_marks_and_globs(tmp_path: Path) -> None:
    pytest.importorskip("myst_parser")
    from tests.test_sphinx_ext import SITE, build, parsed_warnings

    site = tmp_path / "docs"
    shutil.copytree(SITE, site)
    index = (site / "index.rst").read_text()
    (site / "index.rst").write_text(index.replace(".. image:: images/chart.png", ".. alttext: decorative\n.. image:: images/chart.png"))
    guide = (site / "guide.md").read_text()
    (site / "guide.md").write_text(guide.replace("![](images/chart.png)", "<!-- alttext: ignore ALT101 -->\n![](images/chart.png)"))
    (tmp_path / "pyproject.toml").write_text('[tool.alttext]\ndecorative = ["docs/images/team.png"]\n')
    _, warnings, _ = build(site)
    assert parsed_warnings(warnings, site) == [
        ("guide.md", 19, "ALT101", "images/logo.png"),
        ("index.rst", 30, "ALT201", "images/logo.png"),
    ]


@pytest.mark.slow
def test_mkdocs_strict_build_honours_marks_and_globs(tmp_path: Path) -> None:
    """A `mkdocs build --strict` that failed on three images passes once they are marked."""
    pytest.importorskip("mkdocs")
    from tests.test_mkdocs_plugin import SITE, build, warnings

    site = tmp_path / "site-src"
    shutil.copytree(SITE, site)
    index = site / "docs" / "index.md"
    index.write_text(index.read_text().replace("![](img/chart.png)", "<!-- alttext: decorative -->\n![](img/chart.png)"))
    usage = site / "docs" / "guide" / "usage.md"
    usage.write_text(usage.read_text().replace('<img src="/img/logo.png"', '<!-- alttext: ignore ALT001 -->\n<img src="/img/logo.png"'))
    status, output = build(site, "--strict")
    assert warnings(output) == [("docs/guide/usage.md:5:1", "ALT101")]
    assert status == 1
    (site / "pyproject.toml").write_text('[tool.alttext]\ndecorative = ["img/team.png"]\n')
    status, output = build(site, "--strict")
    assert (status, warnings(output)) == (0, []), output

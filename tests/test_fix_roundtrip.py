"""Whole documents through the fix pipeline: expected output byte for byte, read back by real renderers."""

from __future__ import annotations

import html.parser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from alttext.config import Config
from alttext.lint import check_file
from alttext.rules import MISSING_ALT_RULES
from tests.fix_helpers import CAPTIONS, FIX_DATA, FixedCaptions, copy_case, fix_tree

DOCUMENTS = ["guide.md", "page.html", "api.rst"]
VARIANTS = {
    "lf": lambda data: data,
    "crlf": lambda data: data.replace(b"\n", b"\r\n"),
    "utf8-bom": lambda data: b"\xef\xbb\xbf" + data,
}
# What each fixed document still lacks after `fix` (skipped, with a message): line, rule.
STILL_MISSING = {"guide.md": [], "page.html": [(28, "ALT001")], "api.rst": []}


def _expected(name: str) -> bytes:
    return (FIX_DATA / name.replace(".", ".out.")).read_bytes()


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_case(tmp_path, [name.replace(".", ".in.") for name in DOCUMENTS])
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", DOCUMENTS)
def test_fix_gives_the_expected_document(tree: Path, name: str, variant: str) -> None:
    change = VARIANTS[variant]
    path = tree / name
    path.write_bytes(change(path.read_bytes()))
    fix_tree(tree, paths=[name])
    assert path.read_bytes() == change(_expected(name))


@pytest.mark.parametrize("name", DOCUMENTS)
def test_fix_twice_changes_nothing_the_second_time(tree: Path, name: str) -> None:
    fix_tree(tree, paths=[name])
    first = (tree / name).read_bytes()
    captioner = FixedCaptions()
    proposals, _, _ = fix_tree(tree, captioner, paths=[name])
    assert proposals == []
    assert captioner.calls == []  # nothing left to caption, so no captioner call at all
    assert (tree / name).read_bytes() == first


@pytest.mark.parametrize("name", DOCUMENTS)
def test_check_after_fix_finds_only_what_was_skipped(tree: Path, name: str) -> None:
    fix_tree(tree, paths=[name])
    result = check_file(name, Config(root=str(tree)))
    missing = [(f.line, f.rule) for f in result.findings if f.rule in MISSING_ALT_RULES]
    assert result.errors == []
    assert missing == STILL_MISSING[name]


def test_same_image_is_captioned_once_per_run(tree: Path) -> None:
    captioner = FixedCaptions()
    fix_tree(tree, captioner)
    assert len(captioner.calls) == 1  # one call for all documents together
    names = sorted(Path(image).name if isinstance(image, str) else "bytes" for image in captioner.calls[0])
    # Each distinct image once, however often it is shown; SVGs bring their own title.
    assert names == ["bytes", "cat.png", "chart.png", "divider.png", "dog.png"]


# Independent read-back: the documents rendered by the real tools carry exactly the captions.

class _ImgAlts(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.alts: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "input"):
            self.alts.append(dict(attrs).get("alt"))


def _alts_of_html(markup: str) -> list[str | None]:
    parser = _ImgAlts()
    parser.feed(markup)
    parser.close()
    return parser.alts


def _render(name: str, text: str) -> str:
    if name.endswith(".md"):
        return MarkdownIt("commonmark", {"html": True}).enable("table").render(text.split("---\n", 2)[2])
    if name.endswith(".rst"):
        from docutils.core import publish_string

        return str(publish_string(text, writer="html5",
                                  settings_overrides={"report_level": 5, "output_encoding": "unicode"}))
    return text


DOG, CAT, CHART, LINE = (CAPTIONS[key] for key in ("dog.png", "cat.png", "chart.png", "divider.png"))
SVG_TITLE = "Bar chart: sales doubled from 2022 to 2024"
RENDERED_ALTS = {
    "guide.md": [DOG, CHART, "Dogs on Example", CAT, CAT, LINE, CHART, DOG, "Already described by a person", SVG_TITLE, DOG, ""],
    # Python's parser reads the <img> text inside <title> as a tag (first None); hidden
    # images and an SVG without a title stay as they were (last two None).
    "page.html": [None, DOG, CAT, CHART, CAT, "", "A dog drawn by a person", CHART, SVG_TITLE, CAPTIONS["pixel"],
                  CHART, None, None],
    "api.rst": [SVG_TITLE, DOG, CHART, CAT, "A thin grey line", DOG],
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_rendered_output_has_exactly_the_captions(tree: Path, name: str) -> None:
    fix_tree(tree, paths=[name])
    alts = _alts_of_html(_render(name, (tree / name).read_text(encoding="utf-8")))
    assert alts == RENDERED_ALTS[name]



def test_a_bare_alt_gets_a_value_not_a_second_alt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_case(tmp_path, [])
    (tmp_path / "form.html").write_text("<input type=image src=img/dog.png alt>\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    fix_tree(tmp_path, paths=["form.html"])
    fixed = (tmp_path / "form.html").read_text(encoding="utf-8")
    assert fixed == f'<input type=image src=img/dog.png alt="{DOG}">\n'
    assert fixed.count("alt") == 1 and _alts_of_html(fixed) == [DOG]

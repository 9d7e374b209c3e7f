"""Markdown alt text reads back as exactly the caption in both engines users build with:
CommonMark (markdown-it, as our scanner and MyST read it) and Python-Markdown (as MkDocs runs it)."""

from __future__ import annotations

import functools
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from alttext.cli import main
from alttext.fix.slots import escape_markdown, normalize_alt

# MkDocs always loads these three Python-Markdown extensions (mkdocs.config.defaults).
MKDOCS_EXTENSIONS = ["toc", "tables", "fenced_code"]
SPECIALS = "\\[]*_`<&|~"


class _Alts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.alts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.alts.append(dict(attrs).get("alt") or "")


def _alts(html: str) -> list[str]:
    parser = _Alts()
    parser.feed(html)
    parser.close()
    return parser.alts


@functools.cache
def _markdown_it(preset: str) -> MarkdownIt:
    if preset == "gfm":  # tables and strikethrough, as GitHub and MyST pages read them
        return MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return MarkdownIt("commonmark")


def _python_markdown(text: str) -> str:
    return markdown.markdown(text, extensions=MKDOCS_EXTENSIONS)


RENDERERS = {
    "commonmark": lambda text: _markdown_it("commonmark").render(text),
    "gfm": lambda text: _markdown_it("gfm").render(text),
    "python-markdown": _python_markdown,
}
PLACES = {
    "paragraph": "Before ![{}](img/x.png) after.\n",
    "table-cell": "| Image | Note |\n|---|---|\n| ![{}](img/x.png) | cell |\n",
}


def _rendered_alts(caption: str, renderer: str, place: str) -> list[str]:
    text = PLACES[place].replace("{}", escape_markdown(caption))
    return _alts(RENDERERS[renderer](text))


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(
    "caption",
    [
        *[pytest.param(f"a {char} b {char}{char}c{char}", id=f"char-{char}") for char in SPECIALS],
        pytest.param("a &copy; b &#35; c &#x41; d &amp; e &nbsp", id="entity-lookalikes"),
        pytest.param("<b>bold</b> <http://example.com> <!-- c -->", id="html-and-autolink"),
        pytest.param("~~struck~~ *em* __strong__ `code`", id="inline-markup"),
        pytest.param("[link](other.md) ![img](y.png) [ref][1]", id="links-inside"),
        pytest.param("C:\\path\\to\\ and a trailing backslash \\", id="backslashes"),
        pytest.param("{: .class } (x) #hash +1 -2 .3 !4 >5", id="python-markdown-escapables"),
        pytest.param("Ünïcödé — “quotes” ‘and’ 😀", id="unicode"),
    ],
)
def test_every_escaped_character_renders_literally(caption: str, renderer: str, place: str) -> None:
    assert _rendered_alts(caption, renderer, place) == [caption]


# Text a captioning model, or a person editing a proposals file, could write:
# heavy on the characters that mean something in Markdown, HTML or tables.
_CAPTIONS = st.text(
    st.one_of(
        st.sampled_from(SPECIALS + "!#;:()[]{}<>/\"' .-+=x1"),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_CAPTIONS)
@example("&lt;")
@example("\\&amp;")
@example("&#124;|")
def test_any_caption_renders_as_itself_in_both_engines(text: str) -> None:
    caption = normalize_alt(text)
    for renderer in RENDERERS:
        for place in PLACES:
            assert _rendered_alts(caption, renderer, place) == [caption], (renderer, place)


HARD_TITLE = r"8 < 14 & a|b ~~x~~ *y* _z_ `c` \ [d] &copy; <b>"


@pytest.mark.slow
def test_fix_then_a_real_mkdocs_build_shows_the_caption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """alttext fix writes the alt text; `mkdocs build` (no plugin) renders exactly it."""
    docs = tmp_path / "docs"
    (docs / "img").mkdir(parents=True)
    title = HARD_TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    (docs / "img" / "chart.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><title>{title}</title></svg>\n', encoding="utf-8")
    (docs / "index.md").write_text("# Home\n\n![](img/chart.svg)\n\n| Chart |\n|---|\n| ![](img/chart.svg) |\n",
                                   encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "docs"]) == 1
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert _alts((tmp_path / "site" / "index.html").read_text(encoding="utf-8")) == [HARD_TITLE, HARD_TITLE]

"""Alt text to edits: escaping per target, proven by reading the result back with real parsers."""

from __future__ import annotations

import html.parser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from alttext.findings import Edit, apply_edits
from alttext.fix.slots import (
    SlotError,
    alt_edit,
    escape_html_attribute,
    escape_markdown,
    escape_rst_option,
    normalize_alt,
    unescape_markdown,
)
from alttext.scan.base import AltSlot


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("A dog", "A dog", id="plain"),
        pytest.param("  A dog\n on a couch \t", "A dog on a couch", id="newlines-and-tabs"),
        pytest.param("A\r\ndog", "A dog", id="crlf"),
        pytest.param("A\u2028dog", "A dog", id="unicode-line-separator"),
        pytest.param("A\x00dog\x1b", "Adog", id="control-characters"),
        pytest.param("", "", id="empty"),
    ],
)
def test_normalize_alt(raw: str, expected: str) -> None:
    assert normalize_alt(raw) == expected


@pytest.mark.parametrize(
    ("slot", "alt", "expected"),
    [
        pytest.param(AltSlot(4, 4, "html-attribute"), "A dog", ' alt="A dog"', id="html-insert"),
        pytest.param(AltSlot(4, 4, "html-attribute"), 'Say "hi" & <go>', ' alt="Say &quot;hi&quot; &amp; &lt;go&gt;"',
                     id="html-insert-escaped"),
        pytest.param(AltSlot(4, 4, "html-attribute", attribute="aria-label"), "A chart", ' aria-label="A chart"',
                     id="aria-label"),
        pytest.param(AltSlot(9, 11, "html-value", quote='"'), "A dog's bone", "A dog's bone", id="value-double-quote"),
        pytest.param(AltSlot(9, 11, "html-value", quote="'"), "A dog's \"bone\"", "A dog&#39;s &quot;bone&quot;",
                     id="value-single-quote"),
        pytest.param(AltSlot(9, 9, "html-value", quote=""), "A dog", '"A dog"', id="value-unquoted"),
        pytest.param(AltSlot(5, 5, "svg-title"), "Sales <2024> & more", "<title>Sales &lt;2024&gt; &amp; more</title>",
                     id="svg-title"),
        pytest.param(AltSlot(2, 2, "markdown"), "A [big] *dog*", r"A \[big\] \*dog\*", id="markdown"),
        pytest.param(AltSlot(2, 2, "markdown"), r"C:\path_to `x` <b> &amp; a|b ~s~",
                     r"C:\\path\_to \`x\` &lt;b> &amp;amp; a&#124;b &#126;s&#126;", id="markdown-all-specials"),
        pytest.param(AltSlot(30, 30, "rst-option", indent="   ", newline="\n"), "A dog", "\n   :alt: A dog", id="rst"),
        pytest.param(AltSlot(30, 30, "rst-option", indent="\t", newline="\r\n"), "A *dog*", "\r\n\t:alt: A *dog*",
                     id="rst-crlf-tab"),
        pytest.param(AltSlot(30, 30, "rst-option", indent="   "), "", "\n   :alt:", id="rst-empty-decorative"),
    ],
)
def test_alt_edit(slot: AltSlot, alt: str, expected: str) -> None:
    assert alt_edit(slot, alt) == Edit(slot.start, slot.end, expected)


def test_unknown_form_is_an_error() -> None:
    with pytest.raises(SlotError, match="unknown alt slot form 'latex'"):
        alt_edit(AltSlot(0, 0, "latex"), "A dog")


def test_rst_trailing_backslash_does_not_escape_the_line_end() -> None:
    assert escape_rst_option("C:\\") == "C:\\ "


# Read-back with independent, real parsers: what a browser-like HTML parser and
# CommonMark see must be exactly the alt text that was written.

class _AltReader(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.alts: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))


def _html_alt(document: str) -> str | None:
    reader = _AltReader()
    reader.feed(document)
    reader.close()
    assert len(reader.alts) == 1
    return reader.alts[0]


_MARKDOWN = MarkdownIt("commonmark").enable("table")


def _markdown_alts(document: str) -> list[str]:
    alts = []
    for block in _MARKDOWN.parse(document):
        for token in block.children or []:
            if token.type == "image":
                alts.append(_MARKDOWN.renderer.renderInlineAsText(token.children or [], _MARKDOWN.options, {}))
    return alts


_ALT_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40).map(normalize_alt)


@settings(max_examples=300, deadline=None)
@given(alt=_ALT_TEXT, quote=st.sampled_from(['"', "'"]))
def test_html_value_reads_back(alt: str, quote: str) -> None:
    document = f"<p><img src=x.png alt={quote}{quote} width=3></p>"
    start = document.index("alt=") + 5
    edit = alt_edit(AltSlot(start, start, "html-value", quote=quote), alt)
    assert _html_alt(apply_edits(document, [edit])) == alt


@settings(max_examples=300, deadline=None)
@given(alt=_ALT_TEXT)
def test_html_attribute_reads_back(alt: str) -> None:
    document = "<p><img src=x.png></p>"
    edit = alt_edit(AltSlot(7, 7, "html-attribute"), alt)
    assert _html_alt(apply_edits(document, [edit])) == alt


_MARKDOWN_CONTEXTS = [
    pytest.param("![](x.png)\n", id="paragraph"),
    pytest.param("[![](x.png)](https://example.com)\n", id="inside-link"),
    pytest.param("| a | b |\n|---|---|\n| ![](x.png) | c |\n", id="table-cell"),
    pytest.param("> - ![](x.png \"title\")\n", id="quote-list-title"),
    pytest.param("# ![](x.png)\n", id="heading"),
    pytest.param("![][ref]\n\n[ref]: x.png\n", id="reference"),
]


@pytest.mark.parametrize("document", _MARKDOWN_CONTEXTS)
@settings(max_examples=150, deadline=None)
@given(alt=_ALT_TEXT)
def test_markdown_reads_back(document: str, alt: str) -> None:
    start = document.index("![") + 2
    new = apply_edits(document, [alt_edit(AltSlot(start, start, "markdown"), alt)])
    assert _markdown_alts(new) == [alt]


@given(alt=_ALT_TEXT)
def test_markdown_alt_as_written_reads_back_as_the_alt(alt: str) -> None:
    """What `alttext apply` compares to tell that an entry is already written."""
    assert unescape_markdown(escape_markdown(alt)) == alt


@pytest.mark.parametrize(
    "alt",
    [
        pytest.param("# Not a heading", id="hash"),
        pytest.param("1. not a list", id="ordered-list-marker"),
        pytest.param("&copy; entity", id="entity"),
        pytest.param("a\\", id="trailing-backslash"),
        pytest.param("<http://example.com>", id="autolink"),
        pytest.param("`code`", id="code-span"),
        pytest.param("![nested](y.png)", id="nested-image"),
        pytest.param("[link](z)", id="link"),
        pytest.param("a | b", id="pipe"),
    ],
)
def test_markdown_tricky_alt_reads_back(alt: str) -> None:
    assert _markdown_alts(f"![{escape_markdown(alt)}](x.png)\n") == [alt]


def test_html_attribute_escaping_is_minimal() -> None:
    assert escape_html_attribute("A dog's bone") == "A dog's bone"

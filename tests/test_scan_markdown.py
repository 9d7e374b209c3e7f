"""The Markdown scanner: MD045 semantics, raw HTML, and exact source positions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from alttext.scan.base import ImageRef
from alttext.scan.html import find_images as find_images_in_html
from alttext.scan.markdown import find_images
from alttext.textpos import LineIndex

DATA = Path(__file__).parent / "data" / "markdown"


def describe(text: str) -> list[tuple[int, int, str, str, str | None]]:
    """(line, column, image text, src, rule) of every image, checking each slot on the way."""
    index = LineIndex(text)
    found = []
    for ref in find_images(text):
        assert_consistent(text, ref)
        line, column = index.position(ref.start)
        found.append((line, column, text[ref.start : ref.end], ref.src, ref.rule))
    return found


def assert_consistent(text: str, ref: ImageRef) -> None:
    assert ref.slot is not None or ref.rule is None
    if ref.kind.startswith("markdown"):
        assert text[ref.start] == "!"
        assert ref.slot is not None
        assert (
            text[ref.start + 2 : ref.slot.start] == ""
        )  # the slot opens right after `![`
        assert text[ref.slot.end] == "]"
        assert text[ref.end - 1] in ")]"
    elif ref.kind.startswith("rst"):
        assert text[ref.start : ref.start + 3] == ".. "
    elif ref.kind.startswith("myst"):
        assert text[ref.start : ref.start + 3] in ("```", "~~~")
        assert ref.end == len(text) or text[ref.end] in "\r\n"
    else:
        assert text[ref.start] == "<"
        assert text[ref.end - 1] == ">"


MISSING = "ALT101"
_MKDOCS_MARKER = re.compile(r"^ *(?:!!!|\?\?\?|===)", re.MULTILINE)

CASES = [
    pytest.param(
        "![](x.png)", [(1, 1, "![](x.png)", "x.png", MISSING)], id="empty-description"
    ),
    pytest.param(
        "![ ](x.png)", [(1, 1, "![ ](x.png)", "x.png", MISSING)], id="space-description"
    ),
    pytest.param(
        "![\t ](x.png)",
        [(1, 1, "![\t ](x.png)", "x.png", MISSING)],
        id="tab-description",
    ),
    pytest.param(
        "![cat](x.png)", [(1, 1, "![cat](x.png)", "x.png", None)], id="with-description"
    ),
    pytest.param(
        '![](x.png "A title")',
        [(1, 1, '![](x.png "A title")', "x.png", MISSING)],
        id="title-is-not-alt",
    ),
    pytest.param(
        "![](<a b.png>)",
        [(1, 1, "![](<a b.png>)", "a b.png", MISSING)],
        id="angle-destination",
    ),
    pytest.param("![]()", [(1, 1, "![]()", "", MISSING)], id="empty-destination"),
    pytest.param(
        "![](  x.png  'T'  )",
        [(1, 1, "![](  x.png  'T'  )", "x.png", MISSING)],
        id="spaces-in-parens",
    ),
    pytest.param(
        "a ![](x.png) b", [(1, 3, "![](x.png)", "x.png", MISSING)], id="mid-line"
    ),
    pytest.param(
        "![a](1.png)![](2.png)",
        [(1, 1, "![a](1.png)", "1.png", None), (1, 12, "![](2.png)", "2.png", MISSING)],
        id="adjacent",
    ),
    pytest.param(
        "![*a*](x.png)",
        [(1, 1, "![*a*](x.png)", "x.png", None)],
        id="emphasis-description",
    ),
    pytest.param(
        "![a\nb](x.png)",
        [(1, 1, "![a\nb](x.png)", "x.png", None)],
        id="description-over-two-lines",
    ),
    pytest.param(
        "![][logo]\n\n[logo]: logo.png",
        [(1, 1, "![][logo]", "logo.png", MISSING)],
        id="full-reference",
    ),
    pytest.param(
        "![logo][]\n\n[logo]: logo.png",
        [(1, 1, "![logo][]", "logo.png", None)],
        id="collapsed-reference",
    ),
    pytest.param(
        "![logo]\n\n[logo]: logo.png",
        [(1, 1, "![logo]", "logo.png", None)],
        id="shortcut-reference",
    ),
    pytest.param(
        "[r]: <a b.png> 'T'\n![][R]",
        [(2, 1, "![][R]", "a b.png", MISSING)],
        id="reference-case-folded",
    ),
    pytest.param("![][nope]", [], id="undefined-reference"),
    pytest.param("![nope]", [], id="undefined-shortcut"),
    pytest.param(
        "[![](a.png)](https://e.org)",
        [(1, 2, "![](a.png)", "a.png", MISSING)],
        id="inside-link",
    ),
    pytest.param(
        "[x ![y](a.png) ![](b.png)](u)",
        [(1, 4, "![y](a.png)", "a.png", None), (1, 16, "![](b.png)", "b.png", MISSING)],
        id="two-inside-link",
    ),
    pytest.param(
        "- ![](a.png)", [(1, 3, "![](a.png)", "a.png", MISSING)], id="bullet-list"
    ),
    pytest.param(
        "1. one\n2. ![](a.png)",
        [(2, 4, "![](a.png)", "a.png", MISSING)],
        id="ordered-list",
    ),
    pytest.param(
        "- a\n  - b\n\n    ![](n.png)",
        [(4, 5, "![](n.png)", "n.png", MISSING)],
        id="nested-list-paragraph",
    ),
    pytest.param(
        "> ![](q.png)", [(1, 3, "![](q.png)", "q.png", MISSING)], id="block-quote"
    ),
    pytest.param(
        "> > x ![](q.png)",
        [(1, 7, "![](q.png)", "q.png", MISSING)],
        id="nested-block-quote",
    ),
    pytest.param(
        "> a\n> ![b\n> c](q.png)",
        [(2, 3, "![b\n> c](q.png)", "q.png", None)],
        id="quote-description-over-lines",
    ),
    pytest.param(
        "> a\nlazy ![](q.png)",
        [(2, 6, "![](q.png)", "q.png", MISSING)],
        id="lazy-continuation",
    ),
    pytest.param(
        "# ![](h.png)", [(1, 3, "![](h.png)", "h.png", MISSING)], id="atx-heading"
    ),
    pytest.param(
        "## ![](h.png) ##",
        [(1, 4, "![](h.png)", "h.png", MISSING)],
        id="atx-heading-closed",
    ),
    pytest.param(
        "![](h.png)\n===", [(1, 1, "![](h.png)", "h.png", MISSING)], id="setext-heading"
    ),
    pytest.param(
        "| a | b |\n|---|---|\n| ![](a.png) | ![](a.png) |",
        [
            (3, 3, "![](a.png)", "a.png", MISSING),
            (3, 16, "![](a.png)", "a.png", MISSING),
        ],
        id="table-equal-cells",
    ),
    pytest.param(
        "| ![](h.png) |\n|---|\n| x |",
        [(1, 3, "![](h.png)", "h.png", MISSING)],
        id="table-header-cell",
    ),
    pytest.param(
        "| a | b |\n|---|---|\n| a\\|![](p.png) | ![c\\|d](e.png) |",
        [
            (3, 6, "![](p.png)", "p.png", MISSING),
            (3, 19, "![c\\|d](e.png)", "e.png", None),
        ],
        id="table-escaped-pipes",
    ),
    pytest.param(
        "a | b\n--|--\n![](x.png) | ![](x.png)",
        [
            (3, 1, "![](x.png)", "x.png", MISSING),
            (3, 14, "![](x.png)", "x.png", MISSING),
        ],
        id="table-without-outer-pipes",
    ),
    pytest.param(
        "> | a |\n> |---|\n> | ![](q.png) |",
        [(3, 5, "![](q.png)", "q.png", MISSING)],
        id="table-in-quote",
    ),
    pytest.param(
        "a\r\n\r\n> b ![](c.png)\r\n",
        [(3, 5, "![](c.png)", "c.png", MISSING)],
        id="crlf",
    ),
    pytest.param(
        "a\r\r- b\r  ![](c.png)\r", [(4, 3, "![](c.png)", "c.png", MISSING)], id="cr"
    ),
    pytest.param(
        "-\t![](t.png)", [(1, 3, "![](t.png)", "t.png", MISSING)], id="tab-after-marker"
    ),
    pytest.param(
        ">\t![](t.png)", [(1, 3, "![](t.png)", "t.png", MISSING)], id="tab-after-quote"
    ),
    pytest.param(
        "x\0 ![](n.png)", [(1, 4, "![](n.png)", "n.png", MISSING)], id="nul-character"
    ),
    pytest.param("`![](x.png)`", [], id="code-span"),
    pytest.param("``a ` ![](x.png)``", [], id="double-backtick-code-span"),
    pytest.param("```\n![](x.png)\n```", [], id="fenced-code"),
    pytest.param("~~~md\n![](x.png)\n~~~", [], id="tilde-fence"),
    pytest.param("    ![](x.png)", [], id="indented-code"),
    pytest.param("- a\n\n        ![](x.png)", [], id="indented-code-in-list"),
    pytest.param("\\![](x.png)", [], id="escaped-bang"),
    pytest.param("!\\[](x.png)", [], id="escaped-bracket"),
    pytest.param("! [](x.png)", [], id="space-after-bang"),
    pytest.param("![](x.png", [], id="unclosed-destination"),
    pytest.param("---\ntitle: ![](x.png)\n---\n", [], id="yaml-front-matter"),
    pytest.param("+++\ntitle = '![](x.png)'\n+++\n", [], id="toml-front-matter"),
    pytest.param(
        "---\na: b\n---\n![](y.png)",
        [(4, 1, "![](y.png)", "y.png", MISSING)],
        id="after-front-matter",
    ),
    pytest.param(
        "text\n\n---\n![](y.png)\n---",
        [(4, 1, "![](y.png)", "y.png", MISSING)],
        id="rule-not-front-matter",
    ),
    pytest.param(
        "---\rt: ![](x.png)\n---\n![](y.png)",
        [(4, 1, "![](y.png)", "y.png", MISSING)],
        id="front-matter-mixed-line-ends",
    ),
    pytest.param("<!-- ![](x.png) -->", [], id="html-comment"),
    pytest.param("a <!-- ![](x.png) --> b", [], id="inline-html-comment"),
    pytest.param("<div>\n![](x.png)\n</div>", [], id="inside-html-block"),
    pytest.param(
        "<div>\n\n![](x.png)\n\n</div>",
        [(3, 1, "![](x.png)", "x.png", MISSING)],
        id="markdown-between-html",
    ),
    pytest.param(
        "![![](in.png)](out.png)",
        [(1, 1, "![![](in.png)](out.png)", "out.png", None)],
        id="image-in-description",
    ),
    pytest.param(
        "[a]: x.png\n\n[![a]](u)",
        [(3, 2, "![a]", "x.png", None)],
        id="shortcut-in-link",
    ),
]


# Documents split into chunks at column-0 lines after a blank line; these must stay whole.
CHUNK_CASES = [
    pytest.param(
        "```\n\n![](x.png)\n\n```\n\n![](y.png)",
        [(7, 1, "![](y.png)", "y.png", MISSING)],
        id="fence-with-blank-lines",
    ),
    pytest.param(
        "````\n```\n\n![](x.png)\n\n```\n````\n", [], id="longer-fence-holds-shorter"
    ),
    pytest.param("~~~\n```\n\n![](x.png)\n", [], id="unclosed-fence-to-the-end"),
    pytest.param(
        "```a`b\n\n![](x.png)",
        [(3, 1, "![](x.png)", "x.png", MISSING)],
        id="backtick-info-is-no-fence",
    ),
    pytest.param(
        "<!--\n\n![](x.png)\n\n-->\n", [], id="html-comment-block-with-blank-lines"
    ),
    pytest.param(
        "<script>\n\n![](x.png)\n\n</script>\n", [], id="script-block-with-blank-lines"
    ),
    pytest.param(
        "<div>\n```\n</div>\n\n```\ncode\n\n![](in-code.png)\n```\n",
        [],
        id="fence-line-inside-html-block",
    ),
    pytest.param(
        "- a\n\n  ```\n\n![](x.png)\n",
        [(5, 1, "![](x.png)", "x.png", MISSING)],
        id="list-fence-ends-with-list",
    ),
    pytest.param(
        "> ```\n> code\n\n```\n\n![](x.png)\n",
        [],
        id="quoted-fence-then-top-level-fence",
    ),
    pytest.param(
        "text\n\n[r]: r.png\n\nmore\n\n![][r]\n",
        [(7, 1, "![][r]", "r.png", MISSING)],
        id="definition-in-other-chunk",
    ),
]


# Python-Markdown blocks of MkDocs sites: their indented bodies are Markdown, not code.
MKDOCS_CASES = [
    pytest.param(
        "!!! note\n    Text.\n\n    ![](a.png)\n",
        [(4, 5, "![](a.png)", "a.png", MISSING)],
        id="admonition-body",
    ),
    pytest.param(
        '??? tip "Title"\n\n    ![](b.png)',
        [(3, 5, "![](b.png)", "b.png", MISSING)],
        id="details-body",
    ),
    pytest.param(
        "???+ tip\n\n    ![b](b.png)",
        [(3, 5, "![b](b.png)", "b.png", None)],
        id="open-details-body",
    ),
    pytest.param(
        '=== "One"\n\n    ![](t.png)\n\n=== "Two"\n\n    ```md\n    ![](code.png)\n    ```\n',
        [(3, 5, "![](t.png)", "t.png", MISSING)],
        id="content-tabs",
    ),
    pytest.param(
        "!!! note\n\n    !!! tip\n\n        ![](n.png)\n",
        [(5, 9, "![](n.png)", "n.png", MISSING)],
        id="nested-admonitions",
    ),
    pytest.param(
        "- item\n\n    !!! note\n\n        ![](l.png)\n",
        [(5, 9, "![](l.png)", "l.png", MISSING)],
        id="admonition-in-list",
    ),
    pytest.param(
        "!!! note\n\n    ![](a.png)\n\nAfter.\n\n    ![](code.png)\n",
        [(3, 5, "![](a.png)", "a.png", MISSING)],
        id="body-ends-at-outdent",
    ),
    pytest.param(
        "    !!! note\n\n        ![](code.png)\n", [], id="admonition-in-indented-code"
    ),
    pytest.param(
        "```\n!!! note\n\n    ![](code.png)\n```\n", [], id="admonition-in-fence"
    ),
    pytest.param("=== Results ===\n\n    ![](code.png)\n", [], id="not-a-tab"),
    pytest.param(
        '!!! warning "Careful"\n    | a |\n    |---|\n    | ![](t.png) |\n',
        [(4, 7, "![](t.png)", "t.png", MISSING)],
        id="table-in-admonition",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MKDOCS_CASES)
def test_mkdocs_blocks(
    text: str, expected: list[tuple[int, int, str, str, str | None]]
) -> None:
    assert describe(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [case for case in MKDOCS_CASES if not case.values[0].startswith(("===", "???"))],
)
def test_python_markdown_renders_the_same_images(
    text: str, expected: list[tuple[int, int, str, str, str | None]]
) -> None:
    """What MkDocs' own Markdown renders (admonition and table extensions) has the same images.

    Details (`???`) and tabs (`===`) come from pymdown-extensions, which is not installed here.
    """
    import markdown

    rendered = markdown.markdown(
        text, extensions=["admonition", "tables", "fenced_code"]
    )
    html_images = [(ref.src, ref.alt) for ref in find_images_in_html(rendered)]
    assert [(ref.src, ref.alt or "") for ref in find_images(text)] == html_images


@pytest.mark.parametrize(("text", "expected"), CHUNK_CASES)
def test_chunks_parse_as_the_whole_document(
    text: str, expected: list[tuple[int, int, str, str, str | None]]
) -> None:
    assert describe(text) == expected
    _check_positions(text)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_markdown_images(
    text: str, expected: list[tuple[int, int, str, str, str | None]]
) -> None:
    assert describe(text) == expected


HTML_CASES = [
    pytest.param(
        '<img src="a.png">',
        [(1, 1, '<img src="a.png">', "a.png", "ALT001")],
        id="html-block-img",
    ),
    pytest.param(
        '<img src="a.png" alt="">',
        [(1, 1, '<img src="a.png" alt="">', "a.png", None)],
        id="decorative",
    ),
    pytest.param(
        'Text <img src="a.png"> more',
        [(1, 6, '<img src="a.png">', "a.png", "ALT001")],
        id="inline-img",
    ),
    pytest.param(
        "Text <img\n  src='b.png'\n  width=3> more",
        [(1, 6, "<img\n  src='b.png'\n  width=3>", "b.png", "ALT001")],
        id="inline-img-over-lines",
    ),
    pytest.param(
        "> Text <img\n> src='b.png'>",
        [(1, 8, "<img\n> src='b.png'>", "b.png", "ALT001")],
        id="inline-img-over-quoted-lines",
    ),
    pytest.param(
        "> <div>\n> <img src=q.png>\n> </div>",
        [(2, 3, "<img src=q.png>", "q.png", "ALT001")],
        id="html-block-in-quote",
    ),
    pytest.param(
        '- x <span aria-hidden="true"><img src=h.png></span> <img src=v.png>',
        [(1, 53, "<img src=v.png>", "v.png", "ALT001")],
        id="inline-hidden-ancestor",
    ),
    pytest.param(
        "| a | b |\n|---|---|\n| <img src=a.png> | <img src=a.png> |",
        [
            (3, 3, "<img src=a.png>", "a.png", "ALT001"),
            (3, 21, "<img src=a.png>", "a.png", "ALT001"),
        ],
        id="html-in-equal-cells",
    ),
    pytest.param(
        '<input type="image" src="go.png">',
        [(1, 1, '<input type="image" src="go.png">', "go.png", "ALT003")],
        id="input-image",
    ),
    pytest.param("`<img src=a.png>`", [], id="html-in-code-span"),
    pytest.param("    <img src=a.png>", [], id="html-in-indented-code"),
    pytest.param("```html\n<img src=a.png>\n```", [], id="html-in-fence"),
    pytest.param("<!-- <img src=a.png> -->", [], id="html-in-comment"),
    pytest.param("\\<img src=a.png>", [], id="escaped-lt"),
    pytest.param(
        'a ![](m.png) <img src="h.png">',
        [
            (1, 3, "![](m.png)", "m.png", MISSING),
            (1, 14, '<img src="h.png">', "h.png", "ALT001"),
        ],
        id="markdown-and-html",
    ),
]


@pytest.mark.parametrize(("text", "expected"), HTML_CASES)
def test_raw_html_images(
    text: str, expected: list[tuple[int, int, str, str, str | None]]
) -> None:
    assert describe(text) == expected


MYST = "ALT201"
MYST_CASES = [
    pytest.param(
        "```{image} a.png\n```",
        [(1, 1, "```{image} a.png", "a.png", MYST)],
        id="myst-image",
    ),
    pytest.param(
        "```{image} a.png\n:alt: A\n:width: 3\n```",
        [(1, 1, "```{image} a.png\n:alt: A\n:width: 3", "a.png", None)],
        id="myst-image-with-alt",
    ),
    pytest.param(
        "```{figure} f.png\n:width: 3\n\nCaption\n```",
        [(1, 1, "```{figure} f.png\n:width: 3", "f.png", MYST)],
        id="myst-figure",
    ),
    pytest.param(
        "~~~{image} t.png\n~~~",
        [(1, 1, "~~~{image} t.png", "t.png", MYST)],
        id="myst-tilde-fence",
    ),
    pytest.param(
        "- ```{image} l.png\n  :width: 3\n  ```",
        [(1, 3, "```{image} l.png\n  :width: 3", "l.png", MYST)],
        id="myst-in-list",
    ),
    pytest.param(
        "> ```{image} q.png\n> ```",
        [(1, 3, "```{image} q.png", "q.png", MYST)],
        id="myst-in-quote",
    ),
    pytest.param(
        "```{figure} y.png\n---\nalt: Y\n---\n```",
        [(1, 1, "```{figure} y.png\n---\nalt: Y\n---", "y.png", None)],
        id="myst-yaml-options",
    ),
    pytest.param(
        "```{image} a.png\r\n```\r\n",
        [(1, 1, "```{image} a.png", "a.png", MYST)],
        id="myst-crlf",
    ),
    pytest.param(
        "```{note}\n![](n.png)\n```",
        [(2, 1, "![](n.png)", "n.png", MISSING)],
        id="markdown-in-myst-note",
    ),
    pytest.param(
        "- ````{note}\n  ```{image} i.png\n  ```\n  ````",
        [(2, 3, "```{image} i.png", "i.png", MYST)],
        id="myst-image-in-myst-note-in-list",
    ),
    pytest.param(
        "> ```{eval-rst}\n> .. figure:: r.png\n>\n>    Caption\n> ```",
        [(2, 3, ".. figure:: r.png", "r.png", MYST)],
        id="rst-in-eval-rst",
    ),
    pytest.param("```{code-block} md\n![](n.png)\n```", [], id="myst-code-block"),
    pytest.param("```{image}\n```", [], id="myst-image-without-path"),
    pytest.param("````\n```{image} a.png\n```\n````", [], id="myst-inside-code"),
]


@pytest.mark.parametrize(("text", "expected"), MYST_CASES)
def test_myst_directives(
    text: str, expected: list[tuple[int, int, str, str, str | None]]
) -> None:
    assert describe(text) == expected


def _myst_parser_images(text: str) -> list[tuple[str, str | None]]:
    """(uri, alt) of every image node myst-parser builds."""
    import docutils.core
    import docutils.nodes
    from myst_parser.parsers.docutils_ import Parser

    overrides = {"report_level": 5, "halt_level": 5, "warning_stream": False}
    document = docutils.core.publish_doctree(
        text, parser=Parser(), settings_overrides=overrides
    )
    return [
        (node["uri"], node.get("alt"))
        for node in document.findall(docutils.nodes.image)
    ]


@pytest.mark.parametrize(("text", "expected"), MYST_CASES)
def test_myst_parser_agrees_and_takes_the_inserted_alt(
    text: str, expected: list[tuple[int, int, str, str, str | None]]
) -> None:
    refs = find_images(text)
    assert [(ref.src, ref.alt) for ref in refs] == _myst_parser_images(text)
    patched = text
    for ref in reversed(refs):
        if ref.rule is not None and ref.slot is not None:
            new = (
                "New"
                if ref.slot.form == "markdown"
                else f"{ref.slot.newline}{ref.slot.indent}:alt: New"
            )
            patched = patched[: ref.slot.start] + new + patched[ref.slot.end :]
    assert _myst_parser_images(patched) == [
        (ref.src, "New" if ref.rule else ref.alt) for ref in refs
    ]


def test_alt_slot_and_caption() -> None:
    text = '> ![a cat](cat.png "On the mat")\n\n![  ](dog.png)'
    cat, dog = find_images(text)
    assert (cat.alt, cat.caption, cat.kind) == ("a cat", "On the mat", "markdown-image")
    assert cat.slot is not None and text[cat.slot.start : cat.slot.end] == "a cat"
    assert cat.slot.form == "markdown"
    assert (dog.alt, dog.rule, dog.caption) == ("  ", MISSING, None)
    assert dog.slot is not None and text[dog.slot.start : dog.slot.end] == "  "


def test_svg_title_slot_stays_after_the_open_tag() -> None:
    text = 'a <svg role="img">*b*<path/></svg> c'
    (ref,) = find_images(text)
    assert (ref.rule, ref.kind) == ("ALT005", "svg")
    assert ref.slot is not None and ref.slot.start == ref.slot.end == text.index("*b*")


def test_reference_image_resolves_definition() -> None:
    text = "![][a]\n\n[a]: <dir/my%20file.png> 'T'\n"
    (ref,) = find_images(text)
    assert (ref.src, ref.kind, ref.caption) == (
        "dir/my file.png",
        "markdown-reference",
        "T",
    )


def test_filling_the_slot_gives_an_image_with_that_alt() -> None:
    text = "| a |\n|---|\n| x ![](p.png) |\n\n> ![](q.png)\n"
    patched = text
    for ref in reversed(find_images(text)):
        assert ref.slot is not None
        patched = patched[: ref.slot.start] + "ALT" + patched[ref.slot.end :]
    assert [(ref.alt, ref.rule) for ref in find_images(patched)] == [
        ("ALT", None),
        ("ALT", None),
    ]


@pytest.mark.parametrize("name", sorted(path.stem for path in DATA.glob("*.md")))
def test_fixture_documents(name: str) -> None:
    text = (DATA / f"{name}.md").read_bytes().decode("utf-8")
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    assert [list(item) for item in describe(text)] == expected


def test_myst_fixture_agrees_with_myst_parser() -> None:
    text = (DATA / "myst.md").read_bytes().decode("utf-8")
    assert [(ref.src, ref.alt) for ref in find_images(text)] == _myst_parser_images(
        text
    )


# --- properties -------------------------------------------------------------

_PIECES = [
    "![](a.png)",
    "![alt](b.png)",
    "![ ](c.png 'T')",
    "![][r]",
    "[r]: r.png",
    "[![](l.png)](u)",
    "`![](code)`",
    "\\![](esc)",
    "<img src=h.png>",
    "<img\nsrc=h2.png>",
    '<img alt="" src=d.png>',
    "<pre>",
    "</pre>",
    "<script>",
    "````",
    "```a`",
    "[r]: x.png\n",
    "<div>\n",
    "> ",
    "- ",
    "1. ",
    "    ",
    "\t",
    "#  ",
    "| ",
    " | ",
    "|---|---|",
    "```",
    "~~~",
    "---",
    "+++",
    "<!--",
    "-->",
    "<div>",
    "</div>",
    "\n",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "text",
    "*",
    "_",
    "[",
    "]",
    "(",
    ")",
    "!",
    "\\",
    "<",
    ">",
    "&amp;",
    "\0",
    "é",
]


def _rendered_descriptions(text: str) -> list[str]:
    """The description of every image markdown-it renders (flat: images inside links too)."""
    md = MarkdownIt("commonmark").enable("table")
    return [
        child.content
        for token in md.parse(text)
        for child in token.children or []
        if child.type == "image"
    ]


def _check_positions(text: str) -> None:
    refs = find_images(text)
    md = MarkdownIt("commonmark").enable("table")
    # markdown-it knows no front matter, and sees MyST directive and MkDocs admonition bodies as code
    plain = (
        "```{" not in text and "~~~{" not in text and not _MKDOCS_MARKER.search(text)
    )
    if not text.startswith(("---", "+++")) and plain:
        assert [
            ref.alt for ref in refs if ref.kind.startswith("markdown")
        ] == _rendered_descriptions(text)
    for ref in refs:
        assert_consistent(text, ref)
        if ref.kind.startswith("markdown"):
            assert ref.slot is not None
            if ref.kind == "markdown-image" and "\n" not in text[ref.start : ref.end]:
                # the image text alone parses as that same image
                (paragraph,) = [
                    t for t in md.parse(text[ref.start : ref.end]) if t.type == "inline"
                ]
                (image,) = [c for c in paragraph.children or [] if c.type == "image"]
                assert image.content == ref.alt
    assert [ref.start for ref in refs] == sorted(ref.start for ref in refs)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_generated_documents_point_at_their_images(pieces: list[str]) -> None:
    _check_positions("".join(pieces))


_BLOCKS = [
    "Some text.",
    "![](img.png)",
    "A ![pic](p.png) in text.",
    "![][r]",
    "[r]: ref.png",
    "```",
    "```html",
    "````",
    "~~~",
    "<!--",
    "-->",
    "<div>",
    "</div>",
    "<pre>",
    "</pre>",
    "<img src=h.png>",
    "- item",
    "- ```",
    "  ![](in-list.png)",
    "> quote ![](q.png)",
    "> ```",
    "| a |\n|---|\n| ![](t.png) |",
    "# Title",
    "    ![](indented.png)",
    "text <span>",
    "!!! note",
    "    ![](in-admonition.png)",
    '=== "Tab"',
]
_SEPARATORS = st.sampled_from(["\n", "\n\n", "\n\n\n"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_BLOCKS), _SEPARATORS), max_size=25))
def test_generated_block_sequences_parse_as_a_whole(
    blocks: list[tuple[str, str]],
) -> None:
    """Documents of whole blocks, where blanking chunks out matters most."""
    _check_positions("".join(block + separator for block, separator in blocks))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("![]()<>`\\ \t\n\r|-*>#imgsrc=\"'a.png"), max_size=80
    )
)
def test_random_text_never_crashes(text: str) -> None:
    _check_positions(text)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_fixtures_never_crash(data: st.DataObject) -> None:
    paths = sorted(DATA.glob("*.md"))
    text = data.draw(st.sampled_from(paths)).read_bytes().decode("utf-8")
    for _ in range(data.draw(st.integers(1, 6))):
        cut = data.draw(st.integers(0, len(text)))
        text = (
            text[:cut]
            + data.draw(st.sampled_from(_PIECES))
            + text[cut + data.draw(st.integers(0, 3)) :]
        )
    _check_positions(text)

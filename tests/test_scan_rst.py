"""The reStructuredText scanner, checked against docutils itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docutils.frontend
import docutils.nodes
import docutils.utils
import pytest
from docutils.parsers.rst import Parser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alttext.scan.base import ImageRef
from alttext.scan.rst import find_images
from alttext.textpos import LineIndex

DATA = Path(__file__).parent / "data" / "rst"
MISSING = "ALT201"


def _docutils_settings() -> Any:
    settings = docutils.frontend.get_default_settings(Parser)
    settings.report_level = settings.halt_level = 5
    settings.warning_stream = False
    settings.file_insertion_enabled = settings.raw_enabled = False
    return settings


def docutils_images(text: str) -> list[tuple[str, str | None]]:
    """(uri, alt or None) of every image node docutils builds, in document order.

    docutils gives a substitution image without `:alt:` its substitution name
    as alt; that name is not a description (and tests never use it as an alt).
    """
    document = docutils.utils.new_document("<test>", _docutils_settings())
    Parser().parse(
        text, document
    )  # no transforms: substitution references stay unresolved
    images = []
    for node in document.findall(docutils.nodes.image):
        alt = node.get("alt")
        parent = node.parent
        if (
            isinstance(parent, docutils.nodes.substitution_definition)
            and alt in parent["names"]
        ):
            alt = None
        images.append((node["uri"], alt))
    return images


def describe(text: str) -> list[tuple[int, int, str, str, str | None, str | None]]:
    """(line, column, directive text, src, alt, rule) of every image."""
    index = LineIndex(text)
    found = []
    for ref in find_images(text):
        assert_consistent(text, ref)
        line, column = index.position(ref.start)
        found.append(
            (line, column, text[ref.start : ref.end], ref.src, ref.alt, ref.rule)
        )
    return found


def assert_consistent(text: str, ref: ImageRef) -> None:
    assert text[ref.start : ref.start + 3] in (".. ", "..\t")
    assert ref.slot is not None and ref.slot.form == "rst-option"
    assert ref.slot.start == ref.slot.end == ref.end
    assert ref.end == len(text) or text[ref.end] in "\r\n"
    assert (ref.rule == MISSING) == (ref.alt is None)


def with_alt(text: str, ref: ImageRef, alt: str) -> str:
    """What a writer does: insert the option line at the slot."""
    assert ref.slot is not None
    line = f"{ref.slot.newline}{ref.slot.indent}:alt: {alt}"
    return text[: ref.slot.start] + line + text[ref.slot.end :]


CASES = [
    pytest.param(
        ".. image:: a.png",
        [(1, 1, ".. image:: a.png", "a.png", None, MISSING)],
        id="image",
    ),
    pytest.param(
        ".. image:: a.png\n",
        [(1, 1, ".. image:: a.png", "a.png", None, MISSING)],
        id="image-newline",
    ),
    pytest.param(
        ".. image:: a.png\n   :alt: A cat\n",
        [(1, 1, ".. image:: a.png\n   :alt: A cat", "a.png", "A cat", None)],
        id="image-with-alt",
    ),
    pytest.param(
        ".. image:: a.png\n   :alt:\n",
        [(1, 1, ".. image:: a.png\n   :alt:", "a.png", "", None)],
        id="empty-alt-is-decorative",
    ),
    pytest.param(
        ".. image:: a.png\n   :width: 20\n   :align: left\n",
        [
            (
                1,
                1,
                ".. image:: a.png\n   :width: 20\n   :align: left",
                "a.png",
                None,
                MISSING,
            )
        ],
        id="options-without-alt",
    ),
    pytest.param(
        ".. image:: a.png\n   :ALT: Shout\n",
        [(1, 1, ".. image:: a.png\n   :ALT: Shout", "a.png", "Shout", None)],
        id="option-name-case",
    ),
    pytest.param(
        ".. image:: a.png\n   :alt: A long\n      description\n   :width: 3\n",
        [
            (
                1,
                1,
                ".. image:: a.png\n   :alt: A long\n      description\n   :width: 3",
                "a.png",
                "A long\ndescription",
                None,
            )
        ],
        id="alt-over-lines",
    ),
    pytest.param(
        ".. image:: a.png\n        :alt: Deep\n",
        [(1, 1, ".. image:: a.png\n        :alt: Deep", "a.png", "Deep", None)],
        id="deep-option-indent",
    ),
    pytest.param(
        ".. IMAGE:: a.png",
        [(1, 1, ".. IMAGE:: a.png", "a.png", None, MISSING)],
        id="name-case",
    ),
    pytest.param(
        ".. image :: a.png",
        [(1, 1, ".. image :: a.png", "a.png", None, MISSING)],
        id="space-before-colons",
    ),
    pytest.param(
        ".. image:: a/very/long/\n   path.png\n",
        [
            (
                1,
                1,
                ".. image:: a/very/long/\n   path.png",
                "a/very/long/path.png",
                None,
                MISSING,
            )
        ],
        id="uri-over-lines",
    ),
    pytest.param(
        ".. image::\n   a.png\n   :alt: A\n",
        [(1, 1, ".. image::\n   a.png\n   :alt: A", "a.png", "A", None)],
        id="uri-on-next-line",
    ),
    pytest.param(
        ".. figure:: f.png\n\n   The caption.\n",
        [(1, 1, ".. figure:: f.png", "f.png", None, MISSING)],
        id="figure",
    ),
    pytest.param(
        ".. figure:: f.png\n   :alt: F\n\n   Cap.\n",
        [(1, 1, ".. figure:: f.png\n   :alt: F", "f.png", "F", None)],
        id="figure-with-alt",
    ),
    pytest.param(
        ".. |logo| image:: logo.png\n",
        [(1, 1, ".. |logo| image:: logo.png", "logo.png", None, MISSING)],
        id="substitution",
    ),
    pytest.param(
        ".. |my logo| image:: logo.png\n   :alt: Logo\n",
        [
            (
                1,
                1,
                ".. |my logo| image:: logo.png\n   :alt: Logo",
                "logo.png",
                "Logo",
                None,
            )
        ],
        id="substitution-with-alt",
    ),
    pytest.param(".. |date| date::\n", [], id="other-substitution"),
    pytest.param(
        ".. image:: a.png\n.. image:: b.png\n",
        [
            (1, 1, ".. image:: a.png", "a.png", None, MISSING),
            (2, 1, ".. image:: b.png", "b.png", None, MISSING),
        ],
        id="consecutive",
    ),
    pytest.param(
        ".. note::\n\n   .. image:: n.png\n",
        [(3, 4, ".. image:: n.png", "n.png", None, MISSING)],
        id="in-note",
    ),
    pytest.param(
        ".. admonition:: Look\n\n   .. figure:: n.png\n      :alt: N\n",
        [(3, 4, ".. figure:: n.png\n      :alt: N", "n.png", "N", None)],
        id="in-admonition",
    ),
    pytest.param(
        "- item\n\n  .. image:: l.png\n",
        [(3, 3, ".. image:: l.png", "l.png", None, MISSING)],
        id="in-list-item",
    ),
    pytest.param(
        "Quote:\n\n    .. image:: q.png\n",
        [(3, 5, ".. image:: q.png", "q.png", None, MISSING)],
        id="in-block-quote",
    ),
    pytest.param(
        "..\n\n   .. image:: q.png\n",
        [(3, 4, ".. image:: q.png", "q.png", None, MISSING)],
        id="block-quote-after-empty-comment",
    ),
    pytest.param(
        ".. [1] Footnote.\n\n   .. image:: f.png\n",
        [(3, 4, ".. image:: f.png", "f.png", None, MISSING)],
        id="in-footnote",
    ),
    pytest.param(
        "\t.. image:: t.png\r\n\t\t:width: 3\r\n",
        [
            (1, 2, ".. image:: t.png\r\n\t\t:width: 3", "t.png", None, MISSING),
        ],
        id="tabs-crlf",
    ),
    pytest.param(
        "Title\r=====\r\r.. image:: c.png\r   :alt: C\r",
        [
            (4, 1, ".. image:: c.png\r   :alt: C", "c.png", "C", None),
        ],
        id="cr",
    ),
    pytest.param(".. comment\n   .. image:: no.png\n", [], id="comment-body"),
    pytest.param(
        ".. comment\n\n   .. image:: no.png\n", [], id="comment-body-after-blank"
    ),
    pytest.param("..\n   .. image:: no.png\n", [], id="empty-comment-with-body"),
    pytest.param(".. .. image:: no.png\n", [], id="commented-out-directive"),
    pytest.param(".. image::no.png\n", [], id="no-space-after-colons"),
    pytest.param("Example::\n\n   .. image:: no.png\n", [], id="literal-block"),
    pytest.param(
        "Example: ::\n\n   .. image:: no.png\n", [], id="literal-block-spaced-marker"
    ),
    pytest.param("::\n\n   .. image:: no.png\n", [], id="expanded-literal-marker"),
    pytest.param("Example::\n\n.. image:: no.png\n", [], id="quoted-literal-block"),
    pytest.param("- item::\n\n  .. image:: no.png\n", [], id="quoted-literal-in-list"),
    pytest.param("- item::\n\n    .. image:: no.png\n", [], id="literal-in-list"),
    pytest.param(".. code-block:: rst\n\n   .. image:: no.png\n", [], id="code-block"),
    pytest.param(".. code:: rst\n\n   .. image:: no.png\n", [], id="code"),
    pytest.param(".. sourcecode:: rst\n\n   .. image:: no.png\n", [], id="sourcecode"),
    pytest.param(
        ".. parsed-literal::\n\n   .. image:: no.png\n", [], id="parsed-literal"
    ),
    pytest.param(".. raw:: html\n\n   .. image:: no.png\n", [], id="raw"),
    pytest.param(
        ".. code-block:: rst\n\n   .. image:: no.png\n\n.. image:: yes.png\n",
        [(5, 1, ".. image:: yes.png", "yes.png", None, MISSING)],
        id="after-code-block",
    ),
    pytest.param("Some text about image:: things.\n", [], id="not-a-directive"),
    pytest.param(
        "* - .. image:: lt.png\n       :alt: LT\n",
        [(1, 5, ".. image:: lt.png\n       :alt: LT", "lt.png", "LT", None)],
        id="after-nested-list-markers",
    ),
    pytest.param(
        ".. list-table::\n\n   * - Column\n     - .. image:: a.png\n   * - .. image:: b.png\n          :width: 3\n     - text\n",
        [
            (4, 8, ".. image:: a.png", "a.png", None, MISSING),
            (5, 8, ".. image:: b.png\n          :width: 3", "b.png", None, MISSING),
        ],
        id="list-table",
    ),
    pytest.param(
        "(a) .. image:: p.png\n",
        [(1, 5, ".. image:: p.png", "p.png", None, MISSING)],
        id="after-enumerator",
    ),
    pytest.param(
        "Term\n  Definition.\n\n  .. image:: d.png\n",
        [(4, 3, ".. image:: d.png", "d.png", None, MISSING)],
        id="in-definition",
    ),
    pytest.param("Para\n.. image:: no.png\n", [], id="paragraph-continuation"),
    pytest.param("- item\n  .. image:: no.png\n", [], id="item-paragraph-continuation"),
    pytest.param("text\n- .. image:: no.png\n", [], id="marker-inside-paragraph"),
    pytest.param(
        ".. note:: Title\n   .. image:: no.png\n",
        [],
        id="directive-first-line-text-continues",
    ),
    pytest.param(
        ".. note::\n   .. image:: n.png\n",
        [(2, 4, ".. image:: n.png", "n.png", None, MISSING)],
        id="directive-content-without-blank",
    ),
    pytest.param(
        ".. _target: https://e.org\n   .. image:: no.png\n", [], id="target-body"
    ),
    pytest.param(
        "Title\n::::::\n\n  .. image:: q.png\n",
        [(4, 3, ".. image:: q.png", "q.png", None, MISSING)],
        id="colon-adornment",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rst_images(
    text: str, expected: list[tuple[int, int, str, str, str | None, str | None]]
) -> None:
    assert describe(text) == expected


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_docutils_agrees(
    text: str, expected: list[tuple[int, int, str, str, str | None, str | None]]
) -> None:
    if any(name in text for name in ("code-block", "sourcecode")):
        text = text.replace("code-block", "code").replace("sourcecode", "code")
    assert [(ref.src, ref.alt) for ref in find_images(text)] == docutils_images(text)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_inserting_at_the_slot_gives_docutils_the_alt(
    text: str, expected: list[tuple[int, int, str, str, str | None, str | None]]
) -> None:
    refs = find_images(text)
    patched = text
    for ref in reversed(refs):
        if ref.rule is not None:
            patched = with_alt(patched, ref, "Added text")
    assert docutils_images(patched) == [
        (ref.src, "Added text" if ref.rule else ref.alt) for ref in refs
    ]


def test_slot_details() -> None:
    text = ".. figure:: f.png\r\n\r\n    A caption\r\n    in two lines.\r\n\r\n    Legend.\r\n"
    (ref,) = find_images(text)
    assert ref.caption == "A caption in two lines."
    assert ref.slot is not None
    assert (ref.slot.indent, ref.slot.newline, ref.slot.start) == (
        "    ",
        "\r\n",
        text.index("\r\n"),
    )


def test_slot_indent_defaults_to_three_spaces_past_the_directive() -> None:
    text = "  .. image:: a.png"
    (ref,) = find_images(text)
    assert ref.slot is not None and (ref.slot.indent, ref.slot.newline) == (
        "     ",
        "\n",
    )


def test_figure_caption_absent_for_comment() -> None:
    (ref,) = find_images(".. figure:: f.png\n\n   ..\n\n   Legend only.\n")
    assert ref.caption is None


@pytest.mark.parametrize("name", sorted(path.stem for path in DATA.glob("*.rst")))
def test_fixture_documents(name: str) -> None:
    text = (DATA / f"{name}.rst").read_bytes().decode("utf-8")
    expected = json.loads((DATA / f"{name}.json").read_bytes().decode("utf-8"))
    assert [list(item) for item in describe(text)] == expected
    assert [(ref.src, ref.alt) for ref in find_images(text)] == docutils_images(text)


# --- properties -------------------------------------------------------------

_indents = st.sampled_from(["   ", "    ", "  ", "\t", "      "])
_alts = st.sampled_from([None, "", "A cat", "Two\n{i}   lines"])
_uris = st.sampled_from(["a.png", "dir/b.svg", "https://e.org/c.jpg"])


@st.composite
def _image_block(draw: st.DrawFn) -> str:
    head = draw(
        st.sampled_from(
            [".. image::", ".. figure::", ".. |s{n}| image::", ".. Image ::"]
        )
    )
    head = head.replace("{n}", str(draw(st.integers(0, 999))))
    indent = draw(_indents)
    lines = [f"{head} {draw(_uris)}"]
    options = draw(
        st.lists(
            st.sampled_from([":width: 20", ":class: wide", ":alt:"]),
            max_size=3,
            unique=True,
        )
    )
    for option in options:
        if option == ":alt:":
            alt = draw(_alts)
            if alt is None:
                continue
            option = f":alt: {alt.format(i=indent)}".rstrip()
        lines.append(indent + option)
    if head.startswith(".. figure") and draw(st.booleans()):
        lines += ["", indent + "A caption."]
    return "\n".join(lines)


def _nest(block: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in block.split("\n"))


@st.composite
def _block(draw: st.DrawFn) -> str:
    image = draw(_image_block())
    wrapper = draw(
        st.sampled_from(
            [
                "plain",
                "note",
                "comment",
                "literal",
                "quoted",
                "code",
                "list",
                "quote",
                "empty-comment",
                "text",
                "markers",
                "continuation",
                "note-title",
            ]
        )
    )
    if wrapper == "note":
        return ".. note::\n\n" + _nest(image, "   ")
    if wrapper == "comment":
        return ".. a comment\n" + _nest(image, "   ")
    if wrapper == "literal":
        return "Example::\n\n" + _nest(image, "    ")
    if wrapper == "quoted":
        return "Example::\n\n" + image.split("\n")[0]
    if wrapper == "code":
        return ".. code:: rst\n\n" + _nest(image, "   ")
    if wrapper == "list":
        return "- Item text\n\n" + _nest(image, "  ")
    if wrapper == "quote":
        return "Quoted:\n\n" + _nest(image, "    ")
    if wrapper == "empty-comment":
        return "..\n\n" + _nest(image, "   ")
    if wrapper == "text":
        return "Title\n=====\n\nA paragraph with *emphasis*."
    if wrapper == "markers":  # list-table style: the directive after `* - `
        first, *rest = image.split("\n")
        return "* - " + first + "".join("\n" + _nest(line, "    ") for line in rest)
    if wrapper == "continuation":
        return "A paragraph line\n" + image
    if wrapper == "note-title":
        return ".. note:: A title\n" + _nest(image, "   ")
    return image


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_block(), min_size=1, max_size=6), st.sampled_from(["\n", "\r\n", "\r"])
)
def test_docutils_agrees_on_generated_documents(
    blocks: list[str], newline: str
) -> None:
    unique = [
        block.replace("|s", f"|b{number}s") for number, block in enumerate(blocks)
    ]
    text = "\n\n".join(unique).replace("\n", newline) + newline
    refs = find_images(text)
    for ref in refs:
        assert_consistent(text, ref)
    assert [(ref.src, ref.alt) for ref in refs] == docutils_images(text)
    patched = text
    for ref in reversed(refs):
        if ref.rule is not None:
            patched = with_alt(patched, ref, "Added")
    assert docutils_images(patched) == [
        (ref.src, "Added" if ref.rule else ref.alt) for ref in refs
    ]


_PIECES = [
    ".. image:: a.png",
    ".. figure:: b.png",
    ".. |x| image:: c.png",
    "   :alt: A",
    "   :alt:",
    "   :width: 3",
    "\t",
    "   ",
    "..",
    ".. ",
    "::",
    "Example::",
    ".. code:: rst",
    ".. note::",
    "- ",
    "\n",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "text",
    "|",
    ":",
    "\\",
    "\0",
    "é",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_random_documents_never_crash(pieces: list[str]) -> None:
    text = "".join(pieces)
    for ref in find_images(text):
        assert_consistent(text, ref)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_fixtures_never_crash(data: st.DataObject) -> None:
    text = (
        data.draw(st.sampled_from(sorted(DATA.glob("*.rst"))))
        .read_bytes()
        .decode("utf-8")
    )
    for _ in range(data.draw(st.integers(1, 6))):
        cut = data.draw(st.integers(0, len(text)))
        text = (
            text[:cut]
            + data.draw(st.sampled_from(_PIECES))
            + text[cut + data.draw(st.integers(0, 3)) :]
        )
    for ref in find_images(text):
        assert_consistent(text, ref)


GRID_TABLE = """\
Intro.

+------------------------+------------+
| .. image:: a.png       | Text       |
|                        |            |
+========================+============+
| .. image:: b.png       | Plain      |
|    :alt: A red square  |            |
+------------------------+------------+
| A cell spanning two columns.        |
|                                     |
| .. figure:: c.png                   |
+-------------------------------------+

.. image:: d.png
"""


def test_images_in_grid_table_cells_are_found_where_they_are() -> None:
    refs = find_images(GRID_TABLE)
    assert [(ref.src, ref.alt) for ref in refs] == docutils_images(GRID_TABLE)
    index = LineIndex(GRID_TABLE)
    assert [(index.position(ref.start), ref.rule) for ref in refs] == [
        ((4, 3), MISSING), ((7, 3), None), ((12, 3), MISSING), ((15, 1), MISSING)
    ]
    assert all(GRID_TABLE[ref.start : ref.start + 3] == ".. " for ref in refs)
    # An :alt: line would not fit a cell's width: found, reported, but given no slot.
    assert [ref.slot is None for ref in refs] == [True, True, True, False]

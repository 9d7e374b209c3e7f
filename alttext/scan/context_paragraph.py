"""The prose around an image: the paragraph it stands in, else the one just before it.

A prompted model writes better alt text when it reads what the page says about the image
("The chart below shows downloads per month"). The source is split into blocks (blank lines
in Markdown and reStructuredText; block elements in HTML), markup is taken out of a block by
syntax, and the first block with a sentence's worth of words is used: the image's own block,
else the nearest before it (up to the previous heading); only when no heading comes before
the image, the nearest after it.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence

from alttext.context import Sourced, SourcedAt

MIN_WORDS = 4  # fewer words is a label or a stray line, not the text around the image
MAX_CHARS = 600  # the prompt cuts further; the context itself stays small

_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_HTML_BLOCK = re.compile(r"<(?:/?(?:p|div|figure|figcaption|section|article|main|header|footer|li|ul|ol|table|tr|td|th"
                         r"|blockquote|pre|h[1-6])|br)\b[^>]*>", re.IGNORECASE)
_HTML_HEADING = re.compile(r"<h[1-6]\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_HIDDEN_HTML = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)

_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])?")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s|^.*\n\s{0,3}(?:=+|-+)\s*$", re.MULTILINE)
_MARKDOWN_MARKS = re.compile(r"[*_`~]+|^\s{0,3}(?:>\s?|[-+*]\s|\d+[.)]\s)", re.MULTILINE)

_RST_DIRECTIVE = re.compile(r"^\s*\.\. .*(?:\n(?:[ \t]+.*|[ \t]*))*", re.MULTILINE)
_RST_ROLE = re.compile(r":[\w:+-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_RST_LINK = re.compile(r"`([^`<]*?)(?:\s*<[^>]*>)?`_{1,2}")
_RST_UNDERLINE = re.compile(r"^([=\-`:'\"~^_*+#<>])\1{2,}\s*$", re.MULTILINE)
_RST_MARKS = re.compile(r"\*\*|\*|``|\|")


def paragraphs_near(text: str, syntax: str, offsets: Sequence[int], at: SourcedAt) -> list[Sourced | None]:
    """For each image start in `offsets`, the prose nearest it, with where its block starts.

    The document is split into blocks once, however many images it holds."""
    blocks = _blocks(text, syntax)
    starts = [start for start, _ in blocks]
    return [_paragraph(text, syntax, blocks, bisect.bisect_right(starts, offset) - 1, at) for offset in offsets]


def _paragraph(text: str, syntax: str, blocks: list[tuple[int, int]], here: int, at: SourcedAt) -> Sourced | None:
    if here < 0:
        return None
    order = [here, *range(here - 1, -1, -1), *range(here + 1, len(blocks))]
    for index in order:
        start, end = blocks[index]
        raw = text[start:end]
        if index < here and _is_heading(raw, syntax):
            break  # the text before a heading belongs to another section
        prose = _prose(raw, syntax)
        if len(prose.split()) >= MIN_WORDS:
            cut = prose if len(prose) <= MAX_CHARS else prose[: MAX_CHARS - 1].rstrip() + "\u2026"
            return at(cut, start + len(raw) - len(raw.lstrip()))
    return None


def _blocks(text: str, syntax: str) -> list[tuple[int, int]]:
    """(start, end) of each block of `text`, in order, covering it without gaps."""
    bounds, start = [], 0
    if syntax == "html":  # a block element's tag starts the next block
        for match in _HTML_BLOCK.finditer(text):
            bounds.append((start, match.start()))
            start = match.start()
    else:  # blank lines end a block
        for match in _BLANK_LINES.finditer(text):
            bounds.append((start, match.start()))
            start = match.end()
    bounds.append((start, len(text)))
    return [(start, end) for start, end in bounds if end > start]


def _is_heading(raw: str, syntax: str) -> bool:
    if syntax == "html":
        return bool(_HTML_HEADING.match(raw.lstrip()))
    if syntax == "rst":
        return bool(_RST_UNDERLINE.search(raw))
    return bool(_MARKDOWN_HEADING.search(raw.strip("\n")))


def _prose(raw: str, syntax: str) -> str:
    """The block's words as a reader sees them, without images and markup."""
    if syntax == "html":
        words = html.unescape(_TAG.sub(" ", _HIDDEN_HTML.sub(" ", raw)))
    elif syntax == "rst":
        words = _RST_MARKS.sub("", _RST_LINK.sub(r"\1", _RST_ROLE.sub(r"\1", _RST_DIRECTIVE.sub(" ", raw))))
        words = _RST_UNDERLINE.sub(" ", words)
    else:
        words = _MARKDOWN_LINK.sub(r"\1", _MARKDOWN_IMAGE.sub(" ", raw))
        words = html.unescape(_TAG.sub(" ", _HIDDEN_HTML.sub(" ", _MARKDOWN_MARKS.sub("", words))))
    return " ".join(words.split())

"""Just enough tree building for the HTML scanner: where an element ends, and its text.

Used only off the hot path: for hidden subtrees, <template>, <svg> titles,
figure captions and aria-labelledby targets.
"""

from __future__ import annotations

import re
from html import unescape
from typing import NamedTuple

from alttext.scan.html_patterns import ALL_TAGS, ATTRIBUTE, MARKUP

VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr basefont bgsound frame keygen".split()
)
FOREIGN_ROOTS = frozenset({"svg", "math"})
# Start tags that close an open <p> (the HTML parser's "close a p element").
P_CLOSERS = frozenset(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hgroup hr listing main menu nav ol p plaintext pre search "
    "section summary table ul xmp".split()
)
_SPACES = re.compile(r"[\t\n\f\r ]+")


class Attribute(NamedTuple):
    value: str  # decoded
    start: int  # offsets of the raw value inside the quotes in the document
    end: int
    quote: str | None  # '"', "'", '' for unquoted, None for a bare attribute (`<img alt>`)


_QUOTE_OF_GROUP = (None, None, '"', "'", "")  # by ATTRIBUTE's last matched group


def parse_attributes(text: str, start: int, end: int) -> dict[str, Attribute]:
    """The attributes in text[start:end] by lower-case name; the first of duplicates wins."""
    attributes: dict[str, Attribute] = {}
    for match in ATTRIBUTE.finditer(text, start, end):
        name = match[1].lower()
        if name in attributes:
            continue
        group = match.lastindex or 1
        if group == 1:  # a bare name: `<img alt>`
            attributes[name] = Attribute("", match.end(1), match.end(1), None)
            continue
        value = match[group]
        value_start, value_end = match.span(group)
        attributes[name] = Attribute(
            unescape(value) if "&" in value else value, value_start, value_end, _QUOTE_OF_GROUP[group]
        )
    return attributes


def is_self_closing(text: str, tag_end: int, attributes: dict[str, Attribute]) -> bool:
    """True for `<x ... />` (a `/` that is not the tail of an unquoted value)."""
    if text[tag_end - 2 : tag_end] != "/>":
        return False
    return not any(attr.quote == "" and attr.end == tag_end - 1 for attr in attributes.values())


def element_extent(text: str, pos: int, name: str, stop: frozenset[str] = frozenset()) -> tuple[int, int]:
    """(content end, resume offset) for the element `name` whose start tag ends at `pos`.

    Follows matching end tags, void elements, self-closing foreign elements and
    the implied end of <p> and <li>; unmatched end tags are ignored, as a browser
    does. A start or end tag named in `stop` ends the element too (callers use it
    so an unclosed element cannot make them read to the end of the document).
    """
    if name in VOID_ELEMENTS:
        return pos, pos
    stack = [name]
    while True:
        match = ALL_TAGS.match(text, pos)
        pos = match.end()
        if match["tag"] is None:
            if match["stray"] is not None:
                continue
            return pos, pos
        tag = match["name"].lower()
        if tag in stop or (not match["close"] and _closes_top(stack, tag) and len(stack) == 1):
            return match.start("tag"), match.start("tag")
        if match["close"]:
            if tag in stack:
                del stack[len(stack) - 1 - stack[::-1].index(tag) :]
                if not stack:
                    return match.start("tag"), pos
        elif match["gt"] and not _is_leaf(text, match, tag, stack):
            if _closes_top(stack, tag):
                stack.pop()
            stack.append(tag)


def _closes_top(stack: list[str], tag: str) -> bool:
    top = stack[-1]
    return (top == "p" and tag in P_CLOSERS) or (top == tag and tag in ("li", "dt", "dd", "option"))


def _is_leaf(text: str, match: re.Match[str], tag: str, stack: list[str]) -> bool:
    if tag in VOID_ELEMENTS:
        return True
    in_foreign = tag in FOREIGN_ROOTS or any(open_tag in FOREIGN_ROOTS for open_tag in stack)
    if not in_foreign:
        return False
    attributes = parse_attributes(text, match.start("attrs"), match.end("attrs"))
    return is_self_closing(text, match.end(), attributes)


def text_content(text: str, start: int, end: int) -> str:
    """The text of text[start:end] without markup, entities decoded, whitespace collapsed."""
    stripped = MARKUP.sub("", text[start:end])
    return _SPACES.sub(" ", unescape(stripped)).strip()

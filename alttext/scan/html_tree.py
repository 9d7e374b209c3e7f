"""Just enough tree building for the HTML scanner: where an element ends, and its text.

Used only off the hot path: for hidden subtrees, <template>, <svg> titles,
figure captions and aria-labelledby targets.
"""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from typing import NamedTuple

from alttext.scan.html_patterns import ATTRIBUTE, MARKUP, tags


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VOID_ELEMENTS = words("area base br col embed hr img input link meta param source track wbr basefont bgsound frame keygen")
FOREIGN_ROOTS = frozenset({"svg", "math"})
# Start tags that close an open <p> (the HTML parser's "close a p element").
P_CLOSERS = words(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hgroup hr listing main menu nav ol p plaintext pre search "
    "section summary table ul xmp"
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


class _OpenElements:
    """A stack of open element names with O(1) membership, for deep or unclosed markup."""

    def __init__(self, name: str) -> None:
        self.names = [name]
        self.counts = Counter(self.names)
        self.foreign = int(name in FOREIGN_ROOTS)  # open <svg>/<math> elements

    def push(self, name: str) -> None:
        if _closes_top(self.names[-1], name):
            self.pop()
        self.names.append(name)
        self.counts[name] += 1
        self.foreign += name in FOREIGN_ROOTS

    def pop(self) -> None:
        name = self.names.pop()
        self.counts[name] -= 1
        self.foreign -= name in FOREIGN_ROOTS

    def close(self, name: str) -> None:
        """Pop up to and including the innermost open `name`, if there is one."""
        if self.counts[name]:
            while self.names[-1] != name:
                self.pop()
            self.pop()


def element_extent(
    text: str, pos: int, name: str, stop: frozenset[str] = frozenset(), limit: int | None = None
) -> tuple[int, int]:
    """(content end, resume offset) for the element `name` whose start tag ends at `pos`.

    Follows matching end tags, void elements, self-closing foreign elements and
    the implied end of <p> and <li>; unmatched end tags are ignored, as a browser
    does. A start or end tag named in `stop`, or reading past offset `limit`,
    ends the element too: callers that only want a little text use them so that
    unclosed elements cannot make them read to the end of the document each time.
    """
    if name in VOID_ELEMENTS:
        return pos, pos
    open_elements = _OpenElements(name)
    end = len(text) if limit is None else limit
    for match in tags(text, pos):
        tag, start = match["name"].lower(), match.start("tag")
        if start > end:
            break
        if tag in stop or (not match["close"] and len(open_elements.names) == 1 and _closes_top(name, tag)):
            return start, start
        if match["close"]:
            open_elements.close(tag)
            if not open_elements.names:
                return start, match.end()
        elif match["gt"] and not _is_leaf(text, match, tag, open_elements.foreign > 0):
            open_elements.push(tag)
    return end, end


def _closes_top(top: str, tag: str) -> bool:
    return (top == "p" and tag in P_CLOSERS) or (top == tag and tag in ("li", "dt", "dd", "option"))


def _is_leaf(text: str, match: re.Match[str], tag: str, in_foreign: bool) -> bool:
    if tag in VOID_ELEMENTS:
        return True
    if not (in_foreign or tag in FOREIGN_ROOTS):
        return False
    attributes = parse_attributes(text, match.start("attrs"), match.end("attrs"))
    return is_self_closing(text, match.end(), attributes)


def text_content(text: str, start: int, end: int) -> str:
    """The text of text[start:end] without markup, entities decoded, whitespace collapsed."""
    stripped = MARKUP.sub("", text[start:end])
    return _SPACES.sub(" ", unescape(stripped)).strip()

"""Just enough tree building for the HTML scanner: where an element ends, and its text.

Used only off the hot path: for hidden subtrees, <template>, <svg> titles,
figure captions and aria-labelledby targets.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from html import unescape
from typing import NamedTuple

from alttext.scan.html_patterns import (
    ALL_FOREIGN_TAGS,
    ALL_TAGS,
    ATTRIBUTE,
    MARKUP,
    tags,
)


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VOID_ELEMENTS = words("area base br col embed hr img input link meta param source track wbr basefont bgsound frame keygen")
FOREIGN_ROOTS = frozenset({"svg", "math"})
# Start tags that close an open <p> (the parser's "close a p element").
P_CLOSERS = words(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hgroup hr listing main menu nav ol p plaintext pre search "
    "section summary table ul xmp li dd dt"
)
# The parser's "special" elements: an end tag of another element never closes them.
SPECIAL = words(
    "address applet area article aside base basefont bgsound blockquote body br button caption center "
    "col colgroup dd details dialog dir div dl dt embed fieldset figcaption figure footer form frame "
    "frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li link listing main "
    "marquee menu meta nav noembed noframes noscript object ol p param plaintext pre script search "
    "section select source style summary table tbody td template textarea tfoot th thead title tr "
    "track ul wbr xmp"
)
# End tags that close the nearest open element of their name, whatever is inside it.
CLOSE_IN_SCOPE = words(
    "address article aside blockquote button center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup listing main menu nav ol pre search section summary ul form p li dd "
    "dt h1 h2 h3 h4 h5 h6 applet marquee object template"
)
FORMATTING = words("a b big code em font i nobr s small strike strong tt u")
IGNORED_END_TAGS = VOID_ELEMENTS | {"body", "html"}
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


class OpenElements:
    """The elements open inside one element (the root), with the parser's implied ends.

    A tag inside the root may close one of the root's ancestors, and so the
    root: `outer` gives the ancestors' names, outermost first, when asked.
    Without it, an end tag that matches nothing inside is taken to close an
    ancestor, the likely reading in real documents (`<ul><li hidden>text</ul>`).
    """

    def __init__(self, root: str, outer: Callable[[], list[str]] | None = None) -> None:
        self.names = [root]
        self.counts = Counter(self.names)
        self.foreign = int(root in FOREIGN_ROOTS)  # open <svg>/<math> elements
        self.outer = outer
        self._outer_names: list[str] | None = None

    def start(self, name: str, leaf: bool = False) -> None:
        """Open `name` (unless a `leaf`), after closing what its start tag closes: an open
        <p>, a sibling <li>, <dd> or <dt>, an open <a> (here or among the ancestors).
        """
        if name in P_CLOSERS:
            if self.counts["p"]:
                self._pop_through("p")
            elif self.outer is not None and "p" in self._outer():
                self.names.clear()
        if name in ("li", "dd", "dt"):
            self._close_list_item({"li"} if name == "li" else {"dd", "dt"})
        if name == "a" and (self.counts["a"] or self.outer is not None):
            self.end("a")  # a new <a> first closes an open one
        if self.names and not leaf:
            self.names.append(name)
            self.counts[name] += 1
            self.foreign += name in FOREIGN_ROOTS

    def end(self, name: str) -> None:
        """Close what an end tag `name` closes; `names` is empty once the root is closed."""
        if name in IGNORED_END_TAGS:
            return
        if self.counts[name] and (name in CLOSE_IN_SCOPE or name in FORMATTING):
            self._pop_through(name)
        elif name in FORMATTING:
            if self._adoption_closes_root(name):
                self.names.clear()
        elif name in CLOSE_IN_SCOPE:
            if self._outer_has(name, stop_at_special=False):
                self.names.clear()
        else:
            self._any_other_end_tag(name)

    def _any_other_end_tag(self, name: str) -> None:
        if self.foreign and name in self.names:  # foreign content: the nearest element of that name
            self._pop_through(name)
            return
        for open_name in reversed(self.names):
            if open_name == name:
                self._pop_through(name)
                return
            if open_name in SPECIAL:
                return
        if self._outer_has(name, stop_at_special=True):
            self.names.clear()

    def _adoption_closes_root(self, name: str) -> bool:
        """The adoption agency for an ancestor <a>, <b>, ...: it closes the root unless a
        special element at or above the root stays open as the "furthest block".
        """
        if self.outer is None:
            return True
        outer = self._outer()
        if name not in outer:
            return False
        after = outer[len(outer) - outer[::-1].index(name) :]
        return self.names[0] not in SPECIAL and not any(open_name in SPECIAL for open_name in after)

    def _outer_has(self, name: str, stop_at_special: bool) -> bool:
        if self.outer is None:
            return True
        for open_name in reversed(self._outer()):
            if open_name == name:
                return True
            if stop_at_special and open_name in SPECIAL:
                return False
        return False

    def _outer(self) -> list[str]:
        if self._outer_names is None:
            self._outer_names = self.outer() if self.outer is not None else []
        return self._outer_names

    def _close_list_item(self, siblings: set[str]) -> None:
        for open_name in reversed(self.names):
            if open_name in siblings:
                self._pop_through(open_name)
                return
            if open_name in SPECIAL and open_name not in ("address", "div", "p"):
                return
        for open_name in reversed(self._outer() if self.outer is not None else []):
            if open_name in siblings:
                self.names.clear()
                return
            if open_name in SPECIAL and open_name not in ("address", "div", "p"):
                return

    def _pop_through(self, name: str) -> None:
        while self.names:
            popped = self.names.pop()
            self.counts[popped] -= 1
            self.foreign -= popped in FOREIGN_ROOTS
            if popped == name:
                return


class DocumentTree:
    """The open elements of the whole document, built on demand, moving forward only."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._restart()

    def _restart(self) -> None:
        self.pos = 0
        self.open = OpenElements("#document", outer=list)

    def ancestors(self, offset: int) -> list[str]:
        """Names of the ancestors of the element whose start tag is at `offset`, outermost first."""
        if offset < self.pos:
            self._restart()
        for match in tags(self.text, self.pos):
            start = match.start("tag")
            if start > offset:
                break
            self.pos = match.end()
            tag = match["name"].lower()
            leaf = False
            if match["close"]:
                self.open.end(tag)
            elif match["gt"]:
                leaf = _is_leaf(self.text, match, tag, self.open.foreign > 0)
                self.open.start(tag, leaf)
            if start == offset:  # a leaf (void or self-closing) was not pushed: all open ones are ancestors
                return self.open.names[1:] if leaf else self.open.names[1:-1]
        return self.open.names[1:]


def element_extent(
    text: str,
    pos: int,
    name: str,
    stop: frozenset[str] = frozenset(),
    limit: int | None = None,
    outer: Callable[[], list[str]] | None = None,
) -> tuple[int, int]:
    """(content end, resume offset) for the element `name` whose start tag ends at `pos`.

    Follows the parser's implied ends (see OpenElements; `outer` names the
    element's ancestors when asked), void elements and self-closing foreign
    elements. A start or end tag named in `stop`, or reading past offset `limit`,
    ends the element too: callers that only want a little text use them so that
    unclosed elements cannot make them read to the end of the document each time.
    """
    if name in VOID_ELEMENTS:
        return pos, pos
    open_elements = OpenElements(name, outer)
    end = len(text) if limit is None else limit
    # SVG and MathML have no raw-text elements: a <style> inside is an element like any other.
    for match in tags(text, pos, ALL_FOREIGN_TAGS if name in FOREIGN_ROOTS else ALL_TAGS):
        tag, start = match["name"].lower(), match.start("tag")
        if start > end:
            break
        if tag in stop:
            return start, start
        if match["close"]:
            open_elements.end(tag)
            if not open_elements.names:  # by its own end tag, or by an ancestor's: scan that again
                return start, match.end() if tag == name else start
        elif match["gt"]:
            open_elements.start(tag, _is_leaf(text, match, tag, open_elements.foreign > 0))
            if not open_elements.names:
                return start, start
    return end, end


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

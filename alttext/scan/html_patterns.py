"""Regular expressions that follow the HTML tokenizer closely enough to find tags.

The scanner never walks the document character by character in Python. A
*scan pattern* consumes everything uninteresting inside the regex engine
(text, comments, raw-text elements such as <script>, and ordinary tags with
their attribute values) and stops only at an interesting tag, so Python code
runs once per image-like tag instead of once per tag.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterator
from functools import cache

FLAGS = re.IGNORECASE | re.ASCII  # HTML names are ASCII case-insensitive
WS = r"\t\n\f\r "

# Elements whose content the tokenizer reads as text up to their own end tag.
# <noscript> is raw text in a browser with scripting on, which is what readers use.
RAW_TEXT_ELEMENTS = (
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
)

_atomic_names = itertools.count()


def atomic(body: str) -> str:
    """An atomic group: matched once, never backtracked into (emulated before 3.11)."""
    if sys.version_info >= (3, 11):
        return f"(?>{body})"
    name = f"atomic{next(_atomic_names)}"
    return f"(?=(?P<{name}>{body}))(?P={name})"


def _names(names: frozenset[str], ends: str = "/>") -> str:
    """`names` as an alternation followed by the end of the name (whitespace, `ends` or EOF)."""
    return rf"(?:{'|'.join(sorted(names))})(?:[{WS}{ends}]|\Z)"


def attributes(excluded: frozenset[str] = frozenset()) -> str:
    """The attributes of a tag up to (not including) its `>`, as the tokenizer reads them.

    A tag with an attribute named in `excluded` stops the match early, so the
    caller's `>` fails and the tag is left for the interesting branch.
    """
    name = rf"[^{WS}/>][^{WS}/>=]*"
    if excluded:
        name = rf"(?!{_names(excluded, '/>=')}){name}"
    value = rf"""[{WS}]*=[{WS}]*(?:"[^"]*(?:"|\Z)|'[^']*(?:'|\Z)|[^{WS}>]*)"""
    return atomic(rf"(?:[{WS}/]+|{name}(?:{value})?)*")


def common_attributes(excluded: frozenset[str] = frozenset()) -> str:
    """A faster form of `attributes` for well-formed tags: each attribute after a separator,
    values properly quoted. Tags it does not fit (`a="x"b`, an unclosed quote) fail and are
    left to the exact pattern.
    """
    name = rf"[^{WS}/>][^{WS}/>=]*"
    if excluded:
        name = rf"(?!{_names(excluded, '/>=')}){name}"
    value = rf"""[{WS}]*=[{WS}]*(?:"[^"]*"|'[^']*'|[^{WS}>"'][^{WS}>]*)?"""
    return rf"(?:[{WS}/]+{name}(?:{value})?)*[{WS}/]*"


TAG_NAME = rf"[A-Za-z][^{WS}/>]*"
_COMMENT_BODY = atomic(r"(?:[^-]+|-(?!-!?>))*")
_CDATA_BODY = atomic(r"(?:[^]]+|\](?!\]>))*")
COMMENT = rf"<!--(?:-?>|{_COMMENT_BODY}(?:--!?>|\Z))"
CDATA = rf"<!\[CDATA\[{_CDATA_BODY}(?:\]\]>|\Z)"
BOGUS_COMMENT = r"<[!?][^>]*(?:>|\Z)"
BOGUS_END_TAG = r"</(?:>|\Z|[^A-Za-z][^>]*(?:>|\Z))"
STRAY_LT = r"<(?![A-Za-z!/?])"


def _raw_text_element(name: str) -> str:
    body = atomic(rf"(?:[^<]+|<(?!/{name}[{WS}/>]))*")
    return rf"<{name}(?=[{WS}/>]|\Z){attributes()}(?:>{body}|\Z)"


RAW_TEXT = "|".join(
    [_raw_text_element(name) for name in RAW_TEXT_ELEMENTS]
    + [rf"<plaintext(?=[{WS}/>]|\Z){attributes()}(?:>[\s\S]*|\Z)"]
)
# A CDATA section exists only in SVG and MathML; in HTML `<![CDATA[` starts a bogus
# comment that ends at the first `>`.
NEVER_ELEMENTS = f"{COMMENT}|{BOGUS_COMMENT}|{BOGUS_END_TAG}|{STRAY_LT}"
NEVER_FOREIGN_ELEMENTS = f"{COMMENT}|{CDATA}|{BOGUS_COMMENT}|{BOGUS_END_TAG}|{STRAY_LT}"
INTERESTING_TAG = (
    rf"(?P<tag><(?P<close>/)?(?P<name>{TAG_NAME})(?P<attrs>{attributes()})(?P<gt>>)?)"
)


@cache
def scan_pattern(
    start_names: frozenset[str] | None,
    end_names: frozenset[str] | None,
    attribute_names: frozenset[str] = frozenset(),
    foreign: bool = False,
) -> re.Pattern[str]:
    """A pattern whose match skips everything boring and ends at an interesting tag or at EOF.

    Start tags named in `start_names`, end tags named in `end_names` and start
    tags carrying an attribute in `attribute_names` are interesting; None means
    every tag is. The match always succeeds: group `tag` is None at EOF.
    In `foreign` content (inside <svg>) there are no raw-text elements.
    """
    # The most frequent tokens come first: ordinary start and end tags. Each
    # markup token takes the text after it along, halving the loop's iterations.
    raw_names = frozenset() if foreign else frozenset(RAW_TEXT_ELEMENTS) | {"plaintext"}
    boring = []
    if start_names is not None:
        skip = rf"(?!{_names(start_names | raw_names)})" if start_names | raw_names else ""
        boring.append(rf"<{skip}{atomic(TAG_NAME + common_attributes(attribute_names))}(?:>|\Z)")
    if end_names is not None:
        skip = rf"(?!{_names(end_names)})" if end_names else ""
        boring.append(rf"</{skip}{atomic(TAG_NAME + common_attributes())}(?:>|\Z)")
    boring += [NEVER_FOREIGN_ELEMENTS] if foreign else [NEVER_ELEMENTS, RAW_TEXT]
    loop = "[^<]*(?:(?:" + "|".join(boring) + ")[^<]*)*"
    return re.compile(rf"{loop}(?:{INTERESTING_TAG}|(?P<stray><)|\Z)", FLAGS)


ALL_TAGS = scan_pattern(None, None)
ALL_FOREIGN_TAGS = scan_pattern(None, None, foreign=True)


def scan(pattern: re.Pattern[str], text: str, pos: int) -> re.Match[str]:
    """The next match of a scan pattern at `pos`."""
    match = pattern.match(text, pos)
    assert match is not None, "scan patterns match everywhere"
    return match


def tags(text: str, pos: int, pattern: re.Pattern[str] = ALL_TAGS) -> Iterator[re.Match[str]]:
    """Every tag of text[pos:] that `pattern` stops at, in order."""
    while True:
        match = scan(pattern, text, pos)
        pos = match.end()
        if match["tag"] is not None:
            yield match
        elif match["stray"] is None:
            return

# One attribute; the value is group 2 ("..."), 3 ('...') or 4 (unquoted).
ATTRIBUTE = re.compile(
    rf"""([^{WS}/>][^{WS}/>=]*)(?:[{WS}]*=[{WS}]*(?:"([^"]*)(?:"|\Z)|'([^']*)(?:'|\Z)|([^{WS}>]*)))?""",
    FLAGS,
)

# Any markup that is not text, for turning an element's content into its text.
MARKUP = re.compile(
    "|".join(
        [COMMENT, CDATA, BOGUS_COMMENT, BOGUS_END_TAG]
        + [_raw_text_element(name) for name in ("script", "style", "template")]
        + [rf"</?{atomic(TAG_NAME + attributes())}(?:>|\Z)"]
    ),
    FLAGS,
)

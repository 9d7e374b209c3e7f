"""Alt text to an Edit: one function per AltSlot form, each escaping for its target.

The scanner says where alt text goes (an AltSlot); this module says what the
bytes there become. Everything here is pure: text in, Edit out.
"""

from __future__ import annotations

import html
import re

from alttext.findings import Edit
from alttext.scan.base import AltSlot

# Every run of whitespace (newlines, tabs, Unicode separators) becomes one space:
# alt text is a single line in every syntax.
_WHITESPACE = re.compile(r"\s+")
# C0/C1 controls other than whitespace have no place in alt text, nor has the
# replacement character a model's tokenizer leaves for bytes that are not UTF-8.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
# Markdown alt text must read back as exactly the caption in both engines our
# users build with: CommonMark (markdown-it) and Python-Markdown (MkDocs).
# A backslash escapes \\ [ ] * _ ` in both. Python-Markdown keeps the backslash
# before other punctuation, so < & | ~ are written as character references,
# which CommonMark decodes and Python-Markdown passes on to the HTML attribute:
# < starts raw HTML or an autolink, & an entity (only before a name or #),
# | splits a table cell, ~ starts strikethrough.
_MARKDOWN_BACKSLASHED = re.compile(r"([\\\[\]*_`])")
_MARKDOWN_REFERENCES = {"<": "&lt;", "&": "&amp;", "|": "&#124;", "~": "&#126;"}
_MARKDOWN_REFERENCED = re.compile(r"[<|~]|&(?=[#A-Za-z0-9])")
_MARKDOWN_WRITTEN = re.compile(r"\\([!-/:-@\[-`{-~])|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


class SlotError(ValueError):
    """An AltSlot whose form this writer does not know."""


def normalize_alt(text: str) -> str:
    """`text` as one line: controls dropped, whitespace runs collapsed, ends trimmed."""
    return _WHITESPACE.sub(" ", _CONTROLS.sub("", text)).strip()


def escape_html_attribute(text: str, quote: str = '"') -> str:
    """`text` safe inside an attribute value quoted with `quote` ('' means unquoted)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&quot;")
    if quote == "'":
        escaped = escaped.replace("'", "&#39;")
    return escaped


def escape_html_text(text: str) -> str:
    """`text` safe as element content (the text of an SVG <title>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_markdown(text: str) -> str:
    """`text` safe between `![` and `]`: it reads back as exactly `text` in CommonMark and
    in Python-Markdown."""
    escaped = _MARKDOWN_BACKSLASHED.sub(r"\\\1", text)
    return _MARKDOWN_REFERENCED.sub(lambda match: _MARKDOWN_REFERENCES[match.group()], escaped)


def unescape_markdown(source: str) -> str:
    """Markdown alt text as written in the source, read as CommonMark reads it: backslash
    escapes and character references decoded, in one pass (`\\&lt;` stays `&lt;`)."""
    return _MARKDOWN_WRITTEN.sub(lambda m: m.group(1) if m.group(1) is not None else html.unescape(m.group()), source)


def escape_rst_option(text: str) -> str:
    """`text` as an rST option value on one line.

    Option values are taken as written (no inline markup), so only a trailing
    backslash, which would escape the line end, needs care.
    """
    return text + " " if text.endswith("\\") else text


def alt_edit(slot: AltSlot, alt: str) -> Edit:
    """The Edit that gives the image of `slot` the alt text `alt` (already normalized)."""
    try:
        render = _RENDERERS[slot.form]
    except KeyError:
        raise SlotError(f"unknown alt slot form {slot.form!r}") from None
    return Edit(slot.start, slot.end, render(slot, alt))


def _html_attribute(slot: AltSlot, alt: str) -> str:
    return f' {slot.attribute}="{escape_html_attribute(alt)}"'


def _html_value(slot: AltSlot, alt: str) -> str:
    if slot.quote in ('"', "'"):
        return escape_html_attribute(alt, slot.quote)
    # An unquoted value cannot hold spaces: quote it (the slot covers only the value).
    return f'"{escape_html_attribute(alt)}"'


def _html_bare_value(slot: AltSlot, alt: str) -> str:
    return f'="{escape_html_attribute(alt)}"'


def _svg_title(slot: AltSlot, alt: str) -> str:
    return f"<title>{escape_html_text(alt)}</title>"


def _markdown(slot: AltSlot, alt: str) -> str:
    return escape_markdown(alt)


def _rst_option(slot: AltSlot, alt: str) -> str:
    value = escape_rst_option(alt)
    return f"{slot.newline}{slot.indent}:alt:{' ' + value if value else ''}"


_RENDERERS = {
    "html-attribute": _html_attribute,
    "html-value": _html_value,
    "html-bare-value": _html_bare_value,
    "svg-title": _svg_title,
    "markdown": _markdown,
    "rst-option": _rst_option,
}

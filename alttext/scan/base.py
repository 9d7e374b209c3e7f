"""What a scanner returns: every image of a document, with or without alt text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AltSlot:
    """Where a writer puts alt text for an image that lacks it.

    `start:end` is a range of the decoded text: empty for an insertion,
    the old value for a replacement. `form` says what goes there:

    - "html-attribute": insert ` {attribute}="..."` (start == end, right after the tag name)
    - "html-value": replace the value between the quotes of an existing attribute
      (`quote` is the quote character used, '' for an unquoted value)
    - "html-bare-value": insert `="..."` right after a bare attribute's name (`<input alt>`)
    - "svg-title": insert `<title>...</title>` (right after the `>` of `<svg ...>`)
    - "markdown": the text between `![` and `]`
    - "rst-option": insert `{newline}{indent}:alt: ...` (right after the last option line)
    """

    start: int
    end: int
    form: str
    attribute: str = "alt"
    quote: str = '"'
    indent: str = ""
    newline: str = "\n"


@dataclass(frozen=True)
class ImageRef:
    """One image in a document.

    Offsets index the decoded text (a BOM is not part of it). `start` is the
    `<` of an HTML tag, the `!` of a Markdown image, or the first `.` of an
    rST directive; `end` is just past the image's markup.
    """

    start: int
    end: int
    src: str
    kind: str
    alt: str | None
    rule: str | None = None
    slot: AltSlot | None = None
    caption: str | None = None

    @property
    def needs_alt(self) -> bool:
        """True when the image has no text alternative (a missing-alt rule applies)."""
        return self.rule is not None


class ScanTooComplex(Exception):
    """A document the scanner cannot read in bounded time or depth; says why, at a 1-based line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line

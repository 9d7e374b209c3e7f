"""The context of each image of a reStructuredText document (see alttext.context).

- a figure's caption (the scanner reads it; here it is placed);
- an image's or figure's `:target:` option: the image is that link's only content;
- section titles (a line of text underlined, and maybe overlined, by one
  repeated punctuation character); the first is the document title, as
  docutils makes a lone top-level section title the document's title.

The language of an rST document is Sphinx's `language` (or [tool.alttext]),
given by the integration, not written in the document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alttext.context import ImageContext, Link, Sourced, SourcedAt
from alttext.scan.base import ImageRef

_ADORNMENT = re.compile(r"""([!-/:-@\[-`{-~])\1+[ \t]*""")
_TARGET = re.compile(r"^[ \t>]*:target:[ \t]*(\S[^\r\n]*?)[ \t]*$", re.MULTILINE)
_LINE_END = re.compile(r"\r\n|\r|\n")


def rst_contexts(text: str, images: Sequence[ImageRef], at: SourcedAt) -> list[ImageContext]:
    """The context of each image of the rST document `text`."""
    titles = section_titles(text, at)
    page_title = titles[0][1] if titles else None
    return [
        ImageContext(
            figure_caption=directive_caption(text, image, at),
            link=directive_target(text, image, at),
            heading=next((title for start, title in reversed(titles) if start <= image.start), None),
            page_title=page_title,
        )
        for image in images
    ]


def section_titles(text: str, at: SourcedAt) -> list[tuple[int, Sourced]]:
    """(line start offset, title) of every section title, in order."""
    starts = [0] + [match.end() for match in _LINE_END.finditer(text)]
    lines = _LINE_END.split(text)
    titles = []
    for number in range(len(lines) - 1):
        title, under = lines[number], lines[number + 1]
        stripped = title.strip()
        overlined = number > 0 and _ADORNMENT.fullmatch(lines[number - 1]) is not None
        if not stripped or (title[0] in " \t" and not overlined) or not _ADORNMENT.fullmatch(under):
            continue  # only an overlined title may be inset
        if _ADORNMENT.fullmatch(title) or len(under.rstrip()) < min(len(stripped), 4):
            continue  # an overline, a transition, or a line of text followed by a short rule
        if number > 0 and lines[number - 1].strip() and not overlined:
            continue  # a paragraph's last line followed by a line of punctuation
        titles.append((starts[number], at(stripped, starts[number] + title.index(stripped[0]))))
    return titles


def directive_caption(text: str, image: ImageRef, at: SourcedAt) -> Sourced | None:
    """A figure's caption, placed at its first word (after the directive's options)."""
    if not image.caption:
        return None
    found = text.find(image.caption.split()[0], image.end)
    return at(image.caption, found if found >= 0 else image.end)


def directive_target(text: str, image: ImageRef, at: SourcedAt) -> Link | None:
    """An image or figure directive's `:target:` option: a link whose only content is the image."""
    match = _TARGET.search(text, image.start, image.end)
    if match is None:
        return None
    return Link(at(match[1], match.start(1)), only_content=True)

"""Markdown inside HTML blocks that carry a `markdown` attribute (Python-Markdown's md_in_html).

MkDocs sites (Material's figures and grids) write
`<figure markdown="span">![](x.png)<figcaption>..</figcaption></figure>`:
to CommonMark the whole block is raw HTML, but Python-Markdown with md_in_html
reads the element's content as Markdown. `markdown_inside` gives that content
back as text of the same length with every tag, and the rest of the block,
blanked out, so the inline parser finds the images at their own offsets.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_TAG = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Za-z][\w-]*)(?P<attrs>(?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*/?>"
    r"|<!--.*?-->",
    re.DOTALL,
)
_MARKDOWN_ATTRIBUTE = re.compile(r"""\smarkdown(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""", re.IGNORECASE)
_FIGCAPTION = re.compile(r"<figcaption\b[^>]*>(?P<text>.*?)</figcaption\s*>", re.IGNORECASE | re.DOTALL)
_OFF = ("0", "false", "off")


@dataclass(frozen=True)
class MarkdownRegion:
    start: int  # just past the opening tag
    end: int  # at the closing tag (or the block's end)
    caption: str | None  # the text of its <figcaption>, for context


def markdown_regions(block: str) -> list[MarkdownRegion]:
    """The content of each element of `block` whose `markdown` attribute turns Markdown on."""
    regions: list[MarkdownRegion] = []
    for match in _TAG.finditer(block):
        attrs = match["attrs"]
        if match["close"] or not attrs or not (found := _MARKDOWN_ATTRIBUTE.search(attrs)):
            continue
        value = (found["value"] or "1").strip("\"'").lower()
        if value in _OFF or (regions and match.start() < regions[-1].end):
            continue  # off, or nested in a region already taken whole
        end = _closing(block, match["name"], match.end())
        regions.append(MarkdownRegion(match.end(), end, _caption(block[match.end():end])))
    return regions


def markdown_inside(block: str, regions: list[MarkdownRegion]) -> str:
    """`block` with only the Markdown of `regions` left: tags, figcaptions and the rest become spaces."""
    kept = [" " if char != "\n" else "\n" for char in block]
    for region in regions:
        kept[region.start:region.end] = block[region.start:region.end]
    text = "".join(kept)
    for pattern in (_FIGCAPTION, _TAG):
        text = pattern.sub(lambda match: re.sub(r"[^\n]", " ", match.group()), text)
    return text


def _closing(block: str, name: str, start: int) -> int:
    """The offset of the `</name>` that closes the element opened just before `start`."""
    depth = 1
    for match in _TAG.finditer(block, start):
        if (match["name"] or "").lower() != name.lower():
            continue
        depth += -1 if match["close"] else 1
        if depth == 0:
            return match.start()
    return len(block)


def _caption(content: str) -> str | None:
    found = _FIGCAPTION.search(content)
    if not found:
        return None
    text = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", found["text"])).split())
    return text or None

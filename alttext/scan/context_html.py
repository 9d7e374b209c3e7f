"""The context of each image of an HTML document (see alttext.context).

One walk over the document's tags finds the `<a href>` and `<figure>`
elements (as offset ranges), every `<figcaption>` and `<h1>`-`<h6>`, and the
`<html lang>`; each image then takes the innermost link and figure around it
and the last heading before it. The page title is the first `<title>`
outside `<svg>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from alttext.context import ImageContext, Link, Sourced, SourcedAt
from alttext.scan.base import ImageRef
from alttext.scan.html_patterns import tags
from alttext.scan.html_tree import element_extent, parse_attributes, text_content

TEXT_LIMIT = 2048  # headings and captions are short; a bound keeps unclosed ones cheap
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_TITLE = re.compile(r"<title(?:[\t\n\f\r ][^>]*)?>([^<]*)</title", re.IGNORECASE)


@dataclass
class _Range:
    start: int  # the `<` of the start tag
    content_start: int
    end: int | None = None  # where the content ends (None while open)
    value: Sourced | None = None  # a link's target, a figure's caption


@dataclass
class Walk:
    text: str
    at: SourcedAt
    links: list[_Range] = field(default_factory=list)
    figures: list[_Range] = field(default_factory=list)
    headings: list[tuple[int, int, Sourced]] = field(default_factory=list)  # (start, level, text)
    language: Sourced | None = None

    def run(self) -> None:
        open_links: list[_Range] = []
        open_figures: list[_Range] = []
        for match in tags(self.text, 0):
            name, start = match["name"].lower(), match.start("tag")
            if match["close"]:
                if name == "a" and open_links:
                    open_links.pop().end = start
                elif name == "figure" and open_figures:
                    open_figures.pop().end = start
                continue
            if not match["gt"]:
                continue
            if name == "a":
                while open_links:  # a new <a> closes an open one
                    open_links.pop().end = start
                link = self._link(match, start)
                if link is not None:
                    open_links.append(link)
            elif name == "figure":
                open_figures.append(_Range(start, match.end()))
                self.figures.append(open_figures[-1])
            elif name == "figcaption" and open_figures and open_figures[-1].value is None:
                open_figures[-1].value = self._element_text(match.end(), name)
            elif name in _HEADINGS:
                heading = self._element_text(match.end(), name)
                if heading is not None:
                    self.headings.append((start, int(name[1]), heading))
            elif name == "html" and self.language is None:
                self.language = self._attribute(match, "lang") or self._attribute(match, "xml:lang")
        end = len(self.text)
        for still_open in (*open_links, *open_figures):
            still_open.end = end

    def _link(self, match: re.Match[str], start: int) -> _Range | None:
        href = self._attribute(match, "href")
        if href is None:
            return None
        link = _Range(start, match.end(), value=href)
        self.links.append(link)
        return link

    def _attribute(self, match: re.Match[str], name: str) -> Sourced | None:
        attributes = parse_attributes(self.text, match.start("attrs"), match.end("attrs"))
        attribute = attributes.get(name)
        if attribute is None or not attribute.value.strip():
            return None
        return self.at(attribute.value.strip(), attribute.start)

    def _element_text(self, pos: int, name: str) -> Sourced | None:
        end = element_extent(self.text, pos, name, limit=pos + TEXT_LIMIT)[0]
        value = text_content(self.text, pos, end)
        if not value:
            return None
        first_word = self.text.find(value.split()[0], pos, end)
        return self.at(value, first_word if first_word >= 0 else pos)


def html_contexts(text: str, images: Sequence[ImageRef], at: SourcedAt) -> list[ImageContext]:
    """The context of each image of the HTML document `text`."""
    walk = Walk(text, at)
    walk.run()
    title = page_title(text, at)
    return [
        ImageContext(
            figure_caption=_figure_caption(walk.figures, image.start),
            link=_link_context(text, walk.links, image, images),
            heading=_last_before(walk.headings, image.start),
            page_title=title,
            language=walk.language,
        )
        for image in images
    ]


def page_title(text: str, at: SourcedAt) -> Sourced | None:
    """The first <title> before any <svg> (an SVG's <title> names the drawing, not the page)."""
    svg = text.lower().find("<svg")
    match = _TITLE.search(text, 0, svg if svg >= 0 else len(text))
    if match is None:
        return None
    value = text_content(text, match.start(1), match.end(1))
    return at(value, match.start(1) + len(match[1]) - len(match[1].lstrip())) if value else None


def _link_context(text: str, links: Sequence[_Range], image: ImageRef, images: Sequence[ImageRef]) -> Link | None:
    link = _innermost(links, image.start)
    if link is None or link.value is None or link.end is None:
        return None
    inside = sum(1 for other in images if link.content_start <= other.start < link.end)
    end = min(link.end, link.content_start + TEXT_LIMIT)
    if image.kind == "svg":  # an inline <svg>'s own text belongs to the image, not to the link
        svg_end = element_extent(text, image.end, "svg", limit=end)[1]
        own_text = f"{text_content(text, link.content_start, image.start)} {text_content(text, svg_end, end)}".strip()
    else:
        own_text = text_content(text, link.content_start, end)
    only = inside == 1 and not own_text
    return Link(link.value, only, "" if only else own_text[:200])


def _figure_caption(figures: Sequence[_Range], offset: int) -> Sourced | None:
    figure = _innermost(figures, offset)
    return figure.value if figure else None


def _innermost(ranges: Sequence[_Range], offset: int) -> _Range | None:
    found = None
    for candidate in ranges:
        if candidate.start > offset:
            break
        if candidate.content_start <= offset and (candidate.end is None or offset < candidate.end):
            found = candidate
    return found


def _last_before(headings: Sequence[tuple[int, int, Sourced]], offset: int) -> Sourced | None:
    found = None
    for start, _, heading in headings:
        if start > offset:
            break
        found = heading
    return found

"""What the document says around an image: figure caption, link, heading, page title, language,
and the paragraph around it.

Pure and torch-free. Each scanner's extractor (alttext.scan.context_*) gives
one ImageContext per image, every piece with the place it was read from: a
1-based line and column of the document, or another file for a language that
comes from the site's configuration (mkdocs.yml, Sphinx's conf.py,
[tool.alttext]). Context is computed only where proposals are made (`fix`,
`suggest`, the integrations), never by `check`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alttext.scan.base import ImageRef


@dataclass(frozen=True)
class Sourced:
    """A piece of context and where it was read: a document position, or `origin` (another file)."""

    value: str
    line: int | None = None
    column: int | None = None
    origin: str | None = None  # None: the document itself

    def as_dict(self) -> dict[str, Any]:
        where: dict[str, Any] = {"origin": self.origin} if self.origin else {"line": self.line, "column": self.column}
        return {"value": self.value, **where}

    def describe(self) -> str:
        where = self.origin if self.origin else f"line {self.line}"
        return f"{self.value} ({where})"


@dataclass(frozen=True)
class Link:
    """The link around an image: its target, and whether the image is all there is inside it."""

    target: Sourced
    only_content: bool
    text: str = ""  # the link's own text beside the image ("" when the image is its only content)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target.as_dict(), "only_content": self.only_content, "text": self.text}


@dataclass(frozen=True)
class ImageContext:
    figure_caption: Sourced | None = None
    link: Link | None = None
    heading: Sourced | None = None
    page_title: Sourced | None = None
    language: Sourced | None = None
    paragraph: Sourced | None = None  # the prose the image stands in, else the nearest before it

    @property
    def is_functional(self) -> bool:
        """An image that is the only content of a link: its alt text is the link's name."""
        return self.link is not None and self.link.only_content

    @property
    def language_code(self) -> str | None:
        return self.language.value if self.language else None

    def with_default_language(self, language: Sourced | None) -> ImageContext:
        """The page's own declaration wins; the site's language is the fallback."""
        if self.language is not None or language is None:
            return self
        return replace(self, language=language)

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure_caption": self.figure_caption.as_dict() if self.figure_caption else None,
            "link": self.link.as_dict() if self.link else None,
            "heading": self.heading.as_dict() if self.heading else None,
            "page_title": self.page_title.as_dict() if self.page_title else None,
            "language": self.language.as_dict() if self.language else None,
            "paragraph": self.paragraph.as_dict() if self.paragraph else None,
        }


def is_english(language: str | None) -> bool:
    """True for `en`, `en-US`, `en_GB`...; a page that declares no language counts as English."""
    if not language:
        return True
    return language.strip().replace("_", "-").split("-")[0].lower() == "en"


SourcedAt = Callable[[str, int], Sourced]


def sourced_at(text: str) -> SourcedAt:
    """A function (value, offset) -> Sourced with the offset's 1-based line and column in `text`."""
    from alttext.textpos import LineIndex

    lines = LineIndex(text)

    def at(value: str, offset: int) -> Sourced:
        line, column = lines.position(offset)
        return Sourced(value, line, column)

    return at


def image_contexts(text: str, syntax: str, images: Sequence[ImageRef]) -> list[ImageContext]:
    """The context of each of `images` (all images of `text`, as the scanner found them), in order."""
    if not images:
        return []
    if syntax == "html":
        from alttext.scan.context_html import html_contexts as extract
    elif syntax == "markdown":
        from alttext.scan.context_markdown import markdown_contexts as extract
    elif syntax == "rst":
        from alttext.scan.context_rst import rst_contexts as extract
    else:
        raise ValueError(f"unknown syntax {syntax!r}")
    from alttext.scan.context_paragraph import paragraphs_near

    at = sourced_at(text)
    paragraphs = paragraphs_near(text, syntax, [image.start for image in images], at)
    return [replace(context, paragraph=paragraph) for context, paragraph in zip(extract(text, images, at), paragraphs)]

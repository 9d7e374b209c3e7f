"""The context of each image of a Markdown document (see alttext.context).

- front matter (YAML or TOML): `lang` or `language`, and `title`;
- headings (ATX, setext and raw HTML `<h1>`-`<h6>` blocks); the page title is the front matter's `title`,
  else the first level-1 heading (as MkDocs names a page);
- a Markdown image's title (`![](x.png "Title")`) is its caption, as is the
  caption paragraph of a MyST `{figure}`;
- a Markdown link around a Markdown image (`[![..](img)](target)`);
- raw HTML images take their `<a href>` and `<figure>` from the HTML walk.

The document is parsed once more, whole and with inline parsing everywhere
(the scanner parses only what can hold an image): this runs only for `fix`
and `suggest`, never for `check`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alttext.context import ImageContext, Link, Sourced, SourcedAt
from alttext.scan.base import ImageRef
from alttext.scan.context_rst import directive_caption, directive_target
from alttext.scan.markdown import (
    _FRONT_MATTER,
    _mask_front_matter,
    _normalize,
    _remember_position,
)
from alttext.scan.markdown_blocks import open_extension_blocks
from alttext.scan.markdown_positions import OffsetMap, SourceLines, block_map, cell_map

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

# `key: value` (YAML) or `key = "value"` (TOML) at the top level of the front matter.
_FRONT_MATTER_KEY = re.compile(
    r"""^(lang|language|title)[ \t]*[:=][ \t]*(?P<q>["']?)(?P<value>[^\r\n]*?)(?P=q)[ \t]*(?:#[^\r\n]*)?$""",
    re.MULTILINE,
)
_HTML_HEADING = re.compile(r"<h[1-6][\s>]", re.IGNORECASE)
_CELL_OPENERS = frozenset({"th_open", "td_open"})
_MARKDOWN_KINDS = ("markdown-image", "markdown-reference")

_parser: MarkdownIt | None = None


@dataclass
class _Found:
    headings: list[tuple[int, int, Sourced]] = field(default_factory=list)  # (offset, level, text)
    links: dict[int, Link] = field(default_factory=dict)  # by the image's start offset


def markdown_contexts(text: str, images: Sequence[ImageRef], at: SourcedAt) -> list[ImageContext]:
    """The context of each image of the Markdown document `text`."""
    front = _front_matter(text, at)
    found = _parse(text, at)
    html = _html_contexts(text, images, at)
    title = front.get("title") or next((heading for _, level, heading in found.headings if level == 1), None)
    language = front.get("lang") or front.get("language")
    contexts = []
    for index, image in enumerate(images):
        if image.kind.startswith("myst-"):
            link, caption = directive_target(text, image, at), directive_caption(text, image, at)
        elif image.kind in _MARKDOWN_KINDS:
            link, caption = found.links.get(image.start), _title(text, image, at)
        else:
            link, caption = html[index].link, html[index].figure_caption
        heading = next((h for start, _, h in reversed(found.headings) if start <= image.start), None)
        contexts.append(ImageContext(caption, link, heading, title, language))
    return contexts


def _front_matter(text: str, at: SourcedAt) -> dict[str, Sourced]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}
    values: dict[str, Sourced] = {}
    for key in _FRONT_MATTER_KEY.finditer(text, 0, match.end()):
        if key["value"].strip():
            values.setdefault(key[1], at(key["value"].strip(), key.start("value")))
    return values


def _html_contexts(text: str, images: Sequence[ImageRef], at: SourcedAt) -> list[ImageContext]:
    """Raw HTML images' links and figures (the walk sees only tags, so Markdown text is harmless)."""
    if all(image.kind in _MARKDOWN_KINDS or image.kind.startswith("myst-") for image in images):
        return [ImageContext() for _ in images]
    from alttext.scan.context_html import html_contexts

    return html_contexts(text, images, at)


def _title(text: str, image: ImageRef, at: SourcedAt) -> Sourced | None:
    """A Markdown image's title (its caption), placed at its first character."""
    if not image.caption:
        return None
    found = text.rfind(image.caption.split()[0], image.start, image.end)
    return at(image.caption, _title_start(text, image, found) if found >= 0 else image.start)


def _title_start(text: str, image: ImageRef, found: int) -> int:
    """The first character of the title: just after its opening quote (`"`, `'` or `(`)."""
    close = image.end - 2
    while close > image.start and text[close] in " \t\r\n":
        close -= 1
    opening = {'"': '"', "'": "'", ")": "("}.get(text[close])
    if opening is None:
        return found
    start = text.rfind(opening, image.start, close)
    return start + 1 if start >= 0 else found


def _parse(text: str, at: SourcedAt) -> _Found:
    md = _markdown_it()
    env: dict[str, Any] = {}
    source = open_extension_blocks(_normalize(_mask_front_matter(text)))
    tokens = md.parse(source, env)
    lines = SourceLines(text)
    cursors: dict[int, int] = {}
    found = _Found()
    for index, token in enumerate(tokens):
        if token.type == "html_block" and token.map is not None and _HTML_HEADING.search(token.content):
            _html_headings(token, lines, found, at)
        if token.type != "inline" or token.map is None or token.children is None:
            continue
        if index > 0 and tokens[index - 1].type in _CELL_OPENERS:
            content_map = cell_map(token.content, token.map[0], lines, cursors)
        else:
            content_map = block_map(token.content, token.map[0], lines)
        if index > 0 and tokens[index - 1].type == "heading_open":
            heading = _plain_text(token.children)
            if heading:
                level = int(tokens[index - 1].tag[1])
                start = content_map.source(0)
                found.headings.append((lines.line(token.map[0])[0], level, at(heading, start)))
        _links(token, content_map, found, at)
    return found


def _html_headings(token: Token, lines: SourceLines, found: _Found, at: SourcedAt) -> None:
    """Headings written as raw HTML (`<h1 align="center">`, common in READMEs)."""
    from alttext.scan.context_html import Walk

    assert token.map is not None
    content_map = block_map(token.content, token.map[0], lines)
    walk = Walk(token.content, lambda value, offset: at(value, content_map.source(offset)))
    walk.run()
    found.headings += [(content_map.source(start), level, heading) for start, level, heading in walk.headings]
    found.headings.sort(key=lambda entry: entry[0])


def _links(token: Token, content_map: OffsetMap, found: _Found, at: SourcedAt) -> None:
    """Each image inside a link, with the link's target and whether the image is all it holds."""
    assert token.children is not None
    open_links: list[tuple[Token, list[Token]]] = []
    for child in token.children:
        if child.type == "link_open":
            open_links.append((child, []))
        elif child.type == "link_close" and open_links:
            link, inside = open_links.pop()
            images = [item for item in inside if item.type == "image"]
            own_text = _plain_text([item for item in inside if item.type != "image"])
            target = _target(token.content, link, content_map, at)
            for image in images:
                only = len(images) == 1 and not own_text
                found.links[content_map.source(image.meta["pos"])] = Link(target, only, "" if only else own_text[:200])
        elif open_links:
            for _, inside in open_links:
                inside.append(child)


def _target(content: str, link: Token, content_map: OffsetMap, at: SourcedAt) -> Sourced:
    """The link's destination, placed where it is written: in `(...)`, or at its `[label]`."""
    href = str(link.attrs.get("href", ""))
    pos = link.meta.get("label_end", link.meta.get("pos", 0)) + 1
    if content[pos : pos + 1] == "(":
        pos += 1
        while pos < len(content) and content[pos] in " \t\n":
            pos += 1
        pos += content[pos : pos + 1] == "<"
    elif content[pos : pos + 1] == "[":
        pos += 1
    else:  # a shortcut reference `[label]`: the label is the reference
        pos = link.meta.get("pos", 0) + 1
    return at(href, content_map.source(pos))


def _plain_text(children: Sequence[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.children:
            parts.append(_plain_text(child.children))
    return " ".join("".join(parts).split())


def _markdown_it() -> MarkdownIt:
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt
        from markdown_it.rules_inline import image, link

        md = MarkdownIt("commonmark").enable("table")
        md.inline.ruler.at("image", _remember_position(image))
        md.inline.ruler.at("link", _with_label_end(_remember_position(link)))
        _parser = md
    return _parser


def _with_label_end(rule: Any) -> Any:
    """Also record where a link's label ends (its `]`), to find the destination after it."""

    def with_label_end(state: StateInline, silent: bool) -> bool:
        start = state.pos
        if not rule(state, silent):
            return False
        if not silent:
            opening = next(token for token in reversed(state.tokens) if token.type == "link_open")
            end = state.pos
            label_end = state.md.helpers.parseLinkLabel(state, start, True)
            state.pos = end
            opening.meta.update(pos=start, label_end=label_end)
        return True

    return with_label_end

"""Markdown scanner: images with an empty description (markdownlint MD045) and raw HTML images.

CommonMark + GFM tables, parsed with markdown-it-py; raw HTML goes through the
HTML scanner, MyST directive fences through markdown_myst (and `{eval-rst}`
bodies through the rST scanner); the indented bodies of MkDocs admonitions and
tabs are read as Markdown (markdown_blocks). Documents without `![` or another image hint
are not parsed at all; of the others, only the chunks that can hold an image
are parsed (markdown_chunks), and inline parsing runs only on the blocks whose
text can hold one. Offsets come back to the original text via markdown_positions.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from alttext.scan.base import AltSlot, ImageRef, ScanTooComplex
from alttext.scan.markdown_blocks import open_extension_blocks
from alttext.scan.markdown_chunks import HTML_HINT as _HTML_HINT
from alttext.scan.markdown_chunks import keep_image_chunks
from alttext.scan.markdown_in_html import MarkdownRegion, markdown_inside, markdown_regions
from alttext.scan.markdown_myst import (
    MYST_HINT,
    OPAQUE_DIRECTIVES,
    myst_directive_name,
    myst_image,
)
from alttext.scan.markdown_positions import (
    OffsetMap,
    PieceMap,
    SourceLines,
    block_map,
    cell_map,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

RULE = "ALT101"
# YAML (`---`) or TOML (`+++`) front matter at the very top, as markdownlint reads it.
_FRONT_MATTER = re.compile(
    r"\A(?:---[ \t]*(?:\r\n?|\n)(?:[^\r\n]*(?:\r\n?|\n))*?---"
    r"|\+\+\+[ \t]*(?:\r\n?|\n)(?:[^\r\n]*(?:\r\n?|\n))*?(?:\+\+\+|\.\.\.))[ \t]*(?=[\r\n]|\Z)"
)
_LINE_END = re.compile(r"\r\n|\r|\n")
_CELL_OPENERS = frozenset({"th_open", "td_open"})

# markdown-it stops reading blocks nested deeper than this many levels (a list level
# counts two). Its default of 20 hides images that markdownlint finds; far deeper
# nesting would overflow Python's stack, so a document nested deeper is an error.
MAX_NESTING = 200
INLINE_NESTING = 20  # markdown-it's default
# markdown-it-py spends about 65 microseconds on each unclosed `[` (a 5 MB line of `![`
# takes minutes). A paragraph with more than this many is reported as too complex at once:
# real text has a handful.
MAX_UNCLOSED_BRACKETS = 10_000
# A backstop for inline markup that is slow in other ways: CPU seconds per document. A dense
# real document (an image every 50 bytes) needs about a fifth of this.
PARSE_SECONDS = 2.0
PARSE_SECONDS_PER_MIB = 8.0
_BRACKET = re.compile(r"\\.|[\[\]]", re.DOTALL)

_parser: MarkdownIt | None = None
_deadline: float | None = None


def find_images(text: str) -> list[ImageRef]:
    """Every image of a Markdown document, in document order.

    Raises ScanTooComplex for a document nested deeper than MAX_NESTING or one whose
    inline markup would take longer than its time budget to parse.
    """
    global _deadline
    if not _may_hold_image(text):
        return []
    if _deadline is not None:  # a MyST directive body inside a document: the document's budget
        return _find_images(text)
    _deadline = time.process_time() + PARSE_SECONDS + PARSE_SECONDS_PER_MIB * len(text) / 2**20
    try:
        return _find_images(text)
    finally:
        _deadline = None


def _find_images(text: str) -> list[ImageRef]:
    md = _markdown_it()
    env: dict[str, Any] = {}
    source = open_extension_blocks(_normalize(_mask_front_matter(text)))
    md.options["maxNesting"] = MAX_NESTING
    tokens = md.parse(keep_image_chunks(source), env)
    # Inline markup nests far less, and a deeper limit there makes runs of `![` slower still.
    md.options["maxNesting"] = INLINE_NESTING
    _check_nesting(tokens)
    scan = _Scan(text, md, env)
    refs: list[ImageRef] = []
    for index, token in enumerate(tokens):
        if token.type == "inline" and _may_hold_inline_image(token.content):
            in_cell = index > 0 and tokens[index - 1].type in _CELL_OPENERS
            refs += scan.inline(token, in_cell)
        elif token.type == "html_block" and ("![" in token.content or _HTML_HINT.search(token.content)):
            refs += scan.html_block(token)
        elif token.type == "fence" and "{" in token.info:
            refs += scan.myst_fence(token)
    refs.sort(key=lambda ref: ref.start)
    return refs


def _check_nesting(tokens: list[Token]) -> None:
    """markdown-it drops what is inside a container opened at the last level it reads: say so."""
    for token in tokens:
        if token.nesting == 1 and token.level >= MAX_NESTING - 1:
            line = token.map[0] + 1 if token.map else None
            raise ScanTooComplex(f"nested more than {MAX_NESTING} levels deep (a list level counts two); "
                                 "what is inside is not checked", line)


def _may_hold_image(text: str) -> bool:
    """Whether a document has anything that may be an image (most documents have not)."""
    return (
        "![" in text
        or ("<" in text and _HTML_HINT.search(text) is not None)
        or ("{" in text and MYST_HINT.search(text) is not None)
    )


def _may_hold_inline_image(content: str) -> bool:
    return "![" in content or (
        "<" in content and _HTML_HINT.search(content) is not None
    )


def _normalize(text: str) -> str:
    """LF line ends, as markdown-it makes them (the line count stays)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _mask_front_matter(text: str) -> str:
    """Blank the front matter out, keeping its line ends so line numbers stay."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text
    # one LF per line end: "\r" then "\n" of two lines must not become one "\r\n"
    return "\n" * len(_LINE_END.findall(match.group())) + text[match.end() :]


def _markdown_it() -> MarkdownIt:
    """One parser per process, built on first use (importing markdown-it costs time)."""
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt
        from markdown_it.rules_inline import html_inline, image, link

        md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable("table")
        # the core rule: inline parsing runs only where find_images asks for it
        md.disable("inline")
        md.inline.ruler.at("image", _remember_position(image))
        md.inline.ruler.at("html_inline", _remember_position(html_inline))
        md.inline.ruler.at("link", _within_budget(link))
        _parser = md
    return _parser


def _remember_position(
    rule: Callable[[StateInline, bool], bool],
) -> Callable[[StateInline, bool], bool]:
    """Wrap an inline rule so that its token records where in the content it starts and ends."""

    def positioned(state: StateInline, silent: bool) -> bool:
        _spend()
        start = state.pos
        if not rule(state, silent):
            return False
        if not silent:
            state.tokens[-1].meta.update(pos=start, end=state.pos)
        return True

    return positioned


def _within_budget(
    rule: Callable[[StateInline, bool], bool],
) -> Callable[[StateInline, bool], bool]:
    def budgeted(state: StateInline, silent: bool) -> bool:
        _spend()
        return rule(state, silent)

    return budgeted


def _check_brackets(content: str) -> None:
    if content.count("[") <= MAX_UNCLOSED_BRACKETS:
        return  # the common case, without a closer look
    unclosed = 0
    for match in _BRACKET.finditer(content):
        if match[0] == "[":
            unclosed += 1
        elif match[0] == "]" and unclosed:
            unclosed -= 1
    if unclosed > MAX_UNCLOSED_BRACKETS:
        raise ScanTooComplex(f"too complex to parse: {unclosed} unclosed '[' in one paragraph")


def _spend() -> None:
    """Stop parsing once the document's time budget is spent (checked where `[` and `<` start rules)."""
    if _deadline is not None and time.process_time() > _deadline:
        raise ScanTooComplex("too complex to parse in bounded time (a long run of unclosed '![' or '['?)")


class _Scan:
    """The images of one document's tokens, with offsets in the original text."""

    def __init__(self, text: str, md: MarkdownIt, env: dict[str, Any]) -> None:
        self._text = text
        self._md = md
        self._env = env
        self._lines: SourceLines | None = None
        self._cell_cursors: dict[int, int] = {}

    @property
    def lines(self) -> SourceLines:
        if self._lines is None:
            self._lines = SourceLines(self._text)
        return self._lines

    def inline(self, token: Token, in_cell: bool) -> list[ImageRef]:
        children: list[Token] = []
        try:
            _check_brackets(token.content)
            self._md.inline.parse(token.content, self._md, self._env, children)
        except ScanTooComplex as error:
            raise ScanTooComplex(str(error), token.map[0] + 1 if token.map else None) from None
        images = [child for child in children if child.type == "image"]
        html_parts = [
            child.content for child in children if child.type == "html_inline"
        ]
        has_html = (
            bool(html_parts) and _HTML_HINT.search("".join(html_parts)) is not None
        )
        if not images and not has_html:
            return []
        line = token.map[0] if token.map else 0
        if in_cell:
            content_map = cell_map(token.content, line, self.lines, self._cell_cursors)
        else:
            content_map = block_map(token.content, line, self.lines)
        refs = [self._image(token.content, image, content_map) for image in images]
        if has_html:
            refs += _inline_html(children, content_map)
        return refs

    def myst_fence(self, token: Token) -> list[ImageRef]:
        """An image or figure fence, or the images inside another MyST directive's body."""
        ref = myst_image(token, self._text, self.lines)
        if ref is not None:
            return [ref]
        name = myst_directive_name(token.info)
        if name is None or name in OPAQUE_DIRECTIVES or token.map is None:
            return []
        if name == "eval-rst":
            from alttext.scan.rst import find_images as find_rst_images

            inner = find_rst_images(token.content)
        else:
            inner = find_images(token.content)
        if not inner:
            return []
        content_map = block_map(token.content, token.map[0] + 1, self.lines)
        return [self._nested(ref, token, content_map) for ref in inner]

    def _nested(self, ref: ImageRef, token: Token, content_map: OffsetMap) -> ImageRef:
        """A directive body's image, moved to the source; a new option line gets the body's prefix."""
        moved = _shift(ref, content_map.source)
        if moved.slot is None or moved.slot.form != "rst-option" or token.map is None:
            return moved
        line_number = token.content.count("\n", 0, ref.slot.start if ref.slot else 0)
        content_line = token.content.split("\n")[line_number]
        _, source_line = self.lines.line(token.map[0] + 1 + line_number)
        prefix = source_line[: len(source_line) - len(content_line)]
        return replace(
            moved, slot=replace(moved.slot, indent=prefix + moved.slot.indent)
        )

    def html_block(self, token: Token) -> list[ImageRef]:
        content_map = block_map(
            token.content, token.map[0] if token.map else 0, self.lines
        )
        refs = [_shift(ref, content_map.source) for ref in _html_images(token.content)]
        regions = markdown_regions(token.content) if "![" in token.content else []
        if regions:
            refs += self._markdown_in_html(token.content, regions, content_map)
        return refs

    def _markdown_in_html(
        self, content: str, regions: list[MarkdownRegion], content_map: OffsetMap
    ) -> list[ImageRef]:
        """Images of an HTML element's Markdown content (md_in_html); a figcaption is their caption."""
        masked = markdown_inside(content, regions)
        children: list[Token] = []
        self._md.inline.parse(masked, self._md, self._env, children)
        refs = []
        for child in children:
            if child.type != "image":
                continue
            ref = self._image(masked, child, content_map)
            region = next(r for r in regions if r.start <= child.meta["pos"] < r.end)
            refs.append(replace(ref, caption=ref.caption or region.caption))
        return refs

    def _image(self, content: str, token: Token, content_map: OffsetMap) -> ImageRef:
        pos, end = token.meta["pos"], token.meta["end"]
        label_start = pos + 2
        label_end = label_start + len(token.content)
        written = _written_destination(content, label_end + 1, end)
        src = (
            written
            if written is not None
            else self._md.normalizeLinkText(str(token.attrs.get("src", "")))
        )
        title = token.attrs.get("title")
        return ImageRef(
            start=content_map.source(pos),
            end=content_map.source(end),
            src=src,
            kind="markdown-image" if written is not None else "markdown-reference",
            alt=token.content,
            rule=None if token.content.strip() else RULE,
            slot=AltSlot(
                content_map.source(label_start),
                content_map.source(label_end),
                form="markdown",
            ),
            caption=str(title) if title else None,
        )


def _written_destination(content: str, pos: int, end: int) -> str | None:
    """The destination of an inline image `(...)` as written; None for a reference image."""
    if content[pos : pos + 1] != "(":
        return None
    from markdown_it.helpers import parseLinkDestination

    pos += 1
    while pos < end and content[pos] in " \t\n":
        pos += 1
    result = parseLinkDestination(content, pos, end)
    if not result.ok:
        return ""
    written = content[pos : result.pos]
    return written[1:-1] if written.startswith("<") else written


def _inline_html(children: list[Token], content_map: OffsetMap) -> list[ImageRef]:
    """Scan the raw HTML of one inline block as one fragment, so tags see their inline ancestors.

    The text between tags is kept (escaped) for names that refer to it
    (aria-labelledby), and has no place in the source of its own.
    """
    parts: list[str] = []
    pieces = PieceMap()
    size = 0
    for child in children:
        if child.type == "html_inline":
            pieces.add(size, len(child.content), child.meta["pos"], content_map)
            part = child.content
        elif child.type == "text":
            part = html.escape(child.content, quote=False)
        elif child.type in ("softbreak", "hardbreak"):
            part = "\n"
        else:
            continue
        parts.append(part)
        size += len(part)
    fragment = "".join(parts)
    return [
        _shift(ref, pieces.source, pieces.source_end) for ref in _html_images(fragment)
    ]


def _html_images(fragment: str) -> list[ImageRef]:
    from alttext.scan.html import find_images as find_html_images

    return find_html_images(fragment)


def _shift(
    ref: ImageRef,
    to_source: Callable[[int], int],
    end_to_source: Callable[[int], int] | None = None,
) -> ImageRef:
    """The same image with fragment offsets moved to offsets of the Markdown text.

    Where two mapped pieces touch in the fragment, an end offset belongs to
    the piece before the boundary and a start offset to the piece after it;
    an insertion point (an empty slot) stays just past the tag before it.
    """
    end_map = end_to_source or to_source
    slot = ref.slot
    if slot is not None:
        slot_start = end_map if slot.start == slot.end else to_source
        slot = replace(slot, start=slot_start(slot.start), end=end_map(slot.end))
    return replace(ref, start=to_source(ref.start), end=end_map(ref.end), slot=slot)

"""Map offsets in markdown-it token content back to offsets in the source text.

markdown-it gives block tokens only a line range (`token.map`). The content of
an inline or html_block token is made of those source lines with the block
prefixes (`>` markers, list indentation, leading spaces, table pipes) cut off,
so each content line is found again in its source line and the offsets inside
it shift by a constant.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re

_LINE_END = re.compile(r"\r\n|\r|\n")
_BLANKS = " \t"

# (offset in content, offset in source, length) of a run of characters copied verbatim.
Segment = tuple[int, int, int]


class SourceLines:
    """The lines of the original text (LF, CRLF or CR ends), as markdown-it numbers them."""

    def __init__(self, text: str) -> None:
        self._text = text
        if "\r" in text:
            self._starts = [0] + [match.end() for match in _LINE_END.finditer(text)]
        else:  # the same, computed in C: each line start is past the previous line and its LF
            lengths = itertools.accumulate(map(len, text.split("\n")))
            self._starts = [0, *map(operator.add, lengths, itertools.count(1))][:-1]
        self._has_nul = "\0" in text

    def line(self, number: int) -> tuple[int, str]:
        """Start offset and text (without its line end) of 0-based line `number`."""
        start = self._starts[number]
        end = (
            self._starts[number + 1]
            if number + 1 < len(self._starts)
            else len(self._text)
        )
        line = self._text[start:end].rstrip("\r\n")
        if self._has_nul:  # markdown-it replaces NUL with U+FFFD (same length)
            line = line.replace("\0", "\ufffd")
        return start, line

    def __len__(self) -> int:
        return len(self._starts)


class OffsetMap:
    """Content offset -> source offset, through the segments copied verbatim."""

    def __init__(self, segments: list[Segment]) -> None:
        self._segments = segments or [(0, 0, 0)]
        self._starts = [segment[0] for segment in self._segments]

    def source(self, offset: int) -> int:
        index = max(bisect.bisect_right(self._starts, offset) - 1, 0)
        content_start, source_start, length = self._segments[index]
        return source_start + min(max(offset - content_start, 0), length)


def block_map(content: str, first_line: int, lines: SourceLines) -> OffsetMap:
    """Map the content of a paragraph, heading or HTML block starting at `first_line`.

    Content line i is the end of source line first_line + i (only leading
    prefixes and, on the last line, trailing blanks are cut), so it is found
    with rfind: the prefix never follows the text.
    """
    segments: list[Segment] = []
    position = 0
    for index, part in enumerate(content.split("\n")):
        stripped = part.lstrip(_BLANKS)
        line_number = first_line + index
        if stripped and line_number < len(lines):
            line_start, line_text = lines.line(line_number)
            column = line_text.rfind(stripped)
            if column < 0:  # never expected; assume the text ends the line
                column = max(len(line_text.rstrip(_BLANKS)) - len(stripped), 0)
            segments.append(
                (
                    position + len(part) - len(stripped),
                    line_start + column,
                    len(stripped),
                )
            )
        position += len(part) + 1
    return OffsetMap(segments)


def cell_map(
    content: str, line_number: int, lines: SourceLines, cursors: dict[int, int]
) -> OffsetMap:
    """Map the content of a table cell on `line_number`.

    Cells are found left to right from a cursor per line, so two equal cells
    map to their own places. markdown-it drops the backslash of an escaped
    pipe (`\\|` -> `|`), so each `|` of the content is `\\|` in the source.
    """
    line_start, line_text = lines.line(line_number)
    parts = content.split("|")
    pattern = re.compile(r"\\\|".join(re.escape(part) for part in parts))
    match = pattern.search(line_text, cursors.get(line_number, 0))
    if match is None:  # never expected; fall back to a line map
        return block_map(content, line_number, lines)
    cursors[line_number] = match.end()
    segments: list[Segment] = []
    content_pos, source_pos = 0, line_start + match.start()
    for index, part in enumerate(parts):
        segments.append((content_pos, source_pos, len(part)))
        content_pos += len(part)
        source_pos += len(part)
        if index < len(parts) - 1:  # the `|` of the content is the `\|` of the source
            segments.append((content_pos, source_pos, 1))
            content_pos += 1
            source_pos += 2
    return OffsetMap(segments)


class PieceMap:
    """Fragment offset -> source offset for a fragment glued from mapped pieces.

    Text between the pieces (escaped Markdown text kept for context) has no
    exact source; an offset there maps to the end of the piece before it.
    """

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._pieces: list[tuple[int, int, OffsetMap]] = []

    def add(
        self,
        fragment_start: int,
        length: int,
        content_start: int,
        content_map: OffsetMap,
    ) -> None:
        self._starts.append(fragment_start)
        self._pieces.append((length, content_start, content_map))

    def source(self, offset: int) -> int:
        """The source offset of the character at fragment `offset`."""
        return self._source(offset, bisect.bisect_right(self._starts, offset) - 1)

    def source_end(self, offset: int) -> int:
        """The source offset just past the character before fragment `offset`."""
        return self._source(offset, bisect.bisect_left(self._starts, offset) - 1)

    def _source(self, offset: int, index: int) -> int:
        index = max(index, 0)
        length, content_start, content_map = self._pieces[index]
        inside = min(max(offset - self._starts[index], 0), length)
        return content_map.source(content_start + inside)

"""Offsets in decoded text to 1-based (line, column) positions.

Only LF, CRLF and CR end a line (str.splitlines also splits on form feeds,
vertical tabs and Unicode separators, which editors and linters do not).
"""

from __future__ import annotations

import bisect
import re

_LINE_END = re.compile(r"\r\n|\r|\n")


class LineIndex:
    def __init__(self, text: str) -> None:
        self._starts = [0] + [match.end() for match in _LINE_END.finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of `offset`; columns count code points."""
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def line_start(self, line: int) -> int:
        """Offset of the first character of 1-based `line`."""
        return self._starts[line - 1]

    @property
    def line_count(self) -> int:
        return len(self._starts)

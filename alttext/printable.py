"""Text safe to show: control characters in paths and values become visible escapes.

A file name or an alt text can hold any character. Printed raw, an escape
byte recolours or rewrites the terminal, a newline forges another message
line (or a CI log command), and a bidirectional override reorders what the
reader sees. Every path and value that reaches a terminal, a log or an
annotation goes through `printable` first.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, zero-width and
# bidirectional formatting characters, the BOM, and lone surrogates (the
# bytes of a file name that is not UTF-8, as Python decodes it).
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]"
)
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """`text` with each unprintable character written as a visible escape (`\\x1b`, `\\n`, `\\u202e`).

    A byte that was not UTF-8 in a file name shows as that byte (`\\xff`)."""
    return _UNPRINTABLE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """`text` of several lines, each made printable; the line ends stay."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

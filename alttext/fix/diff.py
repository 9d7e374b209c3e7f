"""Unified diffs over the documents' own bytes, for `git apply` and `patch -p1`.

The diff is computed on bytes, not decoded text, so a Latin-1 page, a BOM or
CRLF line ends appear in the patch exactly as they are in the file, and
applying the patch gives exactly the bytes `alttext fix` would write. Lines
end at LF only (that is what git and patch count); a last line without LF
gets the usual "\\ No newline at end of file" marker. File names are quoted
the way git quotes them (C-style, in double quotes) when they hold a quote, a
backslash, a control character or a non-ASCII byte.
"""

from __future__ import annotations

import os
import re
from difflib import SequenceMatcher

_LINE = re.compile(rb"[^\n]*\n|[^\n]+\Z")
NO_NEWLINE = b"\\ No newline at end of file\n"


def unified_diff(path: str, old: bytes, new: bytes, *, context: int = 3) -> bytes:
    """A unified diff of one file with a/ and b/ prefixes; empty when nothing changed."""
    if old == new:
        return b""
    old_lines, new_lines = _LINE.findall(old), _LINE.findall(new)
    name = os.fsencode(diff_path(path))
    # A trailing tab ends a name with spaces for patch, as git writes it.
    end = b"\t\n" if b" " in name else b"\n"
    out = [b"--- " + quote_path(b"a/" + name) + end, b"+++ " + quote_path(b"b/" + name) + end]
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        out.append(_hunk_header(group))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [_diff_line(b" ", line) for line in old_lines[i1:i2]]
                continue
            out += [_diff_line(b"-", line) for line in old_lines[i1:i2]]
            out += [_diff_line(b"+", line) for line in new_lines[j1:j2]]
    return b"".join(out)


def diff_path(path: str) -> str:
    """`path` as a diff names it: relative to the current folder when inside it, with /."""
    relative = os.path.relpath(path)
    if relative.startswith(os.pardir):
        relative = os.path.abspath(path).lstrip(os.sep)
    return relative.replace(os.sep, "/")


# git's quote_c_style: these bytes get a letter escape, other controls and
# non-ASCII bytes a three-digit octal one.
_C_ESCAPES = {0x07: b"\\a", 0x08: b"\\b", 0x09: b"\\t", 0x0A: b"\\n", 0x0B: b"\\v", 0x0C: b"\\f", 0x0D: b"\\r",
              0x22: b'\\"', 0x5C: b"\\\\"}


def quote_path(name: bytes) -> bytes:
    """`name` as git writes it in a patch header: as is, or C-quoted when it must be."""
    if not any(_needs_escape(byte) for byte in name):
        return name
    return b'"' + b"".join(_escape_byte(byte) for byte in name) + b'"'


def _needs_escape(byte: int) -> bool:
    return byte < 0x20 or byte >= 0x7F or byte in (0x22, 0x5C)


def _escape_byte(byte: int) -> bytes:
    if byte in _C_ESCAPES:
        return _C_ESCAPES[byte]
    return b"\\%03o" % byte if _needs_escape(byte) else bytes([byte])


def _hunk_header(group: list[tuple[str, int, int, int, int]]) -> bytes:
    old_range = _range(group[0][1], group[-1][2])
    new_range = _range(group[0][3], group[-1][4])
    return f"@@ -{old_range} +{new_range} @@\n".encode("ascii")


def _range(start: int, stop: int) -> str:
    """The 1-based `start,count` of a hunk side (an empty side names the line before it)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _diff_line(prefix: bytes, line: bytes) -> bytes:
    if line.endswith(b"\n"):
        return prefix + line
    return prefix + line + b"\n" + NO_NEWLINE

"""Blank out the parts of a Markdown document that cannot hold an image, before parsing.

Most of a document with an image is text around it, and markdown-it's block
parser costs time per line. A line at column 0 after a blank line always
starts a fresh top-level block (lists, quotes, paragraphs, tables and HTML
blocks of types 6-7 end at a blank line; such a line cannot be a lazy
continuation), unless it lies inside a fenced code block or an HTML block of
types 1-5 (`<script>`, `<pre>`, `<style>`, `<textarea>`, comments, `<?`,
`<!`), which run on past blank lines. So the document splits into chunks at
those lines; chunks without `![`, an HTML image hint or a reference
definition become empty lines. Line numbers stay the same, and the chunks
that remain parse exactly as they do in the whole document.

Fences and type 1-5 HTML blocks are tracked only where they start at column
0. A document with one that starts anywhere else (indented, in a list or a
quote) is parsed whole: it is rare, and tracking containers is the parser's job.
"""

from __future__ import annotations

import bisect
import re

from alttext.scan.markdown_myst import MYST_HINT

# Raw HTML that may hold an image: an image element, or a tag with a role.
HTML_HINT = re.compile(
    r"<(?:(?:img|input|area|svg)\b|[a-z][^<]*?\srole\s*=)", re.IGNORECASE
)
# Markdown that may be or serve an image: `![`, or a reference definition.
_MARKDOWN_HINT = re.compile(r"!\[|\]:")
_BOUNDARY = re.compile(r"\n[ \t]*\n(?=\S)")
_CONTAINER_PREFIX = r"(?=[ \t>*+\-\d])[ \t]*(?:(?:>|[-*+]|\d{1,9}[.)])[ \t]*)*"
_RAW_HTML_START = r"<(?:script|pre|style|textarea)(?![\w-])|<!|<\?"
_NOT_AT_COLUMN_0 = re.compile(
    rf"^{_CONTAINER_PREFIX}(?:```|~~~|{_RAW_HTML_START})", re.MULTILINE | re.IGNORECASE
)
_OPENER = re.compile(
    rf"^(?:(?P<fence>`{{3,}}|~{{3,}})(?P<info>[^\n]*)|(?P<html>{_RAW_HTML_START}))",
    re.MULTILINE | re.IGNORECASE,
)
_HTML_END = [
    (
        re.compile(r"<(?:script|pre|style|textarea)", re.IGNORECASE),
        re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
]


def keep_image_chunks(text: str) -> str:
    """`text` (LF line ends) with every chunk that cannot hold an image turned into empty lines."""
    if _NOT_AT_COLUMN_0.search(text):
        return text
    protected = _raw_blocks(text)
    if protected is None:
        return text
    block_starts = [start for start, _ in protected]
    starts = [0] + [
        match.end()
        for match in _BOUNDARY.finditer(text)
        if not _inside(match.end(), protected, block_starts)
    ]
    hints = [match.start() for match in _MARKDOWN_HINT.finditer(text)]
    if "<" in text:
        hints += [match.start() for match in HTML_HINT.finditer(text)]
    if "{" in text:
        hints += [match.start() for match in MYST_HINT.finditer(text)]
    keep = {bisect.bisect_right(starts, hint) - 1 for hint in hints}
    if len(keep) == len(starts):
        return text
    ends = starts[1:] + [len(text)]
    return "".join(
        text[start:end] if index in keep else "\n" * text.count("\n", start, end)
        for index, (start, end) in enumerate(zip(starts, ends))
    )


def _raw_blocks(text: str) -> list[tuple[int, int]] | None:
    """(start, end) of each fenced code block and type 1-5 HTML block starting at column 0.

    None when an opener may be the raw content of an HTML block of type 6-7
    (a line starting with `<` earlier in its run of non-blank lines): only the
    parser can tell, so the document is parsed whole.
    """
    blocks: list[tuple[int, int]] = []
    pos = 0
    while (opener := _OPENER.search(text, pos)) is not None:
        if _after_html_line(text, opener.start()):
            return None
        fence = opener.group("fence")
        if fence is not None:
            if fence[0] == "`" and "`" in opener.group("info"):
                pos = (
                    opener.end()
                )  # not a fence: backticks in a backtick fence's info string
                continue
            closer = re.compile(
                rf"^{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE
            )
            end_match = closer.search(text, opener.end())
        else:
            end_match = _html_end(text, opener.start())
        end = len(text) if end_match is None else _line_end(text, end_match.end())
        blocks.append((opener.start(), end))
        pos = max(end, opener.end())
    return blocks


def _after_html_line(text: str, line_start: int) -> bool:
    """Whether a line before `line_start`, back to the last blank line, starts with `<`."""
    end = line_start - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if not line.strip(" \t"):
            return False
        if line.lstrip(" ").startswith("<"):
            return True
        end = start - 1
    return False


def _html_end(text: str, start: int) -> re.Match[str] | None:
    for opener, closer in _HTML_END:
        if opener.match(text, start):
            return closer.search(text, start)
    return None


def _line_end(text: str, pos: int) -> int:
    newline = text.find("\n", pos)
    return len(text) if newline < 0 else newline + 1


def _inside(pos: int, blocks: list[tuple[int, int]], block_starts: list[int]) -> bool:
    index = bisect.bisect_right(block_starts, pos) - 1
    return index >= 0 and blocks[index][0] < pos < blocks[index][1]

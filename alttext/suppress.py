"""Images that a document or the configuration marks: decorative, or with findings silenced.

Inline marks are comments on the line before an image (or earlier on its own line):

    <!-- alttext: decorative -->          HTML and Markdown
    <!-- alttext: ignore ALT101 -->       only these rules (ids, names or prefixes)
    <!-- alttext: ignore -->              every rule
    .. alttext: decorative                reStructuredText (a comment)

`decorative = [globs]` in [tool.alttext] marks every image whose path matches.
A decorative image is meant to have no description: no finding is reported for
it, and `fix` writes nothing for it (except an empty alt where asked to).
Everything here is pure: text, images and settings in, marks out.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alttext.scan.base import ImageRef

_HTML_MARK = re.compile(r"<!--[ \t]*alttext:[ \t]*(?P<body>[^\n]*?)[ \t]*-->")
_RST_MARK = re.compile(r"^[ \t]*\.\.[ \t]+alttext:[ \t]*(?P<body>[^\n]*?)[ \t]*$", re.MULTILINE)
_BODY = re.compile(r"(?P<verb>decorative|ignore)(?:[ \t]+(?P<rules>[\w, \t-]+))?", re.IGNORECASE)


@dataclass(frozen=True)
class MarkProblem:
    """An inline mark that alttext cannot read, at a 1-based line."""

    line: int
    message: str


class _Unreadable(ValueError):
    def __init__(self, error: MarkProblem) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class Mark:
    """What is said about one image: decorative, and the rules silenced for it (None: all)."""

    decorative: bool = False
    ignored: frozenset[str] | None = frozenset()

    def silences(self, rule: str) -> bool:
        return self.decorative or self.ignored is None or rule in self.ignored


NO_MARK = Mark()


def image_marks(
    text: str,
    syntax: str,
    images: Sequence[ImageRef],
    *,
    decorative: Iterable[str] = (),
    document: str = "",
    root: str = ".",
    site_root: str | None = None,
) -> tuple[list[Mark], list[MarkProblem]]:
    """The mark of each image of `text` (its inline comment mark, and decorative by glob),
    and a MarkProblem for each comment mark that applies to an image but cannot be read.

    A comment mark applies to the images starting on the line after it, or later on
    its own line; marks that apply to no image (examples in code blocks) are not read.
    """
    patterns = tuple(decorative)
    inline = _inline_marks(text, syntax) if "alttext:" in text else {}
    newlines = [match.start() for match in re.finditer("\n", text)] if inline else []
    marks, errors = [], []
    for image in images:
        try:
            mark = _mark_before(image.start, inline, newlines)
        except _Unreadable as unreadable:
            mark = NO_MARK
            if unreadable.error not in errors:
                errors.append(unreadable.error)
        if patterns and is_decorative_path(image.src, patterns, document=document, root=root, site_root=site_root):
            mark = Mark(True, mark.ignored)
        marks.append(mark)
    return marks, errors


def _inline_marks(text: str, syntax: str) -> dict[int, list[tuple[int, int, str]]]:
    """(end offset, 1-based line, body) of each comment mark, by the 0-based line it ends on."""
    pattern = _RST_MARK if syntax == "rst" else _HTML_MARK
    found: dict[int, list[tuple[int, int, str]]] = {}
    for match in pattern.finditer(text):
        line = text.count("\n", 0, match.end())
        first = text.count("\n", 0, match.start()) + 1
        found.setdefault(line, []).append((match.end(), first, match["body"]))
    return found


def _mark_before(start: int, inline: dict[int, list[tuple[int, int, str]]], newlines: list[int]) -> Mark:
    if not inline:
        return NO_MARK
    line = bisect.bisect_left(newlines, start)
    candidates = [item for item in inline.get(line, []) if item[0] <= start] or inline.get(line - 1, [])
    if not candidates:
        return NO_MARK
    _, first_line, body = candidates[-1]
    return parse_mark(body, first_line)


def parse_mark(body: str, line: int) -> Mark:
    """`decorative`, `ignore` or `ignore RULES` as a Mark; anything else cannot be read."""
    from alttext.config import ConfigError, resolve_rules

    match = _BODY.fullmatch(body.strip())
    if match is None:
        raise _Unreadable(MarkProblem(line, f"unknown alttext mark {body.strip()!r} (use 'decorative', 'ignore' or 'ignore RULES')"))
    if match["verb"].lower() == "decorative":
        if match["rules"]:
            raise _Unreadable(MarkProblem(line, "'alttext: decorative' takes no rules"))
        return Mark(decorative=True)
    if not (match["rules"] or "").strip(" \t,"):
        return Mark(ignored=None)
    try:
        return Mark(ignored=resolve_rules(re.split(r"[\s,]+", match["rules"]), "alttext mark"))
    except ConfigError as error:
        raise _Unreadable(MarkProblem(line, str(error))) from None


def is_decorative_path(
    src: str, patterns: Sequence[str], *, document: str = "", root: str = ".", site_root: str | None = None
) -> bool:
    """Whether an image's `src` matches a `decorative` glob: as written, or as the file it
    names relative to `root` (the folder of the configuration); `/x` starts at `site_root`."""
    from alttext.walk import matches_any

    path = urllib.parse.unquote(urllib.parse.urlsplit(src).path) if src else ""
    if not path:
        return False
    if matches_any(path.lstrip("/") or path, patterns, root=root):  # as written; `/img/x.png` as `img/x.png`
        return True
    parts = urllib.parse.urlsplit(src)
    if parts.scheme or parts.netloc or not document:
        return False
    if path.startswith("/"):
        local = os.path.join(site_root or root, path.lstrip("/"))
    else:
        local = os.path.join(os.path.dirname(document), posixpath.normpath(path))
    return matches_any(os.path.normpath(local), patterns, root=root)

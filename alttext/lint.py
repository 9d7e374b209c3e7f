"""The core of `check`: images in, findings out.

`check_text` is pure (text in, findings out); `check_file` adds reading and
turns a file that cannot be read into an error instead of an exception.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from alttext import document
from alttext.config import Config
from alttext.findings import Finding
from alttext.quality import quality_problems
from alttext.scan import find_images, syntax_for_path
from alttext.scan.base import ImageRef, ScanTooComplex
from alttext.suppress import NO_MARK, Mark, image_marks
from alttext.textpos import LineIndex

# What each missing-alt rule says, by rule id; rST wording depends on the directive.
_MISSING_MESSAGES = {
    "ALT001": "<img> has no alt text",
    "ALT002": "<img> alt text is only whitespace",
    "ALT003": '<input type="image"> has no alt text',
    "ALT004": "<area> link has no alt text",
    "ALT005": '<svg role="img"> has no <title> or aria-label',
    "ALT006": 'element with role="img" has no aria-label or title',
    "ALT101": "Markdown image has no alt text",
}
_RST_MESSAGES = {
    "figure": "figure has no :alt: option",
    "substitution": "image substitution has no :alt: option",
    "image": "image has no :alt: option",
}
_COUNTING_LIMIT = 16  # images in a document above which a LineIndex is cheaper
_DOCUMENT_ERROR = re.compile(r"^(\d+): (.*)$", re.DOTALL)


@dataclass(frozen=True)
class FileError:
    """A file that could not be checked."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: error: {self.message}"


@dataclass
class FileResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def missing_alt_message(image: ImageRef) -> str:
    if image.rule == "ALT201":
        kind = next((word for word in _RST_MESSAGES if word in image.kind), "image")
        syntax = "MyST" if image.kind.startswith("myst-") else "reStructuredText"
        return f"{syntax} {_RST_MESSAGES[kind]}"
    return _MISSING_MESSAGES.get(image.rule or "", f"{image.kind} has no text alternative")


def check_images(path: str, text: str, images: list[ImageRef], config: Config, syntax: str = "") -> FileResult:
    """Findings for `images` of `text`, limited to the rules that `config` selects and
    without those that inline marks or the `decorative` globs silence; an unreadable
    inline mark is an error (and silences nothing)."""
    rules = config.rules
    marks, problems = image_marks(
        text, syntax, images, decorative=config.decorative, document=path, root=config.root, site_root=config.site_root
    )
    position: Callable[[int], tuple[int, int]] | None = None
    findings = []
    for image, mark in zip(images, marks):
        for rule, message in _problems(image, config):
            if rule in rules and not mark.silences(rule):
                position = position or _position_finder(text, len(images))
                line, column = position(image.start)
                end_line, end_column = position(image.end)
                findings.append(Finding(path, line, column, end_line, end_column, rule, message, image.src))
    return FileResult(findings, [FileError(path, problem.message, problem.line) for problem in problems])


def _position_finder(text: str, images: int) -> Callable[[int], tuple[int, int]]:
    """offset -> 1-based (line, column). With LF line ends and a few images, counting newlines
    up to each offset is much cheaper than indexing every line of the document."""
    if "\r" in text or images > _COUNTING_LIMIT:
        return LineIndex(text).position

    def by_counting(offset: int) -> tuple[int, int]:
        return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)

    return by_counting


def _problems(image: ImageRef, config: Config) -> list[tuple[str, str]]:
    if image.rule is not None:
        return [(image.rule, missing_alt_message(image))]
    if image.alt is None:
        return []
    return quality_problems(image.alt, image.src, config.max_alt_length)


def check_document(path: str, text: str, syntax: str, config: Config) -> FileResult:
    """Findings (and unreadable inline marks) for a decoded document (BOM removed) of the given syntax."""
    return check_images(path, text, find_images(text, syntax), config, syntax)


def check_text(path: str, text: str, syntax: str, config: Config) -> list[Finding]:
    """The findings of `check_document` alone."""
    return check_document(path, text, syntax, config).findings


def silenced_lines(path: str, text: str, syntax: str, config: Config) -> dict[int, list[Mark]]:
    """For hosts that find images their own way (Sphinx's doctree): the marks of the images
    of `text` that are decorative or have a rule silenced, by 1-based start line."""
    images = find_images(text, syntax)
    marks, _ = image_marks(
        text, syntax, images, decorative=config.decorative, document=path, root=config.root, site_root=config.site_root
    )
    lines: dict[int, list[Mark]] = {}
    for image, mark in zip(images, marks):
        if mark != NO_MARK:
            lines.setdefault(text.count("\n", 0, image.start) + 1, []).append(mark)
    return lines


def check_file(path: str, config: Config, syntax: str | None = None) -> FileResult:
    """Read, decode and check one file; a file that cannot be read gives an error, not an exception."""
    syntax = syntax or syntax_for_path(path)
    if syntax is None:
        return FileResult(errors=[FileError(path, "not an HTML, Markdown or reStructuredText file (by its extension)")])
    if _is_special_file(path):  # reading a named pipe or a device would wait forever
        return FileResult(errors=[FileError(path, "not a regular file (a pipe, socket or device)")])
    try:
        doc = document.read_document(path, html=syntax == "html", max_bytes=document.MAX_DOCUMENT_BYTES)
    except document.DocumentError as error:
        return FileResult(errors=[file_error(path, error)])
    return check_decoded(path, doc.text, syntax, config)


def _is_special_file(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # read_document says why
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_decoded(path: str, text: str, syntax: str, config: Config) -> FileResult:
    try:
        return check_document(path, text, syntax, config)
    except ScanTooComplex as error:
        return FileResult(errors=[FileError(path, f"{error}; not checked", error.line)])
    except RecursionError:
        return FileResult(errors=[FileError(path, f"too deeply nested for the {syntax} scanner")])
    except Exception as error:  # noqa: BLE001 - a scanner bug must not stop the other files
        return FileResult(errors=[FileError(path, f"internal error in the {syntax} scanner: {type(error).__name__}: {error}")])


def file_error(path: str, error: document.DocumentError) -> FileError:
    """A DocumentError ("path[:line]: message") as a FileError."""
    message = str(error)
    if message.startswith(path + ":"):
        message = message[len(path) + 1 :].lstrip()
    located = _DOCUMENT_ERROR.match(message)
    if located:
        return FileError(path, located.group(2), int(located.group(1)))
    return FileError(path, message)

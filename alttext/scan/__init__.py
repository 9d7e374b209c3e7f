"""Scanners: one per syntax, each a pure function from text to images."""

from __future__ import annotations

import os

from alttext.scan.base import AltSlot, ImageRef

SYNTAX_BY_SUFFIX = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
}


def syntax_for_path(path: str) -> str | None:
    """"html", "markdown" or "rst" by file extension, or None for other files."""
    return SYNTAX_BY_SUFFIX.get(os.path.splitext(path)[1].lower())


def find_images(text: str, syntax: str) -> list[ImageRef]:
    """Every image in `text` (decoded, BOM removed), in document order."""
    if syntax == "html":
        from alttext.scan.html import find_images as find
    elif syntax == "markdown":
        from alttext.scan.markdown import find_images as find
    elif syntax == "rst":
        from alttext.scan.rst import find_images as find
    else:
        raise ValueError(f"unknown syntax {syntax!r}")
    return find(text)


__all__ = ["SYNTAX_BY_SUFFIX", "AltSlot", "ImageRef", "find_images", "syntax_for_path"]

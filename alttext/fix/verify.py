"""Proof before writing: the new text differs from the old one only in alt text.

A rewrite is accepted only when the text outside the edits is identical, a
re-scan finds the same images (kind, source, order), every alt text that was
already there is unchanged, and each fixed image reads back exactly the alt
text that was written. Anything else is a list of reasons not to write.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alttext.findings import Edit
from alttext.scan import find_images
from alttext.scan.base import ImageRef

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@dataclass(frozen=True)
class Change:
    """One planned alt text: the image's index among the document's images, and its edit."""

    index: int
    alt: str
    edit: Edit


def verify_rewrite(
    old_text: str, new_text: str, syntax: str, old_refs: Sequence[ImageRef], changes: Sequence[Change]
) -> list[str]:
    """Reasons the rewrite is not provably alt-only; an empty list means it is."""
    problems = _edits_inside_slots(old_refs, changes)
    problems += _outside_unchanged(old_text, new_text, [change.edit for change in changes])
    if problems:
        return problems
    try:
        new_refs = find_images(new_text, syntax)
    except Exception as error:  # noqa: BLE001 - a scanner crash on our output is a reason not to write
        return [f"the new text could not be scanned again: {error}"]
    return _same_images(old_refs, new_refs, {change.index: change.alt for change in changes})


def _edits_inside_slots(old_refs: Sequence[ImageRef], changes: Sequence[Change]) -> list[str]:
    problems = []
    for change in changes:
        slot = old_refs[change.index].slot
        if slot is None or (change.edit.start, change.edit.end) != (slot.start, slot.end):
            problems.append(f"image {change.index + 1}: edit is not at the image's alt text slot")
        elif slot.form == "markdown" and not _markdown_renders_as(change.edit.replacement, change.alt):
            problems.append(f"image {change.index + 1}: description {change.edit.replacement!r} does not render "
                            f"as {change.alt!r}")
    return problems


@functools.lru_cache(maxsize=1)
def _commonmark() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _markdown_renders_as(description: str, alt: str) -> bool:
    """CommonMark's own reading of `![description](x)`: one image whose alt text is `alt`.

    This checks the meaning of the description independently of how the
    scanner reports alt text (as written or as rendered).
    """
    parser = _commonmark()
    blocks = parser.parse(f"![{description}](x)")
    images = [token for block in blocks for token in block.children or [] if token.type == "image"]
    if len(images) != 1:
        return False
    rendered: str = parser.renderer.renderInlineAsText(  # type: ignore[attr-defined]
        images[0].children or [], parser.options, {})
    return rendered == alt


def _outside_unchanged(old_text: str, new_text: str, edits: Sequence[Edit]) -> list[str]:
    """Walk old and new text together: every byte between edits must be the same."""
    old_at = new_at = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < old_at:
            return ["edits overlap"]
        gap = old_text[old_at : edit.start]
        if new_text[new_at : new_at + len(gap)] != gap:
            return [f"text before offset {edit.start} changed outside the alt text"]
        new_at += len(gap)
        if new_text[new_at : new_at + len(edit.replacement)] != edit.replacement:
            return [f"text at offset {edit.start} is not the planned alt text"]
        new_at += len(edit.replacement)
        old_at = edit.end
    if new_text[new_at:] != old_text[old_at:]:
        return ["text after the last edit changed"]
    return []


def _same_images(old_refs: Sequence[ImageRef], new_refs: Sequence[ImageRef], fixed: dict[int, str]) -> list[str]:
    if len(new_refs) != len(old_refs):
        return [f"the new text has {len(new_refs)} images where the old one had {len(old_refs)}"]
    problems = []
    for index, (old, new) in enumerate(zip(old_refs, new_refs)):
        where = f"image {index + 1} ({old.src})"
        if (new.kind, new.src) != (old.kind, old.src):
            problems.append(f"{where}: reads back as {new.kind} {new.src!r}")
        elif index in fixed:
            if not _reads_back(new, fixed[index]):
                problems.append(f"{where}: alt text reads back as {new.alt!r}, not {fixed[index]!r}")
        elif (new.alt, new.rule) != (old.alt, old.rule):
            problems.append(f"{where}: existing alt text {old.alt!r} would become {new.alt!r}")
    return problems


def _reads_back(new: ImageRef, alt: str) -> bool:
    """The scanner sees `alt` as the image's alt text, and no missing-alt rule applies.

    A Markdown scanner may report the description as written (with our
    backslash escapes and character references, some already resolved, as in
    table cells) rather than as rendered text; it must then unescape to exactly `alt`.
    """
    from markdown_it.common.utils import unescapeAll

    if new.needs_alt or new.alt is None:
        return False
    if new.alt == alt:
        return True
    return new.kind.startswith("markdown") and unescapeAll(new.alt) == alt

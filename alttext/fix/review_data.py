"""What each card of the review page holds: the target, its proposals entry and what `fix` wrote.

The entries are those `alttext suggest` writes, with paths relative to the
page's folder, so the page can save a file `alttext apply` reads. When `fix`
has already written a document, the images it left without alt text are
described as they are in the written document (its hash, their shifted
positions), so a reviewer can still give them alt text through `apply`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alttext.fix import proposals
from alttext.fix.plan import NO_SLOT_PROBLEM, Rewrite, Target
from alttext.textpos import LineIndex


@dataclass(frozen=True)
class Card:
    target: Target
    entry: dict[str, Any]  # as `alttext apply` reads it
    written: str | None = None  # the alt text `fix` wrote for this image
    decorative_problem: str | None = None

    @property
    def editable(self) -> bool:
        """False when the page cannot change what happens to this image through `apply`."""
        return self.written is None and self.target.problem != NO_SLOT_PROBLEM


def review_cards(targets: Sequence[Target], documents: dict[str, bytes], base: str,
                 written: Sequence[Rewrite] = ()) -> list[Card]:
    """One card per target; `written` are the rewrites `fix` wrote to disk."""
    by_path = {rewrite.plan.path: rewrite for rewrite in written}
    entries = proposals.build(targets, documents, base)["entries"]
    return [_card(target, entry, by_path.get(target.path)) for target, entry in zip(targets, entries)]


def _card(target: Target, entry: dict[str, Any], rewrite: Rewrite | None) -> Card:
    problem = proposals.decorative_problem(target)
    if rewrite is None:
        return Card(target, entry, decorative_problem=problem)
    alts = {change.index: change.alt for change in rewrite.changes}
    if target.index in alts:
        return Card(target, entry, written=alts[target.index])
    line, column = _position_after(target, rewrite)
    moved = {**entry, "line": line, "column": column, "document_sha256": proposals.sha256(rewrite.data)}
    return Card(target, moved, decorative_problem=problem)


def _position_after(target: Target, rewrite: Rewrite) -> tuple[int, int]:
    """Where `target` starts in the written document: the edits before it moved it."""
    shift = sum(len(change.edit.replacement) - (change.edit.end - change.edit.start)
                for change in rewrite.changes if change.edit.end <= target.ref.start)
    return LineIndex(rewrite.text).position(target.ref.start + shift)


def proposals_file(cards: Sequence[Card]) -> dict[str, Any]:
    """The proposals file the page starts from: the entries of the cards a reviewer can change."""
    return {**proposals.build([], {}, "."), "entries": [card.entry for card in cards if card.editable]}

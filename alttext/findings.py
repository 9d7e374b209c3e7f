"""The two types everything that reports or writes is built on."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Finding:
    """One problem with one image, at a 1-based source position."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    message: str
    src: str

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "rule": self.rule,
            "message": self.message,
            "src": self.src,
        }


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] of the original text with `replacement`."""

    start: int
    end: int
    replacement: str


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits, from the end backwards so offsets stay valid."""
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end))
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"overlapping edits at offsets {before.start} and {after.start}")
    for edit in reversed(ordered):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text

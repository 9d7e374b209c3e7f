"""Alt text from the model's description and the text read in the image.

Pure. `image_kind` tells a screenshot, logo, diagram or chart from a photo by the
model's words and the layout of the text; `compose_alt` writes the alt text within
the length limit, text quoted so a screen reader user hears it as text:

    Screenshot: "Create a new repository" with "Owner", "Repository name" and "Create"
    Logo: Acme Cloud
    Diagram: "Browser", "API gateway" and "Database"

Photos keep the description alone: text read from a photo is quoted only when the
model itself sees something that carries text (a sign, a poster, a book).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from alttext.caption.ocr import DRAWN, TextLine, TextReading, rows
from alttext.caption.salient import MIN_SCORE, is_noise, select_salient

__all__ = ["KINDS", "AltText", "compose_alt", "describe", "image_kind"]

KINDS = ("screenshot", "logo", "diagram", "chart", "photo")
LABELS = {"screenshot": "Screenshot", "logo": "Logo", "diagram": "Diagram", "chart": "Chart"}
_SCREEN_WORDS = frozenset(["screenshot", "screen", "computer", "website", "web", "page", "monitor", "laptop",
                           "window", "display", "interface"])
_LOGO_WORDS = frozenset(["logo", "emblem", "icon", "badge"])
_DIAGRAM_WORDS = frozenset(["diagram", "flowchart", "flow", "architecture"])
_CHART_WORDS = frozenset(["chart", "graph", "plot", "histogram"])
# Things in photos that carry text worth quoting.
_TEXT_BEARERS = frozenset(["sign", "signs", "poster", "banner", "book", "cover", "label", "billboard", "menu",
                           "newspaper", "magazine", "screen", "shirt", "plaque", "whiteboard", "blackboard"])
_NUMBER = re.compile(r"^[\s$€£+\-−]*\d[\d.,\s%kKmM]*$")


@dataclass(frozen=True)
class AltText:
    caption: str  # the alt text
    kind: str | None
    salient: tuple[str, ...]


def describe(description: str | None, reading: TextReading | None, max_length: int) -> AltText:
    """The alt text for an image: its kind, its salient text, and the two composed."""
    if reading is None or not reading.lines:
        kind = None if reading is None or reading.flat >= DRAWN else "photo"
        return AltText(compose_alt(description, kind, (), max_length), kind, ())
    kind = image_kind(description, reading)
    salient = select_salient(reading.lines, max_chars=max_length)
    if kind == "photo" and not (_words(description) & _TEXT_BEARERS):
        salient = ()  # no quotes from a photo unless it shows something that carries text
    return AltText(compose_alt(description, kind, salient, max_length), kind, salient)


def image_kind(description: str | None, reading: TextReading) -> str | None:
    """screenshot, logo, diagram, chart or photo; None when nothing tells."""
    words = _words(description)
    lines = [line for line in reading.lines if line.score >= MIN_SCORE and not is_noise(line.text)]
    if reading.flat < DRAWN and not words & (_SCREEN_WORDS | _LOGO_WORDS | _DIAGRAM_WORDS | _CHART_WORDS):
        return "photo"
    if not lines:
        return None
    if words & _CHART_WORDS or (len(lines) >= 4 and _share(lines, lambda t: bool(_NUMBER.match(t))) >= 0.4):
        return "chart"
    if words & _LOGO_WORDS or _looks_like_logo(lines, reading):
        return "logo"
    if words & _DIAGRAM_WORDS or _looks_like_diagram(lines, reading):
        return "diagram"
    return "screenshot"


def _looks_like_logo(lines: Sequence[TextLine], reading: TextReading) -> bool:
    """A name large against the image, alone or over a much smaller tagline, spanning much
    of its width."""
    heights = sorted((line.height for line in lines), reverse=True)
    words = sum(len(line.text.split()) for line in lines)
    span = max(line.box[2] for line in lines) - min(line.box[0] for line in lines)
    stands_out = words <= 4 or (len(heights) > 1 and heights[0] >= 2 * heights[1])
    return (len(lines) <= 3 and stands_out and heights[0] >= 0.25 * reading.height
            and span >= 0.3 * reading.width)


def _looks_like_diagram(lines: Sequence[TextLine], reading: TextReading) -> bool:
    """Short labels scattered over the picture, a few side by side: not a form's column of
    labels, nor a table's or a toolbar's long rows."""
    if len(lines) < 3 or _share(lines, lambda t: len(t.split()) <= 3) < 0.75:
        return False
    covered = sum(line.width * line.height for line in lines) / max(reading.width * reading.height, 1)
    grouped = rows(lines)
    apart = [row for row in grouped if len(row) > 1 and _gaps(row) >= 0.08 * reading.width]
    aligned = sum(1 for line in lines if any(other is not line and abs(other.box[0] - line.box[0]) <= 0.01 * reading.width
                                             for other in lines))
    return (covered < 0.15 and len(grouped) >= 2 and bool(apart) and max(len(row) for row in grouped) <= 4
            and aligned <= len(lines) / 3)


def _gaps(row: Sequence[TextLine]) -> int:
    """The narrowest space between neighbours in a row."""
    return min(right.box[0] - left.box[2] for left, right in pairwise(row))


def _share(lines: Sequence[TextLine], test: Callable[[str], bool]) -> float:
    return sum(1 for line in lines if test(line.text)) / len(lines)


def _words(text: str | None) -> set[str]:
    return set(re.findall(r"[a-z]+", (text or "").lower()))


def compose_alt(description: str | None, kind: str | None, salient: Sequence[str], max_length: int) -> str:
    """Alt text of at most `max_length` characters carrying as many of `salient` as fit.

    `salient` is in reading order, the first usually the title; later items are left out
    first, and a first item too long on its own is cut at a word with an ellipsis.
    `description` None means text only (no model description).
    """
    items = [_clean_item(item) for item in salient if item.strip()]
    if not items:
        return _cut(_sentence(description) or LABELS.get(kind or "", ""), max_length)
    for count in range(len(items), 0, -1):
        text = _render(description, kind, items[:count])
        if len(text) <= max_length:
            return text
    if len(_render(description, kind, [""])) + 12 > max_length:
        description = None  # the description leaves no room: the text alone
    room = max_length - len(_render(description, kind, [""]))
    return _render(description, kind, [_cut(items[0], room)]) if room > 0 else _cut(items[0], max_length)


def _render(description: str | None, kind: str | None, items: Sequence[str]) -> str:
    if kind == "logo":  # a name and its tagline: set apart by commas, a name in words: by spaces
        parts = [item.rstrip(",;:") for item in items]
        return f"Logo: {(' ' if all(' ' not in part for part in parts) else ', ').join(parts)}"
    quoted = [f'"{item}"' for item in items]
    label = LABELS.get(kind or "")
    if label:
        head, rest = quoted[0], quoted[1:]
        listed = f"{head} with {_and(rest)}" if kind in ("screenshot", "chart") and rest else _and(quoted)
        return f"{label}: {listed}"
    if description:
        return f"{_sentence(description)} with the text {_and(quoted)}"
    return f"Text: {_and(quoted)}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _clean_item(text: str) -> str:
    return " ".join(text.replace('"', "'").split())


def _sentence(description: str | None) -> str:
    return (description or "").strip()  # its case is the caption cleaner's business


def _cut(text: str, limit: int) -> str:
    """`text`, or its longest start that ends at a word and fits with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[:max(limit - 1, 0)]
    if not (head[-1:].isspace() or text[len(head)].isspace()) and " " in head.strip():  # inside a word: drop it
        head = head[:head.rstrip().rfind(" ")]
    return head.rstrip(" ,;:") + "…"

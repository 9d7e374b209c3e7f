"""Which of the lines read from an image a sighted reader takes in first.

Pure: lines with their boxes and confidences in, a few strings out, in reading
order after the first. Tall lines (titles, headings, logo words) come first, then short labels
(buttons, tabs, fields, diagram boxes); long body lines only when nothing else
is there. Low-confidence fragments, stray letters and window or browser chrome
(menu bars, addresses, clocks) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from statistics import median

from alttext.caption.ocr import TextLine

__all__ = ["MIN_SCORE", "is_noise", "select_salient"]

MIN_SCORE = 0.8  # below this the recogniser is guessing: better no quote than a wrong one
CAP_TO_X_HEIGHT = 1.4  # capitals and digits stand about this much taller than lower-case letters
LABEL_WORDS = 4  # up to this many words a line reads as a label, a tab or a button
BODY_WORDS = 9  # from this many words a line is body text
# Menu-bar words: a line made only of these is the window's menu, not the image's content.
MENU_WORDS = frozenset(
    ["file", "edit", "view", "history", "bookmarks", "profiles", "tab", "tools", "help", "window", "go", "run", "terminal", "selection", "insert", "format", "navigate", "code", "refactor", "build", "debug", "preferences"]
)
_ADDRESS = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://|\bwww\.|^[\w.-]+\.(com|org|net|io|dev|app|html?)(/\S*)?$|^localhost\b)")
# A status bar's clock, alone or after a date ("Aug 27 20:43", "Mon 9:41 AM"), or a bare date.
_CLOCK_OR_DATE = re.compile(r"^\s*([a-z]{2,9}\.?\s+)?(\d{1,2}\s+)?(\d{1,2}:\d{2}(:\d{2})?\s*([ap]\.?m\.?)?"
                            r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4})\s*$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


def select_salient(lines: Sequence[TextLine], *, max_items: int = 6, max_chars: int = 125,
                   min_score: float = MIN_SCORE) -> tuple[str, ...]:
    """Up to `max_items` lines (about `max_chars` characters in all): the most salient
    first (the title, as a reader sees it first), then the others in the order of `lines`
    (reading order)."""
    kept = [(index, line) for index, line in enumerate(lines) if line.score >= min_score and not is_noise(line.text)]
    if not kept:
        return ()
    typical = median(_size(line) for _, line in kept)
    bars = _top_bar(line for _, line in kept)
    ranked = sorted(kept, key=lambda item: _salience(item[1], typical, item[1] in bars), reverse=True)
    chosen: dict[str, int] = {}
    used = 0
    for index, line in ranked:
        text = line.text.strip()
        if text.casefold() in chosen or len(chosen) >= max_items:
            continue
        if chosen and (used + len(text) > max_chars or _is_body(text)):
            continue
        chosen[text.casefold()] = index
        used += len(text) + 4  # quotes and a separator
    first = ranked[0][0]
    rest = set(chosen.values()) - {first}
    return (lines[first].text.strip(), *(line.text.strip() for index, line in kept if index in rest))


def _salience(line: TextLine, typical: float, in_bar: bool) -> tuple[int, bool, bool, bool, int]:
    """Letter size in steps of a fifth of the typical size first; then anything but body
    text, anything but the site's navigation bar, short labels, and higher up in the image."""
    return (round(5 * _size(line) / max(typical, 1.0)), not _is_body(line.text), not in_bar,
            len(line.text.split()) <= LABEL_WORDS, -line.box[1])


def _top_bar(lines: Iterable[TextLine]) -> list[TextLine]:
    """The lines of a row of three or more at the very top: a site's or an app's navigation,
    the same on every page, so less telling than the page's own labels."""
    from alttext.caption.ocr import rows

    found = list(lines)
    if not found:
        return []
    bottom = max(line.box[3] for line in found)
    first = rows(found)[0]
    return first if len(first) >= 3 and first[0].box[1] < 0.12 * bottom else []


def _size(line: TextLine) -> float:
    """The letters' x-height: the measured ink band, less the capitals' extra height when no
    lower-case letter is in the line; a third of the box where it could not be measured."""
    if line.size < 3:
        return line.height / 3
    return line.size if any(char.islower() for char in line.text) else line.size / CAP_TO_X_HEIGHT


def _is_body(text: str) -> bool:
    return len(text.split()) >= BODY_WORDS


def is_noise(text: str) -> bool:
    """Fragments no one would put in alt text: stray letters, symbols, chrome."""
    words = _WORD.findall(text)
    letters = sum(len(word) for word in words)
    if letters < 2 or (len(words) == 1 and len(words[0]) == 1):
        return True  # a stray letter, an icon read as a glyph
    if letters < len(text.replace(" ", "")) / 2:
        return True  # mostly punctuation: borders, arrows, separators
    if _ADDRESS.search(text) or _CLOCK_OR_DATE.match(text):
        return True
    lowered = [word.lower() for word in words]
    return len(lowered) >= 2 and all(word in MENU_WORDS for word in lowered)

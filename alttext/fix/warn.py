"""What a reviewer should look at twice: pure checks over the proposed alt texts."""

from __future__ import annotations

import os
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Sequence

from alttext.fix.plan import Target

_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_FILLER = frozenset({"a", "an", "the"})


def add_warnings(targets: Sequence[Target]) -> None:
    """Attach reviewer warnings to each target that has a proposed alt text."""
    proposed = [target for target in targets if target.alt]
    _same_caption_on_one_page(proposed)
    for target in proposed:
        assert target.alt is not None
        if _repeats_file_name(target.alt, target.ref.src):
            target.warnings.append("only repeats the image's file name")
        if target.hit_limit:
            target.warnings.append("the caption hit the model's length limit and may be cut short")
        if _text_left_out(target.alt, target.image_text):
            target.warnings.append("the image holds more text than its alt text carries; "
                                   "offer the full text read as a long description")


def _same_caption_on_one_page(targets: Sequence[Target]) -> None:
    groups: dict[tuple[str, str], list[Target]] = defaultdict(list)
    for target in targets:
        groups[(target.path, " ".join(_words(target.alt or "")))].append(target)
    for group in groups.values():
        identities = {target.content_hash or target.image.path or target.ref.src for target in group}
        if len(identities) < 2:
            continue  # the same image shown twice may well have the same alt text
        for target in group:
            others = [f"line {other.line}" for other in group if other is not target]
            target.warnings.append(f"same alt text as a different image on this page ({', '.join(others)})")


def _text_left_out(alt: str, text: str) -> bool:
    """Some word of the text read is not in the alt text."""
    return bool(set(_words(text)) - set(_words(alt)))


def _words(text: str) -> list[str]:
    spaced = _CAMEL.sub(" ", text)
    return [word for word in (w.lower() for w in _WORD.findall(spaced)) if word not in _FILLER]


def _same_words(alt: str, other: str) -> bool:
    alt_words = _words(alt)
    return bool(alt_words) and alt_words == _words(other)


def _repeats_file_name(alt: str, src: str) -> bool:
    if not src or src.startswith("data:"):
        return False
    name = os.path.basename(urllib.parse.unquote(urllib.parse.urlsplit(src).path))
    stem = os.path.splitext(name)[0]
    return bool(stem) and _same_words(alt, stem)

"""What is written on a page that is not in English: the model writes only English.

`text-only` keeps the text read from the image (it is in the page's language
already) and drops the English description; without such text the image is
left for review. `warn` writes the English proposal with a warning. `review`
writes nothing and leaves the English draft for a person to translate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alttext.context import Sourced
from alttext.fix.slots import normalize_alt


@dataclass(frozen=True)
class Decision:
    alt: str | None  # what may be written; None: nothing
    problem: str | None = None  # why nothing is written
    warning: str | None = None  # what the reviewer should know


def decide(alt: str, image_text: str, salient: Sequence[str], *, language: Sourced, policy: str,
           max_length: int) -> Decision:
    """The decision for the English proposal `alt` of an image on a page in `language`."""
    said = f"the page's language is {language.describe()}"
    if policy == "warn":
        return Decision(alt, warning=f"{said}, and this proposal is in English: translate it before publishing")
    if policy == "review":
        return Decision(None, "left for review: the page is not in English",
                        f"{said}; the English proposal is left for a person to translate")
    text = text_only_alt(image_text, salient, max_length)
    if text is None:
        return Decision(None, "left for review: the page is not in English and the image holds no text to use",
                        f"{said}; no text was read from the image, and the model writes only English")
    if text == alt:
        return Decision(text)
    return Decision(text, warning=f"{said}: the proposal keeps only the text read from the image, "
                                  f"without the English description {alt!r}")


def text_only_alt(image_text: str, salient: Sequence[str], max_length: int) -> str | None:
    """Alt text made only of the text read from the image, with no English word of ours.

    (The captioning core's composer labels text in English, `Text: "a" and "b"`;
    here the parts are only set apart by commas.) Later parts are left out first;
    a first part too long on its own is cut at a word, with an ellipsis.
    """
    parts = [" ".join(part.split()) for part in (salient or (image_text,)) if part and part.strip()]
    if not parts:
        return None
    for count in range(len(parts), 0, -1):
        joined = ", ".join(parts[:count])
        if len(joined) <= max_length:
            return normalize_alt(joined)
    head = parts[0][: max_length - 1]
    if " " in head and not parts[0][len(head)].isspace():
        head = head[: head.rfind(" ")]  # not in the middle of a word
    return normalize_alt(head.rstrip(" ,;:") + "\u2026")

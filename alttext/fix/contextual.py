"""Proposals that fit the page: the document's context and language applied to each caption.

Runs after captioning, before the reviewer warnings, on every target whose
alt text came from the captioner:

1. an image that is the only content of a link gets the link's name
   (alttext.fix.link_purpose); the model's description becomes a note;
2. a proposal that repeats the figure caption gets that repetition cut out,
   or no proposal at all when nothing else is left: a screen reader reads the
   caption right after the image;
3. on a page whose language is not English, the English words of the model
   are never written silently (alttext.fix.language_policy).

A prompted model's answer was asked with the link, the caption and the page's
language in its prompt: only step 2 applies to it, as a check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alttext.context import is_english
from alttext.fix.language_policy import decide
from alttext.fix.link_purpose import badge_label, link_purpose
from alttext.fix.plan import Target
from alttext.fix.slots import normalize_alt
from alttext.language import DEFAULT_NON_ENGLISH, NON_ENGLISH_POLICIES

_WORD = re.compile(r"[^\W_]+")
_FILLER = frozenset({"a", "an", "the"})
# Words that only join the cut-out caption to what is left ("a chart *of* sales").
_DANGLING = re.compile(r"(?i)(?:\s+(?:of|by|with|for|in|on|at|to|from|and|showing|shows|about))+\s*$")
_MIN_LEFT_WORDS = 1  # a proposal with no word of its own left after the cut is no proposal


def apply_context(targets: Sequence[Target], *, non_english: str = DEFAULT_NON_ENGLISH, max_length: int = 125) -> None:
    """Adjust every captioned proposal to its context; see the module docstring."""
    if non_english not in NON_ENGLISH_POLICIES:
        raise ValueError(f"non-english must be one of {', '.join(NON_ENGLISH_POLICIES)}, not {non_english!r}")
    for target in targets:
        if target.prompted:  # the model was told the link, the caption and the language: only check it
            if target.alt and not target.problem:
                _without_figure_caption(target)
            continue
        named = target.context.is_functional and _name_the_link(target)
        if not (target.captioned or named) or target.alt is None or target.problem:
            continue
        _without_figure_caption(target)
        if not is_english(target.context.language_code):
            _apply_language_policy(target, non_english, max_length)


def _name_the_link(target: Target) -> bool:
    """Give a linked image the link's name; True when it got one.

    Besides captioned images, this names an SVG by its own title's text (a
    badge's `<title>build: passing</title>`), and a remote status badge that was
    not fetched: its URL says what it reports.
    """
    link = target.context.link
    assert link is not None
    own_title = target.image.text if not target.captioned and target.problem is None else None
    remote_badge = (target.alt is None and not target.is_error and target.image.payload is None
                    and badge_label(target.ref.src) is not None)
    if not (target.captioned and not target.problem) and own_title is None and not remote_badge:
        return False
    if own_title is not None and not target.image_text:
        target.image_text = own_title
    name = link_purpose(link.target.value, target.ref.src, target.image_text, target.salient)
    if not name:
        return False
    seen = f"the model saw: {target.alt!r}" if target.captioned else f"the image says: {own_title!r}" if own_title else (
        "the badge was not fetched; its URL says what it reports")
    target.alt, target.problem = normalize_alt(name), None
    target.hit_limit = False  # the model's caption, which may have been cut short, is not the proposal
    target.warnings.append(
        f"the image is the only content of a link to {link.target.value} (line {link.target.line}): "
        f"its alt text names the link, not the picture ({seen})"
    )
    return True


def _without_figure_caption(target: Target) -> None:
    caption = target.context.figure_caption
    if caption is None or not target.alt:
        return
    shorter = without_repetition(target.alt, caption.value)
    if shorter == target.alt:
        return
    where = f"line {caption.line}" if caption.line else "the document"
    if shorter is None:
        target.warnings.append(f"the proposal repeats the figure's caption ({where}), which is read next to the "
                               "image: write what the caption does not say, or nothing more")
        target.problem = "no proposal: the caption model only repeated the figure's caption"
        return
    target.warnings.append(f"cut the words that repeat the figure's caption ({where}) out of the proposal")
    target.alt = shorter


def without_repetition(alt: str, caption: str) -> str | None:
    """`alt` without the words of `caption` it repeats word for word.

    None when the alt text says nothing else (it is the caption, or a part of
    it); `alt` itself when it does not repeat the caption.
    """
    alt_words, caption_words = _words(alt), _words(caption)
    if not alt_words or not caption_words:
        return alt
    if _contains(caption_words, alt_words):
        return None
    # Only a caption of some words that starts or ends the alt text is cut: cutting
    # from the middle (or cutting one word) would leave a sentence without its subject.
    if len(caption_words) < _MIN_LEFT_WORDS or not (
        alt_words[: len(caption_words)] == caption_words or alt_words[-len(caption_words) :] == caption_words
    ):
        return alt
    pattern = r"[\W_]+".join(rf"(?:(?:a|an|the)[\W_]+)?{re.escape(word)}" for word in caption_words)
    left = re.sub(rf"(?i)^\W*{pattern}\b|\b{pattern}\W*$", " ", alt, count=1)
    left = re.sub(r"\s+([,.;:])", r"\1", " ".join(left.split())).strip(" ,;:-")
    left = _DANGLING.sub("", left).strip(" ,;:-")
    if len(_words(left)) < _MIN_LEFT_WORDS:
        return None
    return normalize_alt(left[:1].upper() + left[1:])


def _words(text: str) -> list[str]:
    return [word for word in (w.lower() for w in _WORD.findall(text)) if word not in _FILLER]


def _contains(words: list[str], part: list[str]) -> bool:
    return f" {' '.join(part)} " in f" {' '.join(words)} "


def _apply_language_policy(target: Target, policy: str, max_length: int) -> None:
    assert target.alt is not None and target.context.language is not None
    decision = decide(target.alt, target.image_text, target.salient,
                      language=target.context.language, policy=policy, max_length=max_length)
    if decision.warning:
        target.warnings.append(decision.warning)
    if decision.problem:
        target.problem = decision.problem
    elif decision.alt != target.alt:
        target.alt, target.hit_limit = decision.alt, False

"""Tidy a raw model caption into alt text: a pure function, no I/O.

Captioning models trained on COCO repeat themselves near the length limit
("a woman in a hospital bed with a woman in a hospital bed", "a living room
with a couch and a tv and a couch"), stutter ("a a dog", "on the on the"),
stop in the middle of a phrase ("a dog sitting on a"), and open with words a
screen reader user does not need ("a picture of"). `clean_caption` removes
exactly those patterns and leaves language alone: reduplicated words and names
("bye bye", "walla walla", "new york new york"), two like subjects ("a man and
a man"), parallel phrases ("a man with a dog and a woman with a dog") and whole
sentences ("it is raining in the city").

Bump CLEANING_VERSION whenever the output of `clean_caption` can change: it is
part of the caption cache key, so cached captions are re-cleaned.
"""

from __future__ import annotations

import re

CLEANING_VERSION = "2"

# Openings that describe the medium, not the content. Longest first. ("There is", "it is"
# and the like open sentences: they stay.)
LEAD_INS = (
    ("this", "is", "a", "picture", "of"),
    ("this", "is", "an", "image", "of"),
    ("there", "is", "a", "picture", "of"),
    ("a", "photograph", "of"),
    ("a", "picture", "of"),
    ("a", "photo", "of"),
    ("an", "image", "of"),
    ("an", "picture", "of"),
    ("an", "photo", "of"),
    ("the", "image", "of"),
    ("picture", "of"),
    ("image", "of"),
    ("photo", "of"),
)

# Words of a known BLIP decoding artifact ("arafed man sitting ..."); never real words.
ARTIFACT_WORDS = frozenset({"arafed", "araffe", "arafe", "arafly", "arrafed", "arafled"})

ARTICLES = frozenset({"a", "an", "the"})
# Words that cannot end a caption: the length limit cut the phrase they open.
DANGLING_WORDS = ARTICLES | frozenset({
    "and", "or", "but", "nor", "while", "as", "than", "with", "of", "to", "from", "at",
    "by", "for", "near", "into", "onto", "that", "which", "who", "whose", "is", "are",
    "was", "were", "its", "his", "their", "my", "your", "our", "some", "another", "each",
    "every", "very",
})
# Prepositions that also work as particles ("a light turned on"): only dropped when
# the article after them was dropped too ("a dog sitting on a").
PARTICLES = frozenset({
    "on", "in", "up", "down", "off", "out", "over", "around", "behind", "inside",
    "outside", "above", "below", "along", "under", "across", "through", "beside",
    "between", "against", "atop", "next", "top", "front",
})
# Multi-word prepositions left dangling as a whole ("standing in front of a").
DANGLING_PHRASES = (
    ("in", "the", "middle", "of"),
    ("on", "top", "of"),
    ("in", "front", "of"),
    ("on", "the", "side", "of"),
    ("next", "to"),
    ("close", "to"),
    ("out", "of"),
)

# Words that join a repeated phrase onto the caption ("... with a cat").
CONNECTORS = frozenset({"and", "with", "or", "&", "plus"})
# Connectors that coordinate: "a man and a man" is two men, not a repeat.
COORDINATORS = frozenset({"and", "or", "&", "plus"})
# Prepositions joining a repeat; only long repeats count ("a man next to a man" may be two men).
PREPOSITIONS = frozenset({
    "next", "to", "near", "beside", "behind", "in", "on", "at", "by", "under", "over",
    "of", "front", "top", "around",
})
LONG_REPEAT = 3
FUNCTION_WORDS = DANGLING_WORDS | PARTICLES | PREPOSITIONS | CONNECTORS
# A word ending in -ing this long, said twice in a row, is a stutter ("riding riding");
# shorter ones are words ("bling bling", "ding ding").
STUTTERED_VERB_LENGTH = 6

_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]]|'s\b|n't\b)")
_SPACE_AFTER_OPEN = re.compile(r"([(\[])\s+")
_EDGE_PUNCT = ".,;:!?\"'"
# Control characters, and the replacement character a byte-level tokenizer leaves when the
# length limit cuts a multi-byte character in half.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def clean_caption(text: str, *, final_period: bool = False, max_length: int | None = None) -> str:
    """Return `text` as tidy alt text; see the module docstring for what changes."""
    words = _drop_final_periods(_tokenize(text))
    words = _drop_artifacts(words)
    words = _tidy(words)
    if max_length is not None:
        room = max_length - 1 if final_period else max_length
        words = _tidy(_cap_length(words, room))
    return _finish(words, final_period=final_period)


def _tokenize(text: str) -> list[str]:
    text = " ".join(_UNPRINTABLE.sub("", text).split())
    text = _SPACE_AFTER_OPEN.sub(r"\1", _SPACE_BEFORE_PUNCT.sub(r"\1", text))
    # A token of punctuation alone ("," or ".") carries nothing once spacing is fixed.
    return [word for word in text.split(" ") if word.strip(_EDGE_PUNCT + "-")]


def _drop_final_periods(words: list[str]) -> list[str]:
    """Whether a caption ends in a period is decided last, and must not cost length."""
    while words and words[-1].endswith("."):
        words = words[:-1] + [words[-1][:-1]] if len(words[-1]) > 1 else words[:-1]
    return words


def _key(word: str) -> str:
    """Compare words without case or edge punctuation; "an" and "the" count as "a"."""
    key = word.strip(_EDGE_PUNCT).lower()
    return "a" if key in ARTICLES else key


def _keys(words: list[str]) -> list[str]:
    return [_key(w) for w in words]


def _drop_artifacts(words: list[str]) -> list[str]:
    """'arafed man' -> 'a man'; 'an arafed dog' -> 'a dog': the artifact stands where
    an article belongs, so keep exactly one article, agreeing with the next word."""
    kept: list[str] = []
    for index, word in enumerate(words):
        if _key(word) not in ARTIFACT_WORDS:
            kept.append(word)
            continue
        following = words[index + 1] if index + 1 < len(words) else ""
        if following and _key(following) not in ARTIFACT_WORDS:
            if kept and kept[-1].lower() in ("a", "an"):
                kept.pop()
            if not kept or kept[-1].lower() not in ARTICLES:
                kept.append("an" if following[:1].lower() in "aeiou" else "a")
    return kept or words  # artifacts alone: better said than nothing


def _strip_lead_ins(words: list[str]) -> list[str]:
    changed = True
    while changed:
        changed = False
        lowered = [w.strip(_EDGE_PUNCT).lower() for w in words]
        for lead in LEAD_INS:
            # Keep the lead-in when nothing would be left ("a picture of").
            if tuple(lowered[: len(lead)]) == lead and len(words) > len(lead):
                words, changed = words[len(lead):], True
                break
    return words


def _tidy(words: list[str]) -> list[str]:
    """Repeat the repair steps until none changes anything: each can expose another."""
    while True:
        before = words
        words = _strip_lead_ins(words)
        words = _drop_adjacent_repeats(words)
        words = _drop_repeated_tail(words)
        words = _drop_dangling_tail(words)
        if words == before:
            return words


def _drop_adjacent_repeats(words: list[str]) -> list[str]:
    """'a a dog' -> 'a dog'; 'a street sign a street sign' -> 'a street sign'; 'bye bye' stays."""
    keys = _keys(words)
    for size in range(len(words) // 2, 0, -1):
        for start in range(len(words) - 2 * size + 1):
            first, second = keys[start:start + size], keys[start + size:start + 2 * size]
            if first == second and _is_stutter(first):
                # Keep the second copy: "a an apple" keeps the article that agrees.
                return _drop_adjacent_repeats(words[:start] + words[start + size:])
    return words


def _is_stutter(span: list[str]) -> bool:
    """A phrase said twice in a row that language does not double: one with a function word
    ("a", "on the"), three words or more, or a long -ing verb. Reduplicated words and names
    ("bye bye", "mahi mahi", "no no", "10 10", "new york new york") are left alone, and so are
    lists ("a cat and a cat and"): _drop_repeated_tail tells a list from a restated end."""
    if len(span) > 1 and any(key in COORDINATORS for key in span):
        return False
    if len(span) >= LONG_REPEAT or any(key in FUNCTION_WORDS for key in span):
        return True
    return len(span) == 1 and span[0].endswith("ing") and len(span[0]) >= STUTTERED_VERB_LENGTH


def _has_content(keys: list[str]) -> bool:
    return any(k and k not in DANGLING_WORDS for k in keys)


def _drop_repeated_tail(words: list[str]) -> list[str]:
    """Drop 'JOINER PHRASE' at the end when PHRASE restates the caption: its start ('a cat
    laying on a bed with a cat'), the words just before the joiner ('a man wearing a tie and a
    tie'), or a phrase in between that another word introduced ('a man riding a skateboard
    down a street with a skateboard'). Not a parallel phrase ('a man with a dog and a woman
    with a dog') nor like subjects ('a man and a man')."""
    keys = _keys(words)
    for split in range(1, len(words) - 1):
        joiner, head, tail = keys[split], keys[:split], keys[split + 1:]
        if not _has_content(tail) or not _restates(head, joiner, tail):
            continue
        if joiner in CONNECTORS or (joiner in PREPOSITIONS and len(tail) >= LONG_REPEAT):
            kept = _drop_joiner_words(words[:split], keys[:split])
            if kept:  # "on with on" is all joiners: better said than nothing
                return kept
    return words


def _restates(head: list[str], joiner: str, tail: list[str]) -> bool:
    size = len(tail)
    if joiner in COORDINATORS and _split_on(head, joiner) == [tail] * len(_split_on(head, joiner)):
        return False  # "a man and a man (and a man)": like subjects
    if head[-size:] == tail or head[:size] == tail:
        return True
    starts = [start for start in range(1, len(head) - size) if head[start:start + size] == tail]
    return any(head[start - 1] != joiner for start in starts)


def _split_on(keys: list[str], joiner: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for key in keys:
        if key == joiner:
            parts.append([])
        else:
            parts[-1].append(key)
    return parts


def _drop_joiner_words(words: list[str], keys: list[str]) -> list[str]:
    """Remove the rest of a multi-word joiner ('next' of 'next to', 'on top' of 'on top of')."""
    while words and keys[-1] in PREPOSITIONS | CONNECTORS:
        words, keys = words[:-1], keys[:-1]
    return words


def _drop_dangling_tail(words: list[str]) -> list[str]:
    """'a dog sitting on a' -> 'a dog sitting'; 'a man standing in front of a' -> 'a man standing'."""
    dropped_article = False
    while len(words) > 1:
        words = _strip_trailing_punctuation(words)
        lowered = [w.strip(_EDGE_PUNCT).lower() for w in words]
        phrase = next((p for p in DANGLING_PHRASES if tuple(lowered[-len(p):]) == p), None)
        if phrase is not None and len(words) > len(phrase):
            words = words[: -len(phrase)]
        elif lowered[-1] in DANGLING_WORDS or (dropped_article and lowered[-1] in PARTICLES):
            dropped_article = lowered[-1] in ARTICLES or lowered[-1] in DANGLING_WORDS
            words = words[:-1]
        else:
            break
    return words


def _strip_trailing_punctuation(words: list[str]) -> list[str]:
    """Commas, colons and the like left at the end; a final period is decided later."""
    last = words[-1].rstrip(",;:-&")
    return words[:-1] + [last] if last else words[:-1]


def _cap_length(words: list[str], room: int) -> list[str]:
    """Keep whole words while they fit in `room` characters; cut a single long word."""
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > room:
            break
        kept.append(word)
    if not kept and words and room > 0:
        kept = [words[0][:room]]
    return kept


def _finish(words: list[str], *, final_period: bool) -> str:
    text = " ".join(words).rstrip(" ,;:-.")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if final_period and text[-1] not in ".!?":
        text += "."
    return text

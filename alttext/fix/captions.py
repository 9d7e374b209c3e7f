"""Captions for the images that need them, from whatever captioner is given.

The captioner is anything with `caption_results(images, contexts=...)`
returning objects with `caption`, `raw`, `error` and `content_hash`
(alttext.caption.captioner.Captioner, or fixed captions in tests), and,
where it reads text in images, `text`, `salient`, `kind` and `description`.
Each image goes with the document context of its first use. It is called once for the whole run,
so identical images are captioned once and a warm cache loads no model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

from alttext.context import ImageContext
from alttext.fix.plan import Target
from alttext.fix.slots import normalize_alt


class CaptionSource(Protocol):
    def caption_results(self, images: Sequence[str | bytes], *,
                        contexts: Sequence[ImageContext] | None = None) -> list[Any]: ...


def pending(targets: Sequence[Target]) -> list[Target]:
    """The targets that still need a caption from the model."""
    return [target for target in targets if target.needs_caption]


def caption_targets(targets: Sequence[Target], captioner: CaptionSource, *, max_tokens: int | None = None) -> None:
    """Fill in `alt` (or `problem`) of every target that needs a caption.

    Each distinct image (file path or bytes) is sent once, however many
    documents show it.
    """
    todo = pending(targets)
    if not todo:
        return
    unique: dict[str | bytes, int] = {}
    contexts: list[ImageContext] = []
    for target in todo:
        if _key(target) not in unique:
            unique[_key(target)] = len(unique)
            contexts.append(target.context)
    results = captioner.caption_results(list(unique), contexts=contexts)
    for target in todo:
        _take(target, results[unique[_key(target)]], max_tokens)


def _key(target: Target) -> str | bytes:
    payload = target.image.payload
    assert payload is not None
    return os.path.realpath(payload) if isinstance(payload, str) else payload


def _take(target: Target, result: Any, max_tokens: int | None) -> None:
    target.content_hash = getattr(result, "content_hash", None)
    target.image_text = getattr(result, "text", None) or ""
    target.salient = tuple(getattr(result, "salient", None) or ())
    target.image_kind = getattr(result, "kind", None)
    target.description = getattr(result, "description", None)
    error = getattr(result, "error", None)
    alt = normalize_alt(result.caption or "") if not error else ""
    if error:
        target.problem, target.is_error = f"cannot caption image: {error}", True
    elif not alt:
        target.problem = "the model gave no usable caption; write this alt text by hand"
    else:
        target.alt, target.captioned = alt, True
        target.hit_limit = hit_length_limit(result, max_tokens)


def hit_length_limit(result: Any, max_tokens: int | None) -> bool:
    """True when generation stopped at the token limit rather than at its end.

    A captioner may say so itself (`hit_limit`, or the generated token count);
    otherwise a raw caption of at least `max_tokens - 1` words must have used
    every token (words never take fewer tokens than one each, and the first
    token starts the sequence).
    """
    flagged = getattr(result, "hit_limit", None)
    if flagged is not None:
        return bool(flagged)
    tokens = getattr(result, "tokens", None) or getattr(result, "num_tokens", None)
    if max_tokens is None:
        return False
    if isinstance(tokens, int):
        return tokens >= max_tokens
    raw = getattr(result, "raw", None) or ""
    return len(raw.split()) >= max_tokens - 1

"""Captions for the images that need them, from whatever captioner is given.

The captioner is anything with `caption_results(images, contexts=...)`
returning objects with `caption`, `raw`, `error` and `content_hash`
(alttext.caption.captioner.Captioner, or fixed captions in tests), and,
where it reads text in images, `text`, `salient`, `kind` and `description`, and where a
prompted model wrote it, `prompted` and `decorative`. Each image goes with the document context
of its first use, or, to a captioner whose `uses_context` is true (a prompted model may answer
differently on another page), once with each distinct context. It is called once for the whole run,
so identical images are captioned once and a warm cache loads no model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

from alttext.context import ImageContext, Link, Sourced
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
    by_context = bool(getattr(captioner, "uses_context", False))
    unique: dict[tuple[str | bytes, ImageContext | None], int] = {}
    contexts: list[ImageContext] = []
    for target in todo:
        key = (_key(target), _context_key(target.context) if by_context else None)
        if key not in unique:
            unique[key] = len(unique)
            contexts.append(target.context)  # as its first use has it, with its lines
    results = captioner.caption_results([image for image, _ in unique], contexts=contexts)
    for target in todo:
        key = (_key(target), _context_key(target.context) if by_context else None)
        _take(target, results[unique[key]], max_tokens)


def _key(target: Target) -> str | bytes:
    payload = target.image.payload
    assert payload is not None
    return os.path.realpath(payload) if isinstance(payload, str) else payload


def _context_key(context: ImageContext) -> ImageContext:
    """The context as a prompt sees it: the same words at another line are the same context."""
    return ImageContext(*(_unplaced(getattr(context, name)) for name in ("figure_caption", "link", "heading",
                                                                         "page_title", "language")))


def _unplaced(piece: Any) -> Any:
    if isinstance(piece, Sourced):
        return Sourced(piece.value, origin=piece.origin)
    if isinstance(piece, Link):
        return Link(_unplaced(piece.target), piece.only_content, piece.text)
    return piece


MODEL_SAYS_DECORATIVE = ("the model judges the image decorative (it adds nothing to the page): "
                         "mark it decorative, or write alt text by hand")


def _take(target: Target, result: Any, max_tokens: int | None) -> None:
    target.content_hash = getattr(result, "content_hash", None)
    target.image_text = getattr(result, "text", None) or ""
    target.salient = tuple(getattr(result, "salient", None) or ())
    target.image_kind = getattr(result, "kind", None)
    target.description = getattr(result, "description", None)
    error = getattr(result, "error", None)
    alt = normalize_alt(result.caption or "") if not error else ""
    target.prompted = bool(getattr(result, "prompted", False))
    if error:
        target.problem, target.is_error = f"cannot caption image: {error}", True
    elif getattr(result, "decorative", False):
        _judged_decorative(target)
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


def _judged_decorative(target: Target) -> None:
    """A model's word is not enough to hide an image: `fix` leaves it for a person, and
    `suggest` proposes "decorative" where the syntax can say so, for the reviewer to accept."""
    if target.context.is_functional:
        target.problem = ("the model judges the image decorative, but it is the only content of a link, "
                          "which needs a name: write alt text that says where the link goes")
        return
    target.problem, target.judged_decorative = MODEL_SAYS_DECORATIVE, True

"""Prompted back ends: a vision-language model told what the page says about each image.

The encoder-decoder captioner (backends.LocalModel) takes pixels and gives one generic
sentence. A prompted back end takes the image together with a Prompt built from the image's
context (page title, heading, figure caption, link, text read from the image, language,
length limit) and answers in words. Every prompted back end, local (transformers) or remote
(an OpenAI-compatible server), is a PromptedModel: the Captioner builds the prompts, keeps
the cache and reads the answers; the back end only turns (image, prompt) into text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class Prompt:
    """What a prompted back end is asked about one image."""

    system: str  # the rules good alt text follows, and the answer's form
    user: str  # the image's context and the request, as text
    language: str | None = None  # BCP 47 tag of the page, where known
    max_length: int = 125  # the longest alt text wanted, in characters


@dataclass(frozen=True)
class Refusal:
    """A back end's answer for one image that is not text: why there is none (names no image)."""

    reason: str


class PromptedModel(Protocol):
    """A loaded prompted back end: images with prompts to raw answers."""

    model_id: str
    revision: str

    def key(self) -> str:
        """What of the back end, besides model id and revision, changes its answers."""
        ...

    def answer(self, images: list[Image.Image], prompts: list[Prompt]) -> list[str | Refusal]:
        """One raw answer per image, in order; a failure for one image is a Refusal, not an error."""
        ...

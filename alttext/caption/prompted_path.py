"""The Captioner's path for prompted back ends: one prompt per distinct (image, context).

The encoder-decoder path captions each distinct image once. A prompted model is
told what the page says around the image, so the same image on two pages may be
asked two different things: here each distinct (image, prompt) is asked once.
The text read from the image goes into the prompt, so it is read (or found in the
cache) first. The cache key holds the back end, its model and options, the
template's hash and the prompt's hash (which covers the context, the text read
and the length limit): a re-run with the same inputs sends nothing, and a
changed template or context asks again. The raw answer is cached, and read again
on every hit, so a decorative verdict or a refused answer comes back the same.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alttext.caption.cache import CacheEntry, CacheKey
from alttext.caption.captioner import CaptionResult, _decode, _Work
from alttext.caption.imageio import ImageError
from alttext.caption.prompt import (
    ANSWER_VERSION,
    AnswerError,
    build_prompt,
    load_template,
    parse_answer,
    prompt_key,
)
from alttext.caption.prompted import Prompt, Refusal

if TYPE_CHECKING:
    import os

    from PIL import Image

    from alttext.caption.captioner import Captioner
    from alttext.caption.ocr import TextReading
    from alttext.caption.prompted import PromptedModel

DEFAULT_BATCH = 16  # images per `answer` call; a remote back end spreads them over its connections


@dataclass
class _Ask:
    """One distinct (image, prompt), and the positions of the images that get its answer."""

    work: _Work
    prompt: Prompt
    settings: str  # the cache key's settings part
    positions: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Reply:
    raw: str | None = None  # the model's answer
    error: str | None = None  # why there is none, after the image's name (": ...")
    cached: bool = False


class PromptedPath:
    """Prompts, cache and answers for one prompted back end (see the module docstring)."""

    def __init__(self, backend: str, model: str, options: Mapping[str, Any],
                 template: str | os.PathLike[str] | None = None) -> None:
        self.backend, self.model_name, self.options = backend, model, dict(options)
        self.template = load_template(template)  # a bad template fails now, naming its file
        self._loaded: PromptedModel | None = None
        self._identity: tuple[str, str, str] | None = None

    def caption_results(self, captioner: Captioner, images: Sequence[Any], names: Sequence[str],
                        contexts: Sequence[Any] | None,
                        prompts: Sequence[Prompt | None] | None = None) -> list[CaptionResult]:
        results: list[CaptionResult | None] = [None] * len(images)
        works: dict[str, _Work] = {}
        for position, (digest, error) in enumerate(captioner._hash_all(images, names)):
            if error is not None or digest is None:
                results[position] = CaptionResult(None, error=error)
                continue
            works.setdefault(digest, _Work(digest, images[position], names[position])).positions.append(position)
        readings = self._readings(captioner, works)
        asks = self._asks(captioner, works, readings, contexts, prompts) if works else {}
        replies = self._replies(captioner, list(asks.values())) if asks else {}
        for key, ask in asks.items():
            reading = readings.get(ask.work.content_hash)
            for position in ask.positions:
                results[position] = self._result(captioner, ask, replies[key], reading, names[position])
        return [result for result in results if result is not None]

    def model(self, captioner: Captioner) -> PromptedModel:
        if self._loaded is None:
            from alttext.caption.backends import load_prompted_model
            from alttext.caption.model import ModelUnavailable

            try:
                self._loaded = load_prompted_model(self.model_name, self.backend, self.options)
            except ValueError as error:
                raise ModelUnavailable(str(error)) from None
            captioner.model_loads += 1
            self._identity = (self._loaded.model_id, self._loaded.revision, self._loaded.key())
        return self._loaded

    def identity(self, captioner: Captioner) -> tuple[str, str, str]:
        """(model id, revision, back-end key) for the cache: from the back end's module
        without loading it where it offers `prompted_identity`, else from the loaded model."""
        if self._identity is None:
            from alttext.caption.backend_names import PROMPTED_BACKENDS

            module = importlib.import_module(PROMPTED_BACKENDS[self.backend])
            find = getattr(module, "prompted_identity", None)
            self._identity = find(self.model_name, self.options) if find is not None else None
            if self._identity is None:
                self.model(captioner)
        assert self._identity is not None
        return self._identity

    # The prompts.

    def _readings(self, captioner: Captioner, works: dict[str, _Work]) -> dict[str, TextReading]:
        """The text in each image (from the cache, else read now): the prompts need it."""
        readings = captioner._stored_readings(list(works))
        if captioner._reader is not None:
            missing = {digest: captioner._read(work) for digest, work in works.items() if digest not in readings}
            readings.update(captioner._store_readings(missing))
        return readings

    def _asks(self, captioner: Captioner, works: dict[str, _Work], readings: dict[str, TextReading],
              contexts: Sequence[Any] | None, prompts: Sequence[Prompt | None] | None) -> dict[tuple[str, str], _Ask]:
        """One ask per distinct (image, prompt): the prompt given for the image, else the template's."""
        model_id, revision, key = self.identity(captioner)
        asks: dict[tuple[str, str], _Ask] = {}
        for digest, work in works.items():
            reading = readings.get(digest)
            for position in work.positions:
                given = prompts[position] if prompts is not None else None
                context = contexts[position] if contexts is not None else None
                prompt = given or build_prompt(self.template, context, reading.text if reading else "",
                                               captioner.max_alt_length)
                template = "given" if given else self.template.key  # a given prompt owes the template nothing
                settings = f"prompted;backend={self.backend};{key};template={template};prompt={prompt_key(prompt)}"
                asks.setdefault((digest, settings), _Ask(work, prompt, settings)).positions.append(position)
        return asks

    def _cache_key(self, captioner: Captioner, ask: _Ask) -> CacheKey:
        model_id, revision, _ = self.identity(captioner)
        return CacheKey(ask.work.content_hash, model_id, revision, ask.settings,
                        f"{captioner.cleaning_key};answer={ANSWER_VERSION}")

    # The answers.

    def _replies(self, captioner: Captioner, asks: list[_Ask]) -> dict[tuple[str, str], _Reply]:
        keys = {_key_of(ask): self._cache_key(captioner, ask) for ask in asks}
        stored = captioner.cache.get_many(list(keys.values())) if captioner.cache is not None else {}
        replies = {name: _Reply(entry.raw, cached=True) for name, key in keys.items()
                   if (entry := stored.get(key)) is not None}
        todo = [ask for ask in asks if _key_of(ask) not in replies]
        if todo:
            replies.update(self._unreadable(captioner, todo))
            todo = [ask for ask in todo if _key_of(ask) not in replies]
        if todo:
            replies.update(self._ask_model(captioner, todo, keys))
        return replies

    def _unreadable(self, captioner: Captioner, todo: list[_Ask]) -> dict[tuple[str, str], _Reply]:
        """Images known or found to be unreadable: their error, without asking the model."""
        works = list({ask.work.content_hash: ask.work for ask in todo}.values())
        failed: dict[str, CaptionResult] = {}
        captioner._drop_unreadable(works, failed)
        return {_key_of(ask): _Reply(error=_after_name(failed[digest].error or "", ask.work.name))
                for ask in todo if (digest := ask.work.content_hash) in failed}

    def _ask_model(self, captioner: Captioner, todo: list[_Ask],
                   keys: dict[tuple[str, str], CacheKey]) -> dict[tuple[str, str], _Reply]:
        model = self.model(captioner)
        size = captioner.batch_size or DEFAULT_BATCH
        replies: dict[tuple[str, str], _Reply] = {}
        with captioner._progress(len(todo)) as advance:
            for start in range(0, len(todo), size):
                batch = todo[start:start + size]
                ready, images = _decoded(batch, replies)
                answers = model.answer(images, [ask.prompt for ask in ready]) if ready else []
                captioner.images_captioned += len(ready)
                for ask, answer in zip(ready, answers):
                    if isinstance(answer, Refusal):
                        replies[_key_of(ask)] = _Reply(error=f": the {self.backend} back end gave no answer: {answer.reason}")
                    else:
                        replies[_key_of(ask)] = _Reply(answer)
                if captioner.cache is not None:
                    captioner.cache.put_many([(keys[_key_of(ask)], CacheEntry(answer, "", None))
                                              for ask, answer in zip(ready, answers) if isinstance(answer, str)])
                advance(len(batch))
        return replies

    def _result(self, captioner: Captioner, ask: _Ask, reply: _Reply, reading: TextReading | None,
                name: str) -> CaptionResult:
        digest = ask.work.content_hash
        if reply.raw is None:
            return CaptionResult(None, error=name + (reply.error or ": no answer"), content_hash=digest)
        try:
            answer = parse_answer(reply.raw, ask.prompt, captioner._clean)
        except AnswerError as error:
            shown = " ".join(reply.raw.split())[:80]
            return CaptionResult(None, raw=reply.raw, cached=reply.cached, content_hash=digest,
                                 error=f"{name}: the model's answer is no usable alt text: {error} ({shown!r})")
        salient, kind = _salient(reading, captioner.max_alt_length)
        return CaptionResult(answer.alt, reply.raw, None, reply.cached, digest, hit_limit=False,
                             text=reading.text if reading else "", salient=salient, kind=kind,
                             description=answer.alt or None, decorative=answer.decorative, prompted=True)


def _key_of(ask: _Ask) -> tuple[str, str]:
    return ask.work.content_hash, ask.settings


def _decoded(batch: list[_Ask], replies: dict[tuple[str, str], _Reply]) -> tuple[list[_Ask], list[Image.Image]]:
    """The batch's images, each decoded once; an image that fails gets its error in `replies`."""
    decoded: dict[str, Image.Image | str] = {}
    ready, images = [], []
    for ask in batch:
        digest = ask.work.content_hash
        if digest not in decoded:
            try:
                decoded[digest] = _decode(ask.work)
            except ImageError as error:
                decoded[digest] = _after_name(str(error), ask.work.name)
        image = decoded[digest]
        if isinstance(image, str):
            replies[_key_of(ask)] = _Reply(error=image)
        else:
            ready.append(ask)
            images.append(image)
    return ready, images


def _after_name(message: str, name: str) -> str:
    """An error without the first image's name, to be said of each image it holds for."""
    return message[len(name):] if message.startswith(name) else f": {message}"


def _salient(reading: TextReading | None, max_length: int) -> tuple[tuple[str, ...], str | None]:
    """The salient text and the kind of image, as the encoder-decoder path finds them."""
    if reading is None:
        return (), None
    from alttext.caption.compose import describe

    composed = describe(None, reading, max_length)
    return composed.salient, composed.kind


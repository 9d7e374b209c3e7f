"""Images in, clean captions out: cache first, each distinct image through the model once.

`Captioner(...).caption_results(images)` reads and hashes every image, answers what
it can from the persistent cache, and only then loads the model (once, lazily) for
the rest. While the model captions one batch, a background thread decodes and
preprocesses the next. A fully cached run imports neither torch nor transformers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alttext.caption.cache import CacheEntry, CacheKey, CaptionCache, default_cache_path
from alttext.caption.clean import CLEANING_VERSION, clean_caption
from alttext.caption.compose import describe as compose_description
from alttext.caption.generate import GenerationSettings
from alttext.caption.heap import keep_freed_memory
from alttext.caption.imageio import (
    ImageError,
    describe,
    looks_like_svg,
    read_bytes,
    reader_key,
)
from alttext.caption.model import (
    DEFAULT_MODEL,
    ModelUnavailable,
    folder_fingerprint,
)
from alttext.caption.ocr import OcrSettings, TextReader, TextReading
from alttext.caption.precision import expected_precision, precision_key
from alttext.config import DEFAULT_MAX_ALT_LENGTH

if TYPE_CHECKING:
    from PIL import Image

    from alttext.caption.backends import LocalModel
    from alttext.caption.prompted import Prompt
    from alttext.caption.prompted_path import PromptedPath

__all__ = ["CaptionError", "CaptionResult", "Captioner", "ModelUnavailable", "model_identity"]

log = logging.getLogger("alttext.caption")
ProgressCallback = Callable[[int, int], None]  # (images done, images to caption)
HASH_THREADS = 4


class CaptionError(Exception):
    """An image could not be captioned; str(error) names it."""


@dataclass(frozen=True)
class CaptionResult:
    caption: str | None  # cleaned; None when `error` is set
    raw: str | None = None  # the model's own text
    error: str | None = None  # names the image
    cached: bool = False  # from the persistent cache, no model run
    content_hash: str | None = None
    hit_limit: bool | None = None  # generation stopped at max_length, not at its end token
    text: str = ""  # all text read from the image, in reading order ("" when none or OCR is off)
    salient: tuple[str, ...] = ()  # the text chosen for the alt text
    kind: str | None = None  # screenshot, logo, diagram, chart, photo; None when nothing tells
    description: str | None = None  # the model's cleaned caption, before the text was added
    decorative: bool = False  # a prompted model judged the image decorative (caption is "")
    prompted: bool = False  # a prompted model wrote it, told the image's context and the page's language


@dataclass
class _Work:
    """One distinct image the model must caption, and where its result goes."""

    content_hash: str
    source: Any
    name: str
    positions: list[int] = field(default_factory=list)


@dataclass
class _Batch:
    works: list[_Work]
    pixel_values: Any  # the back end's array of the batch's images; None when none could be read
    failed: dict[str, CaptionResult]
    unreadable: dict[str, str] = field(default_factory=dict)  # content hash: reason, for the cache


class _ImageChanged(ImageError):
    """The file changed between hashing and decoding: nothing to remember about its content."""


class Captioner:
    """Caption images with an image-to-text model; see the module docstring."""

    def __init__(
        self,
        model: str | os.PathLike[str] | None = DEFAULT_MODEL,
        *,
        device: str = "auto",
        dtype: str | None = None,
        quantize: str | None = None,
        batch_size: int | None = None,
        settings: GenerationSettings | None = None,
        num_beams: int | None = None,
        max_length: int | None = None,
        no_repeat_ngram_size: int | None = None,
        min_length: int | None = None,
        cache: CaptionCache | str | os.PathLike[str] | bool | None = True,
        final_period: bool = False,
        caption_max_length: int | None = None,
        progress: bool | ProgressCallback | None = None,
        revision: str | None = None,
        trust_remote_code: bool = False,
        ocr: str | bool | OcrSettings | None = "auto",
        max_alt_length: int = DEFAULT_MAX_ALT_LENGTH,
        backend: str | None = "auto",
        prompt_template: str | os.PathLike[str] | None = None,
        api_base: str | None = None,
        api_key_env: str | None = None,
        request_timeout: float | None = None,
        concurrency: int | None = None,
        max_retries: int | None = None,
    ) -> None:
        overrides = {"num_beams": num_beams, "max_length": max_length,
                     "no_repeat_ngram_size": no_repeat_ngram_size, "min_length": min_length}
        self.settings = replace(settings or GenerationSettings(),
                                **{k: int(v) for k, v in overrides.items() if v is not None})
        if batch_size is not None and int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.model_name = str(model or DEFAULT_MODEL)
        from alttext.caption.backends import is_prompted, resolve_backend

        self.backend = resolve_backend(self.model_name, backend)
        self.device, self.dtype, self.quantize = device or "auto", dtype, quantize
        self.batch_size = int(batch_size) if batch_size is not None else None
        self.final_period = bool(final_period)
        self.caption_max_length = int(caption_max_length) if caption_max_length is not None else None
        self.progress = progress
        self.revision, self.trust_remote_code = revision, trust_remote_code
        if self.device in ("auto", "cpu"):
            keep_freed_memory()  # before this process starts threads, so they all share one heap
        self.cache = _open_cache(cache)
        self.ocr = _ocr_settings(ocr)
        self.max_alt_length = int(max_alt_length)
        self._reader = TextReader(self.ocr) if self.ocr.enabled else None
        self.model_loads = 0  # how often a model was loaded (0 for a fully cached run)
        self.images_captioned = 0  # distinct images the model ran on
        self._loaded: LocalModel | None = None
        # The loader's precision, once loaded; until then guessed from the options (onnx: the CPU).
        self._precision = expected_precision(self.device if self.backend == "torch" else "cpu", dtype, quantize)
        self._prompted: PromptedPath | None = None
        self._identity: tuple[str, str] | None = None
        if is_prompted(self.backend):  # its own path: prompts, answers and cache (prompted_path.py)
            from alttext.caption.prompted_path import PromptedPath

            options = {"device": self.device, "dtype": dtype, "quantize": quantize, "revision": revision,
                       "trust_remote_code": trust_remote_code, "api_base": api_base, "api_key_env": api_key_env,
                       "timeout": request_timeout, "concurrency": concurrency, "retries": max_retries}
            self._prompted = PromptedPath(self.backend, self.model_name, options, prompt_template)
            self._prompted.identity(self)  # bad options fail now, as a missing model does below
            return
        self._identity = model_identity(self.model_name, revision) if self.cache else None
        if self.cache and self._identity is None:
            self._model()  # not on disk: fail now, with the loader's one-line reason, or download it

    @property
    def uses_context(self) -> bool:
        """Whether `contexts` can change a caption: the same image may be asked once per context."""
        return self._prompted is not None

    @property
    def cleaning_key(self) -> str:
        """CLEANING_VERSION plus the options that change a cleaned caption."""
        return f"{CLEANING_VERSION};final_period={int(self.final_period)};max_chars={self.caption_max_length or 0}"

    def caption(self, images: Sequence[Any]) -> list[str]:
        """One caption per image; raises CaptionError naming the first image that failed."""
        results = self.caption_results(images)
        for result in results:
            if result.error is not None:
                raise CaptionError(result.error)
        return [result.caption or "" for result in results]

    def caption_results(
        self, images: Sequence[Any], names: Sequence[str] | None = None, *, contexts: Sequence[Any] | None = None,
        prompts: Sequence[Prompt | None] | None = None,
    ) -> list[CaptionResult]:
        """One result per image, in order; a bad image gets an error, the others their caption.

        Images are paths, bytes, `data:` URIs or PIL images; `names` (default: the paths)
        name them in errors. `contexts` (alttext.context.ImageContext, one per image) is
        what the document says around each image: an encoder-decoder model has no prompt
        to put it in, so it does not change a caption (nor the cache key) here; a prompted
        back end gets it in its prompt (prompted_path.py). `prompts` (one or None per image)
        are asked of a prompted back end as they are, instead of the template's (`alttext
        serve` relays its clients' this way); the encoder-decoder model takes none.
        Raises ModelUnavailable only if the model is needed and cannot be loaded (also
        for a device or dtype this machine lacks).
        """
        if contexts is not None and len(contexts) != len(images):
            raise ValueError(f"{len(contexts)} contexts for {len(images)} images")
        if prompts is not None and len(prompts) != len(images):
            raise ValueError(f"{len(prompts)} prompts for {len(images)} images")
        names = list(names) if names is not None else [describe(image) for image in images]
        if self._prompted is not None:
            return self._prompted.caption_results(self, images, names, contexts, prompts)
        results: list[CaptionResult | None] = [None] * len(images)
        unique: dict[str, _Work] = {}
        for position, (digest, error) in enumerate(self._hash_all(images, names)):
            if error is not None:
                results[position] = CaptionResult(None, error=error)
            else:
                assert digest is not None
                work = unique.setdefault(digest, _Work(digest, images[position], names[position]))
                work.positions.append(position)
        readings = self._stored_readings(list(unique))
        with ThreadPoolExecutor(1, thread_name_prefix="alttext-ocr") as pool:
            reading = {digest: pool.submit(self._read, work) for digest, work in unique.items()
                       if self._reader is not None and digest not in readings}  # alongside the model
            try:
                answered = self._from_cache(list(unique))
                todo = [work for digest, work in unique.items() if digest not in answered]
                if todo:
                    todo = self._drop_unreadable(todo, answered)
                if todo:
                    answered.update(self._run_model(todo))
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            readings.update(self._store_readings({digest: future.result() for digest, future in reading.items()}))
        answered = self._with_text(answered, readings)
        for digest, work in unique.items():
            for position in work.positions:
                results[position] = _named(answered[digest], work.name, names[position])
        return [result for result in results if result is not None]

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    # Reading and hashing: cheap, before any model work.

    def _hash_all(self, images: Sequence[Any], names: Sequence[str]) -> list[tuple[str | None, str | None]]:
        """(content hash, None) or (None, error) per image; files are hashed in parallel."""
        if len(images) < 8:
            return [_hash_one(image, name) for image, name in zip(images, names)]
        with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="alttext-hash") as pool:
            return list(pool.map(_hash_one, images, names))

    # The persistent cache.

    def _key(self, digest: str, identity: tuple[str, str]) -> CacheKey:
        settings = f"{self.settings.key()};{self._precision}{self._backend_key()}"
        return CacheKey(digest, identity[0], identity[1], settings, self.cleaning_key)

    def _backend_key(self) -> str:
        """Which back end ran: empty for torch, as before back ends had names (precision is apart)."""
        return "" if self.backend == "torch" else f";backend={self.backend}"

    def _from_cache(self, digests: list[str]) -> dict[str, CaptionResult]:
        if self.cache is None or self._identity is None or not digests:
            return {}
        keys = {digest: self._key(digest, self._identity) for digest in digests}
        entries = self.cache.get_many(list(keys.values()))
        answered: dict[str, CaptionResult] = {}
        recleaned: list[tuple[CacheKey, CacheEntry]] = []
        for digest, key in keys.items():
            entry = entries.get(key)
            if entry is None:
                continue
            caption = entry.caption if entry.exact else self._clean(entry.raw)
            if not entry.exact:
                recleaned.append((key, CacheEntry(entry.raw, caption, entry.hit_limit)))
            answered[digest] = CaptionResult(caption, entry.raw, None, True, digest, entry.hit_limit)
        self.cache.put_many(recleaned)
        return answered

    def _drop_unreadable(self, todo: list[_Work], answered: dict[str, CaptionResult]) -> list[_Work]:
        """The images the model should see: those known or found to be unreadable get their error.

        Images are decoded in order until one can be read, so a run whose only uncached images
        are broken never loads the model; the rest are decoded once, in the batches.
        """
        known = self.cache.unreadable([work.content_hash for work in todo], reader_key()) if self.cache else {}
        found: dict[str, str] = {}
        for work in todo:
            if work.content_hash in known:
                continue
            try:
                _decode(work)
                break
            except _ImageChanged as error:
                answered[work.content_hash] = CaptionResult(None, error=str(error), content_hash=work.content_hash)
            except ImageError as error:
                found[work.content_hash] = _reason(error, work.name)
        self._remember_unreadable(found)
        reasons = {**known, **found}
        for work in todo:
            if work.content_hash in reasons:
                answered[work.content_hash] = CaptionResult(None, error=work.name + reasons[work.content_hash],
                                                            content_hash=work.content_hash)
        return [work for work in todo if work.content_hash not in answered]

    def _remember_unreadable(self, reasons: dict[str, str]) -> None:
        if self.cache is not None and reasons:
            self.cache.put_unreadable(reasons, reader_key())

    def _store(self, results: list[CaptionResult], identity: tuple[str, str]) -> None:
        if self.cache is None:
            return
        self.cache.put_many(
            (self._key(r.content_hash, identity), CacheEntry(r.raw or "", r.caption or "", r.hit_limit))
            for r in results if r.error is None and r.content_hash is not None
        )

    def _clean(self, raw: str) -> str:
        return clean_caption(raw, final_period=self.final_period, max_length=self.caption_max_length)

    # The text in the images.

    def _stored_readings(self, digests: list[str]) -> dict[str, TextReading]:
        """The cached text of these images under the current OCR engine and settings."""
        from alttext.caption.ocr import reading_from_json

        if self._reader is None or self.cache is None or not digests:
            return {}
        stored = self.cache.get_texts(digests, self.ocr.key())
        return {digest: reading for digest, text in stored.items() if (reading := reading_from_json(text))}

    def _store_readings(self, readings: dict[str, TextReading | None]) -> dict[str, TextReading]:
        from alttext.caption.ocr import reading_to_json

        read = {digest: reading for digest, reading in readings.items() if reading is not None}
        if self.cache is not None and read:
            self.cache.put_texts([(digest, reading_to_json(r)) for digest, r in read.items()], self.ocr.key())
        return read

    def _read(self, work: _Work) -> TextReading | None:
        assert self._reader is not None
        try:
            return self._reader.read(_decode(work))
        except ImageError:
            return None  # the caption's own decoding reports it
        except Exception as error:  # noqa: BLE001 - an OCR failure costs the text, not the caption
            log.warning("alttext: %s: text could not be read (%s)", work.name, error)
            return None

    def _with_text(self, answered: dict[str, CaptionResult], readings: dict[str, TextReading]) -> dict[str, CaptionResult]:
        """Each caption with the image's text, kind and salient words composed into it."""
        if self._reader is None:
            return {digest: replace(r, description=r.caption) for digest, r in answered.items()}
        composed = {}
        for digest, result in answered.items():
            if result.error is not None:
                composed[digest] = result
                continue
            reading = readings.get(digest)
            alt = compose_description(result.caption or None, reading, self.max_alt_length)
            described = bool(result.caption) and (result.caption or "") in alt.caption
            composed[digest] = replace(result, caption=alt.caption, text=reading.text if reading else "",
                                       salient=alt.salient, kind=alt.kind, description=result.caption,
                                       hit_limit=result.hit_limit if described else False)
        return composed

    # The model.

    def _model(self) -> LocalModel:
        if self._loaded is None:
            from alttext.caption.backends import load_local_model

            try:
                with _loader_bars(shown=self._shows_bar(), transformers=self.backend != "onnx"):
                    self._loaded = load_local_model(self.model_name, self.backend, device=self.device,
                                                    dtype=self.dtype, quantize=self.quantize,
                                                    revision=self.revision,
                                                    trust_remote_code=self.trust_remote_code)
            except ValueError as error:  # a device, dtype or quantization this machine cannot use
                raise ModelUnavailable(str(error)) from None
            self.model_loads += 1
            self._precision = precision_key(str(self._loaded.dtype), self._loaded.quantized)
            # A hub model downloaded just now has a revision only from here on.
            self._identity = (model_identity(self.model_name, self.revision)
                              or (self._loaded.model_id, self._loaded.revision))
        return self._loaded

    def _run_model(self, todo: list[_Work]) -> dict[str, CaptionResult]:

        guessed = self._precision
        loaded = self._model()
        assert self._identity is not None
        answered: dict[str, CaptionResult] = {}
        if self._precision != guessed:  # the device's precision was guessed wrong: look again
            answered = self._from_cache([work.content_hash for work in todo])
            todo = [work for work in todo if work.content_hash not in answered]
            if not todo:
                return answered
        size = self.batch_size or loaded.batch_size(self.settings)
        batches = [todo[start:start + size] for start in range(0, len(todo), size)]
        with ThreadPoolExecutor(1, thread_name_prefix="alttext-decode") as pool, \
                self._progress(len(todo)) as advance:
            upcoming: Future[_Batch] = pool.submit(_prepare, loaded, batches[0])
            for index in range(len(batches)):
                batch = upcoming.result()
                if index + 1 < len(batches):  # decode the next batch while this one runs
                    upcoming = pool.submit(_prepare, loaded, batches[index + 1])
                captioned = self._generate(loaded, batch)
                self._store(captioned, self._identity)
                self._remember_unreadable(batch.unreadable)
                answered.update(batch.failed)
                answered.update((r.content_hash or "", r) for r in captioned)
                advance(len(batch.works) + len(batch.failed))
        return answered

    def _generate(self, loaded: LocalModel, batch: _Batch) -> list[CaptionResult]:
        if batch.pixel_values is None:
            return []
        ids = loaded.generate_ids(batch.pixel_values, self.settings, len(batch.works))
        self.images_captioned += len(ids)
        raws = loaded.decode(ids)
        end_ids = loaded.end_token_ids()
        return [
            CaptionResult(self._clean(raw), raw, None, False, work.content_hash,
                          hit_limit=len(row) >= self.settings.max_length and (not row or row[-1] not in end_ids))
            for work, row, raw in zip(batch.works, ids, raws)
        ]

    def _shows_bar(self) -> bool:
        return self.progress is True or (self.progress is None and sys.stderr.isatty())

    @contextmanager
    def _progress(self, total: int) -> Iterator[Callable[[int], None]]:
        report = _progress_reporter(self.progress, total)
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            report(done, total)

        try:
            yield advance
        finally:
            report(-1, total)  # finished (or interrupted): let the reporter clean up


@contextmanager
def _loader_bars(*, shown: bool, transformers: bool = True) -> Iterator[None]:
    """Hide transformers' loading bars where ours would not show either (not a terminal).

    The onnx back end loads without transformers: importing it there would only cost time (and
    print its warning that PyTorch is missing)."""
    if not transformers:
        yield
        return
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:  # the loader says what is missing
        yield
        return
    enabled = transformers_logging.is_progress_bar_enabled()
    if enabled and not shown:
        transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled and not shown:
            transformers_logging.enable_progress_bar()


def _hash_one(image: Any, name: str) -> tuple[str | None, str | None]:
    try:
        return _content_hash(image, name), None
    except ImageError as error:
        return None, str(error)


def _content_hash(image: Any, name: str) -> str:
    """sha256 of the encoded bytes; of mode, size and pixels for an in-memory PIL image."""
    if _is_pil_image(image):
        digest = hashlib.sha256(f"pil:{image.mode}:{image.size[0]}x{image.size[1]}:".encode())
        digest.update(image.tobytes())
        return digest.hexdigest()
    data = read_bytes(image, name)
    if looks_like_svg(data):
        raise ImageError(f"{name} is an SVG; the captioning model needs a raster image")
    return hashlib.sha256(data).hexdigest()


def _prepare(loaded: LocalModel, works: list[_Work]) -> _Batch:
    """Decode and preprocess one batch (in the background thread); bad images become errors."""
    images: list[Image.Image] = []
    ready: list[_Work] = []
    failed: dict[str, CaptionResult] = {}
    unreadable: dict[str, str] = {}
    for work in works:
        try:
            images.append(_decode(work))
            ready.append(work)
        except ImageError as error:
            failed[work.content_hash] = CaptionResult(None, error=str(error), content_hash=work.content_hash)
            if not isinstance(error, _ImageChanged):
                unreadable[work.content_hash] = _reason(error, work.name)
    pixel_values, ready = _preprocess(loaded, images, ready, failed)
    return _Batch(ready, pixel_values, failed, unreadable)


def _decode(work: _Work) -> Image.Image:
    """The image as RGB, read again (only its hash was kept) and checked against that hash."""
    from alttext.caption.imageio import decode_image, load_image

    if _is_pil_image(work.source):
        return load_image(work.source, work.name)
    data = read_bytes(work.source, work.name)
    if hashlib.sha256(data).hexdigest() != work.content_hash:
        raise _ImageChanged(f"{work.name}: changed while it was being captioned; run again")
    return decode_image(data, work.name)


def _named(result: CaptionResult, first: str, name: str) -> CaptionResult:
    """An image's error names that image, not the first one with the same content."""
    if result.error is None or name == first or not result.error.startswith(first):
        return result
    return replace(result, error=name + result.error[len(first):])


def _reason(error: ImageError, name: str) -> str:
    """The error without the image's name, to be said again of any file with the same content."""
    message = str(error)
    return message[len(name):] if message.startswith(name) else f": {message}"


def _is_pil_image(image: Any) -> bool:
    return hasattr(image, "tobytes") and hasattr(image, "mode") and hasattr(image, "size")


def _preprocess(loaded: LocalModel, images: list[Image.Image], works: list[_Work],
                failed: dict[str, CaptionResult]) -> tuple[Any, list[_Work]]:
    """The batch's pixel values; if the processor rejects the batch, find the image it rejects."""
    if not images:
        return None, []
    try:
        return loaded.preprocess(images), works
    except Exception:
        if len(images) == 1:
            raise
    rows, kept = [], []
    for image, work in zip(images, works):
        try:
            rows.append(loaded.preprocess([image]))
            kept.append(work)
        except Exception as error:  # noqa: BLE001 - any processor failure is this image's
            failed[work.content_hash] = CaptionResult(
                None, error=f"{work.name}: the model's image processor rejects it ({error})",
                content_hash=work.content_hash)
    return (loaded.join(rows) if rows else None), kept


def _ocr_settings(ocr: str | bool | OcrSettings | None) -> OcrSettings:
    """True/False as on/off, None as auto, a mode name, or settings as they are."""
    if isinstance(ocr, OcrSettings):
        return ocr
    if ocr is None or isinstance(ocr, bool):
        return OcrSettings("auto" if ocr is None else ("on" if ocr else "off"))
    return OcrSettings(str(ocr))


def _open_cache(cache: CaptionCache | str | os.PathLike[str] | bool | None) -> CaptionCache | None:
    """True: the default location; False or None: no cache; a path or a CaptionCache: that one."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return CaptionCache(default_cache_path())
    if isinstance(cache, CaptionCache):
        return cache
    return CaptionCache(cache)


def model_identity(name: str, revision: str | None = None) -> tuple[str, str] | None:
    """(model id, revision) as the loader will report them, found without loading anything.

    A folder: "folder" and the loader's fingerprint of its files, not its path, so a fresh
    checkout or a CI runner elsewhere finds the captions made with the same model files. A
    hub id: the id and the commit of the cached snapshot, read from the Hugging Face cache
    folder directly (importing huggingface_hub costs longer than a whole cached run).
    None when the model is not on this machine.
    """
    folder = Path(name).expanduser()
    if folder.is_dir():
        return "folder", folder_fingerprint(folder)
    commit = cached_hub_commit(name, revision)
    return (name, commit) if commit else None


def cached_hub_commit(repo_id: str, revision: str | None = None) -> str | None:
    """The commit of the cached snapshot of `repo_id` holding config.json, as
    huggingface_hub.try_to_load_from_cache finds it; None when there is none."""
    if repo_id.count("/") > 1 or repo_id.startswith((".", "/", "~")):
        return None
    repo = Path(hub_cache_dir()) / ("models--" + repo_id.replace("/", "--"))
    wanted = revision or "main"
    ref = repo / "refs" / wanted
    try:
        commit = ref.read_text(encoding="utf-8").strip() if ref.is_file() else wanted
    except OSError:
        return None
    return commit if (repo / "snapshots" / commit / "config.json").is_file() else None


def hub_cache_dir() -> str:
    """Where huggingface_hub keeps downloads, from the same environment variables."""
    home = os.path.expandvars(os.path.expanduser(os.environ.get(
        "HF_HOME", os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"))))
    legacy = os.environ.get("HUGGINGFACE_HUB_CACHE", os.path.join(home, "hub"))
    return os.path.expandvars(os.path.expanduser(os.environ.get("HF_HUB_CACHE", legacy)))


def _progress_reporter(progress: bool | ProgressCallback | None, total: int) -> Callable[[int, int], None]:
    """The user's callback, a bar on stderr (only on a terminal unless asked), or nothing."""
    if callable(progress):
        return lambda done, all_: progress(done, all_) if done >= 0 else None
    show = progress if progress is not None else sys.stderr.isatty()
    return _TerminalBar(total) if show else (lambda done, all_: None)


class _TerminalBar:
    """`captioning [#####-----] 12/40 images, 2.4/s, 12 s left` on one rewritten stderr line."""

    WIDTH = 24

    def __init__(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()
        self(0, total)

    def __call__(self, done: int, total: int) -> None:
        if done < 0:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = done / elapsed
        filled = self.WIDTH * done // max(total, 1)
        left = f", {int((total - done) / rate)} s left" if done and rate else ""
        sys.stderr.write(f"\rcaptioning [{'#' * filled}{'-' * (self.WIDTH - filled)}] {done}/{total} images"
                         f"{f', {rate:.1f}/s' if done else ''}{left}\033[K")
        sys.stderr.flush()

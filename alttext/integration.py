"""What the MkDocs plugin, the Sphinx extension and the GitHub Action share: captions for
image files, and alt text written into sources through the writers' pipeline.

Nothing here imports torch at module level; the captioner loads only when an
image is not in the caption cache.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any


def _given_options(model: str | None, device: str | None, cache: str | None) -> dict[str, Any]:
    """Options for the Captioner; unset ones are left to its defaults."""
    options = {"model": model, "device": device, "cache": cache}
    return {key: value for key, value in options.items() if value}


def caption_images(
    paths: Sequence[str], *, model: str | None = None, device: str | None = None, cache: str | None = None,
    settings: Any = None, language: Any = None,
) -> tuple[dict[str, str], list[str]]:
    """Alt text for each image file (by the path given), and one message per image that got none.

    `settings` (the writers' Settings) carries every captioning option; without it, the three given.
    `language` (an alttext.context.Sourced), the host's site language, replaces the settings' own;
    on a site that is not in English the settings' `non_english` policy decides what is kept
    (alttext.fix.language_policy).
    """
    from alttext.context import is_english
    from alttext.fix.language_policy import decide
    from alttext.fix.run import CaptionerUnavailable, Settings, default_captioner
    from alttext.fix.slots import normalize_alt

    if not paths:
        return {}, []
    settings = settings or Settings(captioner_options=_given_options(model, device, cache))
    language = language or settings.language
    try:
        captioner = default_captioner(settings)
        results = captioner.caption_results(list(paths))
    except CaptionerUnavailable as error:
        return {}, [f"alttext: {error}"]
    captions: dict[str, str] = {}
    problems: list[str] = []
    for path, result in zip(paths, results):
        failure = getattr(result, "error", None)
        alt = "" if failure else normalize_alt(result.caption or "")
        if alt and language is not None and not is_english(language.value):
            decision = decide(alt, getattr(result, "text", None) or "", getattr(result, "salient", None) or (),
                              language=language, policy=settings.non_english, max_length=settings.max_alt_length)
            problems += [f"{path}: {message}" for message in (decision.problem, decision.warning) if message]
            if decision.alt and not decision.problem:
                captions[path] = decision.alt
        elif alt:
            captions[path] = alt
        else:
            problems.append(f"{path}: cannot caption image: {failure or 'the model gave no usable caption'}")
    return captions, problems


@dataclass
class Proposals:
    """Captioned images without alt text in some sources, and every message of the run."""

    collected: Any  # alttext.fix.run.Collected
    stream: io.StringIO
    log: Any  # alttext.fix.run.Log

    @property
    def targets(self) -> list[Any]:
        return list(self.collected.targets)

    @property
    def messages(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def captions_by_image(self) -> dict[str, str]:
        """Alt text by absolute image path, for output that shows the same image."""
        return {
            os.path.abspath(target.image.path): target.alt
            for target in self.collected.targets
            if target.alt and target.problem is None and target.image.path
        }


@dataclass
class WriteOutcome:
    """What writing alt text into sources did: the files written and every message of the run."""

    changed: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    errors: int = 0


def propose(
    sources: Sequence[str],
    *,
    root: str,
    site_root: str | None = None,
    model: str | None = None,
    device: str | None = None,
    cache: str | None = None,
    settings: Any = None,
    language: Any = None,
) -> Proposals:
    """Scan `sources`, resolve and caption each image without alt text, as `alttext suggest` does.

    `language` (an alttext.context.Sourced) is the host's site language: MkDocs'
    `theme.language`, Sphinx's `language`; it overrides [tool.alttext] `language`.
    """
    from alttext.fix import run as pipeline

    if settings is None:
        config_language, non_english = language_config(root)
        settings = pipeline.Settings(
            paths=tuple(sources), root=root, site_root=site_root, config_root=root,
            captioner_options=_given_options(model, device, cache),
            language=config_language, non_english=non_english,
        )
    if language is not None:
        settings = replace(settings, language=language)
    stream = io.StringIO()
    log = pipeline.Log(stream=stream)
    collected = pipeline.collect(settings, log) if settings.paths else pipeline.Collected()
    pipeline.caption(collected, settings, log)
    return Proposals(collected, stream, log)


def language_config(root: str) -> tuple[Any, str]:
    """[tool.alttext] `language` and `non-english` of the project at `root`."""
    from alttext.config import find_pyproject, load_config
    from alttext.language import DEFAULT_NON_ENGLISH, from_config

    source = find_pyproject(root)
    if source is None:
        return None, DEFAULT_NON_ENGLISH
    return from_config(load_config(source).extra, source)


def write_proposals(proposals: Proposals) -> WriteOutcome:
    """Write the proven rewrites (atomically) and say which files changed."""
    from alttext.fix import run as pipeline

    rewrites = pipeline.rewrites(proposals.collected, proposals.log)
    pipeline.remove_stale_temporaries([plan.path for plan in proposals.collected.plans], proposals.log)
    pipeline.write_all(rewrites, proposals.log)
    changed = [rewrite.plan.path for rewrite in rewrites if _holds(rewrite.plan.path, rewrite.data)]
    return WriteOutcome(changed=changed, messages=proposals.messages, errors=proposals.log.errors)


def write_alt_text(
    sources: Sequence[str],
    *,
    root: str,
    site_root: str | None = None,
    model: str | None = None,
    device: str | None = None,
    cache: str | None = None,
    settings: Any = None,
    language: Any = None,
) -> WriteOutcome:
    """Caption and write alt text into `sources` exactly as `alttext fix` does (proven, atomic edits)."""
    if not sources:
        return WriteOutcome()
    proposals = propose(sources, root=root, site_root=site_root, model=model, device=device, cache=cache,
                        settings=settings, language=language)
    return write_proposals(proposals)


def _holds(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read() == data
    except OSError:
        return False


def in_host_terms(message: str, model_hint: str) -> str:
    """`message` with the command line's way to name a model folder replaced by the host's own."""
    from alttext.caption.model import MODEL_FOLDER_HINT

    return message.replace(MODEL_FOLDER_HINT, model_hint)

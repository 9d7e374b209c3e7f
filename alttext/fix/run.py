"""The writers' pipeline: documents in, proposals out, each file proven and written whole.

collect (read, scan, resolve images) -> caption (one captioner call for the
whole run) -> warn -> rewrite and verify each document -> write, diff or
report. Used by `alttext fix` and `alttext suggest`; the caption model is
loaded only when some image is not in the cache.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from alttext.config import DEFAULT_MAX_ALT_LENGTH
from alttext.confine import outside_message, real_inside
from alttext.context import ImageContext, Sourced
from alttext.document import DocumentError, read_document
from alttext.fix.captions import CaptionSource, caption_targets, pending
from alttext.fix.contextual import apply_context
from alttext.fix.plan import (
    DocumentPlan,
    Marking,
    Rewrite,
    Target,
    plan_document,
    rewrite,
)
from alttext.fix.resolve import Resolver
from alttext.fix.warn import add_warnings
from alttext.language import DEFAULT_NON_ENGLISH
from alttext.mkdocs_urls import MkDocsSite
from alttext.printable import printable
from alttext.scan import syntax_for_path
from alttext.scan.base import ScanTooComplex

DEFAULT_MAX_TOKENS = 16


@dataclass(frozen=True)
class Settings:
    """What `fix` and `suggest` need to know, from the command line and [tool.alttext]."""

    paths: tuple[str, ...] = (".",)
    root: str = "."  # nothing outside it is read
    site_root: str | None = None
    fetch_remote: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    config_root: str = "."
    captioner_options: dict[str, Any] = field(default_factory=dict)
    max_tokens: int | None = DEFAULT_MAX_TOKENS
    marking: Marking = field(default_factory=Marking)  # decorative globs, and whether those get an empty alt
    mkdocs: MkDocsSite | None = None  # raw HTML in its pages resolves from the built page's URL
    image_types: tuple[str, ...] = ()  # Sphinx builder's, for `picture.*` images
    language: Sourced | None = None  # the site's language, for pages that declare none
    non_english: str = DEFAULT_NON_ENGLISH  # what to do on a page that is not in English
    max_alt_length: int = DEFAULT_MAX_ALT_LENGTH

    def resolver(self) -> Resolver:
        return Resolver(project_root=self.root, site_root=self.site_root, fetch_remote=self.fetch_remote,
                        mkdocs=self.mkdocs, image_types=self.image_types)


@dataclass
class Log:
    """Messages to stderr, and the counts that make the exit status."""

    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    errors: int = 0
    skipped: int = 0
    halted: bool = False  # no captioner: the run stops after saying why

    def error(self, message: str) -> None:
        self.errors += 1
        print(printable(message), file=self.stream)

    def note(self, message: str) -> None:
        print(printable(message), file=self.stream)


@dataclass
class Collected:
    plans: list[DocumentPlan] = field(default_factory=list)

    @property
    def targets(self) -> list[Target]:
        return [target for plan in self.plans for target in plan.targets]


def collect(settings: Settings, log: Log) -> Collected:
    """Read and scan every document under the paths; each bad file is reported and skipped."""
    from alttext.walk import collect_files

    files = collect_files(settings.paths, include=settings.include, exclude=settings.exclude, root=settings.config_root)
    for problem in files.errors:
        log.error(str(problem))
    collected, resolver = Collected(), settings.resolver()
    for path in files.paths:
        plan = _plan_file(path, resolver, log, settings.marking, settings.language)
        if plan is not None:
            collected.plans.append(plan)
    return collected


def _plan_file(path: str, resolver: Resolver, log: Log, marking: Marking,
               language: Sourced | None = None) -> DocumentPlan | None:
    syntax = syntax_for_path(path)
    if syntax is None:
        log.error(f"{path}: error: not an HTML, Markdown or reStructuredText file (by its extension)")
        return None
    if not real_inside(path, resolver.project_root):
        log.error(f"{path}: error: {outside_message(path, resolver.project_root)}")
        return None
    try:
        document = read_document(path, html=syntax == "html")
        return plan_document(document, syntax, resolver, marking, language)
    except DocumentError as error:
        log.error(f"{_located(str(error))}; left as it is")
    except ScanTooComplex as error:
        where = f"{path}:{error.line}" if error.line else path
        log.error(f"{where}: error: {error}; left as it is")
    except RecursionError:
        log.error(f"{path}: error: too deeply nested for the {syntax} scanner; left as it is")
    return None


def _located(message: str) -> str:
    """"path:line: text" from DocumentError as "path:line: error: text"."""
    head, sep, tail = message.rpartition(": ")
    return f"{head}: error: {tail}" if sep and "error:" not in message else message


def caption(collected: Collected, settings: Settings, log: Log,
            make_captioner: Callable[[Settings], CaptionSource] | None = None) -> None:
    """Captions for every image that needs one, then reviewer warnings."""
    targets = collected.targets
    if pending(targets):
        try:
            captioner = (make_captioner or default_captioner)(settings)
            caption_targets(targets, captioner, max_tokens=settings.max_tokens)
        except CaptionerUnavailable as error:
            # One line says it all: no line per image, and the command stops here.
            log.error(f"alttext: error: {error}")
            log.halted = True
            for target in pending(targets):
                target.problem, target.is_error = "not captioned: the caption model is not available", True
            return
    apply_context(targets, non_english=settings.non_english, max_length=settings.max_alt_length)
    add_warnings(targets)
    report_targets(targets, log)


class CaptionerUnavailable(Exception):
    """The caption model (or the caption extra) cannot be loaded; one line says why."""


def default_captioner(settings: Settings) -> CaptionSource:
    try:
        from alttext.caption.captioner import Captioner
    except ImportError as error:
        raise CaptionerUnavailable(
            f"captioning needs the caption extra: pip install 'alttext[caption]' ({error})"
        ) from None
    try:
        captioner = Captioner(**_accepted(Captioner, settings.captioner_options))
    except Exception as error:  # noqa: BLE001 - ModelUnavailable and bad options become one line
        raise CaptionerUnavailable(str(error)) from None
    return _LoadFailureAsUnavailable(captioner)


class _LoadFailureAsUnavailable:
    """The model loads on first use, so a model that fails then is reported as one line too."""

    def __init__(self, captioner: CaptionSource) -> None:
        self._captioner = captioner
        self.uses_context = bool(getattr(captioner, "uses_context", False))

    def caption_results(self, images: Sequence[str | bytes], *,
                        contexts: Sequence[ImageContext] | None = None) -> list[Any]:
        from alttext.caption.model import ModelUnavailable

        try:
            return self._captioner.caption_results(images, contexts=contexts)
        except ModelUnavailable as error:
            raise CaptionerUnavailable(str(error)) from None


def _accepted(factory: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    """The options `factory` takes (config keys for other captioner versions are left out)."""
    import inspect

    parameters = inspect.signature(factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {key: value for key, value in options.items() if key in parameters}


def report_targets(targets: Iterable[Target], log: Log) -> None:
    for target in targets:
        src = f" ({_short(target.ref.src)})" if target.ref.src else f" ({target.ref.kind})"
        if target.problem and target.is_error:
            log.error(f"{target.where}: error: {target.problem}{src}")
        elif target.problem:
            log.skipped += 1
            log.note(f"{target.where}: skipped: {target.problem}{src}")
        for warning in target.warnings:
            log.note(f"{target.where}: warning: {warning}")


def _short(src: str) -> str:
    return src if len(src) <= 60 else src[:57] + "..."


def rewrites(collected: Collected, log: Log) -> list[Rewrite]:
    """The proven rewrite of every document that has alt text to write."""
    result = []
    for plan in collected.plans:
        if not any(target.alt is not None and target.problem is None for target in plan.targets):
            continue
        proposal = rewrite(plan)
        if proposal.problems:
            log.error(f"{plan.path}: error: not written, the result could not be proven to change only alt text: "
                      + "; ".join(proposal.problems))
        elif proposal.changed:
            result.append(proposal)
    return result


def write_all(proposals: Iterable[Rewrite], log: Log, *, root: str | None = None) -> list[Rewrite]:
    """Write each proven rewrite atomically; a file changed since it was read is skipped,
    and so is one that leads outside `root` by now (a link changed since it was read;
    `collect` already refused documents outside the root when they were read).

    Returns the rewrites that were written.
    """
    from alttext.fix.atomic import FileChangedError, write_atomic

    written = []
    for proposal in proposals:
        path = proposal.plan.path
        if root is not None and not real_inside(path, root):
            log.error(f"{path}: error: {outside_message(path, root)}")
            continue
        try:
            write_atomic(path, proposal.data, expected=proposal.plan.document.raw)
            written.append(proposal)
        except FileChangedError as error:
            log.error(f"{error}")
        except OSError as error:
            log.error(f"{path}: error: cannot write: {error.strerror or error}; left as it is")
    return written


def remove_stale_temporaries(documents: Iterable[str], log: Log) -> None:
    """Remove what an interrupted (killed) run left next to these documents, and say so."""
    from alttext.fix.atomic import remove_stale_temporaries as remove

    for stale in remove(documents):
        log.note(f"{stale.document}: removed {os.path.basename(stale.path)}, left by an interrupted run")


def write_diff(proposals: Iterable[Rewrite], out: IO[bytes]) -> None:
    from alttext.fix.diff import unified_diff

    for proposal in proposals:
        out.write(unified_diff(proposal.plan.path, proposal.plan.document.raw, proposal.data))
    out.flush()


def describe(proposals: Iterable[Rewrite], log: Log) -> int:
    """One line per image that gets alt text; the number of images."""
    count = 0
    for proposal in proposals:
        by_index = {target.index: target for target in proposal.plan.targets}
        for change in proposal.changes:
            log.note(f"{by_index[change.index].where}: alt text: {change.alt!r}")
            count += 1
    return count


def relative(path: str) -> str:
    return os.path.relpath(path) if os.path.isabs(path) else path

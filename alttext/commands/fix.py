"""`alttext fix`: write alt text into documents in place, or show it as a diff or a review page."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from alttext.commands.caption_options import add_captioner_arguments, captioner_options
from alttext.printable import printable

EPILOG = """\
exit status: 0 nothing to do, 1 files changed (or would change), 2 an error
(a missing or unreadable image, a file that could not be proven safe to write, ...).
Images without alt text whose alt text cannot be found (remote images without
--fetch-remote, SVGs without a <title>) are reported as skipped.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "fix",
        help="write alt text for images that lack it",
        description="Write alt text for images without a text alternative, with minimal byte-exact edits.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(parser)
    parser.add_argument("--diff", action="store_true", help="print a unified diff (for git apply / patch -p1); write nothing")
    parser.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    parser.add_argument("--review", metavar="FILE.html", help="also write a self-contained review page of every proposal")
    parser.set_defaults(run=run)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files and folders (default: .)")
    parser.add_argument("--fetch-remote", action="store_true", default=None,
                        help="download http(s) images (size limit and timeout) instead of skipping them")
    parser.add_argument("--root", metavar="DIR", help="project root: nothing outside it is read or written (default: .)")
    parser.add_argument("--site-root", metavar="DIR", help="folder that /absolute image paths start from")
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read [tool.alttext] from")
    parser.add_argument("--write-decorative", action="store_true",
                        help='give images marked decorative an empty alt (<img alt="">, rST :alt:) instead of leaving them')
    parser.add_argument("--language", metavar="TAG",
                        help="language of the pages that declare none (default: [tool.alttext] language, else English)")
    parser.add_argument("--non-english", choices=("text-only", "warn", "review"),
                        help="on a page not in English: keep only the image's text (default), "
                             "warn about the English description, or leave the image for review")
    add_captioner_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from alttext.fix import run as pipeline

    started = collect_and_caption(args)
    if started is None:
        return 2
    collected, log = started
    root = args.root or "."
    proposals = pipeline.rewrites(collected, log)
    if args.diff:
        pipeline.write_diff(proposals, sys.stdout.buffer)
    else:
        pipeline.describe(proposals, log)
    if not (args.diff or args.dry_run):
        pipeline.remove_stale_temporaries([plan.path for plan in collected.plans], log)
    done = proposals if args.diff or args.dry_run else pipeline.write_all(proposals, log, root=root)
    if args.review:  # after writing, so the page says which proposals are written
        write_review_page(args.review, collected, log, written=() if args.diff or args.dry_run else done)
    images, changed = sum(len(p.changes) for p in done), len(done)
    _summary(log, images, changed, would=args.diff or args.dry_run)
    if log.errors:
        return 2
    return 1 if proposals else 0


def collect_and_caption(args: argparse.Namespace) -> tuple[Any, Any] | None:
    """Scan the documents and caption their images without alt text, as `fix` and `suggest`
    both start: (collected targets, log), or None after printing a configuration error or
    that no captioner can be loaded."""
    from alttext.config import ConfigError
    from alttext.fix import run as pipeline

    try:
        settings = settings_from_args(args)
    except ConfigError as error:
        print(printable(f"alttext: error: {error}"), file=sys.stderr)
        return None
    log = pipeline.Log()
    collected = pipeline.collect(settings, log)
    pipeline.caption(collected, settings, log)
    if log.halted:
        return None  # the captioner is missing: nothing is written, no proposals file either
    return collected, log


def write_review_page(path: str, collected: Any, log: Any, written: Any = ()) -> None:
    from alttext.fix.review import write_review

    try:
        documents = {plan.path: plan.document.raw for plan in collected.plans}
        write_review(path, collected.targets, documents, written)
        log.note(f"Review page: {path}")
    except OSError as error:
        log.error(f"{path}: error: cannot write the review page: {error.strerror or error}")


def _summary(log: Any, images: int, files: int, *, would: bool) -> None:
    verb = "Would write" if would else "Wrote"
    if images:
        line = f"{verb} alt text for {images} image{'s' * (images != 1)} in {files} file{'s' * (files != 1)}."
    else:
        line = "No alt text to write."
    if log.skipped:
        line += f" {log.skipped} skipped."
    if log.errors:
        line += f" {log.errors} error{'s' * (log.errors != 1)}."
    log.note(line)


def settings_from_args(args: argparse.Namespace, config: Any = None) -> Any:
    """Settings from [tool.alttext] (or `config`, already read) with the command-line flags on top."""
    from alttext.config import Config, ConfigError, find_pyproject, load_config
    from alttext.fix.plan import Marking
    from alttext.fix.run import DEFAULT_MAX_TOKENS, Settings
    from alttext.mkdocs_urls import read_mkdocs_site

    if args.config and not os.path.isfile(args.config):
        raise ConfigError(f"--config {args.config}: no such file")
    paths = tuple(args.paths or ["."])
    source = config.source if config is not None else args.config or find_pyproject(paths[0])
    if config is None:
        config = load_config(source) if source else Config(root=os.getcwd())
    extra = config.extra
    root = args.root or "."
    if not os.path.isdir(root):
        raise ConfigError(f"--root {root}: no such folder")
    site_root = args.site_root or config.site_root or mkdocs_docs_dir(config.root)
    options = captioner_options(args, config.root, extra, source)
    fetch_remote = args.fetch_remote if args.fetch_remote is not None else bool(extra.get("fetch-remote", False))
    language, non_english = _language_settings(args, extra, source)
    return Settings(
        paths=paths, root=root, site_root=site_root, fetch_remote=fetch_remote, include=config.include,
        exclude=config.exclude, config_root=config.root, mkdocs=read_mkdocs_site(config.root),
        captioner_options=options, max_tokens=int(options.get("max_length", DEFAULT_MAX_TOKENS)),
        marking=Marking(config.decorative, config.root, write_empty_alt=args.write_decorative),
        language=language, non_english=non_english, max_alt_length=config.max_alt_length,
    )


def _language_settings(args: argparse.Namespace, extra: dict[str, object], source: str | None) -> tuple[Any, str]:
    """The site's language and the non-English policy: [tool.alttext], flags on top."""
    from alttext.config import ConfigError
    from alttext.language import LanguageError, from_config, site_language

    try:
        language, policy = from_config(extra, source)
        flag = getattr(args, "language", None)  # hosts (the Action) build args without these flags
        if flag:
            language = site_language(flag, "--language")
    except LanguageError as error:
        raise ConfigError(str(error)) from None
    return language, getattr(args, "non_english", None) or policy


def mkdocs_docs_dir(folder: str) -> str | None:
    """The `docs_dir` of an mkdocs.yml in `folder` (MkDocs' default: docs), if there is one."""
    from alttext.mkdocs_urls import read_mkdocs_site

    site = read_mkdocs_site(folder)
    return site.docs_dir if site else None

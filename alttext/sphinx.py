"""Sphinx extension: images without alt text, found in the doctree.

    extensions = ["alttext.sphinx"]
    alttext_mode = "check"   # or "fill" (alt text in the output) or "write" (into the sources)

Sphinx's HTML writer puts the image path into `alt` when `:alt:` is missing,
so the built HTML cannot tell; the doctree can. Each image without alt text
is a warning of type `alttext` (subtype `missing-alt`) at its source file and
line, so `sphinx-build -W` fails and `suppress_warnings = ["alttext"]` works.

Images are collected while documents are read (in parallel workers when
`-j` is used) and merged into the environment; captions are made once, in
the main process, after reading, so the model loads at most once per build.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docutils import nodes  # type: ignore[import-untyped]

from alttext import __version__
from alttext.document import DocumentError, read_document
from alttext.rules import RULES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

MODES = ("check", "fill", "write")
MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class MissingAlt:
    """One image without alt text, as found in one document's doctree."""

    docname: str
    source: str  # absolute path of the file the image is written in (an include may differ from the doc)
    line: int | None
    uri: str  # as Sphinx resolved it: relative to the source dir, or a remote URL
    rule: str

    @property
    def image_path(self) -> str | None:
        """The local image's path relative to the source folder; None for a remote or data: image."""
        return None if "://" in self.uri or self.uri.startswith("data:") else self.uri


def setup(app: Sphinx) -> dict[str, Any]:
    from sphinx.config import ENUM

    app.add_config_value("alttext_mode", "check", "env", types=ENUM(*MODES))
    app.add_config_value("alttext_model", None, "", types=frozenset({str, type(None)}))
    app.add_config_value("alttext_device", "auto", "", types=frozenset({str}))
    app.add_config_value("alttext_cache", ".alttext-cache", "", types=frozenset({str, type(None)}))
    app.add_config_value("alttext_exclude", [], "env", types=frozenset({list, tuple}))
    app.connect("doctree-read", collect_missing_alt)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    app.connect("env-updated", caption_missing)
    app.connect("doctree-resolved", fill_alt)
    return {"version": __version__, "env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}


# --- the pure part: which image nodes lack alt text ----------------------------------------


_ALT_OPTION = re.compile(r"^\s*:alt:", re.MULTILINE)


def needs_alt(node: nodes.image, *, markdown: bool) -> bool:
    """rST: no `:alt:` option (an empty one is decorative). MyST Markdown: `![](x)` gives alt "".

    docutils gives a `|name| image::` substitution the alt text "name" when it has no
    `:alt:`; the directive's own text (the node's rawsource, kept by copies) tells.
    """
    if "alt" not in node:
        return True
    if markdown:
        return not str(node["alt"]).strip()
    written = node.rawsource or ""
    return "image::" in written and not _ALT_OPTION.search(written)


def source_line(node: nodes.Node, default_source: str) -> tuple[str, int | None]:
    """The file and 1-based line an image is written at; MyST gives inline images no line of their own."""
    source: str | None = None
    line: int | None = None
    current: nodes.Node | None = node
    while current is not None and not (source and line):
        source = source or current.source
        line = line or current.line
        current = current.parent
    return os.path.abspath(source or default_source), line


def rendered_images(doctree: nodes.Node) -> Iterable[nodes.image]:
    """Image nodes that reach the output (not the originals inside substitution definitions)."""
    for node in doctree.findall(nodes.image):
        if not _inside(node, nodes.substitution_definition):
            yield node


def _inside(node: nodes.Node, kind: type[nodes.Node]) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, kind):
            return True
        parent = parent.parent
    return False


def find_missing_alt(doctree: nodes.document, docname: str, default_source: str) -> list[MissingAlt]:
    """One entry per image written without alt text; a substitution used twice counts once."""
    found: dict[tuple[str, int | None, str], MissingAlt] = {}
    for node in doctree.findall(nodes.image):
        source, line = source_line(node, default_source)
        markdown = source.lower().endswith(MARKDOWN_SUFFIXES)
        if not needs_alt(node, markdown=markdown):
            continue
        uri = str(node.get("candidates", {}).get("*", node["uri"]))
        # As `alttext check` says: ALT101 for `![](x)`, ALT201 for a directive (a MyST fence too).
        rule = "ALT101" if markdown and "alt" in node else "ALT201"
        found.setdefault((source, line, uri), MissingAlt(docname, source, line, uri, rule))
    return list(found.values())


def exact_markdown_lines(items: list[MissingAlt], text: str, srcdir: str) -> list[MissingAlt]:
    """MyST gives an inline image only its paragraph's first line; the Markdown scanner knows the image's own.

    Each item takes the first unclaimed image without alt text at or after its line that
    shows the same file; items the scanner does not see (MyST directives) keep their line.
    """
    from dataclasses import replace

    from alttext.scan import find_images
    from alttext.textpos import LineIndex

    index = LineIndex(text)
    candidates = [(index.position(ref.start)[0], ref.src) for ref in find_images(text, "markdown") if ref.needs_alt]
    claimed: set[int] = set()
    exact = []
    for item in items:
        for number, (line, src) in enumerate(candidates):
            if number in claimed or (item.line and line < item.line):
                continue
            shown = os.path.relpath(os.path.normpath(os.path.join(os.path.dirname(item.source), src)), srcdir)
            if shown.replace(os.sep, "/") == item.uri:
                claimed.add(number)
                item = replace(item, line=line)
                break
        exact.append(item)
    return exact


def warning_text(missing: MissingAlt) -> str:
    return f"{missing.rule} {RULES[missing.rule].summary} ({missing.uri})"


# --- Sphinx events ------------------------------------------------------------------------


def _store(env: BuildEnvironment) -> dict[str, list[MissingAlt]]:
    if not hasattr(env, "alttext_missing"):
        env.alttext_missing = {}  # type: ignore[attr-defined]
    return env.alttext_missing  # type: ignore[attr-defined,no-any-return]


def _excluded(app: Sphinx, source: str) -> bool:
    """`alttext_exclude` globs work as `exclude` in [tool.alttext], relative to the source folder."""
    from alttext.walk import matches_any

    relative = os.path.relpath(source, app.srcdir).replace(os.sep, "/")
    return matches_any(relative, app.config.alttext_exclude, root=".")


def collect_missing_alt(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    docname = env.docname
    default_source = str(env.doc2path(docname))
    missing = [m for m in find_missing_alt(doctree, docname, default_source) if not _excluded(app, m.source)]
    missing = _with_exact_lines(missing, str(app.srcdir))
    _store(env)[docname] = missing
    if app.config.alttext_mode == "check":
        for item in missing:
            _warn(warning_text(item), item)


def _with_exact_lines(missing: list[MissingAlt], srcdir: str) -> list[MissingAlt]:
    markdown_sources = sorted({item.source for item in missing if item.rule == "ALT101"})
    for source in markdown_sources:
        try:
            text = read_document(source).text
        except DocumentError:
            continue  # Sphinx has read it; keep the lines it gave
        mine = [item for item in missing if item.source == source]
        exact = iter(exact_markdown_lines(mine, text, srcdir))
        missing = [next(exact) if item.source == source else item for item in missing]
    return missing


def _warn(message: str, item: MissingAlt, subtype: str = "missing-alt") -> None:
    from sphinx.util import logging

    # A bare node carries the exact file (an included one too) and line to Sphinx's logger.
    location = nodes.Element()
    location.source, location.line = item.source, item.line
    logging.getLogger(__name__).warning(message, type="alttext", subtype=subtype, location=location)


def purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _store(env).pop(docname, None)


def merge_info(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    theirs = _store(other)
    _store(env).update({docname: theirs[docname] for docname in docnames if docname in theirs})


def caption_missing(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """fill/write: caption every image without alt text once; write: first patch the sources."""
    env.alttext_captions = {}  # type: ignore[attr-defined]
    if app.config.alttext_mode == "check":
        return []
    from alttext.integration import caption_images

    everything = [item for items in _store(env).values() for item in items]
    if app.config.alttext_mode == "write":
        _write_sources(app, sorted({item.source for item in everything}))
    # After a write these are all cache hits: the model is not loaded twice.
    paths = sorted({os.path.join(app.srcdir, item.image_path) for item in everything if item.image_path})
    captions, problems = caption_images(paths, **_caption_settings(app), **_language_settings(app))
    env.alttext_captions = captions  # type: ignore[attr-defined]
    for problem in problems:
        _warn_plain(problem, "caption")
    return []


def _caption_settings(app: Sphinx) -> dict[str, Any]:
    cache = app.config.alttext_cache
    return {
        "model": app.config.alttext_model,
        "device": app.config.alttext_device,
        "cache": os.path.join(app.confdir, cache) if cache else None,
    }


def _language_settings(app: Sphinx) -> dict[str, Any]:
    """The project's language and the [tool.alttext] policy for one that is not English."""
    from alttext.integration import language_config

    return {"language": _language(app), "non_english": language_config(os.path.dirname(os.path.abspath(app.srcdir)))[1]}


def _language(app: Sphinx) -> Any:
    """Sphinx's `language`: the language its pages are built in (`<html lang>`)."""
    from alttext.context import Sourced

    return Sourced(str(app.config.language), origin="conf.py language") if app.config.language else None


def _warn_plain(message: str, subtype: str) -> None:
    from sphinx.util import logging

    logging.getLogger(__name__).warning(message, type="alttext", subtype=subtype)


def _write_sources(app: Sphinx, sources: list[str]) -> None:
    """Alt text into the rST and Markdown sources, through the same proven edits as `alttext fix`."""
    from sphinx.util import logging

    from alttext.integration import write_alt_text

    logger = logging.getLogger(__name__)
    srcdir = os.path.abspath(app.srcdir)
    outcome = write_alt_text(sources, root=os.path.dirname(srcdir), site_root=srcdir, language=_language(app),
                             **_caption_settings(app))
    for message in outcome.messages:
        if ": error: " in message or message.startswith("alttext: error"):
            _warn_plain(message, "write")
        else:
            logger.info("alttext: %s", message)
    for path in outcome.changed:
        logger.info("alttext: wrote alt text into %s", os.path.relpath(path, srcdir))


def fill_alt(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """fill/write: set the alt text of the output (the doctree being written), never the source."""
    captions: dict[str, str] = getattr(app.env, "alttext_captions", {})
    if app.config.alttext_mode == "check" or not captions:
        return
    default_source = str(app.env.doc2path(docname))
    for node in rendered_images(doctree):
        source = source_line(node, default_source)[0]
        if _excluded(app, source) or not needs_alt(node, markdown=source.lower().endswith(MARKDOWN_SUFFIXES)):
            continue
        uri = str(node.get("candidates", {}).get("*", node["uri"]))
        caption = captions.get(os.path.join(app.srcdir, uri))
        if caption:
            node["alt"] = caption

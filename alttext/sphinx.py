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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from docutils import nodes  # type: ignore[import-untyped]

from alttext import __version__
from alttext.document import DocumentError, read_document
from alttext.printable import printable
from alttext.rules import RULES
from alttext.scan.base import ScanTooComplex

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
    uri: str  # as Sphinx resolved it for the builder: relative to the source dir, or a remote URL
    rule: str
    kind: str = "image"  # image, figure or substitution

    @property
    def image_path(self) -> str | None:
        """The local image's path relative to the source folder; None for a remote or data: image."""
        return None if "://" in self.uri or self.uri.startswith("data:") else self.uri


def setup(app: Sphinx) -> dict[str, Any]:
    from alttext.project import host_keys, option_name

    app.add_config_value("alttext_mode", "check", "env", types=frozenset({str}))
    # Every [tool.alttext] key as `alttext_<key>`; unset (None) keeps the table's value.
    for key in host_keys():
        app.add_config_value(option_name(key, "alttext_"), None, "env")
    app.connect("config-inited", read_project_config)
    app.connect("doctree-read", collect_missing_alt)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    app.connect("env-updated", caption_missing)
    app.connect("doctree-resolved", fill_alt)
    return {"version": __version__, "env_version": 2, "parallel_read_safe": True, "parallel_write_safe": True}


def read_project_config(app: Sphinx, config: Any) -> None:
    """The mode, checked, and [tool.alttext] with the `alttext_*` options of conf.py on top."""
    from sphinx.errors import ConfigError as SphinxConfigError

    from alttext.config import ConfigError
    from alttext.project import from_text, host_keys, option_name, project_config

    if config.alttext_mode not in MODES:
        raise SphinxConfigError(f"alttext_mode = {config.alttext_mode!r} is not a mode; use one of: {', '.join(MODES)}")
    options = {key: from_text(key, getattr(config, option_name(key, "alttext_"))) for key in host_keys()}
    try:
        # cache and a model folder start at conf.py's folder, exclude and include globs at the source folder.
        project = project_config(str(app.confdir), options, host_root=str(app.confdir), glob_root=str(app.srcdir),
                                 host="conf.py", prefix="alttext_")
    except ConfigError as error:
        raise SphinxConfigError(str(error)) from None
    app.alttext_project = project  # type: ignore[attr-defined]


def _project(app: Sphinx) -> Any:
    """The project's alttext Config (alttext.config.Config)."""
    return app.alttext_project  # type: ignore[attr-defined]


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


def find_missing_alt(
    doctree: nodes.document, docname: str, default_source: str, image_types: Sequence[str] = ()
) -> list[MissingAlt]:
    """One entry per image written without alt text; a substitution used twice counts once."""
    found: dict[tuple[str, int | None, str], MissingAlt] = {}
    for node in doctree.findall(nodes.image):
        source, line = source_line(node, default_source)
        markdown = source.lower().endswith(MARKDOWN_SUFFIXES)
        if not needs_alt(node, markdown=markdown):
            continue
        uri = chosen_uri(node, image_types)
        # As `alttext check` says: ALT101 for `![](x)`, ALT201 for a directive (a MyST fence too).
        rule = "ALT101" if markdown and "alt" in node else "ALT201"
        found.setdefault((source, line, uri), MissingAlt(docname, source, line, uri, rule, _kind(node)))
    return list(found.values())


def chosen_uri(node: nodes.image, image_types: Sequence[str]) -> str:
    """The file Sphinx shows for an image: for `picture.*`, the first candidate the builder supports."""
    candidates = node.get("candidates", {})
    if "*" in candidates:
        return str(candidates["*"])
    for mimetype in image_types:
        if mimetype in candidates:
            return str(candidates[mimetype])
    return str(node["uri"])


def _kind(node: nodes.image) -> str:
    if isinstance(node.parent, nodes.figure):
        return "figure"
    # A `|name| image::` substitution's rawsource is the directive without its `.. |name| `.
    return "substitution" if (node.rawsource or "").startswith("image::") else "image"


def exact_markdown_lines(items: list[MissingAlt], text: str, srcdir: str) -> list[MissingAlt]:
    """MyST gives an inline image only its paragraph's first line; the Markdown scanner knows the image's own.

    Each item takes the first unclaimed image without alt text at or after its line that
    shows the same file; items the scanner does not see (MyST directives) keep their line.
    """
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
    """The message `alttext check` gives the same image: a MyST fence is named as MyST."""
    if missing.rule != "ALT201":
        return f"{missing.rule} {RULES[missing.rule].summary} ({missing.uri})"
    syntax = "MyST" if missing.source.lower().endswith(MARKDOWN_SUFFIXES) else "reStructuredText"
    what = {"figure": "figure", "substitution": "image substitution"}.get(missing.kind, "image")
    return f"ALT201 {syntax} {what} has no :alt: option ({missing.uri})"


# --- Sphinx events ------------------------------------------------------------------------


def _store(env: BuildEnvironment) -> dict[str, list[MissingAlt]]:
    if not hasattr(env, "alttext_missing"):
        env.alttext_missing = {}  # type: ignore[attr-defined]
    return env.alttext_missing  # type: ignore[attr-defined,no-any-return]


def _excluded(app: Sphinx, source: str) -> bool:
    """`exclude` and `include` of [tool.alttext] (or `alttext_exclude`, relative to the source folder)."""
    from alttext.walk import matches_any

    config = _project(app)
    if config.include and not matches_any(source, config.include, root=config.root):
        return True
    return matches_any(source, config.exclude, root=config.root)


def _image_types(app: Sphinx) -> tuple[str, ...]:
    return tuple(getattr(app.builder, "supported_image_types", ()))


def collect_missing_alt(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    docname = env.docname
    default_source = str(env.doc2path(docname))
    found = find_missing_alt(doctree, docname, default_source, _image_types(app))
    missing = [m for m in found if not _excluded(app, m.source)]
    missing = _without_marked(_with_exact_lines(missing, str(app.srcdir)), app)
    _store(env)[docname] = missing
    if app.config.alttext_mode == "check":
        rules = _project(app).rules
        for item in missing:
            if item.rule in rules:
                _warn(warning_text(item), item)
        if not _excluded(app, default_source):
            _warn_weak_alt(default_source, _project(app))


def _warn_weak_alt(source: str, config: Any) -> None:
    """The alt text rules of `alttext check` (ALT3xx) on the document's own source."""
    from alttext.lint import check_file
    from alttext.rules import MISSING_ALT_RULES

    for finding in check_file(source, config).findings:
        if finding.rule not in MISSING_ALT_RULES:
            location = MissingAlt("", finding.path, finding.line, finding.src, finding.rule)
            _warn(f"{finding.rule} {finding.message} ({finding.src})", location, "weak-alt")


def _with_exact_lines(missing: list[MissingAlt], srcdir: str) -> list[MissingAlt]:
    markdown_sources = sorted({item.source for item in missing if item.rule == "ALT101"})
    for source in markdown_sources:
        try:
            text = read_document(source).text
        except DocumentError:
            continue  # Sphinx has read it; keep the lines it gave
        mine = [item for item in missing if item.source == source]
        try:
            exact = iter(exact_markdown_lines(mine, text, srcdir))
        except ScanTooComplex:
            continue  # keep the lines Sphinx gave
        missing = [next(exact) if item.source == source else item for item in missing]
    return missing


def _without_marked(missing: list[MissingAlt], app: Sphinx) -> list[MissingAlt]:
    """Drop the images an inline mark or a `decorative` glob of [tool.alttext] silences."""
    from alttext.lint import silenced_lines
    from alttext.scan import syntax_for_path

    config = _project(app)
    kept = []
    marks_by_source: dict[str, dict[int, list[Any]]] = {}
    for item in missing:
        if item.source not in marks_by_source:
            syntax = syntax_for_path(item.source)
            try:
                text = read_document(item.source).text if syntax else ""
            except DocumentError:
                text = ""
            try:
                marks_by_source[item.source] = silenced_lines(item.source, text, syntax, config) if syntax and text else {}
            except ScanTooComplex:
                marks_by_source[item.source] = {}
        marks = marks_by_source[item.source].get(item.line or 0, [])
        if not any(mark.silences(item.rule) for mark in marks):
            kept.append(item)
    return kept


def _warn(message: str, item: MissingAlt, subtype: str = "missing-alt") -> None:
    from sphinx.util import logging

    # A bare node carries the exact file (an included one too) and line to Sphinx's logger.
    location = nodes.Element()
    location.source, location.line = item.source, item.line
    logging.getLogger(__name__).warning(printable(message), type="alttext", subtype=subtype, location=location)


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
    from alttext.integration import caption_images, in_host_terms

    everything = [item for items in _store(env).values() for item in items]
    if app.config.alttext_mode == "write":
        _write_sources(app, sorted({item.source for item in everything}))
    # After a write these are all cache hits: the model is not loaded twice.
    paths = sorted({os.path.join(app.srcdir, item.image_path) for item in everything if item.image_path})
    captions, problems = caption_images(paths, settings=_settings(app, []))
    env.alttext_captions = captions  # type: ignore[attr-defined]
    by_image = {problem.split(": cannot caption image: ")[0]: problem for problem in problems}
    for problem in problems:
        if problem.split(": cannot caption image: ")[0] not in paths:
            _warn_plain(in_host_terms(problem.removeprefix("alttext: "), MODEL_HINT), "caption")
    for item in everything:  # each image that got no caption, at the place it is shown
        failure = by_image.get(os.path.join(app.srcdir, item.image_path or ""))
        if failure:
            _warn(_relative(failure, str(app.srcdir)), item, "caption")
    return []


MODEL_HINT = "set alttext_model = '/path/to/folder' in conf.py"


def _settings(app: Sphinx, sources: list[str]) -> Any:
    """The writers' settings, as `alttext fix` makes them for this project; `/` paths start at the source folder."""
    from sphinx.errors import ConfigError as SphinxConfigError

    from alttext.config import ConfigError
    from alttext.fix.resolve import SPHINX_HTML_IMAGE_TYPES
    from alttext.project import fix_settings

    srcdir = os.path.abspath(app.srcdir)
    try:
        settings = fix_settings(_project(app), sources, root=os.path.dirname(srcdir), site_root=srcdir)
    except ConfigError as error:
        raise SphinxConfigError(str(error)) from None
    # conf.py's language is what the built pages declare: it wins over [tool.alttext]'s.
    return replace(settings, image_types=_image_types(app) or SPHINX_HTML_IMAGE_TYPES,
                   language=_language(app) or settings.language)


def _relative(text: str, srcdir: str) -> str:
    """Paths in messages relative to the source folder, as Sphinx shows its own."""
    return text.replace(srcdir.rstrip(os.sep) + os.sep, "")


def _language(app: Sphinx) -> Any:
    """Sphinx's `language`: the language its pages are built in (`<html lang>`)."""
    from alttext.context import Sourced

    return Sourced(str(app.config.language), origin="conf.py language") if app.config.language else None


def _warn_plain(message: str, subtype: str) -> None:
    from sphinx.util import logging

    logging.getLogger(__name__).warning(printable(message), type="alttext", subtype=subtype)


def _write_sources(app: Sphinx, sources: list[str]) -> None:
    """Alt text into the rST and Markdown sources, through the same proven edits as `alttext fix`."""
    from sphinx.util import logging

    from alttext.integration import in_host_terms, write_alt_text

    logger = logging.getLogger(__name__)
    srcdir = os.path.abspath(app.srcdir)
    outcome = write_alt_text(sources, root=os.path.dirname(srcdir), settings=_settings(app, sources))
    for message in outcome.messages:
        text = in_host_terms(_relative(message.removeprefix("alttext: "), srcdir), MODEL_HINT)
        if text.startswith("error: ") or ": error: " in text:
            _warn_plain(text, "write")
        elif ": warning: " in text or ": skipped: " in text:
            _warn_plain(text, "review")
        else:
            logger.info("alttext: %s", text)
    for path in outcome.changed:
        logger.info("alttext: wrote alt text into %s", printable(os.path.relpath(path, srcdir)))


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
        caption = captions.get(os.path.join(app.srcdir, chosen_uri(node, _image_types(app))))
        if caption:
            node["alt"] = caption

"""Which image a `src` means: a file, the bytes of a data: URI, a remote URL, or nothing.

Relative paths start at the document's folder, `/absolute` paths at the site
root (config `site-root`, MkDocs `docs_dir`). Nothing outside the project
root is read, remote images are fetched only when asked (with a size limit and
a deadline for the whole download), and an SVG brings its own text (its `<title>` or `<desc>`) instead
of being captioned.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import urllib.parse
from dataclasses import dataclass

from alttext.confine import outside_message, real_inside
from alttext.mkdocs_urls import MkDocsSite

MAX_IMAGE_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT_S = 10.0
_SVG_SUFFIXES = (".svg", ".svgz")
# Sphinx's HTML builder, in its order of preference, for `picture.*` sources.
SPHINX_HTML_IMAGE_TYPES = ("image/svg+xml", "image/png", "image/gif", "image/jpeg")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


@dataclass(frozen=True)
class ResolvedImage:
    """What to caption for one `src`: a local `path` or in-memory `data`.

    `text` is alt text the image carries itself (an SVG's title); `problem`
    says why there is nothing to caption, and `is_error` whether that is an
    error (a missing file) or a deliberate skip (a remote image not fetched).
    """

    src: str
    path: str | None = None
    data: bytes | None = None
    text: str | None = None
    problem: str | None = None
    is_error: bool = False
    outside_root: bool = False

    @property
    def payload(self) -> str | bytes | None:
        """What the captioner takes: the file path or the bytes."""
        return self.path if self.path is not None else self.data

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is None:
            raise ValueError(f"{self.src}: no image")
        with open(self.path, "rb") as file:
            return file.read()


@dataclass(frozen=True)
class Resolver:
    project_root: str
    site_root: str | None = None
    fetch_remote: bool = False
    max_bytes: int = MAX_IMAGE_BYTES
    timeout: float = FETCH_TIMEOUT_S
    mkdocs: MkDocsSite | None = None
    image_types: tuple[str, ...] = ()  # Sphinx: `picture.*` is the first of these that exists

    def resolve(self, src: str, document_path: str, *, file_path: bool = False, raw_html: bool = False) -> ResolvedImage:
        """What `src` of the document at `document_path` shows.

        `file_path`: `src` is a file path as written, not a URL (reStructuredText
        image directives, as docutils and Sphinx read them): `#`, `?` and `%`
        are part of the file name, and only a `scheme:` URL is remote.
        `raw_html`: written as HTML inside Markdown.
        """
        src = src.strip()
        if not src:
            return _skip(src, "no image source to caption")
        if src[:5].lower() == "data:":
            return _from_data_uri(src)
        if src.startswith("//") and not file_path:
            return self._remote(src, "https:" + src)
        scheme = _SCHEME.match(src)
        if scheme and len(scheme.group(1)) > 1:  # one letter is a Windows drive, not a scheme
            if scheme.group(1).lower() in ("http", "https"):
                return self._remote(src, src)
            return _skip(src, f"{scheme.group(1)}: images are not read")
        if file_path:
            return self._local(src, src, document_path, [src])
        relative = urllib.parse.urlsplit(src).path
        return self._local(src, relative, document_path, [urllib.parse.unquote(relative), relative], raw_html)

    def _local(self, src: str, relative: str, document_path: str, spellings: list[str],
               raw_html: bool = False) -> ResolvedImage:
        if relative.startswith("/"):
            if self.site_root is None:
                return _error(src, "absolute image path needs a site root (site-root in [tool.alttext])")
            base = self.site_root
        else:
            # MkDocs leaves raw HTML as written: the browser resolves it from the page's URL.
            page_folder = self.mkdocs.page_folder(document_path) if raw_html and self.mkdocs else None
            base = page_folder or os.path.dirname(os.path.abspath(document_path))
        path = _existing(base, spellings)
        if relative.endswith(".*") and self.image_types and not os.path.exists(path):
            path = _wildcard_choice(path, self.image_types) or path
        if not real_inside(path, self.project_root):
            reason = outside_message(path, self.project_root, "image").replace("not read or written", "not read")
            return ResolvedImage(src, problem=reason, is_error=True, outside_root=True)
        if not os.path.exists(path):
            return _error(src, f"image file not found: {os.path.relpath(path)}")
        if not os.path.isfile(path):
            return _error(src, f"not an image file: {os.path.relpath(path)}")
        if os.path.getsize(path) > self.max_bytes:
            return _error(src, f"image is over the {self.max_bytes // 2**20} MiB limit")
        if path.lower().endswith(_SVG_SUFFIXES):
            return _from_svg(src, _read(path), path=path)
        return ResolvedImage(src, path=path)

    def _remote(self, src: str, url: str) -> ResolvedImage:
        if not self.fetch_remote:
            return _skip(src, "remote image not fetched (pass --fetch-remote to caption it)")
        try:
            data = fetch(url, self.max_bytes, self.timeout)
        except (OSError, ValueError) as error:
            return _error(src, f"cannot fetch remote image: {error}")
        if urllib.parse.urlsplit(url).path.lower().endswith(_SVG_SUFFIXES) or _looks_like_svg(data):
            return _from_svg(src, data)
        return ResolvedImage(src, data=data)


def fetch(url: str, max_bytes: int = MAX_IMAGE_BYTES, timeout: float = FETCH_TIMEOUT_S) -> bytes:
    """The body of `url`, refusing more than `max_bytes` or taking longer than `timeout` in all."""
    from alttext import __version__
    from alttext.fix.fetch import fetch as download

    return download(url, max_bytes, timeout, f"alttext/{__version__}")


def decode_data_uri(uri: str) -> tuple[str, bytes]:
    """(media type, bytes) of a `data:` URI; ValueError when it is malformed."""
    header, comma, body = uri[5:].partition(",")
    if not comma:
        raise ValueError("data: URI has no comma")
    parameters = header.split(";")
    media_type = parameters[0].strip().lower() or "text/plain"
    if "base64" in (p.strip().lower() for p in parameters[1:]):
        try:
            return media_type, base64.b64decode(re.sub(r"\s+", "", urllib.parse.unquote(body)), validate=True)
        except binascii.Error as error:
            raise ValueError(f"bad base64 in data: URI ({error})") from None
    return media_type, urllib.parse.unquote_to_bytes(body)


def svg_text(data: bytes) -> str | None:
    """The text of an SVG's own `<title>` (or else `<desc>`) child of the root, if any."""
    from xml.etree import ElementTree

    if data[:2] == b"\x1f\x8b":
        import gzip

        data = gzip.decompress(data)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    for wanted in ("title", "desc"):
        for child in root:
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == wanted:
                text = " ".join("".join(child.itertext()).split())
                if text:
                    return text
    return None


def _from_data_uri(src: str) -> ResolvedImage:
    try:
        media_type, data = decode_data_uri(src)
    except ValueError as error:
        return _error(_short(src), str(error))
    if media_type == "image/svg+xml":
        return _from_svg(src, data)
    return ResolvedImage(src, data=data)


def _from_svg(src: str, data: bytes, path: str | None = None) -> ResolvedImage:
    text = svg_text(data)
    problem = None if text is not None else "SVG image has no <title> or <desc> to use; write its alt text by hand"
    # The file or bytes stay known (for the review page's preview); the problem stops captioning.
    return ResolvedImage(src, path=path, data=None if path else data, text=text, problem=problem)


def _existing(base: str, spellings: list[str]) -> str:
    """The first spelling of the path that exists (percent-decoded first), else the first."""
    paths = [os.path.normpath(os.path.join(base, spelling.lstrip("/"))) for spelling in spellings]
    return next((path for path in paths if os.path.exists(path)), paths[0])


def _wildcard_choice(pattern: str, image_types: tuple[str, ...]) -> str | None:
    """The file Sphinx shows for `picture.*`: the first of the builder's image types that exists."""
    import glob
    import mimetypes

    by_type: dict[str, str] = {}
    for candidate in sorted(glob.glob(glob.escape(pattern[:-2]) + ".*")):
        mimetype = mimetypes.guess_type(candidate)[0]
        if mimetype:
            by_type.setdefault(mimetype, candidate)
    return next((by_type[mimetype] for mimetype in image_types if mimetype in by_type), None)


def _looks_like_svg(data: bytes) -> bool:
    return b"<svg" in data[:1024]


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _short(src: str) -> str:
    return src if len(src) <= 60 else src[:57] + "..."


def _skip(src: str, reason: str) -> ResolvedImage:
    return ResolvedImage(src, problem=reason)


def _error(src: str, reason: str) -> ResolvedImage:
    return ResolvedImage(src, problem=reason, is_error=True)

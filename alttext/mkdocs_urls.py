"""Where MkDocs puts a page, so raw HTML in it resolves as the browser will resolve it.

MkDocs rewrites Markdown image paths to work from the built page, but leaves
raw HTML (`<img src="../img/x.png">`) as written: the browser resolves it from
the page's URL, which with `use_directory_urls` is one folder deeper than the
source file (`guide/usage.md` is served as `guide/usage/`).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass

_INDEX_STEMS = ("index", "README", "readme")
_MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class MkDocsSite:
    docs_dir: str  # absolute
    use_directory_urls: bool = True

    def page_folder(self, document_path: str) -> str | None:
        """The folder (under docs_dir) a page's URL points into; None for a file that is no page here."""
        path = os.path.abspath(document_path)
        if not path.lower().endswith(_MARKDOWN_SUFFIXES) or not path.startswith(self.docs_dir.rstrip(os.sep) + os.sep):
            return None
        src_uri = os.path.relpath(path, self.docs_dir).replace(os.sep, "/")
        return os.path.join(self.docs_dir, *page_url_folder(src_uri, self.use_directory_urls).split("/"))


def page_url_folder(src_uri: str, use_directory_urls: bool) -> str:
    """The URL folder of the page built from `src_uri` (relative to docs_dir, `/` separated); "" at the top."""
    folder, name = posixpath.split(src_uri)
    stem = posixpath.splitext(name)[0]
    if use_directory_urls and stem not in _INDEX_STEMS:
        return posixpath.join(folder, stem)
    return folder


def read_mkdocs_site(folder: str) -> MkDocsSite | None:
    """docs_dir and use_directory_urls of an mkdocs.yml in `folder` (MkDocs' defaults: docs, true)."""
    config = os.path.join(folder, "mkdocs.yml")
    if not os.path.isfile(config):
        return None
    with open(config, encoding="utf-8", errors="replace") as file:
        text = file.read()
    docs = _top_level(text, "docs_dir") or "docs"
    urls = (_top_level(text, "use_directory_urls") or "true").lower() not in ("false", "no", "off")
    return MkDocsSite(os.path.normpath(os.path.join(os.path.abspath(folder), docs)), urls)


def _top_level(text: str, key: str) -> str | None:
    found = re.search(rf"^{key}:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$", text, re.MULTILINE)
    return found.group(1) if found else None

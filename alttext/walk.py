"""Which files to check: files named on the command line, and documents found in folders.

Folders inside a git checkout are listed with `git ls-files` (tracked and
untracked files, without what .gitignore excludes); other folders, and a
named folder that git ignores as a whole, are walked,
following symbolic links but never around a loop. A walk skips tool folders
(.git, virtual environments, node_modules, caches) and folders that look like
build output (a `site` with a sitemap or next to mkdocs.yml, a Sphinx `_build`),
below a folder the user names, never the named one itself (so `alttext check
site/` checks a built MkDocs site). What is skipped is listed, with why.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from alttext.lint import FileError
from alttext.scan import SYNTAX_BY_SUFFIX

# Folders that never hold content: version control, environments, caches, dependencies.
TOOL_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj",
        ".venv", "venv", ".env", "env", ".tox", ".nox", "__pypackages__", "site-packages",
        "node_modules", "bower_components", "__pycache__", ".mypy_cache", ".pytest_cache",
        ".ruff_cache", ".hypothesis", ".ipynb_checkpoints", ".cache", ".alttext-cache",
        ".docusaurus", ".next", ".nuxt", ".sass-cache", ".idea", ".vscode", "htmlcov", ".eggs",
    }
)
# Names that build output often has, but a content folder may have too (a docs section called
# "site"): such a folder is skipped only when it looks built (see build_output_reason).
BUILD_FOLDER_NAMES = frozenset({"_build", "build", "site", "dist", "_site", "public"})
# Files a generator leaves in its output folder, and the generator's configuration next to it.
_BUILD_MARKERS = (
    ".buildinfo", ".doctrees", "objects.inv", "html/.buildinfo", "doctrees",  # Sphinx
    "sitemap.xml", "sitemap.xml.gz", "search/search_index.json", "404.html",  # MkDocs, Jekyll, Hugo
)
_GENERATOR_CONFIGS = {
    "site": ("mkdocs.yml", "mkdocs.yaml"),
    "_build": ("conf.py",),
    "build": ("conf.py", "setup.py", "pyproject.toml"),
    "dist": ("setup.py", "pyproject.toml", "package.json"),
    "_site": ("_config.yml", "_config.toml"),
    "public": ("hugo.toml", "hugo.yaml", "hugo.json", "config.toml", "package.json"),
}
DOCUMENT_SUFFIXES = frozenset(SYNTAX_BY_SUFFIX)


@dataclass
class FileList:
    paths: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (document, why) below named folders


def build_output_reason(folder: str) -> str | None:
    """Why `folder` (named like build output) is build output, or None when it may be content."""
    name = os.path.basename(os.path.normpath(folder))
    for marker in _BUILD_MARKERS:
        if os.path.lexists(os.path.join(folder, marker)):
            return f"build output ({name}/{marker})"
    parent = os.path.dirname(os.path.abspath(folder))
    for config in _GENERATOR_CONFIGS.get(name, ()):
        if os.path.isfile(os.path.join(parent, config)):
            return f"build output (next to {config})"
    return None


def skip_reason(folder: str) -> str | None:
    """Why a folder below a named one is not walked, or None."""
    name = os.path.basename(os.path.normpath(folder))
    if name in TOOL_FOLDERS:
        return "tool folder"
    if name in BUILD_FOLDER_NAMES:
        return build_output_reason(folder)
    return None


def is_document(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in DOCUMENT_SUFFIXES


def matches_any(path: str, patterns: Iterable[str], root: str = ".") -> bool:
    """True when `path` matches a glob: a pattern with a `/` matches the path relative to
    `root` (or as given); one without matches any single part of the path."""
    patterns = tuple(patterns)
    if not patterns:
        return False
    relative = _relative_posix(path, root)
    given = os.path.normpath(path).replace(os.sep, "/")
    parts = given.split("/") + relative.split("/")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            pattern = pattern.removeprefix("./")
            if fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(given, pattern):
                return True
            # "docs/drafts" also excludes everything below docs/drafts.
            if relative.startswith(pattern + "/") or given.startswith(pattern + "/"):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def _relative_posix(path: str, root: str) -> str:
    absolute = os.path.abspath(path)
    root = os.path.abspath(root)
    if absolute == root or absolute.startswith(root.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, root).replace(os.sep, "/")
    return os.path.normpath(path).replace(os.sep, "/")


def collect_files(
    paths: Iterable[str], *, include: Iterable[str] = (), exclude: Iterable[str] = (), root: str = "."
) -> FileList:
    """Every document to check under `paths`, in order, each once, plus an error for each bad path."""
    include, exclude = tuple(include), tuple(exclude)
    result = FileList()
    seen: set[str] = set()
    for path in paths:
        if os.path.isdir(path):
            found = [os.path.normpath(file) for file in list_folder(path, result.errors, result.skipped)]
            found = [file for file in found if not include or matches_any(file, include, root)]
        elif os.path.lexists(path):
            found = [path]  # named on purpose: checked whatever its extension (check_file says if unknown)
        else:
            result.errors.append(FileError(path, "no such file or folder"))
            continue
        for file in found:
            if file not in seen and not matches_any(file, exclude, root):
                seen.add(file)
                result.paths.append(file)
    return result


def list_folder(folder: str, errors: list[FileError], skipped: list[tuple[str, str]] | None = None) -> list[str]:
    """The documents below `folder`: from git when it is a checkout (.gitignore decides), else
    by walking (tool folders and build output are skipped). Documents left out go to `skipped`."""
    skipped = [] if skipped is None else skipped
    listed = _git_files(folder)
    documents = [path for path in listed or () if is_document(path)]
    if not documents:
        # Not a checkout, or a folder that git ignores as a whole (a built site in
        # .gitignore): the user named it, so walk it.
        return _walk(folder, errors, skipped)
    skipped += [(os.path.normpath(path), "ignored by .gitignore") for path in _git_ignored(folder) if is_document(path)]
    return sorted(documents)


def _git_files(folder: str) -> list[str] | None:
    """Tracked and untracked, not ignored files below `folder`, or None when git cannot say."""
    names = _git_ls(folder, "--cached", "--others", "--exclude-standard")
    if names is None:
        return None
    # ls-files lists a deleted but still tracked file too; only what exists is checked.
    return [path for path in (os.path.join(folder, name) for name in names) if os.path.lexists(path)]


def _git_ignored(folder: str) -> list[str]:
    """Untracked files below `folder` that .gitignore excludes."""
    names = _git_ls(folder, "--others", "--ignored", "--exclude-standard")
    return sorted(os.path.join(folder, name) for name in names or ())


def _git_ls(folder: str, *options: str) -> set[str] | None:
    """`git ls-files` names below `folder`, or None when git cannot say."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return None
    try:
        listed = subprocess.run(
            [git, "-C", folder, "ls-files", "-z", *options, "--", "."],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0:
        return None  # not a checkout, or git refused (for example a dubious-ownership folder)
    return {name for name in os.fsdecode(listed.stdout).split("\0") if name}


def _walk(folder: str, errors: list[FileError], skipped: list[tuple[str, str]]) -> list[str]:
    """Documents below `folder`, following symbolic links; a link back to an ancestor is an error."""
    found: list[str] = []
    visited: set[tuple[int, int]] = set()

    def visit(current: str, ancestors: frozenset[tuple[int, int]]) -> None:
        try:
            info = os.stat(current)
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError as error:
            errors.append(FileError(os.path.normpath(current), f"cannot list folder: {error.strerror or error}"))
            return
        key = (info.st_dev, info.st_ino)
        if key in ancestors:
            errors.append(FileError(os.path.normpath(current), "symbolic link loop: this folder links back to a folder above it"))
            return
        if key in visited:
            return  # reached again through another link: already checked
        visited.add(key)
        for entry in entries:
            if _is_folder(entry, errors):
                reason = skip_reason(entry.path)
                if reason is None:
                    visit(entry.path, ancestors | {key})
                else:
                    skipped.extend((document, reason) for document in _documents_below(entry.path))
            elif is_document(entry.name):
                found.append(entry.path)  # dangling links and unreadable files are reported by check_file

    visit(folder, frozenset())
    return found


def _documents_below(folder: str) -> list[str]:
    """Documents in a skipped folder, to say how many were skipped (links are not followed)."""
    return sorted(os.path.normpath(os.path.join(parent, name))
                  for parent, _, names in os.walk(folder) for name in names if is_document(name))


def _is_folder(entry: os.DirEntry[str], errors: list[FileError]) -> bool:
    try:
        return entry.is_dir()  # follows symbolic links
    except OSError as error:
        errors.append(FileError(os.path.normpath(entry.path), f"cannot read: {error.strerror or error}"))
        return False

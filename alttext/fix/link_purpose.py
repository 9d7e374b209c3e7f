"""Alt text for an image that is the only content of a link: it names where the link goes.

An image link's alt text is the link's name (WCAG 2.4.4): a screen reader
says "link, Build status: passing", never what the pixels look like. Pure:
the link's target, the image's source and the text read from the image in,
one short name out.

- a status badge: what it reports, from the badge service's URL, with its
  value from the image's text (`Build status: passing`, `PyPI version: 1.2.0`);
- a link to a site's home page: `<Name> home page`, the name from the image's
  text (a logo's words), else from the host;
- a link to a well-known place: `acme/tool on GitHub`, `acme on PyPI`;
- any other link: the image's text, else the page or section it leads to.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Sequence

# Badge services, by host: what their badges report when the URL says no more.
_BADGE_HOSTS = {
    "img.shields.io": None,
    "badgen.net": None,
    "badge.fury.io": "Package version",
    "travis-ci.org": "Build status",
    "travis-ci.com": "Build status",
    "circleci.com": "Build status",
    "ci.appveyor.com": "Build status",
    "dev.azure.com": "Build status",
    "codecov.io": "Code coverage",
    "coveralls.io": "Code coverage",
    "readthedocs.org": "Documentation status",
    "pepy.tech": "Downloads",
    "static.pepy.tech": "Downloads",
    "results.pre-commit.ci": "pre-commit.ci status",
    "api.securityscorecards.dev": "OpenSSF Scorecard",
}
# shields.io routes: the first path segment(s) -> what the badge reports.
_SHIELDS_ROUTES = [
    ("github/actions/workflow/status", "Build status"),
    ("github/workflow/status", "Build status"),
    ("github/license", "License"),
    ("github/v/release", "Latest release"),
    ("github/release", "Latest release"),
    ("github/stars", "GitHub stars"),
    ("github/last-commit", "Last commit"),
    ("pypi/v", "PyPI version"),
    ("pypi/pyversions", "Supported Python versions"),
    ("pypi/l", "License"),
    ("pypi/dm", "Downloads per month"),
    ("pypi/status", "Development status"),
    ("npm/v", "npm version"),
    ("npm/dm", "Downloads per month"),
    ("codecov/c", "Code coverage"),
    ("coveralls", "Code coverage"),
    ("readthedocs", "Documentation status"),
    ("docker/pulls", "Docker pulls"),
    ("conda/vn", "conda-forge version"),
    ("discord", "Discord"),
    ("license", "License"),
]
_BADGE_PATH = re.compile(r"(?:^|/)(?:badge|badges?/[^/]+/(?:pipeline|coverage))\.svg$|/badge(?:/|$)|/status\.svg$")
_CI_WORKFLOWS = frozenset({"ci", "build", "builds", "test", "tests", "testing", "main", "check", "checks"})
_SITE_NAMES = {
    "github.com": "GitHub",
    "gitlab.com": "GitLab",
    "pypi.org": "PyPI",
    "npmjs.com": "npm",
    "www.npmjs.com": "npm",
    "readthedocs.io": "Read the Docs",
    "discord.gg": "Discord",
    "discord.com": "Discord",
    "youtube.com": "YouTube",
    "www.youtube.com": "YouTube",
    "twitter.com": "X (Twitter)",
    "x.com": "X (Twitter)",
    "mastodon.social": "Mastodon",
}
_HOME_PATHS = frozenset({"", "/", "./", ".", "index.html", "/index.html", "./index.html", "index.md"})
_BADGE_TEXT_SEPARATOR = re.compile(r"\s*(?::|\s-\s|\|)\s*")
_SEPARATORS = re.compile(r"[-_.+\s]+")


def link_purpose(target: str, src: str, image_text: str = "", salient: Sequence[str] = ()) -> str | None:
    """The name of a link whose only content is the image at `src`; None when nothing fits."""
    parts = [part.strip() for part in (salient or ([image_text] if image_text.strip() else [])) if part.strip()]
    badge = badge_label(src)
    if badge == "":  # a badge of unknown kind: its own text says what it reports
        return " ".join(parts) or "Status badge"
    if badge is not None:
        return _with_value(badge, parts)
    words = " ".join(parts)
    url = urllib.parse.urlsplit(target.strip())
    if _is_home(url):
        name = words or _site_name(url.netloc)
        return f"{name} home page" if name else "Home page"
    place = _known_place(url)
    if words:
        return words
    return place or _destination(url)


def badge_label(src: str) -> str | None:
    """What a status badge at `src` reports ("Build status", "build: passing"); "" for a badge
    that does not say; None if it is no badge."""
    url = urllib.parse.urlsplit(src)
    host = url.netloc.lower()
    path = urllib.parse.unquote(url.path)
    if host in ("img.shields.io", "badgen.net"):
        return _shields_label(path)
    if host in _BADGE_HOSTS:
        return _BADGE_HOSTS[host]
    workflow = re.search(r"/actions/workflows/([^/]+?)(?:\.ya?ml)?/badge\.svg$", path)
    if workflow:
        name = workflow.group(1)
        return "Build status" if name.lower() in _CI_WORKFLOWS else f"{_words_of(name)} status"
    if _BADGE_PATH.search(path):
        if "pipeline" in path:
            return "Pipeline status"
        if "coverage" in path:
            return "Code coverage"
        return ""
    return None


def _shields_label(path: str) -> str:
    static = re.match(r"/(?:static/v1|badge)/(.+)$", path)
    if static and "/" not in static.group(1):
        fields = re.split(r"(?<!-)-(?!-)", os.path.splitext(static.group(1))[0])
        texts = [field.replace("--", "-").replace("__", "\0").replace("_", " ").replace("\0", "_").strip() for field in fields]
        if len(texts) >= 3:
            return f"{texts[0]}: {'-'.join(texts[1:-1])}" if texts[0] else "-".join(texts[1:-1])
        if len(texts) == 2:  # label-less: message-color
            return texts[0]
    route = path.strip("/")
    return next((label for prefix, label in _SHIELDS_ROUTES if route.startswith(prefix)), "")


def _with_value(label: str, parts: Sequence[str]) -> str:
    """A dynamic badge's label with the value read from its image ("Build status: passing")."""
    if ":" in label or not parts:
        return label
    if len(parts) > 1:
        value = parts[-1]
    else:  # "build: passing", "CI - passing", "build | passing", "build passing"
        pieces = _BADGE_TEXT_SEPARATOR.split(parts[0], maxsplit=1)
        value = pieces[1] if len(pieces) > 1 else " ".join(parts[0].split()[1:]) or parts[0]
    return f"{label}: {value.strip()}"


def _is_home(url: urllib.parse.SplitResult) -> bool:
    return not url.query and not url.fragment and url.path in _HOME_PATHS and (bool(url.netloc) or not url.scheme)


def _site_name(host: str) -> str:
    host = host.lower().split(":")[0]
    if host in _SITE_NAMES:
        return _SITE_NAMES[host]
    labels = [label for label in host.split(".") if label and label not in ("www", "docs")]
    return labels[-2].capitalize() if len(labels) >= 2 else (labels[0].capitalize() if labels else "")


def _known_place(url: urllib.parse.SplitResult) -> str | None:
    host = url.netloc.lower()
    segments = [segment for segment in url.path.split("/") if segment]
    if host in ("github.com", "gitlab.com") and len(segments) >= 2:
        return f"{segments[0]}/{segments[1]} on {_SITE_NAMES[host]}"
    if host == "pypi.org" and len(segments) >= 2 and segments[0] == "project":
        return f"{segments[1]} on PyPI"
    if host in ("npmjs.com", "www.npmjs.com") and len(segments) >= 2 and segments[0] == "package":
        return f"{'/'.join(segments[1:])} on npm"
    if host in _SITE_NAMES:
        return _SITE_NAMES[host]
    return None


def _destination(url: urllib.parse.SplitResult) -> str | None:
    """A readable name for any other target: its section, its page, or its site."""
    if url.fragment and not url.path and not url.netloc:
        return f"{_words_of(url.fragment)} (section)"
    name = os.path.splitext(os.path.basename(url.path.rstrip("/")))[0]
    if name and name.lower() not in ("index", "readme"):
        page = _words_of(urllib.parse.unquote(name))
        return f"{page} on {_site_name(url.netloc)}" if url.netloc else page
    return _site_name(url.netloc) or None


def _words_of(name: str) -> str:
    words = _SEPARATORS.sub(" ", name).strip()
    return words[:1].upper() + words[1:]

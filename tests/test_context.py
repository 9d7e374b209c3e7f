"""Document context per image, per syntax, with exact 1-based positions."""

from __future__ import annotations

import pytest

from alttext.context import ImageContext, Sourced, image_contexts, is_english
from alttext.scan import find_images


def _flat(context: ImageContext) -> dict[str, tuple[object, ...]]:
    """Each piece of context as (value, line, column); a link adds whether the image is all it holds."""
    found: dict[str, tuple[object, ...]] = {}
    for name in ("figure_caption", "heading", "page_title", "language"):
        piece = getattr(context, name)
        if piece is not None:
            found[name] = (piece.value, piece.line, piece.column)
    if context.link is not None:
        target = context.link.target
        found["link"] = (target.value, target.line, target.column, context.link.only_content, context.link.text)
    return found


def _contexts(text: str, syntax: str) -> list[dict[str, tuple[object, ...]]]:
    return [_flat(context) for context in image_contexts(text, syntax, find_images(text, syntax))]


HTML_CASES = [
    pytest.param(
        '<!DOCTYPE html>\n<html lang="fr-CA">\n<head><title>  Guide &amp; API</title></head>\n'
        "<body><h1>Accueil</h1>\n<img src=a.png>\n",
        [{"page_title": ("Guide & API", 3, 16), "language": ("fr-CA", 2, 13), "heading": ("Accueil", 4, 11)}],
        id="title-lang-heading",
    ),
    pytest.param(
        "<h2>One</h2>\n<h3>Two <em>parts</em></h3>\n<p><img src=a.png></p>\n<h2>Three</h2>\n",
        [{"heading": ("Two parts", 2, 5)}],
        id="nearest-preceding-heading",
    ),
    pytest.param(
        "<figure>\n  <img src=chart.png>\n  <figcaption>Sales\n  by <b>month</b></figcaption>\n</figure>\n"
        "<img src=after.png>\n",
        [{"figure_caption": ("Sales by month", 3, 15)}, {}],
        id="figcaption-after-image",
    ),
    pytest.param(
        "<figure><figcaption>First</figcaption><img src=a.png></figure>",
        [{"figure_caption": ("First", 1, 21)}],
        id="figcaption-before-image",
    ),
    pytest.param(
        '<a href="https://ci.example/run"><img src=badge.svg></a>\n<a href=/docs/>Docs <img src=icon.png></a>\n',
        [{"link": ("https://ci.example/run", 1, 10, True, "")}, {"link": ("/docs/", 2, 9, False, "Docs")}],
        id="link-only-content-and-with-text",
    ),
    pytest.param(
        "<a href=x><img src=a.png><img src=b.png></a>",
        [{"link": ("x", 1, 9, False, "")}, {"link": ("x", 1, 9, False, "")}],
        id="two-images-in-one-link",
    ),
    pytest.param(
        "<a href=one>1</a><img src=a.png><a name=anchor><img src=b.png></a>",
        [{}, {}],
        id="closed-link-and-link-without-href",
    ),
    pytest.param(
        '<a href="/"><svg role="img"><text>Acme</text></svg></a>',
        [{"link": ("/", 1, 10, True, "")}],
        id="svg-text-is-the-image-s-own",
    ),
    pytest.param(
        "<svg><title>Drawing</title></svg><img src=a.png>",
        [{}],
        id="svg-title-is-no-page-title",
    ),
]


MARKDOWN_CASES = [
    pytest.param(
        '---\ntitle: "Guide d\'installation"\nlang: fr\n---\n\n# Accueil\n\n![](a.png)\n',
        [{"page_title": ("Guide d'installation", 2, 9), "language": ("fr", 3, 7), "heading": ("Accueil", 6, 3)}],
        id="yaml-front-matter",
    ),
    pytest.param(
        '+++\nlanguage = "de"\n+++\nTitle\n=====\n\n![](a.png)\n',
        [{"language": ("de", 2, 13), "heading": ("Title", 4, 1), "page_title": ("Title", 4, 1)}],
        id="toml-front-matter-and-setext-h1",
    ),
    pytest.param(
        '## Section *one*\n\nText ![](chart.png "Sales by month") text.\n',
        [{"heading": ("Section one", 1, 4), "figure_caption": ("Sales by month", 3, 21)}],
        id="image-title-is-caption",
    ),
    pytest.param(
        "[![](https://img.shields.io/badge/build-passing-green)](https://ci.example/r)\n",
        [{"link": ("https://ci.example/r", 1, 57, True, "")}],
        id="badge-link",
    ),
    pytest.param(
        "[See ![](a.png)](<docs/x.md>)\n\n[![](b.png)][home]\n\n[home]: https://acme.dev/\n",
        [{"link": ("docs/x.md", 1, 19, False, "See")}, {"link": ("https://acme.dev/", 3, 14, True, "")}],
        id="link-with-text-and-reference-link",
    ),
    pytest.param(
        "| A | B |\n| - | - |\n| x | [![](a.png)](t.html) |\n",
        [{"link": ("t.html", 3, 20, True, "")}],
        id="link-in-table-cell",
    ),
    pytest.param(
        '# Top\n\n<figure>\n<a href="/"><img src="logo.png"></a>\n<figcaption>Acme</figcaption>\n</figure>\n',
        [{"heading": ("Top", 1, 3), "page_title": ("Top", 1, 3), "figure_caption": ("Acme", 5, 13),
          "link": ("/", 4, 10, True, "")}],
        id="raw-html-figure-and-link",
    ),
    pytest.param(
        "```{figure} fig.png\n:target: https://t.example\n\nLa légende\n```\n",
        [{"figure_caption": ("La légende", 4, 1), "link": ("https://t.example", 2, 10, True, "")}],
        id="myst-figure-caption-and-target",
    ),
    pytest.param(
        '<h1 align="center">\n  Acme <em>Cloud</em>\n</h1>\n\n<p align="center"><a href="https://acme.dev/">'
        '<img src="logo.png"></a></p>\n\n## Usage\n\n![](shot.png)\n',
        [{"heading": ("Acme Cloud", 2, 3), "page_title": ("Acme Cloud", 2, 3), "link": ("https://acme.dev/", 5, 28, True, "")},
         {"heading": ("Usage", 7, 4), "page_title": ("Acme Cloud", 2, 3)}],
        id="readme-raw-html-heading",
    ),
    pytest.param(
        "```\n# not a heading\n<h2>nor this</h2>\n```\n\n![](a.png)\n",
        [{}],
        id="heading-in-code-is-no-heading",
    ),
]


RST_CASES = [
    pytest.param(
        "=======\n Guide\n=======\n\nInstall\n-------\n\n.. image:: a.png\n",
        [{"page_title": ("Guide", 2, 2), "heading": ("Install", 5, 1)}],
        id="overlined-document-title-and-section",
    ),
    pytest.param(
        "Title\n=====\n\n.. figure:: chart.png\n   :width: 50%\n\n   Sales by\n   month.\n\n   Legend.\n",
        [{"page_title": ("Title", 1, 1), "heading": ("Title", 1, 1), "figure_caption": ("Sales by month.", 7, 4)}],
        id="figure-caption",
    ),
    pytest.param(
        ".. image:: https://img.shields.io/badge/build-passing-green\n   :target: https://ci.example/r\n",
        [{"link": ("https://ci.example/r", 2, 13, True, "")}],
        id="image-target",
    ),
    pytest.param(
        "Text\n\n----\n\nMore text\n\n.. image:: a.png\n",
        [{}],
        id="transition-is-no-title",
    ),
    pytest.param(
        "- item\n\n  .. image:: a.png\n     :target: x.html\n",
        [{"link": ("x.html", 4, 15, True, "")}],
        id="target-in-list-item",
    ),
]


@pytest.mark.parametrize(
    ("syntax", "text", "expected"),
    [
        pytest.param(syntax, *case.values, id=f"{syntax}-{case.id}")
        for syntax, cases in (("html", HTML_CASES), ("markdown", MARKDOWN_CASES), ("rst", RST_CASES))
        for case in cases
    ],
)
def test_context(syntax: str, text: str, expected: list[dict[str, tuple[object, ...]]]) -> None:
    assert _contexts(text, syntax) == expected


@pytest.mark.parametrize(
    ("language", "english"),
    [("en", True), ("en-GB", True), ("EN_us", True), (None, True), ("", True),
     ("fr", False), ("pt-BR", False), ("eng", False), ("de_DE", False)],
)
def test_is_english(language: str | None, english: bool) -> None:
    assert is_english(language) is english


def test_the_page_s_language_wins_over_the_site_s() -> None:
    site = Sourced("de", origin="mkdocs.yml theme.language")
    page = ImageContext(language=Sourced("fr", 2, 13))
    assert page.with_default_language(site).language == Sourced("fr", 2, 13)
    assert ImageContext().with_default_language(site).language == site
    assert ImageContext().with_default_language(site).as_dict()["language"] == {
        "value": "de", "origin": "mkdocs.yml theme.language"}


def test_check_does_not_compute_context() -> None:
    import subprocess
    import sys

    code = ("import sys, alttext.lint, alttext.commands.check; "
            "print(any(name.startswith('alttext.scan.context') or name == 'alttext.context' for name in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"

"""Proposals in context: link names for linked images, no repeated figure captions, the page's language."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alttext.context import ImageContext, Sourced
from alttext.fix import proposals
from alttext.fix import run as pipeline
from alttext.fix.contextual import without_repetition
from alttext.fix.link_purpose import link_purpose
from tests.fix_helpers import CAPTIONS, FixedCaptions, copy_case

DOG = CAPTIONS["dog.png"]


@pytest.mark.parametrize(
    ("target", "src", "text", "salient", "expected"),
    [
        pytest.param("https://github.com/o/r/actions", "https://github.com/o/r/actions/workflows/ci.yml/badge.svg",
                     "", (), "Build status", id="actions-badge-without-text"),
        pytest.param("https://github.com/o/r/actions", "https://github.com/o/r/actions/workflows/ci.yml/badge.svg",
                     "CI passing", ("CI", "passing"), "Build status: passing", id="actions-badge-with-its-text"),
        pytest.param("https://github.com/o/r/actions", "https://github.com/o/r/actions/workflows/docs.yml/badge.svg",
                     "", (), "Docs status", id="named-workflow"),
        pytest.param("https://github.com/psf/black", "https://img.shields.io/badge/code%20style-black-000000.svg",
                     "", (), "code style: black", id="shields-static-badge"),
        pytest.param("https://pypi.org/project/acme", "https://img.shields.io/pypi/v/acme.svg",
                     "pypi v1.2.0", (), "PyPI version: v1.2.0", id="shields-pypi-version"),
        pytest.param("https://codecov.io/gh/o/r", "https://codecov.io/gh/o/r/branch/main/graph/badge.svg",
                     "", (), "Code coverage", id="codecov"),
        pytest.param("https://gitlab.com/g/p/-/pipelines", "https://gitlab.com/g/p/badges/main/pipeline.svg",
                     "", (), "Pipeline status", id="gitlab-pipeline"),
        pytest.param("https://ci.example/", "img/status/badge.svg", "nightly: ok", (), "nightly: ok",
                     id="unknown-badge-says-it-itself"),
        pytest.param("https://github.com/o/r/actions", "https://github.com/o/r/actions/workflows/ci.yml/badge.svg",
                     "CI - failing", (), "Build status: failing", id="actions-badge-text-with-dash"),
        pytest.param("https://acme.dev/", "img/logo.png", "", (), "Acme home page", id="logo-to-home-page"),
        pytest.param("/", "img/logo.png", "Acme Cloud", ("Acme Cloud",), "Acme Cloud home page", id="logo-with-text"),
        pytest.param("index.html", "img/logo.png", "", (), "Home page", id="relative-home"),
        pytest.param("https://github.com/acme/tool", "img/gh.png", "", (), "acme/tool on GitHub", id="github-repo"),
        pytest.param("https://pypi.org/project/acme/", "img/p.png", "", (), "acme on PyPI", id="pypi-project"),
        pytest.param("docs/getting-started.md", "img/go.png", "", (), "Getting started", id="page"),
        pytest.param("docs/getting-started.md", "img/go.png", "Start here", (), "Start here", id="image-text-wins"),
        pytest.param("#install", "img/go.png", "", (), "Install (section)", id="section"),
        pytest.param("https://example.com/guides/first_steps.html", "img/go.png", "", (),
                     "First steps on Example", id="page-on-another-site"),
    ],
)
def test_link_purpose(target: str, src: str, text: str, salient: tuple[str, ...], expected: str) -> None:
    assert link_purpose(target, src, text, salient) == expected


@pytest.mark.parametrize(
    ("alt", "caption", "expected"),
    [
        pytest.param("Sales by month", "Sales by month.", None, id="the-caption"),
        pytest.param("Sales", "Sales by month", None, id="part-of-the-caption"),
        pytest.param("Sales by month: a bar chart with twelve bars", "Sales by month",
                     "A bar chart with twelve bars", id="caption-first"),
        pytest.param("A bar chart of the sales by month", "Sales by month", "A bar chart", id="caption-last"),
        pytest.param("A chart showing sales by month", "Sales by month", "A chart", id="dangling-verb"),
    ],
)
def test_without_repetition(alt: str, caption: str, expected: str | None) -> None:
    assert without_repetition(alt, caption) == expected


@pytest.mark.parametrize(
    ("alt", "caption"),
    [
        pytest.param("An orange cat with a bow", "A cat", id="one-word-caption"),
        pytest.param("A bar chart of sales by month with a trend line", "Sales by month", id="in-the-middle"),
        pytest.param("A dog on a rug", "Sales by month", id="unrelated"),
    ],
)
def test_without_repetition_noop(alt: str, caption: str) -> None:
    assert without_repetition(alt, caption) == alt


@dataclass(frozen=True)
class ReadResult:
    """A captioner's result with the text it read in the image."""

    caption: str
    raw: str
    error: str | None
    cached: bool
    content_hash: str
    text: str = ""
    salient: tuple[str, ...] = ()


class ReadingCaptions(FixedCaptions):
    """Fixed captions, plus fixed text read from some images."""

    def __init__(self, texts: dict[str, tuple[str, ...]], captions: dict[str, str] | None = None) -> None:
        super().__init__(captions)
        self.texts = texts

    def caption_results(self, images: Any, *, contexts: Any = None) -> list[Any]:
        results = super().caption_results(images, contexts=contexts)
        return [ReadResult(*(getattr(r, name) for name in ("caption", "raw", "error", "cached", "content_hash")),
                           text=" ".join(self.texts.get(Path(str(image)).name, ())),
                           salient=self.texts.get(Path(str(image)).name, ()))
                for image, r in zip(images, results)]


def _run(tmp_path: Path, files: dict[str, str], captioner: FixedCaptions | None = None,
         **settings: Any) -> list[pipeline.Target]:
    copy_case(tmp_path, [])
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    config = pipeline.Settings(paths=tuple(str(tmp_path / name) for name in files), root=str(tmp_path), **settings)
    log = pipeline.Log(stream=io.StringIO())
    collected = pipeline.collect(config, log)
    pipeline.caption(collected, config, log, lambda _settings: captioner or FixedCaptions())
    return collected.targets


def test_a_linked_image_is_named_after_its_link(tmp_path: Path) -> None:
    page = ('<a href="https://acme.dev/"><img src="img/dog.png"></a>\n'
            '<a href="https://pypi.org/project/acme"><img src="img/cat.png"> acme</a>\n')
    logo, with_text = _run(tmp_path, {"page.html": page})
    assert logo.alt == "Acme home page" and logo.problem is None
    assert any(DOG in warning and "only content of a link" in warning for warning in logo.warnings)
    assert with_text.alt == CAPTIONS["cat.png"]  # the link has its own text: the image is not its name


def test_the_image_s_text_names_a_linked_logo(tmp_path: Path) -> None:
    captioner = ReadingCaptions({"dog.png": ("Acme Cloud",)})
    (target,) = _run(tmp_path, {"guide.md": "[![](img/dog.png)](/)\n"}, captioner)
    assert target.alt == "Acme Cloud home page"


def test_a_linked_svg_badge_is_named_by_its_own_title(tmp_path: Path) -> None:
    (tmp_path / "badge.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><title>docs: passing</title></svg>', encoding="utf-8")
    captioner = FixedCaptions()
    page = "[![](badge.svg)](https://readthedocs.org/projects/acme/)\n"
    (target,) = _run(tmp_path, {"README.md": page}, captioner)
    assert target.alt == "docs: passing" and target.problem is None
    assert captioner.calls == []  # an SVG is never sent to the model


def test_a_remote_badge_that_was_not_fetched_is_named_by_its_url(tmp_path: Path) -> None:
    page = ("[![](https://github.com/acme/tool/actions/workflows/ci.yml/badge.svg)](https://github.com/acme/tool/actions)\n"
            "\n[![](https://example.com/photo.png)](https://example.com/)\n")
    badge, photo = _run(tmp_path, {"README.md": page})
    assert badge.alt == "Build status" and badge.problem is None
    assert any("its URL says what it reports" in warning for warning in badge.warnings)
    assert photo.alt is None and photo.problem is not None  # not fetched, and no badge: nothing to say


def test_a_proposal_that_repeats_the_figure_caption(tmp_path: Path) -> None:
    page = ("<figure><img src=img/chart.png><figcaption>Sales by month</figcaption></figure>\n"
            "<figure><img src=img/dog.png><figcaption>A brown dog</figcaption></figure>\n")
    captions = {**CAPTIONS, "chart.png": "Sales by month"}
    chart, dog = _run(tmp_path, {"page.html": page}, FixedCaptions(captions))
    assert chart.problem == "no proposal: the caption model only repeated the figure's caption"
    assert any("repeats the figure's caption (line 1)" in warning for warning in chart.warnings)
    assert dog.alt == "Lying on a rug" and dog.problem is None  # what the caption does not say
    assert any("cut the words that repeat the figure's caption (line 2)" in warning for warning in dog.warnings)


def test_a_proposal_that_starts_with_the_figure_caption_is_cut(tmp_path: Path) -> None:
    captions = {**CAPTIONS, "chart.png": "Monthly sales, a bar chart with twelve bars"}
    (target,) = _run(tmp_path, {"guide.md": '![](img/chart.png "Monthly sales")\n'}, FixedCaptions(captions))
    assert target.alt == "A bar chart with twelve bars"
    assert any("figure's caption (line 1)" in warning for warning in target.warnings)


FRENCH_PAGE = '<html lang="fr"><title>Accueil</title><img src="img/dog.png"></html>\n'


def test_french_page_text_only_without_image_text_is_left_for_review(tmp_path: Path) -> None:
    (target,) = _run(tmp_path, {"page.html": FRENCH_PAGE})
    assert target.problem == "left for review: the page is not in English and the image holds no text to use"
    assert any("fr (line 1)" in warning for warning in target.warnings)


def test_french_page_text_only_keeps_the_image_s_text(tmp_path: Path) -> None:
    captioner = ReadingCaptions({"dog.png": ("Créer un dépôt", "Propriétaire")})
    (target,) = _run(tmp_path, {"page.html": FRENCH_PAGE}, captioner)
    assert target.problem is None
    assert "Créer un dépôt" in (target.alt or "") and "brown dog" not in (target.alt or "")


def test_french_page_warn_writes_the_english_with_a_warning(tmp_path: Path) -> None:
    (target,) = _run(tmp_path, {"page.html": FRENCH_PAGE}, non_english="warn")
    assert target.alt == DOG and target.problem is None
    assert any("in English: translate it" in warning for warning in target.warnings)


def test_french_page_review_keeps_a_draft_for_a_person(tmp_path: Path) -> None:
    (target,) = _run(tmp_path, {"page.html": FRENCH_PAGE}, non_english="review")
    assert target.problem == "left for review: the page is not in English"
    entry = proposals.build([target], {target.path: FRENCH_PAGE.encode()}, str(tmp_path))["entries"][0]
    assert entry["status"] == "skip" and entry["alt"] == DOG  # the English draft, to translate
    assert entry["context"]["language"] == {"value": "fr", "line": 1, "column": 13}
    assert entry["context"]["page_title"] == {"value": "Accueil", "line": 1, "column": 24}


def test_the_site_language_applies_to_pages_that_declare_none(tmp_path: Path) -> None:
    site = Sourced("de", origin="mkdocs.yml theme.language")
    files = {"guide.md": "![](img/dog.png)\n", "en.md": "---\nlang: en\n---\n![](img/cat.png)\n"}
    guide, english = _run(tmp_path, files, language=site)
    assert guide.context.language == site and guide.problem is not None
    assert english.alt == CAPTIONS["cat.png"] and english.problem is None


def test_english_pages_are_unchanged(tmp_path: Path) -> None:
    (target,) = _run(tmp_path, {"page.html": FRENCH_PAGE.replace('lang="fr"', 'lang="en-GB"')})
    assert target.alt == DOG and not target.warnings


def test_each_image_goes_to_the_captioner_with_its_context(tmp_path: Path) -> None:
    captioner = FixedCaptions()
    _run(tmp_path, {"page.html": FRENCH_PAGE}, captioner)
    (contexts,) = captioner.contexts
    assert [context.language.value for context in contexts] == ["fr"]


def test_suggest_json_carries_the_context(tmp_path: Path) -> None:
    page = "# Install\n\n[![](img/dog.png)](https://acme.dev/)\n"
    (target,) = _run(tmp_path, {"guide.md": page})
    built = json.loads(proposals.dumps(proposals.build([target], {target.path: page.encode()}, str(tmp_path))))
    context = built["entries"][0]["context"]
    assert context["heading"] == {"value": "Install", "line": 1, "column": 3}
    assert context["link"] == {"target": {"value": "https://acme.dev/", "line": 3, "column": 20},
                               "only_content": True, "text": ""}


def test_review_page_shows_the_context(tmp_path: Path) -> None:
    from alttext.fix.review import render_review

    (target,) = _run(tmp_path, {"page.html": FRENCH_PAGE})
    page = render_review([target], {target.path: FRENCH_PAGE.encode()}, base=str(tmp_path))
    assert "<dt>Language</dt><dd>fr (line 1)</dd>" in page
    assert "<dt>Page title</dt><dd>Accueil (line 1)</dd>" in page


def test_review_page_shows_the_paragraph_around_the_image(tmp_path: Path) -> None:
    from alttext.fix.review import render_review

    document = "# Install\n\nClick **Create** & wait.\n\n![](img/dog.png)\n"
    (target,) = _run(tmp_path, {"guide.md": document})
    page = render_review([target], {target.path: document.encode()}, base=str(tmp_path))
    assert "<dt>Paragraph</dt><dd>Click Create &amp; wait. (line 3)</dd>" in page


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param('non-english = "translate"', "non-english: expected one of text-only, warn, review",
                     id="unknown-policy"),
        pytest.param('language = "fr CA"', 'language: expected a language tag such as "fr"', id="bad-tag"),
    ],
)
def test_bad_language_settings_are_config_errors(tmp_path: Path, table: str, message: str,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from alttext.cli import main

    (tmp_path / "pyproject.toml").write_text(f"[tool.alttext]\n{table}\n", encoding="utf-8")
    (tmp_path / "page.md").write_text("![](x.png)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["suggest", "page.md"]) == 2
    assert message in capsys.readouterr().err


def test_captioner_takes_contexts_without_changing_captions(tiny_model_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    from alttext.caption.captioner import Captioner

    paths = []
    for number, colour in enumerate(["red", "blue"]):
        paths.append(tmp_path / f"{number}.png")
        Image.new("RGB", (32, 32), colour).save(paths[-1])
    captioner = Captioner(tiny_model_dir, device="cpu", cache=None)
    contexts = [ImageContext(language=Sourced("fr", 1, 1)), ImageContext()]
    assert captioner.caption_results(paths, contexts=contexts) == captioner.caption_results(paths)
    with pytest.raises(ValueError, match="1 contexts for 2 images"):
        captioner.caption_results(paths, contexts=contexts[:1])


def test_a_page_whose_context_cannot_be_read_still_gets_proposals(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(*_args: object) -> list[ImageContext]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("alttext.fix.plan.image_contexts", unreadable)
    (target,) = _run(tmp_path, {"guide.md": "[![](img/dog.png)](/)\n"})
    assert target.alt == DOG and target.context == ImageContext()
    assert target.warnings == [("the page around the image could not be read (RecursionError); "
                                "the proposal ignores its caption, link and language")]


@pytest.mark.parametrize(
    ("image_text", "salient", "max_length", "expected"),
    [
        pytest.param("", ("Créer un dépôt", "Propriétaire"), 125, "Créer un dépôt, Propriétaire", id="parts"),
        pytest.param("", ("Créer un dépôt", "Propriétaire"), 20, "Créer un dépôt", id="later-parts-left-out"),
        pytest.param("Un très long titre qui ne tient pas", (), 20, "Un très long titre\u2026", id="cut-at-a-word"),
        pytest.param("Bonjour", (), 125, "Bonjour", id="text-without-salient-parts"),
        pytest.param("", (), 125, None, id="no-text"),
        pytest.param("  ", ("", " "), 125, None, id="blank-text"),
    ],
)
def test_text_only_alt(image_text: str, salient: tuple[str, ...], max_length: int, expected: str | None) -> None:
    from alttext.fix.language_policy import text_only_alt

    assert text_only_alt(image_text, salient, max_length) == expected


@pytest.mark.parametrize(
    ("policy", "image_text", "alt", "problem"),
    [
        pytest.param("text-only", "Accueil", "Accueil", None, id="text-only-with-text"),
        pytest.param("text-only", "", None, "left for review: the page is not in English and the image holds no "
                                            "text to use", id="text-only-without-text"),
        pytest.param("warn", "Accueil", DOG, None, id="warn"),
        pytest.param("review", "Accueil", None, "left for review: the page is not in English", id="review"),
    ],
)
def test_language_decision(policy: str, image_text: str, alt: str | None, problem: str | None) -> None:
    from alttext.fix.language_policy import decide

    decision = decide(DOG, image_text, (), language=Sourced("fr", 1, 1), policy=policy, max_length=125)
    assert (decision.alt, decision.problem) == (alt, problem)
    assert decision.warning is not None and "fr (line 1)" in decision.warning

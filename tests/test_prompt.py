"""The prompt built from an image's context, its template, and how answers are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from alttext.caption.clean import clean_caption
from alttext.caption.prompt import (
    DEFAULT_TEMPLATE,
    PLACEHOLDERS,
    AnswerError,
    PromptTemplateError,
    build_prompt,
    load_template,
    parse_answer,
    parse_template,
    prompt_key,
)
from alttext.caption.prompted import Prompt
from alttext.context import ImageContext, Link, Sourced

CONTEXT = ImageContext(
    figure_caption=Sourced("Monthly downloads, 2024", 12, 1),
    link=Link(Sourced("https://acme.dev/stats", 11, 2), only_content=True),
    heading=Sourced("Usage statistics", 3, 3),
    page_title=Sourced("Acme report", 1, 1),
    language=Sourced("de", 1, 7),
    paragraph=Sourced("Downloads grew every month.", 9, 1),
)
EN = Prompt("", "", language="en", max_length=40)


def test_the_default_prompt_holds_the_context_the_text_and_the_rules() -> None:
    prompt = build_prompt(load_template(None), CONTEXT, "Downloads 30k 90k", 90)
    both = prompt.system + "\n" + prompt.user
    for expected in ("Monthly downloads, 2024", "Usage statistics", "Acme report", "https://acme.dev/stats",
                     "the link's only content", "Downloads 30k 90k", "Page language: de",
                     "at most 90 characters", '"image of"', "caption", "decorative", '{"alt": "...", "decorative": false}'):
        assert expected in both, expected
    assert prompt.language == "de" and prompt.max_length == 90


def test_an_image_without_context_or_text() -> None:
    prompt = build_prompt(load_template(None), None, "", 125)
    assert "Text read from the image: none" in prompt.user
    assert "Page language: en" in prompt.user and "Figure caption" not in prompt.user
    assert prompt.language is None


def test_the_prompt_key_follows_every_input() -> None:
    template = load_template(None)
    base = prompt_key(build_prompt(template, CONTEXT, "text", 125))
    assert base == prompt_key(build_prompt(template, CONTEXT, "text", 125))
    assert base != prompt_key(build_prompt(template, CONTEXT, "other text", 125))
    assert base != prompt_key(build_prompt(template, CONTEXT, "text", 100))
    assert base != prompt_key(build_prompt(template, ImageContext(heading=CONTEXT.heading), "text", 125))
    without_paragraph = ImageContext(**{**CONTEXT.__dict__, "paragraph": None})
    assert base != prompt_key(build_prompt(template, without_paragraph, "text", 125))


def test_a_template_file_with_every_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "prompt.txt"
    path.write_text("Rules {{json}}\n---\n" + " ".join(f"[{{{name}}}]" for name in PLACEHOLDERS), encoding="utf-8")
    template = load_template(path)
    prompt = build_prompt(template, CONTEXT, "Hi", 60)
    assert prompt.system == "Rules {json}"
    assert ("[Acme report] [Usage statistics] [Monthly downloads, 2024] [https://acme.dev/stats] [] "
            "[Downloads grew every month.] [yes] [Hi] [de] [60]") in prompt.user
    assert template.key != load_template(None).key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("Describe {image}.", "unknown placeholder {image}", id="unknown"),
        pytest.param("Describe {}.", "a placeholder needs a name", id="positional"),
        pytest.param("Describe {heading!r}.", "takes no format", id="conversion"),
        pytest.param("Describe {heading:>20}.", "takes no format", id="format-spec"),
        pytest.param("Answer {\"alt\": ...}", "unknown placeholder", id="json-not-escaped"),
        pytest.param("Describe { heading.", "not a valid prompt template", id="lone-brace"),
        pytest.param("System only\n---\n", "no user message", id="no-user-message"),
    ],
)
def test_bad_templates_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PromptTemplateError, match="bad.txt") as error:
        load_template(path)
    assert message in str(error.value)


def test_a_missing_template_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(PromptTemplateError, match="nothing.txt: cannot read"):
        load_template(tmp_path / "nothing.txt")


def test_the_default_template_parses_as_documented() -> None:
    template = parse_template(DEFAULT_TEMPLATE, "default")
    assert template.system.startswith("You write alt text") and template.user.startswith("What the page says")


def _clean(text: str) -> str:
    return clean_caption(text)


@pytest.mark.parametrize(
    ("raw", "alt", "decorative"),
    [
        pytest.param('{"alt": "Bar chart of downloads", "decorative": false}', "Bar chart of downloads", False, id="json"),
        pytest.param('```json\n{"alt": "A red bike"}\n```', "A red bike", False, id="fenced"),
        pytest.param('Here you go: {"alt": "A red bike", "decorative": false}', "A red bike", False, id="preamble"),
        pytest.param('{"alt": "", "decorative": true}', "", True, id="decorative"),
        pytest.param('{"alt": "A divider", "decorative": "true"}', "", True, id="decorative-as-text"),
        pytest.param("A picture of a red bike.", "A red bike", False, id="plain-text-cleaned"),
        pytest.param("Alt text: \"A red bike\"", "A red bike", False, id="plain-text-label-and-quotes"),
        pytest.param('"A red bike"', "A red bike", False, id="json-string"),
        pytest.param('{"alt": "  A   red bike  "}', "A red bike", False, id="spacing"),
    ],
)
def test_answers(raw: str, alt: str, decorative: bool) -> None:
    answer = parse_answer(raw, EN, _clean)
    assert (answer.alt, answer.decorative) == (alt, decorative)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param('{"alt": "   "}', "empty", id="empty-alt"),
        pytest.param('{"alt": "image"}', "placeholder", id="placeholder"),
        pytest.param("TODO", "placeholder", id="placeholder-text"),
        pytest.param('{"alt": "A long line chart of monthly downloads rising from thirty to ninety thousand"}',
                     "over the limit of 40", id="too-long"),
        pytest.param('{"alt": "A red bike"', "malformed JSON", id="malformed"),
        pytest.param('{"caption": "A red bike"}', 'no "alt" string', id="no-alt"),
        pytest.param('["A red bike"]', "not an object", id="array"),
        pytest.param('{"alt": 42}', 'no "alt" string', id="not-a-string"),
    ],
)
def test_answers_that_are_no_alt_text(raw: str, message: str) -> None:
    with pytest.raises(AnswerError, match=message):
        parse_answer(raw, EN, _clean)


def test_other_languages_keep_their_words() -> None:
    german = Prompt("", "", language="de", max_length=125)
    assert parse_answer('{"alt": "Ein Bild von einem roten Fahrrad."}', german, _clean).alt == \
        "Ein Bild von einem roten Fahrrad."
    assert parse_answer('{"alt": "A picture of a red bike."}', EN, _clean).alt == "A red bike"

"""Salient text, image kind and alt text composition: pure functions over lines read."""

from __future__ import annotations

import pytest

from alttext.caption.compose import compose_alt, describe, image_kind
from alttext.caption.ocr import (
    TextLine,
    TextReading,
    reading_from_json,
    reading_order,
    reading_to_json,
)
from alttext.caption.salient import is_noise, select_salient


def line(text: str, top: int, height: int = 20, left: int = 10, score: float = 0.99) -> TextLine:
    return TextLine(text, score, (left, top, left + 9 * len(text), top + height))


def reading(*lines: TextLine, width: int = 900, height: int = 600, flat: float = 0.95) -> TextReading:
    return TextReading(tuple(reading_order(lines)), width, height, flat)


@pytest.mark.parametrize(("description", "kind", "salient", "limit", "expected"), [
    pytest.param(None, "screenshot", ["Create repository", "Owner", "Repository name"], 125,
                 'Screenshot: "Create repository" with "Owner" and "Repository name"', id="screenshot"),
    pytest.param("a logo", "logo", ["Acme Cloud"], 125, "Logo: Acme Cloud", id="logo-words-unquoted"),
    pytest.param(None, "diagram", ["Browser", "API gateway", "Database"], 125,
                 'Diagram: "Browser", "API gateway" and "Database"', id="diagram"),
    pytest.param("a man riding a horse", "photo", [], 125, "a man riding a horse", id="photo-description-only"),
    pytest.param("A street sign", None, ["Main St"], 125, 'A street sign with the text "Main St"', id="sign"),
    pytest.param(None, None, ["Hello"], 125, 'Text: "Hello"', id="text-only"),
    pytest.param(None, "screenshot", [], 125, "Screenshot", id="kind-without-text"),
    pytest.param(None, "screenshot", ["Title", "A" * 60, "B" * 60], 90, 'Screenshot: "Title" with "' + "A" * 60 + '"',
                 id="later-items-left-out"),
    pytest.param(None, "screenshot", ["a very long title " * 10], 40, 'Screenshot: "a very long title a very…"',
                 id="first-item-cut-at-a-word"),
    pytest.param(None, "screenshot", ['Say "hi"'], 125, "Screenshot: \"Say 'hi'\"", id="inner-quotes"),
])
def test_compose_alt(description: str | None, kind: str | None, salient: list[str], limit: int, expected: str) -> None:
    assert compose_alt(description, kind, salient, limit) == expected


@pytest.mark.parametrize("limit", [20, 40, 60, 125])
def test_compose_alt_stays_within_the_limit(limit: int) -> None:
    text = compose_alt("a screenshot of a long web page with many things", None,
                       ["Configuration reference for the deployment pipeline", "Save changes", "Cancel"], limit)
    assert 0 < len(text) <= limit


@pytest.mark.parametrize("text", ["x", "|", "—", "• • •", "https://example.org/docs", "www.acme.dev",
                                  "12:45", "2024-05-01", "File Edit View Help", "localhost:8000"])
def test_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", ["OK", "Create repository", "API gateway", "Owner", "v2.1 release notes"])
def test_noise_noop(text: str) -> None:
    assert not is_noise(text)


def test_salient_takes_the_title_first_then_labels_in_reading_order() -> None:
    lines = reading_order([
        line("File Edit View Help", 2, 14),
        line("Create a new repository", 40, 36),
        line("A repository contains all project files, including the revision history of them all", 90, 16),
        line("Owner", 130, 18), line("Repository name", 130, 18, left=300),
        line("q", 170, 18, score=0.99), line("Descriptoin", 200, 18, score=0.42),
        line("Create repository", 260, 20),
    ])
    assert select_salient(lines) == ("Create a new repository", "Owner", "Repository name", "Create repository")


def test_salient_body_text_only_when_alone() -> None:
    body = line("This sentence is the only text in the image and it is long", 10, 20)
    assert select_salient([body]) == (body.text,)


def test_salient_within_max_chars() -> None:
    lines = [line(f"Label number {i}", 20 * i, 18) for i in range(12)]
    chosen = select_salient(lines, max_chars=50)
    assert 1 <= len(chosen) <= 4 and sum(len(text) for text in chosen) <= 50


def test_reading_order_rows_then_left_to_right() -> None:
    lines = [line("right", 100, left=400), line("below", 200), line("left", 104), line("top", 10)]
    assert [item.text for item in reading_order(lines)] == ["top", "left", "right", "below"]


@pytest.mark.parametrize(("description", "layout", "expected"), [
    pytest.param("a screenshot of a web page", reading(line("Settings", 10, 30), line("Save", 60)), "screenshot",
                 id="screenshot-words"),
    pytest.param("a man holding a phone", reading(TextLine("Acme", 0.99, (40, 30, 360, 150)), width=400, height=200),
                 "logo", id="logo-layout"),
    pytest.param("a man holding a phone", reading(TextLine("Flask", 0.99, (20, 10, 400, 130)),
                                                  line("web development, one drop at a time", 140, 30, left=150),
                                                  width=420, height=180), "logo", id="logo-with-tagline"),
    pytest.param(None, reading(line("PurePath", 40, left=300), line("PurePosixPath", 200, left=60),
                               line("PureWindowsPath", 200, left=520), line("Path", 360, left=320),
                               line("PosixPath", 520, left=78), line("WindowsPath", 520, left=536)),
                 "diagram", id="diagram-layout"),
    pytest.param(None, reading(line("Log in", 20, 30), line("Username:", 120, left=40), line("Password:", 200, left=40),
                               line("Log in", 280, left=200)), "screenshot", id="form-is-no-diagram"),
    pytest.param(None, reading(*(line(str(10 * i), 40 * i) for i in range(5)), line("Downloads", 240)), "chart",
                 id="numbers-chart"),
    pytest.param("a bird on a branch", reading(line("ABC", 10), flat=0.1), "photo", id="photo"),
    pytest.param(None, reading(line("Title", 10), line("Body text here", 50), line("More body", 90),
                               line("Even more body text", 130)), "screenshot", id="column-of-text"),
])
def test_image_kind(description: str | None, layout: TextReading, expected: str) -> None:
    assert image_kind(description, layout) == expected


def test_photo_gets_no_quotes() -> None:
    noisy = reading(line("Il1", 10), line("WMW", 60), flat=0.15)
    result = describe("A dog running on a beach", noisy, 125)
    assert (result.kind, result.salient, result.caption) == ("photo", (), "A dog running on a beach")


def test_photo_of_a_sign_keeps_its_text() -> None:
    sign = reading(line("STOP", 100, 80, left=300), flat=0.2)
    assert describe("A red stop sign on a street", sign, 125).caption == 'A red stop sign on a street with the text "STOP"'


def test_reading_round_trips_through_json() -> None:
    original = reading(line("Grüße", 10), line("Save", 60, score=0.5), flat=0.75)
    assert reading_from_json(reading_to_json(original)) == original
    assert reading_from_json("{not json") is None
    assert original.text == "Grüße\nSave"

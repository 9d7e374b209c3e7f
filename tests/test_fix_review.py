"""The review page and reviewer warnings (tests/test_review_browser.py uses the page in Chromium)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from alttext.cli import main
from alttext.context import ImageContext, Sourced
from alttext.fix import proposals
from alttext.fix.review import render_cards, render_review, write_review
from alttext.fix.review_data import review_cards
from tests.fix_helpers import CAPTIONS, FixedCaptions, copy_case, fix_tree


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_case(tmp_path, ["guide.in.md", "page.in.html", "api.in.rst"])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _warnings(tree: Path, captions: dict[str, str], name: str) -> dict[int, list[str]]:
    _, _, collected = fix_tree(tree, FixedCaptions(captions), paths=[name], write=False)
    return {target.line: target.warnings for target in collected.targets}


def test_same_caption_for_different_images_on_one_page(tree: Path) -> None:
    warnings = _warnings(tree, {**CAPTIONS, "cat.png": CAPTIONS["dog.png"]}, "page.html")
    assert warnings[11] == ["same alt text as a different image on this page (line 12, line 14)"]
    assert warnings[12] == ["same alt text as a different image on this page (line 11, line 14)"]
    assert warnings[13] == []  # the chart has its own caption


def test_same_image_twice_with_the_same_caption_is_fine(tree: Path) -> None:
    warnings = _warnings(tree, CAPTIONS, "guide.md")
    assert warnings[8] == [] and warnings[25] == []  # dog.png twice


@pytest.mark.parametrize(
    ("captions", "line", "warning"),
    [
        pytest.param({**CAPTIONS, "chart.png": "Sales by month"}, 24, "repeats the figure's caption", id="figure-caption"),
        pytest.param({**CAPTIONS, "chart.png": "Sales"}, 24, "repeats the figure's caption", id="inside-figure-caption"),
        pytest.param({**CAPTIONS, "dog.png": "Dog"}, 11, "only repeats the image's file name", id="file-name"),
    ],
)
def test_repeats(tree: Path, captions: dict[str, str], line: int, warning: str) -> None:
    warnings = _warnings(tree, captions, "page.html")
    assert any(warning in text for text in warnings[line]), warnings[line]


def test_rst_figure_caption_and_markdown_title(tree: Path) -> None:
    warnings = _warnings(tree, {**CAPTIONS, "chart.png": "Sales by month."}, "api.rst")
    assert any("figure's caption" in text for text in warnings[14])
    warnings = _warnings(tree, {**CAPTIONS, "chart.png": "Monthly sales"}, "guide.md")
    assert any("figure's caption" in text for text in warnings[10])  # a Markdown title counts as one


def test_caption_that_hit_the_length_limit(tree: Path) -> None:
    long = "a man riding a bike down a street next to a tall building with a red door and"
    warnings = _warnings(tree, {**CAPTIONS, "dog.png": long}, "page.html")
    assert "the caption hit the model's length limit and may be cut short" in warnings[11]
    assert not any("length limit" in text for text in warnings[12])


def _page(tree: Path) -> Path:
    _, _, collected = fix_tree(tree, write=False)
    path = tree / "review.html"
    write_review(str(path), collected.targets, {plan.path: plan.document.raw for plan in collected.plans})
    return path


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _page_data(soup: BeautifulSoup) -> dict[str, Any]:
    return json.loads(soup.find("script", id="alttext-proposals").string)


def test_page_lists_every_proposal_and_is_self_contained(tree: Path) -> None:
    soup = _soup(_page(tree))
    cards = soup.select("section.card")
    assert len(cards) == 24
    first = cards[0].get_text(" ")
    assert "api.rst:4:1" in first and cards[0].find("textarea").string == "Bar chart: sales doubled from 2022 to 2024"
    assert all(tag["src"].startswith("data:image/") for tag in soup.select(".thumb img"))
    assert len(soup.select(".thumb img")) == 24  # every card has a preview, the SVG without a title too
    assert not soup.find_all(["link", "iframe", "object", "embed", "form"]) and soup.find_all(href=True) == []
    code = [script for script in soup.find_all("script") if script.get("type") != "application/json"]
    assert len(code) == 1 and not code[0].get("src")
    # The policy allows that one script by its hash, images only from data:, and nothing from anywhere else.
    policy = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    digest = base64.b64encode(hashlib.sha256(code[0].string.encode()).digest()).decode()
    assert policy == (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'")
    assert "fetch(" not in code[0].string and "XMLHttpRequest" not in code[0].string
    texts = [card.get_text(" ") for card in cards]
    assert any("SVG image has no <title>" in text for text in texts)


def test_every_control_is_labelled(tree: Path) -> None:
    soup = _soup(_page(tree))
    assert soup.html["lang"] == "en" and soup.title.string
    for field in soup.find_all("textarea"):
        assert soup.find("label", attrs={"for": field["id"]}).get_text(strip=True).startswith("Alt text for image")
    for button in soup.find_all("button"):
        assert button.get_text(strip=True) or button.get("aria-label"), button
    for group in soup.select("[role=group]"):
        assert group["aria-label"].startswith("Decision for image")
    headings = [int(tag.name[1]) for tag in soup.find_all(re.compile(r"^h[1-6]$"))]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(headings))
    # Markdown has no decorative form (the note says so); an <input type=image> cannot be decorative at all.
    markdown = next(card for card in soup.select("section.card") if "guide.md:8:11" in card.h2.get_text())
    assert "Markdown has no decorative form" in markdown.get_text()
    assert not markdown.select_one("button[data-status=decorative]").has_attr("disabled")
    button = next(card for card in soup.select("section.card")
                  if "page.html:20:1" in card.h2.get_text()).select_one("button[data-status=decorative]")
    assert button.has_attr("disabled") and button["aria-describedby"].endswith("-decorative")


def test_page_data_is_the_proposals_file_apply_reads(tree: Path) -> None:
    (tree / "review").mkdir()
    _, _, collected = fix_tree(tree, write=False)
    documents = {plan.path: plan.document.raw for plan in collected.plans}
    write_review(str(tree / "review" / "page.html"), collected.targets, documents)
    data = _page_data(_soup(tree / "review" / "page.html"))
    assert data == proposals.build(collected.targets, documents, str(tree / "review"))
    (tree / "review" / "alt.json").write_text(json.dumps(data), encoding="utf-8")
    entries = proposals.load(str(tree / "review" / "alt.json"))
    assert len(entries) == 24 and {os.path.basename(entry.document) for entry in entries} == {
        "api.rst", "guide.md", "page.html"}
    assert all(os.path.isfile(entry.document) for entry in entries)  # relative to the page's folder


def test_text_read_from_the_image_and_context_are_shown_when_present(tree: Path) -> None:
    _, _, collected = fix_tree(tree, write=False, paths=["page.html"])
    documents = {plan.path: plan.document.raw for plan in collected.plans}
    cards = review_cards(collected.targets, documents, str(tree))
    cards[0].entry["text"] = "SALES 2024\nUp 20%"
    cards[0].target.context = ImageContext(heading=Sourced("Sales & more", line=3, column=5),
                                           language=Sourced("de", origin="mkdocs.yml theme.language"))
    cards[1].target.context = ImageContext()
    soup = BeautifulSoup(render_cards(cards, base=str(tree)), "html.parser")
    first, second = soup.select("section.card")[:2]
    assert first.select_one(".read p").string == "SALES 2024\nUp 20%"
    pairs = [(dt.get_text(), dt.find_next_sibling("dd").get_text()) for dt in first.select(".context > dl > dt")]
    assert pairs == [("Heading", "Sales & more (line 3)"), ("Language", "de (mkdocs.yml theme.language)")]
    assert not second.select(".read, .context")


def test_after_fix_wrote_the_page_says_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_case(tmp_path, [])
    monkeypatch.chdir(tmp_path)
    # Two images on one line: fix writes the first; the second (an SVG without a title) moves right.
    (tmp_path / "one.html").write_text('<p><img src="img/dog.png"> and <img src="img/plain.svg"></p>\n', encoding="utf-8")
    original = (tmp_path / "one.html").read_bytes()
    written, _, collected = fix_tree(tmp_path, paths=["one.html"])
    write_review("review.html", collected.targets, {"one.html": original}, written)
    soup = _soup(tmp_path / "review.html")
    assert soup.header.p.get_text().startswith("2 images without alt text: 1 written, 0 with a proposal, ")
    done, open_ = soup.select("section.card")
    assert done.has_attr("data-written") and done.select_one(".state").string == "Written" and not done.textarea
    assert open_["data-entry"] == "0"
    data = _page_data(soup)
    (entry,) = data["entries"]
    assert (entry["line"], entry["column"], entry["src"]) == (1, 1 + len('<p><img alt="A brown dog lying on a rug" '
                                                                       'src="img/dog.png"> and '), "img/plain.svg")
    assert entry["document_sha256"] == proposals.sha256((tmp_path / "one.html").read_bytes())
    (tmp_path / "alt.json").write_text(json.dumps({**data, "entries": [{**entry, "alt": "A square", "status": "accepted"}]}),
                                       encoding="utf-8")
    assert main(["apply", "alt.json"]) == 1
    assert (tmp_path / "one.html").read_text(encoding="utf-8") == (
        '<p><img alt="A brown dog lying on a rug" src="img/dog.png"> and <img alt="A square" src="img/plain.svg"></p>\n')


def test_empty_page() -> None:
    page = render_review([], {})
    assert "No image lacks alt text." in page and 'id="save"' not in page

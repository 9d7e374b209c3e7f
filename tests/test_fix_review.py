"""The review page and reviewer warnings; the page is loaded in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from alttext.fix.review import render_review, write_review
from tests.fix_helpers import CAPTIONS, FixedCaptions, copy_case, fix_tree

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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
    write_review(str(path), collected.targets)
    return path


def test_page_lists_every_proposal_and_is_self_contained(tree: Path) -> None:
    soup = BeautifulSoup(_page(tree).read_text(encoding="utf-8"), "html.parser")
    cards = soup.select("section.card")
    assert len(cards) == 24
    first = cards[0].get_text(" ")
    assert "api.rst:4:1" in first and "Bar chart: sales doubled" in first
    assert all(tag["src"].startswith("data:image/") for tag in soup.find_all("img"))
    assert not soup.find_all(["script", "link", "iframe", "object"])
    assert [a for a in soup.find_all(href=True)] == []
    assert len(soup.find_all("img")) == 24  # every card has a preview, the SVG without a title too
    texts = [card.get_text(" ") for card in cards]
    assert any("SVG image has no <title>" in text for text in texts)


def test_empty_page() -> None:
    assert "No image lacks alt text." in render_review([])


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_page_in_headless_chromium(tree: Path) -> None:
    page = _page(tree)
    # A copy with a probe script: it records whether each thumbnail decoded (naturalWidth > 0).
    probe = tree / "probe.html"
    text = page.read_text(encoding="utf-8").replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    script = ("<script>addEventListener('load',()=>{for(const i of document.images)"
              "i.setAttribute('data-natural-width',i.naturalWidth);document.body.setAttribute('data-probed','yes')})"
              "</script>")
    probe.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    dom = _chromium(tree, "--dump-dom", "--virtual-time-budget=5000", probe.as_uri())
    assert 'data-probed="yes"' in dom
    widths = [int(width) for width in re.findall(r'data-natural-width="(\d+)"', dom)]
    assert len(widths) == 24 and all(width > 0 for width in widths), widths

    screenshot = tree / "review.png"
    _chromium(tree, f"--screenshot={screenshot}", "--window-size=1200,900", page.as_uri())
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (1200, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 200  # text, cards and thumbnails, not a blank page


def _chromium(tree: Path, *arguments: str) -> str:
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={tree / 'chromium-profile'}", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout

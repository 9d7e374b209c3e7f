"""The review page as a reviewer uses it: real headless Chromium driven by Selenium (the system
chromedriver), from `alttext fix --review` to `alttext apply` of the file the page saved."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alttext.cli import main
from alttext.document import read_document
from alttext.fix.plan import plan_document, rewrite
from alttext.fix.resolve import Resolver
from alttext.scan import syntax_for_path
from tests.fix_helpers import CAPTIONS, copy_case

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
AXE = Path(__file__).resolve().parent / ".node" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,900"]
DOCUMENTS = ["guide.md", "page.html", "api.rst"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                       reason="needs chromium and chromium-driver (apt-get install chromium chromium-driver)"),
]


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    copy_case(project, [name.replace(".", ".in.") for name in DOCUMENTS])
    monkeypatch.chdir(project)
    return project


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _model_args(tiny_model_dir: Path, tmp_path: Path) -> list[str]:
    return ["--model", str(tiny_model_dir), "--device", "cpu", "--cache", str(tmp_path / "cache.sqlite")]


def _open(browser: Any, page: Path) -> None:
    browser.get(page.as_uri())
    assert browser.execute_script("return document.body.dataset.ready") == "yes"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def _card(browser: Any, where: str) -> WebElement:
    """The card whose heading names `where` (document:line:column)."""
    found = [card for card in browser.find_elements(By.CSS_SELECTOR, "section.card")
             if card.find_element(By.CSS_SELECTOR, "h2 .where").text == where]
    assert len(found) == 1, where
    return found[0]


def _caption_for(src: str) -> str:
    return CAPTIONS["pixel" if src.startswith("data:") else os.path.basename(src)]


def _type(field: WebElement, text: str) -> None:
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)


def _status(card: WebElement) -> str:
    return card.find_element(By.CSS_SELECTOR, ".state").text


def _pressed(card: WebElement) -> list[str]:
    return [button.get_attribute("data-status") for button in card.find_elements(By.CSS_SELECTOR, "button[data-status]")
            if button.get_attribute("aria-pressed") == "true"]


def _focused_id(browser: Any) -> str:
    return browser.execute_script("return document.activeElement.id")


def _save(browser: Any, destination: Path) -> dict[str, Any]:
    browser.find_element(By.ID, "save").click()
    saved = browser.downloads / "alt.json"
    deadline = time.monotonic() + 30
    while not saved.exists() or any(browser.downloads.glob("*.crdownload")):
        assert time.monotonic() < deadline, list(browser.downloads.iterdir())
        time.sleep(0.1)
    shutil.copyfile(saved, destination)
    return json.loads(saved.read_text(encoding="utf-8"))


def _leaving_asks(browser: Any) -> bool:
    return browser.execute_script(
        "const event = new Event('beforeunload', {cancelable: true}); dispatchEvent(event); return event.defaultPrevented")


def _expected(names: list[str], alts: dict[tuple[str, int, int], str]) -> dict[str, bytes]:
    """Each document (as it is now) with exactly `alts` ((document, line, column) -> alt text) written."""
    result = {}
    for name in names:
        syntax = syntax_for_path(name)
        plan = plan_document(read_document(name, html=syntax == "html"), syntax, Resolver(project_root="."))
        chosen = {t.index: alts[(name, t.line, t.column)] for t in plan.targets if (name, t.line, t.column) in alts}
        result[name] = rewrite(plan, chosen).data if chosen else plan.document.raw
    return result


def test_review_edit_decide_save_and_apply(tree: Path, tmp_path: Path, browser: Any, tiny_model_dir: Path) -> None:
    originals = {name: (tree / name).read_bytes() for name in DOCUMENTS}
    assert main(["fix", "--dry-run", "--review", "review.html", *_model_args(tiny_model_dir, tmp_path), "."]) == 1
    assert {name: (tree / name).read_bytes() for name in DOCUMENTS} == originals
    _open(browser, tree / "review.html")
    assert not _leaving_asks(browser)  # nothing decided yet
    cards = browser.find_elements(By.CSS_SELECTOR, "section.card")
    assert len(cards) == 24
    widths = browser.execute_script("return Array.from(document.querySelectorAll('.thumb img'), i => i.naturalWidth)")
    assert len(widths) == 24 and all(width > 0 for width in widths), widths

    # Whatever the random model proposed, the reviewer types a known alt text for every
    # captioned image; the SVG with a <title> and the SVG without one stay unreviewed.
    alts: dict[tuple[str, int, int], str] = {}
    typed = 0
    for card in cards:
        document, line, column = card.find_element(By.CSS_SELECTOR, "h2 .where").text.rsplit(":", 2)
        src = card.find_element(By.CSS_SELECTOR, "div.where").text.split(" · ", 1)[1]
        if src.endswith(".svg"):  # left as proposed: its proposal is the SVG's own title, or nothing
            proposal = card.find_element(By.TAG_NAME, "textarea").get_attribute("value")
            if proposal:
                alts[(document, int(line), int(column))] = proposal
            continue
        _type(card.find_element(By.TAG_NAME, "textarea"), _caption_for(src))
        assert _status(card) == "Status: Accepted" and _pressed(card) == ["accepted"]
        alts[(document, int(line), int(column))] = _caption_for(src)
        typed += 1
    assert typed == 20
    assert browser.find_element(By.ID, "counter").text == "20 of 24 reviewed: 20 accepted, 0 decorative, 0 skipped"

    # Buttons: an edit, decorative and skip on HTML images.
    dog = _card(browser, "page.html:11:1")
    _type(dog.find_element(By.TAG_NAME, "textarea"), "A sleepy brown dog")
    alts[("page.html", 11, 1)] = "A sleepy brown dog"
    _card(browser, "page.html:12:1").find_element(By.CSS_SELECTOR, "button[data-status=decorative]").click()
    alts[("page.html", 12, 1)] = ""
    chart = _card(browser, "page.html:13:1")
    chart.find_element(By.CSS_SELECTOR, "button[data-status=skip]").click()
    del alts[("page.html", 13, 1)]
    assert _pressed(chart) == ["skip"] and _status(chart) == "Status: Skipped: left as it is"

    # Accepting an empty field is refused with a message, not saved as an empty alt text.
    svg = _card(browser, "page.html:28:1")
    svg.find_element(By.CSS_SELECTOR, "button[data-status=accepted]").click()
    assert "Type the alt text first" in svg.find_element(By.CSS_SELECTOR, ".message").text
    assert _pressed(svg) == [] and _focused_id(browser) == svg.find_element(By.TAG_NAME, "textarea").get_attribute("id")

    # The keyboard: J/K move between cards, D/S decide and move on, E edits, Ctrl+Enter accepts.
    first = cards[0].find_element(By.CSS_SELECTOR, "h2 .where").text  # api.rst:4:1, the SVG with a title
    actions = webdriver.ActionChains(browser)
    browser.execute_script("document.activeElement.blur()")
    actions.send_keys("j").perform()  # no card has focus: a key typed on the page does nothing
    assert _focused_id(browser) == "" and _pressed(cards[0]) == []
    heading = cards[0].find_element(By.TAG_NAME, "h2")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", heading)
    heading.click()  # a click on a card gives it focus
    assert _focused_id(browser) == "image-1"
    actions.send_keys("j").perform()  # to image 2: api.rst:8:1, an rST image
    assert _focused_id(browser) == "image-2"
    actions.send_keys("d").perform()
    assert _focused_id(browser) == "image-3" and _pressed(cards[1]) == ["decorative"]
    alts[tuple_of(cards[1])] = ""
    actions.send_keys("k").perform()
    assert _focused_id(browser) == "image-2"
    actions.send_keys("j", "s").perform()  # image 3 skipped
    del alts[tuple_of(cards[2])]
    assert _focused_id(browser) == "image-4" and _pressed(cards[2]) == ["skip"]
    actions.send_keys("e").perform()
    field = cards[3].find_element(By.TAG_NAME, "textarea")
    assert _focused_id(browser) == field.get_attribute("id")
    field.send_keys(" indoors")
    field.send_keys(Keys.CONTROL, Keys.ENTER)
    alts[tuple_of(cards[3])] += " indoors"
    assert _focused_id(browser) == "image-5" and _pressed(cards[3]) == ["accepted"]
    assert browser.execute_script(  # the focused card is not hidden under the sticky toolbar
        "return document.activeElement.getBoundingClientRect().top >= "
        "document.querySelector('.toolbar').getBoundingClientRect().bottom")
    assert first == "api.rst:4:1"

    # The thumbnail opens the image at its own size; Escape closes it and focus returns.
    zoom = chart.find_element(By.CSS_SELECTOR, "button.zoom")
    zoom.click()
    from PIL import Image

    with Image.open(tree / "img" / "chart.png") as image:
        natural = image.size
    assert browser.execute_script("return document.getElementById('viewer').open") is True
    shown = browser.execute_script("const i = document.querySelector('#viewer img'); return [i.naturalWidth, i.naturalHeight]")
    assert tuple(shown) == natural
    webdriver.ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    assert browser.execute_script("return document.getElementById('viewer').open") is False
    assert browser.execute_script("return document.activeElement === arguments[0]", zoom)

    assert _leaving_asks(browser)
    saved = _save(browser, tree / "alt.json")
    assert not _leaving_asks(browser)  # everything is saved
    # Nothing was fetched and nothing was blocked, from loading to saving.
    assert browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    assert saved["format"] == "alttext-proposals" and len(saved["entries"]) == 24
    expected = _expected(DOCUMENTS, alts)
    assert main(["apply", "alt.json"]) == 1
    assert {name: (tree / name).read_bytes() for name in DOCUMENTS} == expected
    lines = (tree / "page.html").read_text(encoding="utf-8").splitlines()
    assert lines[10] == '<img alt="A sleepy brown dog" src="img/dog.png">'
    assert lines[11] == '<IMG alt="" SRC="img/cat.png" WIDTH=20>'
    assert lines[12] == '<img class=hero src=img/chart.png width=40 height=30>'
    assert lines[27] == '<img src="img/plain.svg">'


def tuple_of(card: WebElement) -> tuple[str, int, int]:
    document, line, column = card.find_element(By.CSS_SELECTOR, "h2 .where").text.rsplit(":", 2)
    return document, int(line), int(column)


def test_after_fix_wrote_the_page_says_written_and_saves_the_rest(
        tree: Path, tmp_path: Path, browser: Any, tiny_model_dir: Path) -> None:
    assert main(["fix", "--review", "review.html", *_model_args(tiny_model_dir, tmp_path), "page.html"]) == 1
    _open(browser, tree / "review.html")
    summary = browser.find_element(By.CSS_SELECTOR, "header p").text
    written = browser.find_elements(By.CSS_SELECTOR, "section.card[data-written]")
    assert f"{len(written)} written" in summary and "0 with a proposal" in summary and written
    assert all(card.find_element(By.CSS_SELECTOR, ".state").text == "Written" for card in written)
    assert all(not card.find_elements(By.TAG_NAME, "textarea") for card in written)
    # The SVG without a <title> was not written; the reviewer gives it alt text here.
    svg = _card(browser, "page.html:28:1")
    _type(svg.find_element(By.TAG_NAME, "textarea"), "A plain grey square")
    saved = _save(browser, tree / "alt.json")
    assert [entry["src"] for entry in saved["entries"]] == ["img/plain.svg"]
    before = (tree / "page.html").read_text(encoding="utf-8")
    assert main(["apply", "alt.json"]) == 1
    after = (tree / "page.html").read_text(encoding="utf-8")
    assert after == before.replace('<img src="img/plain.svg">', '<img alt="A plain grey square" src="img/plain.svg">')


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (npm install --prefix tests/.node axe-core)")
def test_page_passes_axe(tree: Path, browser: Any) -> None:
    from alttext.fix.review import write_review
    from tests.fix_helpers import fix_tree

    _, _, collected = fix_tree(tree, write=False)
    write_review("review.html", collected.targets, {plan.path: plan.document.raw for plan in collected.plans})
    _open(browser, tree / "review.html")
    card = _card(browser, "page.html:12:1")
    card.find_element(By.CSS_SELECTOR, "button[data-status=decorative]").click()
    card.find_element(By.CSS_SELECTOR, "button[data-status=accepted]").click()
    assert _violations(browser) == []
    card.find_element(By.CSS_SELECTOR, "button.zoom").click()  # and with the full-size viewer open
    assert _violations(browser) == []
    # The check can fail: a field without its label is reported.
    browser.execute_script("document.getElementById('viewer').close(); document.querySelector('label').remove()")
    assert [violation for violation in _violations(browser) if violation.startswith("label:")]


def _violations(browser: Any) -> list[str]:
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
        "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', '))));")
    return list(result)

"""Verification refuses every rewrite that is not provably alt-only, and fix then writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from alttext.cli import main
from alttext.findings import Edit, apply_edits
from alttext.fix.slots import alt_edit
from alttext.fix.verify import Change, verify_rewrite
from alttext.scan import find_images

MARKDOWN = "# Title\n\n![](a.png) and ![kept](b.png)\n"
HTML = '<p><img src="a.png"> <img alt="kept" src="b.png"></p>\n'


def _change(text: str, syntax: str, alt: str, replacement: str | None = None) -> tuple[list, Change]:
    refs = find_images(text, syntax)
    slot = refs[0].slot
    assert slot is not None
    edit = alt_edit(slot, alt) if replacement is None else Edit(slot.start, slot.end, replacement)
    return refs, Change(0, alt, edit)


@pytest.mark.parametrize(
    ("text", "syntax", "alt", "replacement", "problem"),
    [
        pytest.param(MARKDOWN, "markdown", "A dog", "A dog](evil.png) ![", "does not render as 'A dog'", id="markdown-injection"),
        pytest.param(MARKDOWN, "markdown", "A [dog", "A [dog", "does not render as 'A [dog'", id="markdown-unescaped-bracket"),
        pytest.param(MARKDOWN, "markdown", "A *dog*", "A *dog*", "does not render as 'A *dog*'", id="markdown-emphasis"),
        pytest.param(HTML, "html", "A dog", ' alt="A dog" src="evil.png"', "reads back as img 'evil.png'",
                     id="html-second-src"),
        pytest.param(HTML, "html", 'A "dog"', ' alt="A "dog""', "reads back as", id="html-unescaped-quote"),
        pytest.param(HTML, "html", "A dog", ' alt="A dog"><img src="x.png"', "the new text has 3 images", id="html-new-image"),
    ],
)
def test_tampered_edits_are_refused(text: str, syntax: str, alt: str, replacement: str, problem: str) -> None:
    refs, change = _change(text, syntax, alt, replacement)
    new_text = apply_edits(text, [change.edit])
    problems = verify_rewrite(text, new_text, syntax, refs, [change])
    assert any(problem in text for text in problems), problems


def test_change_outside_the_edit_is_refused() -> None:
    refs, change = _change(MARKDOWN, "markdown", "A dog")
    new_text = apply_edits(MARKDOWN, [change.edit]).replace("# Title", "# Tit1e")
    assert verify_rewrite(MARKDOWN, new_text, "markdown", refs, [change]) == [
        "text before offset 11 changed outside the alt text"]


def test_existing_alt_changed_is_refused() -> None:
    refs, change = _change(MARKDOWN, "markdown", "A dog")
    other = refs[1].slot
    assert other is not None
    sneaky = Edit(other.start, other.end, "changed")
    new_text = apply_edits(MARKDOWN, [change.edit, sneaky])
    problems = verify_rewrite(MARKDOWN, new_text, "markdown", refs, [change, Change(0, "A dog", sneaky)])
    assert "image 1: edit is not at the image's alt text slot" in problems


def test_edit_away_from_the_slot_is_refused() -> None:
    refs, _ = _change(HTML, "html", "A dog")
    moved = Change(0, "A dog", Edit(0, 0, "x"))
    assert verify_rewrite(HTML, apply_edits(HTML, [moved.edit]), "html", refs, [moved])[0].startswith("image 1: edit is not")


def test_honest_edit_passes() -> None:
    for text, syntax in ((MARKDOWN, "markdown"), (HTML, "html")):
        refs, change = _change(text, syntax, 'A "dog" [on] *a* <rug> & more')
        assert verify_rewrite(text, apply_edits(text, [change.edit]), syntax, refs, [change]) == []


def test_fix_refuses_to_write_an_unprovable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """With Markdown escaping broken on purpose, the document must be left as it was, exit 2."""
    from alttext.fix import slots

    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "chart.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><title>Sales [2024] *up*</title></svg>', encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("![](img/chart.svg)\n", encoding="utf-8")
    other = tmp_path / "other.html"
    other.write_text('<img src="img/chart.svg">\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(slots._RENDERERS, "markdown", lambda slot, alt: alt)  # no escaping
    assert main(["fix", "."]) == 2
    err = capsys.readouterr().err
    assert "page.md: error: not written, the result could not be proven to change only alt text" in err
    assert page.read_text(encoding="utf-8") == "![](img/chart.svg)\n"
    assert other.read_text(encoding="utf-8") == '<img alt="Sales [2024] *up*" src="img/chart.svg">\n'

"""The Markdown scanner's bounds: images deep in lists and quotes are found (as markdownlint's
MD045 finds them), and neither depth nor a pathological line can make it hang or skip silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alttext.findings import Edit, apply_edits
from alttext.scan import markdown
from alttext.scan.base import ScanTooComplex
from alttext.scan.markdown import MAX_NESTING, find_images
from alttext.textpos import LineIndex


def _nested(prefixes: list[str]) -> str:
    """An image inside containers: each prefix is '>' (a quote) or '-' / '1.' (a list item)."""
    lines, indent = [], ""
    for prefix in prefixes:
        if prefix == ">":
            indent += "> "
        else:
            lines.append(f"{indent}{prefix} item")
            indent += " " * (len(prefix) + 1)
    lines.append(f"{indent}![](deep.png)")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "prefixes",
    [
        pytest.param(["-"] * 11, id="eleven-list-levels"),
        pytest.param(["1."] * 30, id="thirty-ordered-list-levels"),
        pytest.param([">"] * 21, id="twenty-one-quote-levels"),
        pytest.param([">"] * 150, id="150-quote-levels"),
        pytest.param(["-", ">"] * 25, id="lists-in-quotes"),
    ],
)
def test_images_deeper_than_markdown_its_default_limit_are_found(prefixes: list[str]) -> None:
    text = _nested(prefixes)
    [image] = find_images(text)
    assert image.rule == "ALT101" and image.src == "deep.png"
    assert LineIndex(text).position(image.start)[0] == text.count("\n")


def test_deeper_than_the_limit_is_an_error_with_a_line() -> None:
    with pytest.raises(ScanTooComplex, match=f"nested more than {MAX_NESTING} levels") as raised:
        find_images("intro\n\n" + ">" * (MAX_NESTING + 5) + " ![](a.png)\n")
    assert raised.value.line == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([">", "-", "*", "1.", "10)"]), min_size=1, max_size=60))
def test_any_nesting_within_the_limit_finds_the_image_and_its_slot(prefixes: list[str]) -> None:
    text = _nested(prefixes)
    [image] = find_images(text)
    assert image.slot is not None
    fixed = apply_edits(text, [Edit(image.slot.start, image.slot.end, "Deep")])
    [again] = find_images(fixed)
    assert (again.alt, again.rule, again.src) == ("Deep", None, "deep.png")


def test_a_paragraph_of_unclosed_brackets_is_reported_at_once() -> None:
    with pytest.raises(ScanTooComplex, match="20000 unclosed") as raised:
        find_images("# Title\n\n" + "![" * 20_000 + "\n\n![](a.png)\n")
    assert raised.value.line == 3


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[x] " * 20_000 + "![](a.png)", id="many-closed-brackets"),
        pytest.param("\\[ " * 20_000 + "![](a.png)", id="many-escaped-brackets"),
        pytest.param("[" * 9_000 + "![](a.png)", id="under-the-limit"),
    ],
)
def test_many_brackets_that_cost_little_are_parsed(text: str) -> None:
    assert [image.src for image in find_images(text + "\n")] == ["a.png"]


def test_the_cpu_budget_is_a_backstop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markdown, "PARSE_SECONDS", 0.05)
    monkeypatch.setattr(markdown, "PARSE_SECONDS_PER_MIB", 0.0)
    with pytest.raises(ScanTooComplex, match="bounded time") as raised:
        find_images("# Title\n\n" + "![" * 9_000 + "\n")
    assert raised.value.line == 3
    assert markdown._deadline is None  # the next document starts with a fresh budget
    assert [image.src for image in find_images("![](a.png)\n")] == ["a.png"]


@pytest.mark.slow
def test_a_five_megabyte_line_of_image_openers_ends_with_exit_2(tmp_path: Path) -> None:
    """The real input: 5 MB of `![` on one line, through the command a user runs."""
    page = tmp_path / "bomb.md"
    page.write_text("# Title\n\n" + "![" * 2_500_000 + "\n")
    (tmp_path / "fine.md").write_text("![](a.png)\n")
    checked = subprocess.run([sys.executable, "-m", "alttext", "check", str(tmp_path)],
                             check=False, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 2
    assert f"{page}:3: error: too complex to parse: 2500000 unclosed '[' in one paragraph" in checked.stderr
    assert "fine.md:1:1: ALT101" in checked.stdout  # the other files are still checked

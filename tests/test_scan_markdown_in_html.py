"""Markdown inside HTML elements with a `markdown` attribute (md_in_html), as MkDocs sites write it."""

from __future__ import annotations

import pytest

from alttext.scan import find_images

FIGURE = '<figure markdown="span">\n  ![](img/chart.png){ width="300" }\n  <figcaption>Downloads per <em>month</em></figcaption>\n</figure>\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(FIGURE, [("![](img/chart.png)", "Downloads per month")], id="material-figure"),
        pytest.param('<div class="grid" markdown>\n![](a.png) and ![b](b.png)\n</div>\n',
                     [("![](a.png)", None), ("![b](b.png)", None)], id="bare-attribute"),
        pytest.param("<div markdown='block'>\n  <p>x</p>\n  ![](a.png)\n</div>\n", [("![](a.png)", None)], id="block"),
        pytest.param('<section markdown="1"><div>![](a.png)</div></section>\n', [("![](a.png)", None)], id="nested-tag"),
    ],
)
def test_markdown_content_is_scanned(text: str, expected: list[tuple[str, str | None]]) -> None:
    found = [(text[ref.start:ref.end], ref.caption) for ref in find_images(text, "markdown")]
    assert found == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("<figure>\n  ![](img/chart.png)\n</figure>\n", id="no-attribute"),
        pytest.param('<figure markdown="0">\n  ![](img/chart.png)\n</figure>\n', id="turned-off"),
        pytest.param('<div markdown>\n`![](a.png)`\n</div>\n', id="code-span"),
        pytest.param('<figure markdown>\n<figcaption>![](a.png)</figcaption>\n</figure>\n', id="inside-figcaption"),
        pytest.param('<p>![](a.png)</p> <div markdown>x</div>\n', id="outside-the-element"),
    ],
)
def test_not_markdown_images(text: str) -> None:
    assert [ref for ref in find_images(text, "markdown") if ref.kind.startswith("markdown")] == []


def test_raw_img_inside_is_found_once() -> None:
    text = '<div markdown>\n![](a.png) <img src="b.png">\n</div>\n'
    assert [(ref.kind, ref.src) for ref in find_images(text, "markdown")] == [("markdown-image", "a.png"), ("img", "b.png")]


def test_fix_writes_the_label_and_keeps_the_figcaption(tmp_path) -> None:
    from alttext.document import read_document
    from alttext.fix.plan import plan_document, rewrite
    from alttext.fix.resolve import Resolver

    page = tmp_path / "page.md"
    page.write_text(FIGURE, encoding="utf-8")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "chart.png").write_bytes(b"not read here")
    plan = plan_document(read_document(str(page)), "markdown", Resolver(project_root=str(tmp_path)))
    assert [target.ref.caption for target in plan.targets] == ["Downloads per month"]
    done = rewrite(plan, {plan.targets[0].index: "A bar chart"})
    assert done.problems == []
    assert done.text == FIGURE.replace("![](img/chart.png)", "![A bar chart](img/chart.png)")

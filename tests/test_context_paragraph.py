"""The paragraph around an image, per syntax, with the position its block starts at."""

from __future__ import annotations

import pytest

from alttext.context import Sourced, image_contexts
from alttext.scan import find_images

MARKDOWN = """# Downloads

Intro text that belongs to the page title section only.

## Results

The chart below shows **downloads** per month, from [our mirror](https://example.org).

![](chart.png)

## Next

More text after the next heading, never used.
"""

MARKDOWN_INLINE = "# T\n\nSee how the *new* dashboard ![](d.png) groups the reports by team.\n"

RST = """Results
=======

The chart below shows downloads per month, from `our mirror <https://example.org>`_.

.. image:: chart.png

Later text.
"""

HTML = """<html><body><h1>Results</h1>
<p>The chart below shows <b>downloads</b> per month &amp; year.</p>
<figure><img src="chart.png"></figure>
<h2>Next</h2><p>Never used, another section with words.</p>
</body></html>"""

HTML_ALONE = "<h1>Logo</h1>\n<img src=\"logo.png\">\n<h2>Other</h2><p>Text of another section here.</p>"


@pytest.mark.parametrize(
    ("text", "syntax", "expected"),
    [
        pytest.param(MARKDOWN, "markdown",
                     Sourced("The chart below shows downloads per month, from our mirror.", 7, 1), id="markdown-before"),
        pytest.param(MARKDOWN_INLINE, "markdown",
                     Sourced("See how the new dashboard groups the reports by team.", 3, 1), id="markdown-own"),
        pytest.param(RST, "rst",
                     Sourced("The chart below shows downloads per month, from our mirror.", 4, 1), id="rst-before"),
        pytest.param(HTML, "html", Sourced("The chart below shows downloads per month & year.", 2, 1),
                     id="html-before"),
    ],
)
def test_the_paragraph_near_the_image(text: str, syntax: str, expected: Sourced) -> None:
    images = find_images(text, syntax)
    (context,) = image_contexts(text, syntax, images)
    assert context.paragraph == expected
    assert context.as_dict()["paragraph"] == {"value": expected.value, "line": expected.line,
                                              "column": expected.column}


def test_no_paragraph_across_a_heading() -> None:
    images = find_images(HTML_ALONE, "html")
    (context,) = image_contexts(HTML_ALONE, "html", images)
    assert context.paragraph is None  # the only prose is in another section, after a heading


def test_the_prompt_carries_the_paragraph() -> None:
    from alttext.caption.prompt import build_prompt, load_template

    (context,) = image_contexts(MARKDOWN, "markdown", find_images(MARKDOWN, "markdown"))
    prompt = build_prompt(load_template(None), context, "", 125)
    assert "- Text around the image: The chart below shows downloads per month, from our mirror." in prompt.user

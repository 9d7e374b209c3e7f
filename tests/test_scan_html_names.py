"""Which HTML images need a name, as axe-core decides: area-alt only inside a <map>,
input-image-alt named by a <label>, image-alt not applying to an <img> whose explicit
role needs no name."""

from __future__ import annotations

import random

import pytest

from alttext.scan.html import find_images


def _rules(html: str) -> list[tuple[str, str | None, str | None]]:
    return [(image.kind, image.rule, image.alt) for image in find_images(html)]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param("<area href=x>", [], id="area-outside-map"),
        pytest.param("<p><area href=x shape=rect></p>", [], id="area-in-p"),
        pytest.param('<map name="m"><area href=x></map>', [("area", "ALT004", None)], id="area-in-map"),
        pytest.param('<map name="m"><div><area href=x></div></map>', [("area", "ALT004", None)], id="area-deep-in-map"),
        pytest.param("<map></map><area href=x>", [], id="area-after-closed-map"),
        pytest.param("<map><area shape=rect></map>", [], id="area-without-href"),
    ],
)
def test_area_alt_applies_only_inside_a_map(html: str, expected: list[tuple[str, str | None, str | None]]) -> None:
    assert _rules(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param("<label>Search <input type=image src=go.png></label>", [("input", None, "Search")], id="wrapping"),
        pytest.param("<label><b>Send</b> it<input type=image src=s></label>", [("input", None, "Send it")], id="wrapping-markup"),
        pytest.param("<label for=q>Go</label><input type=image id=q src=g>", [("input", None, "Go")], id="for-before"),
        pytest.param("<input type=image id=q src=g><label for=q>Go</label>", [("input", None, "Go")], id="for-after"),
        pytest.param("<label for=other>Go</label><input type=image id=q src=g>", [("input", "ALT003", None)], id="for-another"),
        pytest.param("<label>Go</label><input type=image src=g>", [("input", "ALT003", None)], id="sibling-label"),
        pytest.param("<label> </label><input type=image id=q src=g>", [("input", "ALT003", None)], id="empty-label"),
        pytest.param("<label for=q> </label><input type=image id=q src=g>", [("input", "ALT003", None)], id="blank-for-label"),
    ],
)
def test_input_image_named_by_a_label(html: str, expected: list[tuple[str, str | None, str | None]]) -> None:
    assert _rules(html) == expected


@pytest.mark.parametrize(
    ("html", "rule"),
    [
        pytest.param("<img src=a role=separator>", None, id="separator"),
        pytest.param("<img src=a role=listitem>", None, id="listitem"),
        pytest.param("<img src=a role='unknown separator'>", None, id="first-known-role"),
        pytest.param("<img src=a role=separator tabindex=0>", "ALT001", id="focusable-separator"),
        pytest.param("<img src=a role=separator tabindex=-1>", "ALT001", id="programmatically-focusable"),
        pytest.param("<img src=a role=button>", "ALT001", id="button-needs-a-name"),
        pytest.param("<img src=a role=link>", "ALT001", id="link-needs-a-name"),
        pytest.param("<img src=a role=img>", "ALT001", id="img-needs-a-name"),
        pytest.param("<img src=a role=bogus>", "ALT001", id="unknown-role"),
        pytest.param("<img src=a role=none>", None, id="none"),
    ],
)
def test_image_alt_and_explicit_roles(html: str, rule: str | None) -> None:
    [image] = find_images(html)
    assert image.rule == rule


_PIECES = ["<map>", "</map>", "<div>", "</div>", "<p>", "</p>", "<span>",
           "</span>", "<ul><li>", "</ul>", "text"]


def _areas_in_map_by_html5lib(html: str) -> list[str]:
    html5lib = pytest.importorskip("html5lib")
    document = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    found: list[str] = []

    def walk(element: object, in_map: bool, hidden: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""  # type: ignore[attr-defined]
        hidden = hidden or tag == "template"
        if tag == "area" and in_map and not hidden and element.get("href") is not None:  # type: ignore[attr-defined]
            found.append(element.get("id"))  # type: ignore[attr-defined]
        for child in element:  # type: ignore[attr-defined]
            walk(child, in_map or tag == "map", hidden)

    walk(document, False, False)
    return found


def test_area_in_map_agrees_with_html5lib() -> None:
    """Generated markup without tables and templates (html5lib's own template support is
    incomplete; foster parenting is not followed), nor formatting elements (the adoption agency may move
    built elements out of a <map> after the fact, which a forward scanner cannot follow)."""
    rng = random.Random(2026_12_03)
    differ = []
    for _ in range(800):
        serial = iter(range(100))
        pieces = [f"<area href=x id=a{next(serial)}>" if rng.random() < 0.2 else rng.choice(_PIECES)
                  for _ in range(rng.randint(1, 16))]
        html = "".join(pieces)
        mine = [image for image in find_images(html) if image.kind == "area"]
        ids = [html[image.start:image.end].split("id=")[1].rstrip(">") for image in mine]
        if ids != _areas_in_map_by_html5lib(html):
            differ.append(html)
    assert differ == []

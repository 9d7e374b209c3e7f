"""The Sphinx extension, tested with real Sphinx builds of tests/data/sites/sphinx."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

from sphinx.cmd.build import build_main

SITE = Path(__file__).parent / "data" / "sites" / "sphinx"

EXPECTED_WARNINGS = [
    ("guide.md", 5, "ALT101", "images/chart.png"),
    ("guide.md", 13, "ALT201", "images/team.png"),  # a MyST {image} fence
    ("guide.md", 18, "ALT101", "images/logo.png"),  # its paragraph starts on line 17
    ("index.rst", 10, "ALT201", "images/chart.png"),
    ("index.rst", 23, "ALT201", "images/team.png"),
    ("index.rst", 29, "ALT201", "images/logo.png"),
]
WARNING_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): WARNING: (?P<rule>ALT\d+) .*\((?P<src>[^)]*)\) \[alttext\.missing-alt\]$")

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path) -> Path:
    shutil.copytree(SITE, tmp_path / "docs")
    return tmp_path / "docs"


def build(site: Path, *options: str) -> tuple[int, str, Path]:
    """Run sphinx-build; return its exit status, its warnings and the output folder."""
    out = site.parent / "html"
    warnings = site.parent / "warnings.txt"
    status = build_main(["-q", "-E", "-b", "html", "-w", str(warnings), *options, str(site), str(out)])
    return status, warnings.read_text(encoding="utf-8"), out


def parsed_warnings(text: str, site: Path) -> list[tuple[str, int, str, str]]:
    found = []
    for line in text.splitlines():
        match = WARNING_LINE.match(line)
        assert match, f"unexpected warning line: {line!r}"
        path = Path(match["path"]).relative_to(site).as_posix()
        found.append((path, int(match["line"]), match["rule"], match["src"]))
    return sorted(found)


def img_alts(html: str) -> list[str]:
    """The alt texts of the page's images, as a browser reads them."""
    return [unescape(alt) for alt in re.findall(r'<img alt="([^"]*)"', html)]


def test_check_warns_once_per_image_with_file_and_line(site: Path) -> None:
    status, warnings, _ = build(site)
    assert status == 0
    assert parsed_warnings(warnings, site) == EXPECTED_WARNINGS


def test_parallel_build_reports_the_same(site: Path) -> None:
    # Sphinx reads in parallel only when more than 5 documents changed.
    extra = [f"page{number}" for number in range(6)]
    for name in extra:
        (site / f"{name}.rst").write_text(f"{name}\n=====\n\n.. image:: images/chart.png\n", encoding="utf-8")
    with (site / "index.rst").open("a", encoding="utf-8") as index:
        index.write("\n.. toctree::\n\n" + "".join(f"   {name}\n" for name in extra))
    status, warnings, _ = build(site, "-j", "2")
    assert status == 0
    expected = EXPECTED_WARNINGS + [(f"{name}.rst", 4, "ALT201", "images/chart.png") for name in extra]
    assert parsed_warnings(warnings, site) == sorted(expected)


def test_check_fails_the_build_with_warnings_as_errors(site: Path) -> None:
    status, warnings, _ = build(site, "-W")
    assert status != 0
    assert "ALT" in warnings


@pytest.mark.parametrize(
    "suppress",
    [pytest.param("alttext", id="type"), pytest.param("alttext.missing-alt", id="type-and-subtype")],
)
def test_suppress_warnings_silences_it(site: Path, suppress: str) -> None:
    status, warnings, _ = build(site, "-W", "-D", f"suppress_warnings={suppress}")
    assert status == 0
    assert warnings == ""


def test_exclude_skips_matching_sources(site: Path) -> None:
    status, warnings, _ = build(site, "-D", "alttext_exclude=guide.md")
    assert status == 0
    assert [w[0] for w in parsed_warnings(warnings, site)] == ["index.rst"] * 3


def test_check_leaves_output_and_sources_alone(site: Path) -> None:
    before = {path: path.read_bytes() for path in site.rglob("*") if path.is_file()}
    _, _, out = build(site)
    # Sphinx's own fallback: the path as alt text, which is why the HTML cannot tell.
    assert img_alts((out / "index.html").read_text(encoding="utf-8")) == [
        "_images/chart.png", "Blue circle logo", "", "_images/team.png", "badge",
    ]
    assert {path: path.read_bytes() for path in site.rglob("*") if path.is_file()} == before


def test_bad_mode_is_a_config_error(site: Path) -> None:
    status, warnings, _ = build(site, "-W", "-D", "alttext_mode=rewrite")
    assert status != 0
    assert "alttext_mode" in warnings


# --- fill and write, with the tiny captioning model ---------------------------------------


@pytest.fixture
def captions(tiny_model_dir: Path, tmp_path: Path) -> dict[str, str]:
    """What the captioner says for each test image: the alt text the extension must use."""
    from alttext.integration import caption_images

    images = sorted(str(path) for path in (SITE / "images").glob("*.png"))
    found, problems = caption_images(images, model=str(tiny_model_dir), device="cpu", cache=str(tmp_path / "expected-cache"))
    assert not problems and len(found) == 3
    return {Path(path).name: alt for path, alt in found.items()}


def model_options(tiny_model_dir: Path, tmp_path: Path, mode: str) -> list[str]:
    return ["-D", f"alttext_mode={mode}", "-D", f"alttext_model={tiny_model_dir}", "-D", "alttext_device=cpu",
            "-D", f"alttext_cache={tmp_path / 'cache'}"]


def test_fill_sets_alt_in_the_output_only(site: Path, tiny_model_dir: Path, tmp_path: Path, captions: dict[str, str]) -> None:
    before = {path: path.read_bytes() for path in site.rglob("*") if path.is_file()}
    status, warnings, out = build(site, "-W", *model_options(tiny_model_dir, tmp_path, "fill"))
    assert status == 0, warnings
    assert {path: path.read_bytes() for path in site.rglob("*") if path.is_file()} == before
    alt = captions
    assert img_alts((out / "index.html").read_text(encoding="utf-8")) == [
        alt["chart.png"], "Blue circle logo", "", alt["team.png"], alt["logo.png"],
    ]
    assert img_alts((out / "guide.html").read_text(encoding="utf-8")) == [
        alt["chart.png"], "Red bar chart", alt["team.png"], alt["logo.png"],
    ]


def test_write_patches_rst_and_markdown_sources(site: Path, tiny_model_dir: Path, tmp_path: Path, captions: dict[str, str]) -> None:
    from alttext.fix.slots import escape_markdown, escape_rst_option

    status, warnings, out = build(site, *model_options(tiny_model_dir, tmp_path, "write"))
    assert status == 0, warnings
    index = (site / "index.rst").read_text(encoding="utf-8").splitlines()
    guide = (site / "guide.md").read_text(encoding="utf-8").splitlines()
    assert index[9:12] == [".. image:: images/chart.png", "   :width: 48px", f"   :alt: {escape_rst_option(captions['chart.png'])}"]
    assert f"   :alt: {escape_rst_option(captions['team.png'])}" in index
    badge = index.index(".. |badge| image:: images/logo.png")
    assert index[badge + 1].strip() == f":alt: {escape_rst_option(captions['logo.png'])}"
    assert guide[4] == f"![{escape_markdown(captions['chart.png'])}](images/chart.png)"
    assert f"on its second line: ![{escape_markdown(captions['logo.png'])}](images/logo.png) and more text." in guide
    assert guide[guide.index("```{image} images/team.png") + 2] == f":alt: {escape_rst_option(captions['team.png'])}"
    # This build's output has the alt text too.
    assert "_images/chart.png" not in img_alts((out / "index.html").read_text(encoding="utf-8"))
    # A check build afterwards finds nothing left.
    status, warnings, _ = build(site, "-W")
    assert (status, warnings) == (0, "")


def test_write_on_a_french_project_leaves_images_without_text_for_review(
    site: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    before = {path: path.read_bytes() for path in site.rglob("*") if path.is_file()}
    status, warnings, out = build(site, "-D", "language=fr", *model_options(tiny_model_dir, tmp_path, "write"))
    assert status == 0, warnings
    assert {path: path.read_bytes() for path in site.rglob("*") if path.is_file()} == before
    assert '<html lang="fr"' in (out / "index.html").read_text(encoding="utf-8")


def test_fill_on_a_french_project_writes_no_english(site: Path, tiny_model_dir: Path, tmp_path: Path,
                                                    captions: dict[str, str]) -> None:
    status, warnings, out = build(site, "-D", "language=fr", *model_options(tiny_model_dir, tmp_path, "fill"))
    assert status == 0, warnings
    alts = img_alts((out / "index.html").read_text(encoding="utf-8"))
    assert "_images/chart.png" in alts and "Blue circle logo" in alts  # docutils' default, and a person's
    assert not set(captions.values()) & set(alts)
    assert "left for review: the page is not in English and the image holds no text to use" in warnings

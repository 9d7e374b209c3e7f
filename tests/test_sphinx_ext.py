"""The Sphinx extension, tested with real Sphinx builds of tests/data/sites/sphinx."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

from sphinx.cmd.build import build_main

SITE = Path(__file__).parent / "data" / "sites" / "sphinx"

EXPECTED_WARNINGS = [
    ("guide.md", 5, "ALT101", "images/chart.png"),
    ("guide.md", 13, "ALT101", "images/team.png"),
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
    return re.findall(r'<img alt="([^"]*)"', html)


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

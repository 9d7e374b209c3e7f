"""The Sphinx extension reads [tool.alttext] as the command line does; `alttext_*` options in
conf.py (or -D) override it key by key. Real Sphinx builds of tests/data/sites/sphinx."""

# ruff: noqa: F401, F811 - `site` is a fixture imported from another test module

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

from sphinx.cmd.build import build_main

from tests.test_sphinx_ext import img_alts, site

LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): WARNING: (?P<rule>ALT\d+) (?P<text>.*) \[alttext\.(?P<subtype>[\w-]+)\]$")
MISSING = {
    ("guide.md", 5, "ALT101"), ("guide.md", 13, "ALT201"), ("guide.md", 18, "ALT101"),
    ("index.rst", 10, "ALT201"), ("index.rst", 23, "ALT201"), ("index.rst", 29, "ALT201"),
}
INDEX_ONLY = {item for item in MISSING if item[0] == "index.rst"}

pytestmark = pytest.mark.slow


def with_table(site: Path, table: str) -> None:
    (site / "pyproject.toml").write_text(f"[tool.alttext]\n{table}\n", encoding="utf-8")


def build(site: Path, *options: str) -> tuple[int, str, Path]:
    out, warnings = site.parent / "html", site.parent / "warnings.txt"
    status = build_main(["-q", "-E", "-b", "html", "-w", str(warnings), *options, str(site), str(out)])
    return status, warnings.read_text(encoding="utf-8"), out


def found(text: str, site: Path) -> set[tuple[str, int, str]]:
    result = set()
    for line in text.splitlines():
        match = LINE.match(line)
        assert match, f"unexpected warning line: {line!r}"
        result.add((Path(match["path"]).relative_to(site).as_posix(), int(match["line"]), match["rule"]))
    return result


@pytest.mark.parametrize(
    ("table", "options", "expected"),
    [
        pytest.param("", [], MISSING, id="defaults"),
        pytest.param('select = ["ALT101"]', [], {i for i in MISSING if i[2] == "ALT101"}, id="select"),
        pytest.param('ignore = ["ALT101"]', [], {i for i in MISSING if i[2] == "ALT201"}, id="ignore"),
        pytest.param('exclude = ["guide.md"]', [], INDEX_ONLY, id="exclude"),
        pytest.param('include = ["index.rst"]', [], INDEX_ONLY, id="include"),
        pytest.param("max-alt-length = 10", [], MISSING | {("index.rst", 15, "ALT304"), ("guide.md", 9, "ALT304")},
                     id="max-alt-length"),
        pytest.param('ignore = ["ALT101"]', ["-D", "alttext_ignore=ALT201"], {i for i in MISSING if i[2] == "ALT101"},
                     id="conf-ignore-overrides"),
        pytest.param('exclude = ["guide.md"]', ["-D", "alttext_exclude=index.rst"], MISSING - INDEX_ONLY,
                     id="conf-exclude-overrides"),
        pytest.param("max-alt-length = 10", ["-D", "alttext_max_alt_length=100"], MISSING, id="conf-max-alt-length"),
    ],
)
def test_check_reads_the_table_and_conf_overrides_it(
    site: Path, table: str, options: list[str], expected: set[tuple[str, int, str]]
) -> None:
    with_table(site, table)
    status, warnings, _ = build(site, *options)
    assert status == 0
    assert found(warnings, site) == expected


def test_messages_name_myst_as_myst(site: Path) -> None:
    _, warnings, _ = build(site)
    texts = {(Path(m["path"]).name, int(m["line"])): m["text"] for m in map(LINE.match, warnings.splitlines()) if m}
    assert texts[("guide.md", 13)] == "MyST image has no :alt: option (images/team.png)"
    assert texts[("index.rst", 10)] == "reStructuredText image has no :alt: option (images/chart.png)"
    assert texts[("index.rst", 23)] == "reStructuredText figure has no :alt: option (images/team.png)"
    assert texts[("index.rst", 29)] == "reStructuredText image substitution has no :alt: option (images/logo.png)"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(["-D", "alttext_mode=fil"], "alttext_mode = 'fil' is not a mode; use one of: check, fill, write",
                     id="mode"),
        pytest.param(["-D", "alttext_select=ALT999"], "unknown rule 'ALT999'", id="rule"),
    ],
)
def test_bad_values_stop_the_build(site: Path, options: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, out = build(site, *options)
    assert status != 0
    assert message in capsys.readouterr().err
    assert not (out / "index.html").exists()


def test_unknown_table_key_stops_the_build(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with_table(site, "decorative-markdown = true")
    assert build(site)[0] != 0
    assert "unknown key decorative-markdown" in capsys.readouterr().err


# --- wildcard images and captioning settings from the table -------------------------------------


@pytest.fixture
def wildcard_site(site: Path) -> Path:
    """index.rst gains `.. figure:: images/picture.*` with a PNG and a GIF of different pictures."""
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 30, 30)).save(site / "images" / "picture.png")
    Image.new("RGB", (64, 48), (20, 20, 220)).save(site / "images" / "picture.gif")
    with (site / "index.rst").open("a", encoding="utf-8") as index:
        index.write("\n.. figure:: images/picture.*\n\n   A picture Sphinx picks per builder.\n")
    return site


def test_wildcard_is_the_builders_file_in_check_fill_and_write(
    wildcard_site: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from alttext.fix.slots import escape_rst_option
    from alttext.integration import caption_images

    site = wildcard_site
    _, warnings, _ = build(site)
    assert "index.rst:31: WARNING: ALT201 reStructuredText figure has no :alt: option (images/picture.png)" in warnings
    with_table(site, f'model = "{tiny_model_dir}"\ndevice = "cpu"\ncache = "../cache"\nfinal-period = true')
    expected, problems = caption_images([str(site / "images" / "picture.png")], model=str(tiny_model_dir),
                                        device="cpu", cache=str(tmp_path / "expected"))
    assert not problems
    alt = next(iter(expected.values())).rstrip(".") + "."  # final-period from the table
    status, warnings, out = build(site, "-D", "alttext_mode=fill")
    assert status == 0, warnings
    assert alt in img_alts((out / "index.html").read_text(encoding="utf-8"))
    assert (tmp_path / "cache").is_dir()  # the table's cache, relative to pyproject.toml
    status, warnings, _ = build(site, "-D", "alttext_mode=write")
    assert status == 0, warnings
    lines = (site / "index.rst").read_text(encoding="utf-8").splitlines()
    assert lines[lines.index(".. figure:: images/picture.*") + 1] == f"   :alt: {escape_rst_option(alt)}"


def test_a_missing_model_says_how_to_get_it_in_sphinx_terms(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    with_table(site, 'model = "someone/not-downloaded"')
    status, warnings, _ = build(site, "-D", "alttext_mode=fill")
    assert status == 0
    assert "(hf download someone/not-downloaded)" in warnings
    assert "set alttext_model = '/path/to/folder' in conf.py" in warnings
    assert "--model" not in warnings

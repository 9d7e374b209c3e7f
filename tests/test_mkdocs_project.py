"""The MkDocs plugin reads [tool.alttext] as the command line does; its own options override it
key by key. Real `mkdocs build` runs on a site written by each test."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")

IMAGES = Path(__file__).parent / "data" / "sites" / "mkdocs" / "docs" / "img"
WARNING = re.compile(r"^WARNING\s+-\s+alttext: (?P<where>\S+): (?P<rule>ALT\d+) ")
PAGES = {
    "index.md": "# Home\n\n![](img/chart.png)\n\n![A long description of a chart](img/logo.png)\n",
    # Raw HTML is resolved by the browser from the page's URL (guide/usage/ with directory URLs).
    "guide/usage.md": "# Usage\n\n<img src=\"{raw}\" width=\"48\">\n",
    "figures.md": (
        "# Figures\n\n<figure markdown=\"span\">\n  ![](img/chart.png){ width=\"300\" }\n"
        "  <figcaption>Downloads per month</figcaption>\n</figure>\n"
    ),
}
ALL_FINDINGS = {
    ("docs/index.md:3:1", "ALT101"), ("docs/guide/usage.md:3:1", "ALT001"), ("docs/figures.md:4:3", "ALT101"),
}

pytestmark = pytest.mark.slow


def make_site(folder: Path, *, table: str = "", options: str = "", directory_urls: bool = True) -> Path:
    """A project: pyproject.toml with `table` as [tool.alttext], mkdocs.yml with `options` for the plugin."""
    raw = "../../img/team.png" if directory_urls else "../img/team.png"
    for name, text in PAGES.items():
        (folder / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "docs" / name).write_text(text.replace("{raw}", raw), encoding="utf-8")
    shutil.copytree(IMAGES, folder / "docs" / "img")
    (folder / "pyproject.toml").write_text(f"[tool.alttext]\n{table}\n", encoding="utf-8")
    theme = "material" if _has_material() else "mkdocs"
    plugin = "".join(f"      {line}\n" for line in options.splitlines()) or "      mode: check\n"
    (folder / "mkdocs.yml").write_text(
        f"site_name: t\ntheme: {theme}\nuse_directory_urls: {str(directory_urls).lower()}\n"
        "nav: [index.md, guide/usage.md, figures.md]\n"
        "markdown_extensions: [md_in_html, attr_list]\n"
        f"plugins:\n  - alttext:\n{plugin}",
        encoding="utf-8",
    )
    return folder


def _has_material() -> bool:
    import importlib.util

    return importlib.util.find_spec("material") is not None


def build(site: Path, *options: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", *options], cwd=site, capture_output=True,
                          text=True, timeout=300, check=False)
    return done.returncode, done.stderr + done.stdout


def findings(output: str) -> set[tuple[str, str]]:
    return {(m["where"], m["rule"]) for line in output.splitlines() if (m := WARNING.match(line))}


@pytest.mark.parametrize(
    ("table", "options", "expected"),
    [
        pytest.param("", "", ALL_FINDINGS, id="defaults"),
        pytest.param('select = ["ALT1"]', "", ALL_FINDINGS - {("docs/guide/usage.md:3:1", "ALT001")}, id="select"),
        pytest.param('ignore = ["ALT101"]', "", {("docs/guide/usage.md:3:1", "ALT001")}, id="ignore"),
        pytest.param("max-alt-length = 20", "", ALL_FINDINGS | {("docs/index.md:5:1", "ALT304")}, id="max-alt-length"),
        pytest.param('exclude = ["docs/guide"]', "", ALL_FINDINGS - {("docs/guide/usage.md:3:1", "ALT001")},
                     id="exclude"),
        pytest.param('include = ["docs/index.md"]', "", {("docs/index.md:3:1", "ALT101")}, id="include"),
        pytest.param('ignore = ["ALT101"]', "ignore: []", ALL_FINDINGS, id="plugin-ignore-overrides"),
        pytest.param('select = ["ALT1"]', 'select: ["ALT001"]', {("docs/guide/usage.md:3:1", "ALT001")},
                     id="plugin-select-overrides"),
        pytest.param("max-alt-length = 20", "max_alt_length: 200", ALL_FINDINGS, id="plugin-max-alt-length-overrides"),
        pytest.param('exclude = ["docs/guide"]', 'exclude: ["figures.md"]',
                     ALL_FINDINGS - {("docs/figures.md:4:3", "ALT101")}, id="plugin-exclude-from-docs-dir"),
        pytest.param("", 'include: ["guide/*"]', {("docs/guide/usage.md:3:1", "ALT001")}, id="plugin-include"),
    ],
)
def test_check_reads_the_table_and_the_plugin_overrides_it(
    tmp_path: Path, table: str, options: str, expected: set[tuple[str, str]]
) -> None:
    site = make_site(tmp_path, table=table, options=options)
    status, output = build(site)
    assert status == 0, output
    assert findings(output) == expected
    if not options:  # the command line gives the same answer for the same project
        done = subprocess.run([sys.executable, "-m", "alttext", "check", "docs"], cwd=site, capture_output=True,
                              text=True, check=False)
        cli = {(f"{m[1]}:{m[2]}:{m[3]}", m[4]) for m in re.finditer(r"^(\S+?):(\d+):(\d+): (ALT\d+)", done.stdout, re.M)}
        assert cli == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param("num_beams: four", "num_beams: expected int, got 'four'", id="bad-type"),
        pytest.param("select: [ALT999]", "unknown rule 'ALT999'", id="bad-rule"),
        pytest.param("mode: fil", "Expected one of: ('check', 'fill', 'write')", id="bad-mode"),
    ],
)
def test_bad_plugin_options_stop_the_build(tmp_path: Path, options: str, message: str) -> None:
    status, output = build(make_site(tmp_path, options=options))
    assert status == 1
    assert message in output


def test_unknown_table_key_stops_the_build_naming_the_file(tmp_path: Path) -> None:
    status, output = build(make_site(tmp_path, table="decorative-markdown = true"))
    assert status == 1
    assert "pyproject.toml: [tool.alttext]: unknown key decorative-markdown" in output


@pytest.mark.parametrize("directory_urls", [True, False], ids=["directory-urls", "file-urls"])
def test_fill_uses_the_table_for_captioning(tmp_path: Path, tiny_model_dir: Path, directory_urls: bool) -> None:
    """model, device, cache, final-period and caption-max-length come from [tool.alttext] alone; raw HTML
    resolves from the page's URL and md_in_html figures are filled with their figcaption kept."""
    table = (f'model = "{tiny_model_dir}"\ndevice = "cpu"\ncache = "captions"\nfinal-period = true\n'
             "caption-max-length = 40")
    site = make_site(tmp_path, table=table, options="mode: fill", directory_urls=directory_urls)
    status, output = build(site)
    assert status == 0, output
    assert "error" not in output.lower(), output
    assert (site / "captions").is_dir()  # the table's cache, relative to pyproject.toml
    usage = site / "site" / ("guide/usage/index.html" if directory_urls else "guide/usage.html")
    figures = site / "site" / ("figures/index.html" if directory_urls else "figures.html")
    alts = [*re.findall(r'<img alt="([^"]*)"[^>]*src="[^"]*team.png"', usage.read_text(encoding="utf-8")),
            *re.findall(r'<img alt="([^"]*)"[^>]*src="[^"]*chart.png"', figures.read_text(encoding="utf-8"))]
    assert len(alts) == 2
    assert all(alt.endswith(".") and 1 < len(alt) <= 40 for alt in alts), alts
    assert "<figcaption>Downloads per month</figcaption>" in figures.read_text(encoding="utf-8")


def test_a_missing_model_says_how_to_get_it_in_mkdocs_terms(tmp_path: Path) -> None:
    import os

    site = make_site(tmp_path / "site", table='model = "someone/not-downloaded"', options="mode: fill")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "empty-hub")}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=site, capture_output=True, text=True,
                          timeout=300, check=False, env=env)
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert errors[0].startswith("ERROR   -  alttext: error: model 'someone/not-downloaded' is not in the local")
    assert "(hf download someone/not-downloaded)" in errors[0]
    assert "set `model: /path/to/folder` in the alttext plugin's options in mkdocs.yml" in errors[0]
    assert "--model" not in done.stderr

"""The MkDocs plugin, tested with real `mkdocs build` runs of tests/data/sites/mkdocs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")

SITE = Path(__file__).parent / "data" / "sites" / "mkdocs"
WARNING = re.compile(r"^WARNING\s+-\s+alttext: (?P<where>\S+): (?P<rule>ALT\d+) ")
EXPECTED_CHECK = [
    ("docs/index.md:9:1", "ALT101"),
    ("docs/guide/usage.md:5:1", "ALT101"),
    ("docs/guide/usage.md:9:1", "ALT001"),
]

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path) -> Path:
    shutil.copytree(SITE, tmp_path / "site-src")
    return tmp_path / "site-src"


def configure(site: Path, options: str) -> None:
    """Replace the plugin's options in mkdocs.yml with `options` (YAML lines at the option level)."""
    config = site / "mkdocs.yml"
    head = config.read_text(encoding="utf-8").split("plugins:")[0]
    config.write_text(head + "plugins:\n  - alttext:\n" + "".join(f"      {line}\n" for line in options.splitlines()), encoding="utf-8")


def build(site: Path, *options: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *options], cwd=site, capture_output=True, text=True, timeout=300, check=False
    )
    return done.returncode, done.stderr + done.stdout


def warnings(output: str) -> list[tuple[str, str]]:
    return [(m["where"], m["rule"]) for line in output.splitlines() if (m := WARNING.match(line))]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def img_tags(html: str) -> list[str]:
    return re.findall(r"<img[^>]*>", html)


def test_check_warns_per_image_with_source_file_and_line(site: Path) -> None:
    status, output = build(site)
    assert status == 0, output
    assert warnings(output) == EXPECTED_CHECK


def test_check_fails_a_strict_build(site: Path) -> None:
    status, output = build(site, "--strict")
    assert status == 1
    assert "Aborted with 3 warnings in strict mode!" in output


def test_check_leaves_sources_and_html_alone(site: Path) -> None:
    before = snapshot(site / "docs")
    build(site)
    assert snapshot(site / "docs") == before
    html = (site / "site" / "index.html").read_text(encoding="utf-8")
    assert '<img alt="" src="img/chart.png" />' in html


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param("exclude: []", [*EXPECTED_CHECK, ("docs/drafts/wip.md:3:1", "ALT101")], id="nothing-excluded"),
        pytest.param('exclude: ["guide/*"]', [EXPECTED_CHECK[0], ("docs/drafts/wip.md:3:1", "ALT101")], id="folder-glob"),
        pytest.param('exclude: ["*.md"]', [], id="every-page"),
    ],
)
def test_exclude_globs_over_docs_dir_paths(site: Path, options: str, expected: list[tuple[str, str]]) -> None:
    configure(site, options)
    status, output = build(site)
    assert status == 0, output
    assert sorted(warnings(output)) == sorted(expected)


def test_a_clean_site_passes_strict(site: Path) -> None:
    configure(site, 'exclude: ["*.md"]')
    status, output = build(site, "--strict")
    assert status == 0, output


def test_unknown_mode_is_a_config_error(site: Path) -> None:
    configure(site, "mode: rewrite")
    status, output = build(site)
    assert status == 1
    assert "mode" in output and "rewrite" in output


# --- fill and write, with the tiny captioning model ---------------------------------------


@pytest.fixture
def captions(tiny_model_dir: Path, tmp_path: Path) -> dict[str, str]:
    """What the captioner says for each test image: the alt text the plugin must use."""
    from alttext.integration import caption_images

    images = sorted(str(path) for path in (SITE / "docs" / "img").glob("*.png"))
    found, problems = caption_images(images, model=str(tiny_model_dir), device="cpu", cache=str(tmp_path / "expected-cache"))
    assert not problems and len(found) == 3
    return {Path(path).name: alt for path, alt in found.items()}


def model_options(tiny_model_dir: Path, tmp_path: Path, mode: str) -> str:
    return f'mode: {mode}\nmodel: "{tiny_model_dir}"\ndevice: cpu\ncache: "{tmp_path / "cache"}"\nexclude: ["drafts/*"]'


def assert_levels(output: str) -> None:
    """Each alttext line is logged at the level it names, with one prefix."""
    lines = [line for line in output.splitlines() if "alttext:" in line]
    assert lines and not any("alttext: alttext:" in line for line in lines)
    for line in lines:
        if ": warning: " in line or ": skipped: " in line:
            assert line.startswith("WARNING"), line
        elif ": error: " in line:
            assert line.startswith("ERROR"), line
        else:
            assert line.startswith("INFO"), line


def test_fill_sets_alt_in_the_built_html_only(site: Path, tiny_model_dir: Path, tmp_path: Path, captions: dict[str, str]) -> None:
    from alttext.fix.slots import escape_html_attribute

    configure(site, model_options(tiny_model_dir, tmp_path, "fill"))
    before = snapshot(site / "docs")
    status, output = build(site)
    assert status == 0, output
    assert_levels(output)
    assert snapshot(site / "docs") == before
    index = img_tags((site / "site" / "index.html").read_text(encoding="utf-8"))
    usage = img_tags((site / "site" / "guide" / "usage" / "index.html").read_text(encoding="utf-8"))
    alt = {name: escape_html_attribute(text) for name, text in captions.items()}
    assert index == [f'<img alt="{alt["chart.png"]}" src="img/chart.png" />', '<img alt="Blue circle logo" src="img/logo.png" />']
    assert usage == [
        f'<img alt="{alt["team.png"]}" src="/img/team.png" />',
        f'<img alt="{alt["logo.png"]}" src="/img/logo.png" width="48">',
        '<img src="/img/logo.png" alt="">',  # decorative: left alone
    ]


def test_write_patches_the_markdown_then_builds_clean(
    site: Path, tiny_model_dir: Path, tmp_path: Path, captions: dict[str, str]
) -> None:
    from alttext.fix.slots import escape_html_attribute, escape_markdown

    configure(site, model_options(tiny_model_dir, tmp_path, "write"))
    draft = (site / "docs" / "drafts" / "wip.md").read_bytes()
    status, output = build(site)
    assert status == 0, output
    assert_levels(output)
    index = (site / "docs" / "index.md").read_text(encoding="utf-8")
    usage = (site / "docs" / "guide" / "usage.md").read_text(encoding="utf-8")
    assert f"![{escape_markdown(captions['chart.png'])}](img/chart.png)" in index.splitlines()
    assert f"![{escape_markdown(captions['team.png'])}](/img/team.png)" in usage.splitlines()
    assert f'<img alt="{escape_html_attribute(captions["logo.png"])}" src="/img/logo.png" width="48">' in usage.splitlines()
    assert (site / "docs" / "drafts" / "wip.md").read_bytes() == draft  # excluded
    configure(site, "exclude: [\"drafts/*\"]")
    status, output = build(site, "--strict")
    assert status == 0, output  # check mode finds nothing left


def test_write_on_a_french_site_leaves_images_without_text_for_review(
    site: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    configure(site, model_options(tiny_model_dir, tmp_path, "write"))
    config = site / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("theme: mkdocs", "theme:\n  name: mkdocs\n  locale: fr"),
                      encoding="utf-8")
    before = snapshot(site / "docs")
    status, output = build(site)
    assert status == 0, output
    assert snapshot(site / "docs") == before  # the model writes English; these images hold no text to keep
    assert "left for review: the page is not in English" in output
    assert '<html lang="fr"' in (site / "site" / "index.html").read_text(encoding="utf-8")

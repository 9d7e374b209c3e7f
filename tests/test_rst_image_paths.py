"""reStructuredText image paths are file paths, as docutils and Sphinx read them: `#`, `?` and `%`
are part of the file name, and only a `scheme:` URL is remote. Markdown sources stay URLs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alttext.cli import main
from alttext.fix.resolve import Resolver
from tests.fix_helpers import FIX_DATA

TITLE = "Bar chart: sales doubled from 2022 to 2024"


@pytest.mark.parametrize(
    ("document", "text", "image", "written"),
    [
        pytest.param("page.rst", ".. image:: img/chart#1.svg\n", "chart#1.svg",
                     f".. image:: img/chart#1.svg\n   :alt: {TITLE}\n", id="rst-hash"),
        pytest.param("page.rst", ".. figure:: img/q?v=2.svg\n", "q?v=2.svg",
                     f".. figure:: img/q?v=2.svg\n   :alt: {TITLE}\n", id="rst-query-mark"),
        pytest.param("page.rst", ".. image:: img/100%25.svg\n", "100%25.svg",
                     f".. image:: img/100%25.svg\n   :alt: {TITLE}\n", id="rst-percent-not-decoded"),
        pytest.param("page.md", "```{image} img/chart#1.svg\n```\n", "chart#1.svg",
                     f"```{{image}} img/chart#1.svg\n:alt: {TITLE}\n```\n", id="myst-directive-hash"),
        pytest.param("page.md", "![](img/chart.svg#part)\n", "chart.svg",
                     f"![{TITLE}](img/chart.svg#part)\n", id="markdown-fragment-is-a-url-part"),
    ],
)
def test_image_paths_as_each_syntax_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               document: str, text: str, image: str, written: str) -> None:
    (tmp_path / "img").mkdir()
    shutil.copyfile(FIX_DATA / "img" / "chart.svg", tmp_path / "img" / image)
    (tmp_path / document).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["fix", document]) == 1
    assert (tmp_path / document).read_text(encoding="utf-8") == written


@pytest.mark.parametrize(
    ("src", "remote"),
    [
        pytest.param("https://example.com/a.png", True, id="https"),
        pytest.param("http://example.com/a#b.png", True, id="http-with-fragment"),
        pytest.param("//example.com/a.png", False, id="protocol-relative-is-a-path-in-rst"),
        pytest.param("img/a#b.png", False, id="hash"),
    ],
)
def test_only_scheme_urls_are_remote_in_rst(tmp_path: Path, src: str, remote: bool) -> None:
    image = Resolver(project_root=str(tmp_path), site_root=str(tmp_path)).resolve(
        src, str(tmp_path / "page.rst"), file_path=True)
    assert (image.problem == "remote image not fetched (pass --fetch-remote to caption it)") is remote


_NAMES = st.text(st.sampled_from("ab#?%&;=+@!$'()~,-_.2 "), min_size=1, max_size=12).filter(
    lambda name: name.strip() == name and name not in (".", ".."))


@settings(max_examples=100, deadline=None)
@given(_NAMES)
def test_any_rst_file_name_resolves_to_that_file(name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "img" / f"{name}.png"
        image.parent.mkdir()
        image.write_bytes(b"\x89PNG\r\n\x1a\n")
        resolved = Resolver(project_root=folder).resolve(f"img/{name}.png", str(Path(folder) / "page.rst"),
                                                         file_path=True)
        assert resolved.problem is None and resolved.path == str(image)


@pytest.mark.slow
def test_sphinx_reads_the_same_file(tmp_path: Path) -> None:
    """The rule above is Sphinx's own: a real build finds and copies `chart#1.png`."""
    from sphinx.cmd.build import build_main

    (tmp_path / "img").mkdir()
    shutil.copyfile(FIX_DATA / "img" / "dog.png", tmp_path / "img" / "chart#1.png")
    (tmp_path / "conf.py").write_text("", encoding="utf-8")
    (tmp_path / "index.rst").write_text("Title\n=====\n\n.. image:: img/chart#1.png\n", encoding="utf-8")
    assert build_main(["-q", "-W", "-b", "html", str(tmp_path), str(tmp_path / "_build")]) == 0
    assert (tmp_path / "_build" / "_images" / "chart#1.png").read_bytes() == (FIX_DATA / "img" / "dog.png").read_bytes()
    image = Resolver(project_root=str(tmp_path)).resolve("img/chart#1.png", str(tmp_path / "index.rst"), file_path=True)
    assert image.path == str(tmp_path / "img" / "chart#1.png")

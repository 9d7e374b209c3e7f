"""Nothing outside the project root is read or written: not through apply entries, not through links."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from alttext.cli import main
from alttext.confine import real_inside
from alttext.fix import proposals
from tests.fix_helpers import FIX_DATA

SVG_PAGE = "![](img/chart.svg)\n"
FIXED_PAGE = "![Bar chart: sales doubled from 2022 to 2024](img/chart.svg)\n"


@pytest.fixture()
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A project folder and, next to it, an outside folder with a page and an image of its own."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    for folder in (project, outside):
        (folder / "img").mkdir(parents=True)
        shutil.copyfile(FIX_DATA / "img" / "chart.svg", folder / "img" / "chart.svg")
        shutil.copyfile(FIX_DATA / "img" / "dog.png", folder / "img" / "dog.png")
        (folder / "page.md").write_text(SVG_PAGE, encoding="utf-8")
    monkeypatch.chdir(project)
    return project, outside


def _proposals(entries: list[dict[str, object]]) -> str:
    return json.dumps({"format": proposals.FORMAT, "version": proposals.VERSION, "entries": entries})


def _entry(document: str, raw: bytes, src: str = "img/chart.svg", image_sha256: str | None = None) -> dict[str, object]:
    return {"document": document, "line": 1, "column": 1, "src": src, "image": None, "image_sha256": image_sha256,
            "document_sha256": proposals.sha256(raw), "alt": "A chart", "status": "accepted"}


@pytest.mark.parametrize("spelling", ["relative", "absolute"])
def test_apply_refuses_a_document_outside_the_root(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                                   spelling: str) -> None:
    project, outside = layout
    target = outside / "page.md"
    document = "../outside/page.md" if spelling == "relative" else str(target)
    (project / "alt.json").write_text(_proposals([_entry(document, target.read_bytes())]), encoding="utf-8")
    assert main(["apply", "alt.json"]) == 2
    err = capsys.readouterr().err
    assert "outside the project root" in err and "page.md" in err
    assert target.read_text(encoding="utf-8") == SVG_PAGE


def test_apply_refuses_an_image_outside_the_root_and_says_so(layout: tuple[Path, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    page = project / "page.md"
    page.write_text("![](../outside/img/dog.png)\n", encoding="utf-8")
    image_hash = proposals.sha256((outside / "img" / "dog.png").read_bytes())
    entry = _entry("page.md", page.read_bytes(), "../outside/img/dog.png", image_hash)
    (project / "alt.json").write_text(_proposals([entry]), encoding="utf-8")
    assert main(["apply", "alt.json"]) == 2
    err = capsys.readouterr().err
    assert "page.md:1:1: error: image is outside the project root" in err
    assert "the image changed" not in err
    assert page.read_text(encoding="utf-8") == "![](../outside/img/dog.png)\n"


def test_apply_refuses_an_image_outside_the_root_even_without_its_hash(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    page = project / "page.md"
    page.write_text("![](../outside/img/dog.png)\n", encoding="utf-8")
    (project / "alt.json").write_text(_proposals([_entry("page.md", page.read_bytes(), "../outside/img/dog.png")]),
                                      encoding="utf-8")
    assert main(["apply", "alt.json"]) == 2
    assert page.read_text(encoding="utf-8") == "![](../outside/img/dog.png)\n"


def test_fix_does_not_follow_a_link_to_a_document_outside(layout: tuple[Path, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    (project / "page.md").unlink()
    (project / "linked.md").symlink_to(outside / "page.md")
    assert main(["fix", "."]) == 2
    err = capsys.readouterr().err
    assert "linked.md: error: document is outside the project root" in err and str(outside / "page.md") in err
    assert (outside / "page.md").read_text(encoding="utf-8") == SVG_PAGE


# An image that needs no file: only the document's own place decides.
DATA_PAGE = "![](data:image/svg+xml,%3Csvg%3E%3Ctitle%3EA%20dot%3C/title%3E%3C/svg%3E)\n"


def test_fix_does_not_follow_a_linked_folder_outside(layout: tuple[Path, Path]) -> None:
    project, outside = layout
    (outside / "page.md").write_text(DATA_PAGE, encoding="utf-8")
    (project / "more").symlink_to(outside, target_is_directory=True)
    assert main(["fix", "."]) == 2
    assert (project / "page.md").read_text(encoding="utf-8") == FIXED_PAGE
    assert (outside / "page.md").read_text(encoding="utf-8") == DATA_PAGE


def test_fix_follows_a_link_inside_the_root(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    (project / "alias.md").symlink_to(project / "page.md")
    assert main(["fix", "alias.md"]) == 1
    assert (project / "alias.md").is_symlink()
    assert (project / "page.md").read_text(encoding="utf-8") == FIXED_PAGE


def test_apply_diff_names_no_outside_document(layout: tuple[Path, Path], capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    project, outside = layout
    target = outside / "page.md"
    (project / "alt.json").write_text(_proposals([_entry("../outside/page.md", target.read_bytes())]),
                                      encoding="utf-8")
    assert main(["apply", "--diff", "alt.json"]) == 2
    assert capsysbinary.readouterr().out == b""


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        pytest.param("page.md", True, id="plain"),
        pytest.param("sub/../page.md", True, id="dotdot-back-in"),
        pytest.param("../outside/page.md", False, id="dotdot-out"),
        pytest.param("/etc/passwd", False, id="absolute"),
        pytest.param("../project-evil/page.md", False, id="sibling-with-root-as-prefix"),
    ],
)
def test_real_inside(layout: tuple[Path, Path], path: str, inside: bool) -> None:
    assert real_inside(path, ".") is inside

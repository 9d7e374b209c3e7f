"""Bad input: each problem is reported with its file (and line), the rest is fixed, nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fix_helpers import FIX_DATA, copy_case, fix_tree


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_case(tmp_path, ["guide.in.md", "api.in.rst"])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _errors(log_text: str) -> list[str]:
    return [line for line in log_text.splitlines() if ": error: " in line]


def test_missing_image_is_reported_and_the_rest_is_fixed(tree: Path) -> None:
    (tree / "img" / "cat.png").unlink()
    _, log, _ = fix_tree(tree)
    errors = _errors(log.stream.getvalue())  # type: ignore[attr-defined]
    assert "guide.md:16:3: error: image file not found: img/cat.png (img/cat.png)" in errors
    assert "api.rst:19:1: error: image file not found: img/cat.png (img/cat.png)" in errors
    assert log.errors == 3  # guide.md: the reference image and the list item; api.rst: one image
    text = (tree / "guide.md").read_text(encoding="utf-8")
    assert "An inline ![A brown dog lying on a rug](img/dog.png)" in text
    assert "- A list item ![](img/cat.png)" in text  # no image, no alt text invented


def test_unreadable_document_is_reported_and_untouched(tree: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    (tree / "guide.md").chmod(0)
    _, log, _ = fix_tree(tree)
    assert any("guide.md: error: cannot read" in line for line in _errors(log.stream.getvalue()))  # type: ignore[attr-defined]
    (tree / "guide.md").chmod(0o644)
    assert (tree / "guide.md").read_bytes() == (FIX_DATA / "guide.in.md").read_bytes()
    assert (tree / "api.rst").read_bytes() == (FIX_DATA / "api.out.rst").read_bytes()


def test_dangling_symlink_document_is_reported(tree: Path) -> None:
    broken = tree / "broken.md"
    broken.symlink_to(tree / "nowhere.md")
    _, log, _ = fix_tree(tree, paths=["broken.md", "api.rst"])
    assert any(line.startswith("broken.md") and "cannot read" in line for line in _errors(log.stream.getvalue()))  # type: ignore[attr-defined]
    assert (tree / "api.rst").read_bytes() == (FIX_DATA / "api.out.rst").read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"# Caf\xe9\n\n![](img/dog.png)\n", "guide.md:1: error: not valid utf-8 (byte 0xe9)", id="latin-1-markdown"),
        pytest.param(b"![](img/dog.png)\n\0\0binary", "guide.md: error: binary file", id="binary"),
    ],
)
def test_undecodable_document_is_left_as_it_is(tree: Path, content: bytes, message: str) -> None:
    (tree / "guide.md").write_bytes(content)
    _, log, _ = fix_tree(tree)
    assert any(line.startswith(message) for line in _errors(log.stream.getvalue())), log.stream.getvalue()  # type: ignore[attr-defined]
    assert (tree / "guide.md").read_bytes() == content
    assert (tree / "api.rst").read_bytes() == (FIX_DATA / "api.out.rst").read_bytes()


def test_declared_latin_1_html_keeps_its_encoding(tree: Path) -> None:
    page = tree / "old.html"
    page.write_bytes(b'<meta charset="iso-8859-1"><p>Caf\xe9</p>\r\n<img src="img/dog.png">\r\n')
    fix_tree(tree, paths=["old.html"])
    assert page.read_bytes() == b'<meta charset="iso-8859-1"><p>Caf\xe9</p>\r\n<img alt="A brown dog lying on a rug" src="img/dog.png">\r\n'


def test_caption_that_the_encoding_cannot_hold_becomes_character_references(tree: Path) -> None:
    from alttext.scan import find_images
    from tests.fix_helpers import CAPTIONS, FixedCaptions

    page = tree / "old.html"
    page.write_bytes(b'<meta charset="iso-8859-1"><p>Caf\xe9</p>\n<img src="img/dog.png">\n')
    fix_tree(tree, FixedCaptions({**CAPTIONS, "dog.png": "A dog \u2192 a caf\xe9"}), paths=["old.html"])
    fixed = page.read_bytes()
    assert fixed == b'<meta charset="iso-8859-1"><p>Caf\xe9</p>\n<img alt="A dog &#8594; a caf\xe9" src="img/dog.png">\n'
    assert [image.alt for image in find_images(fixed.decode("latin-1"), "html")] == ["A dog \u2192 a caf\xe9"]


def test_image_outside_the_project_root_is_not_read(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "secret.png").write_bytes((tree / "img" / "dog.png").read_bytes())
    page = tree / "page.md"
    page.write_text(f"![]({os.path.relpath(outside / 'secret.png', tree)})\n", encoding="utf-8")
    _, log, _ = fix_tree(tree, paths=["page.md"])
    assert "outside the project root" in log.stream.getvalue()  # type: ignore[attr-defined]
    assert page.read_text(encoding="utf-8").startswith("![](")

"""suggest -> review by hand -> apply: exactly the reviewed entries, refused when anything changed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from alttext.cli import main
from alttext.fix import proposals
from tests.fix_helpers import CAPTIONS, FIX_DATA, copy_case, fix_tree

DOCUMENTS = ["guide.md", "page.html", "api.rst"]


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_case(tmp_path, [name.replace(".", ".in.") for name in DOCUMENTS])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _suggest(tree: Path, output: str = "alt.json") -> dict[str, Any]:
    _, _, collected = fix_tree(tree, write=False)
    documents = {plan.path: plan.document.raw for plan in collected.plans}
    data = proposals.build(collected.targets, documents, str((tree / output).parent))
    (tree / output).write_text(proposals.dumps(data), encoding="utf-8")
    return data


def _save(tree: Path, data: dict[str, Any], output: str = "alt.json") -> None:
    (tree / output).write_text(json.dumps(data), encoding="utf-8")


def _entry(data: dict[str, Any], document: str, line: int) -> dict[str, Any]:
    return next(e for e in data["entries"] if e["document"] == document and e["line"] == line)


def test_entries_carry_what_a_reviewer_needs(tree: Path) -> None:
    data = _suggest(tree)
    entry = _entry(data, "guide.md", 8)
    assert entry["src"] == "img/dog.png" and entry["image"] == "img/dog.png"
    assert entry["column"] == 11 and entry["alt"] == CAPTIONS["dog.png"] and entry["status"] == "proposed"
    assert entry["image_sha256"] == proposals.sha256((tree / "img" / "dog.png").read_bytes())
    assert entry["document_sha256"] == proposals.sha256((tree / "guide.md").read_bytes())
    skipped = _entry(data, "page.html", 28)
    assert skipped["status"] == "skip" and "SVG image has no <title>" in skipped["problem"]
    assert len(data["entries"]) == 24


def test_apply_unedited_proposals_writes_what_fix_writes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _suggest(tree)
    assert main(["apply", "alt.json"]) == 1
    for name in DOCUMENTS:
        assert (tree / name).read_bytes() == (FIX_DATA / name.replace(".", ".out.")).read_bytes(), name
    assert "Wrote alt text for 23 images in 3 files." in capsys.readouterr().err


def test_apply_writes_exactly_the_reviewed_entries(tree: Path) -> None:
    data = _suggest(tree)
    for entry in data["entries"]:
        entry["status"] = "skip"
    edited = _entry(data, "guide.md", 8)
    edited.update(status="accepted", alt="A sleepy dog on a *red* rug [photo]\nsecond line")
    decorative_html = _entry(data, "page.html", 11)
    decorative_html["status"] = "decorative"
    decorative_rst = _entry(data, "api.rst", 19)
    decorative_rst["status"] = "decorative"
    _save(tree, data)
    before = {name: (tree / name).read_text(encoding="utf-8") for name in DOCUMENTS}
    assert main(["apply", "alt.json"]) == 1
    assert (tree / "guide.md").read_text(encoding="utf-8") == before["guide.md"].replace(
        "An inline ![](img/dog.png)", r"An inline ![A sleepy dog on a \*red\* rug \[photo\] second line](img/dog.png)")
    assert (tree / "page.html").read_text(encoding="utf-8") == before["page.html"].replace(
        '<img src="img/dog.png">', '<img alt="" src="img/dog.png">', 1)
    assert (tree / "api.rst").read_text(encoding="utf-8") == before["api.rst"].replace(
        ".. image:: img/cat.png\n", ".. image:: img/cat.png\n   :alt:\n")


@pytest.mark.parametrize(
    ("document", "line", "message", "code"),
    [
        pytest.param("guide.md", 8, "Markdown has no decorative form", 0, id="markdown-kept"),
        pytest.param("page.html", 20, "an <input> element cannot be decorative", 2, id="input-refused"),
    ],
)
def test_decorative_where_alt_cannot_say_so(tree: Path, capsys: pytest.CaptureFixture[str],
                                            document: str, line: int, message: str, code: int) -> None:
    data = _suggest(tree)
    for entry in data["entries"]:
        entry["status"] = "skip"
    _entry(data, document, line)["status"] = "decorative"
    _save(tree, data)
    before = (tree / document).read_bytes()
    assert main(["apply", "alt.json"]) == code
    assert message in capsys.readouterr().err
    assert (tree / document).read_bytes() == before


def test_changed_document_is_refused_and_others_applied(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _suggest(tree)
    edited = (tree / "guide.md").read_text(encoding="utf-8") + "\nA line added after suggest.\n"
    (tree / "guide.md").write_text(edited, encoding="utf-8")
    assert main(["apply", "alt.json"]) == 2
    assert "guide.md: error: changed since the proposals were made" in capsys.readouterr().err
    assert (tree / "guide.md").read_text(encoding="utf-8") == edited
    assert (tree / "api.rst").read_bytes() == (FIX_DATA / "api.out.rst").read_bytes()


def test_changed_image_refuses_its_entries_only(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _suggest(tree)
    (tree / "img" / "divider.png").write_bytes((tree / "img" / "cat.png").read_bytes())
    assert main(["apply", "alt.json"]) == 2
    err = capsys.readouterr().err
    assert "guide.md:19:13: error: the image changed since the proposals were made (./img/divider.png)" in err
    text = (tree / "guide.md").read_text(encoding="utf-8")
    assert "nested ![](./img/divider.png)" in text
    assert "An inline ![A brown dog lying on a rug](img/dog.png)" in text


def test_empty_alt_for_a_proposed_entry_is_refused(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _suggest(tree)
    _entry(data, "api.rst", 19)["alt"] = "   "
    _save(tree, data)
    assert main(["apply", "alt.json"]) == 2
    assert 'has empty alt text; set status "decorative" or "skip"' in capsys.readouterr().err
    assert ".. image:: img/cat.png\n\n" in (tree / "api.rst").read_text(encoding="utf-8")


def test_apply_diff_matches_apply(tree: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    _suggest(tree)
    subprocess.run(["git", "init", "-q", "."], check=True)
    assert main(["apply", "--diff", "alt.json"]) == 1
    patch = capfdbinary.readouterr().out
    (tree / "alt.patch").write_bytes(patch)
    subprocess.run(["git", "apply", "--check", "alt.patch"], check=True)
    subprocess.run(["git", "apply", "alt.patch"], check=True)
    for name in DOCUMENTS:
        assert (tree / name).read_bytes() == (FIX_DATA / name.replace(".", ".out.")).read_bytes(), name


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "not a JSON file", id="not-json"),
        pytest.param('{"entries": []}', "not an alttext proposals file", id="no-format"),
        pytest.param('{"format": "alttext-proposals", "version": 9, "entries": []}', "proposals version 9", id="version"),
        pytest.param('{"format": "alttext-proposals", "version": 1, "entries": [{"document": "x.md"}]}',
                     "entry 1: field 'line' is missing", id="missing-field"),
    ],
)
def test_bad_proposals_file(tree: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    (tree / "alt.json").write_text(content, encoding="utf-8")
    assert main(["apply", "alt.json"]) == 2
    err = capsys.readouterr().err
    assert "alt.json" in err and message in err


def test_bad_status_is_named(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _suggest(tree)
    data["entries"][3]["status"] = "maybe"
    _save(tree, data)
    assert main(["apply", "alt.json"]) == 2
    assert "entry 4: status 'maybe' is not one of proposed, accepted, decorative, skip" in capsys.readouterr().err
    assert (tree / "guide.md").read_bytes() == (FIX_DATA / "guide.in.md").read_bytes()


def test_proposals_in_another_folder_resolve_documents_from_there(tree: Path) -> None:
    (tree / "review").mkdir()
    _suggest(tree, "review/alt.json")
    data = json.loads((tree / "review" / "alt.json").read_text(encoding="utf-8"))
    assert _entry(data, "../guide.md", 8)["image"] == "../img/dog.png"
    assert main(["apply", "review/alt.json"]) == 1
    assert (tree / "api.rst").read_bytes() == (FIX_DATA / "api.out.rst").read_bytes()


TABLE = """\
+-------------------------+------+
| .. image:: img/dog.png  | Dog  |
+-------------------------+------+
"""


def test_an_image_in_a_table_cell_is_reported_not_written(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """fix and suggest name it; apply refuses alt text a person typed in for it."""
    (tree / "table.rst").write_text(TABLE, encoding="utf-8")
    _, log, _ = fix_tree(tree, paths=["table.rst"])
    assert (tree / "table.rst").read_text(encoding="utf-8") == TABLE
    assert "table.rst:2:3: skipped: alt text cannot be written here" in log.stream.getvalue()
    data = _suggest(tree)
    entry = _entry(data, "table.rst", 2)
    assert entry["status"] == "skip" and "add it by hand" in entry["problem"]
    entry.update(status="accepted", alt="A brown dog")
    _save(tree, data)
    main(["apply", "alt.json"])
    assert "table.rst:2:3: error: alt text cannot be written here" in capsys.readouterr().err
    assert (tree / "table.rst").read_text(encoding="utf-8") == TABLE

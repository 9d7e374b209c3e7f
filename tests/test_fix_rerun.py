"""Runs that have nothing to do say so: no captioner installed, proposals already applied."""

# ruff: noqa: F401, F811 - `tree` is a fixture imported from another test module

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alttext.cli import main
from tests.test_caption_cli import subprocess_env
from tests.test_fix_suggest_apply import _entry, _save, _suggest, tree

# A light install (`pip install alttext`): torch and transformers cannot be imported.
WITHOUT_CAPTION_EXTRA = ("import sys\nsys.modules['torch'] = sys.modules['transformers'] = None\n"
                         "from alttext.cli import main\nsys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize("command", [["fix"], ["fix", "--diff"], ["suggest", "-o", "alt.json"]])
def test_without_the_caption_extra_fix_and_suggest_stop_after_one_line(
    tmp_path: Path, tiny_model_dir: Path, command: list[str]
) -> None:
    from PIL import Image

    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (8, 8), (10, 200, 30)).save(tmp_path / name)
    page = "![](a.png)\n\n<img src=\"b.png\">\n\n![](c.png)\n"
    (tmp_path / "page.md").write_text(page, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", WITHOUT_CAPTION_EXTRA, *command, "--no-cache",
                           "--model", str(tiny_model_dir), "page.md"],
                          cwd=tmp_path, env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "alttext: error: captioning needs the caption extra (missing: torch, transformers): pip install 'alttext[caption]'"
    ]
    assert done.stdout == ""
    assert not (tmp_path / "alt.json").exists()
    assert (tmp_path / "page.md").read_text(encoding="utf-8") == page


def test_applying_applied_proposals_again_is_a_success_with_a_note(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _suggest(tree)
    _entry(data, "page.html", 20)["status"] = "skip"  # an <input>: cannot be decorative, keep it out
    _save(tree, data)
    assert main(["apply", "alt.json"]) == 1
    written = {name: (tree / name).read_bytes() for name in ("guide.md", "page.html", "api.rst")}
    capsys.readouterr()
    assert main(["apply", "alt.json"]) == 0
    err = capsys.readouterr().err
    assert "guide.md: already has the alt text of its" in err and "error" not in err
    assert {name: (tree / name).read_bytes() for name in written} == written


def test_a_document_changed_otherwise_is_still_refused(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _suggest(tree)
    assert main(["apply", "alt.json"]) == 1
    with (tree / "guide.md").open("a", encoding="utf-8") as guide:
        guide.write("\n![](new.png)\n")
    with (tree / "guide.md").open("rb") as guide:
        text = guide.read().decode()
    (tree / "guide.md").write_text(text.replace("](", "](x", 1), encoding="utf-8")
    capsys.readouterr()
    assert main(["apply", "alt.json"]) == 2
    assert "guide.md: error: changed since the proposals were made" in capsys.readouterr().err

"""`alttext fix` as a user runs it: exit codes, --diff with real git apply and patch -p1, --dry-run,
--review, idempotence and `check` afterwards, with the tiny captioning model loaded from disk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alttext.cli import main
from tests.conftest import FIXTURES
from tests.fix_helpers import FIX_DATA

SVG_ONLY = {
    "page.md": "# Charts\n\n![](img/chart.svg)\n\n![Kept](img/chart.svg)\n",
    "page.html": "<p>\r\n<img src=\"img/chart.svg\" width=40>\r\n</p>",  # CRLF, no final newline
    "page.rst": ".. image:: img/chart.svg\n   :width: 40px\n",
}


@pytest.fixture()
def svg_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Documents whose images all name themselves (SVG <title>): no model needed."""
    (tmp_path / "img").mkdir()
    shutil.copyfile(FIX_DATA / "img" / "chart.svg", tmp_path / "img" / "chart.svg")
    for name, text in SVG_ONLY.items():
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and ".git" not in p.parts}


def test_fix_writes_and_exits_1_then_0(svg_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fix", "."]) == 1
    err = capsys.readouterr().err
    assert "page.md:3:1: alt text: 'Bar chart: sales doubled from 2022 to 2024'" in err
    assert "Wrote alt text for 3 images in 3 files." in err
    assert (svg_tree / "page.html").read_bytes() == (
        b'<p>\r\n<img alt="Bar chart: sales doubled from 2022 to 2024" src="img/chart.svg" width=40>\r\n</p>')
    assert (svg_tree / "page.rst").read_text() == SVG_ONLY["page.rst"] + "   :alt: Bar chart: sales doubled from 2022 to 2024\n"
    before = _snapshot(svg_tree)
    assert main(["fix", "."]) == 0
    assert "No alt text to write." in capsys.readouterr().err
    assert _snapshot(svg_tree) == before


def test_dry_run_writes_nothing(svg_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(svg_tree)
    assert main(["fix", "--dry-run", "."]) == 1
    assert "Would write alt text for 3 images in 3 files." in capsys.readouterr().err
    assert _snapshot(svg_tree) == before


def _fix_diff(root: Path, *paths: str) -> bytes:
    result = subprocess.run([sys.executable, "-m", "alttext", "fix", "--diff", *paths], cwd=root,
                            capture_output=True, check=False)
    assert result.returncode == 1, result.stderr
    return result.stdout


def _diff_matches_fix(root: Path, *paths: str) -> None:
    """The diff, applied by git and by patch to copies, gives exactly what `fix` writes."""
    patch = _fix_diff(root, *paths)
    assert patch.startswith(b"--- a/")
    by_git, by_patch = root.parent / "by-git", root.parent / "by-patch"
    shutil.copytree(root, by_git)
    shutil.copytree(root, by_patch)
    subprocess.run(["git", "init", "-q", "."], cwd=by_git, check=True)
    subprocess.run(["git", "apply", "--check", "-"], cwd=by_git, input=patch, check=True)
    subprocess.run(["git", "apply", "-"], cwd=by_git, input=patch, check=True)
    if shutil.which("patch"):
        subprocess.run(["patch", "-p1", "--binary", "--quiet"], cwd=by_patch, input=patch, check=True)
    else:  # pragma: no cover - CI installs patch
        shutil.rmtree(by_patch)
        shutil.copytree(by_git, by_patch, ignore=shutil.ignore_patterns(".git"))
    assert main(["fix", *paths]) == 1
    written = _snapshot(root)
    assert _snapshot(by_git) == written
    assert _snapshot(by_patch) == written


def test_diff_applies_to_exactly_what_fix_writes(svg_tree: Path) -> None:
    before = _snapshot(svg_tree)
    _fix_diff(svg_tree, ".")
    assert _snapshot(svg_tree) == before  # --diff writes nothing
    _diff_matches_fix(svg_tree, ".")


def test_diff_needs_no_write_access(svg_tree: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    svg_tree.chmod(0o555)
    try:
        assert _fix_diff(svg_tree, ".")
    finally:
        svg_tree.chmod(0o755)


def test_missing_image_exits_2_and_the_rest_is_written(svg_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (svg_tree / "broken.md").write_text("Text\n\n![](img/gone.png)\n", encoding="utf-8")
    assert main(["fix", "."]) == 2
    err = capsys.readouterr().err
    assert "broken.md:3:1: error: image file not found: img/gone.png (img/gone.png)" in err
    assert "Bar chart" in (svg_tree / "page.md").read_text(encoding="utf-8")


def test_remote_images_are_skipped_not_errors(svg_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (svg_tree / "remote.md").write_text("![](https://example.com/a.png)\n", encoding="utf-8")
    assert main(["fix", "remote.md"]) == 0
    err = capsys.readouterr().err
    assert "remote.md:1:1: skipped: remote image not fetched (pass --fetch-remote to caption it)" in err


def test_changed_on_disk_between_read_and_write_is_skipped(svg_tree: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from alttext.fix import run as pipeline

    real = pipeline.rewrites

    def edit_meanwhile(collected: pipeline.Collected, log: pipeline.Log) -> list[pipeline.Rewrite]:
        result = real(collected, log)
        (svg_tree / "page.md").write_text("# Someone else's edit\n", encoding="utf-8")
        return result

    monkeypatch.setattr(pipeline, "rewrites", edit_meanwhile)
    assert main(["fix", "."]) == 2
    assert "page.md: changed on disk since it was read; skipped" in capsys.readouterr().err
    assert (svg_tree / "page.md").read_text(encoding="utf-8") == "# Someone else's edit\n"
    assert "Bar chart" in (svg_tree / "page.rst").read_text(encoding="utf-8")


def test_nothing_to_caption_never_imports_torch(svg_tree: Path) -> None:
    code = ("import sys; from alttext.cli import main; code = main(['fix', '.']); "
            "print(code, 'torch' in sys.modules, 'transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=svg_tree, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["1", "False", "False"]


# With the tiny model: the whole fixtures/ tree.

@pytest.fixture()
def fixtures_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("alttext.caption.captioner")
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(root)
    return root


def _model_args(tiny_model_dir: Path, tmp_path: Path) -> list[str]:
    return ["--model", str(tiny_model_dir), "--device", "cpu", "--cache", str(tmp_path / "cache.sqlite")]


def test_fixtures_fix_then_check_is_clean_and_fix_is_idempotent(
        fixtures_tree: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _model_args(tiny_model_dir, tmp_path)
    assert main(["check", "--select", "ALT0,ALT1,ALT2", "--format", "json", "."]) == 1
    capsys.readouterr()
    assert main(["fix", *args, "."]) == 1
    first = _snapshot(fixtures_tree)
    capsys.readouterr()
    assert main(["fix", *args, "."]) == 0
    assert _snapshot(fixtures_tree) == first
    capsys.readouterr()
    main(["check", "--select", "ALT0,ALT1,ALT2", "--format", "json", "."])
    import json

    remaining = {(f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)}
    # Only what fix reports as skipped remains: an SVG without a title, elements without an image,
    # and a photo on a French page (the model writes English; the photo holds no text to keep).
    assert remaining == {("docs/api.rst", 4), ("web/blog/2024-launch.html", 21), ("web/index.html", 29),
                         ("web/index.html", 38), ("web/archive/2009-news.html", 11)}


def test_fixtures_diff_matches_fix(fixtures_tree: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    _diff_matches_fix(fixtures_tree, *_model_args(tiny_model_dir, tmp_path), ".")


def test_fixtures_review_page(fixtures_tree: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    review = tmp_path / "review.html"
    assert main(["fix", "--dry-run", "--review", str(review), *_model_args(tiny_model_dir, tmp_path), "."]) == 1
    page = review.read_text(encoding="utf-8")
    assert page.count('<section class="card"') == 16
    assert "web/index.html:22:5" in page.replace("fixtures/", "")


def test_suggest_then_apply_with_the_model(fixtures_tree: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    import json

    args = _model_args(tiny_model_dir, tmp_path)
    assert main(["suggest", *args, "-o", "alt.json", "."]) == 1
    data = json.loads((fixtures_tree / "alt.json").read_text(encoding="utf-8"))
    assert len(data["entries"]) == 16
    assert main(["apply", "alt.json"]) == 1
    written = _snapshot(fixtures_tree)
    assert main(["fix", *args, "."]) == 0  # apply wrote what fix would have
    assert _snapshot(fixtures_tree) == written


# Which image: remote images from a localhost server, /absolute paths from the site root.

@pytest.fixture()
def local_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import functools
    import http.server
    import threading

    www = tmp_path_factory.mktemp("www")
    shutil.copyfile(FIX_DATA / "img" / "chart.svg", www / "chart.svg")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_remote_from_a_local_server(svg_tree: Path, local_server: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    page = svg_tree / "remote.md"
    page.write_text(f"![]({local_server}/chart.svg)\n", encoding="utf-8")
    assert main(["fix", "remote.md"]) == 0  # not fetched without the flag
    assert "skipped: remote image not fetched" in capsys.readouterr().err
    assert main(["fix", "--fetch-remote", "remote.md"]) == 1
    assert page.read_text(encoding="utf-8") == f"![Bar chart: sales doubled from 2022 to 2024]({local_server}/chart.svg)\n"


@pytest.mark.parametrize(
    ("config_files", "extra_args"),
    [
        pytest.param({"pyproject.toml": '[tool.alttext]\nsite-root = "docs"\n'}, [], id="config-site-root"),
        pytest.param({"mkdocs.yml": "site_name: x\ndocs_dir: docs  # the sources\n"}, [], id="mkdocs-docs-dir"),
        pytest.param({}, ["--site-root", "docs"], id="flag"),
    ],
)
def test_absolute_paths_start_at_the_site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               config_files: dict[str, str], extra_args: list[str]) -> None:
    (tmp_path / "docs" / "img").mkdir(parents=True)
    (tmp_path / "docs" / "guide").mkdir()
    shutil.copyfile(FIX_DATA / "img" / "chart.svg", tmp_path / "docs" / "img" / "chart.svg")
    page = tmp_path / "docs" / "guide" / "page.md"
    page.write_text("![](/img/chart.svg)\n", encoding="utf-8")
    for name, text in config_files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["fix", *extra_args, "docs"]) == 1
    assert page.read_text(encoding="utf-8") == "![Bar chart: sales doubled from 2022 to 2024](/img/chart.svg)\n"


def test_root_limits_what_is_read(svg_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (svg_tree / "sub").mkdir()
    (svg_tree / "sub" / "page.md").write_text("![](../img/chart.svg)\n", encoding="utf-8")
    assert main(["fix", "--root", "sub", "sub"]) == 2
    assert "sub/page.md:1:1: error: image is outside the project root sub; not read" in capsys.readouterr().err
    assert (svg_tree / "sub" / "page.md").read_text(encoding="utf-8") == "![](../img/chart.svg)\n"

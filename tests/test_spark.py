"""alttext.spark on a real local[2] Spark: the same results as the single-process Captioner for
binaryFile, image and path DataFrames, one caption per distinct image, errors as rows, and the
round trip through Parquet and `alttext cache import` to an `alttext fix` that loads no model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from alttext.cli import main

pytest.importorskip("pyspark")
pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")

pytestmark = pytest.mark.slow
COLOURS = ["red", "navy", "olive"]
PAGE = "# Page\n\n![](img/image0.png)\n\n![](img/image1.png)\n"


@pytest.fixture(scope="module")
def spark() -> Any:
    from pyspark.sql import SparkSession

    if shutil.which("java") is None:
        pytest.fail("PySpark needs a Java runtime: apt-get install default-jre-headless (.ci/run does)")
    session = (SparkSession.builder.master("local[2]").appName("alttext tests")
               .config("spark.pyspark.python", sys.executable).config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three distinct PNGs, a copy of the first, a broken PNG and an SVG."""
    root = tmp_path_factory.mktemp("spark-images")
    for index, colour in enumerate(COLOURS):
        noise = Image.effect_noise((40, 32), 30 + 20 * index).convert("RGB")
        Image.blend(noise, Image.new("RGB", noise.size, colour), 0.5).save(root / f"image{index}.png")
    (root / "copy.png").write_bytes((root / "image0.png").read_bytes())
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (root / "chart.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><title>x</title></svg>')
    return root


@pytest.fixture(scope="module")
def expected(folder: Path, tiny_model_dir: Path) -> dict[str, Any]:
    """The single-process Captioner's result for each file."""
    from alttext.caption.captioner import Captioner

    paths = sorted(folder.iterdir())
    captioner = Captioner(tiny_model_dir, cache=None, progress=False)
    return {path.name: result for path, result in zip(paths, captioner.caption_results([str(p) for p in paths]))}


def _by_name(rows: list[Any]) -> dict[str, Any]:
    return {os.path.basename(row.path): row for row in rows}


def test_binary_files_caption_as_the_captioner_does(spark: Any, folder: Path, tiny_model_dir: Path,
                                                    expected: dict[str, Any]) -> None:
    from alttext.spark import caption_images

    frame = spark.read.format("binaryFile").load(str(folder))
    rows = _by_name(caption_images(frame, model=tiny_model_dir).collect())
    assert set(rows) == set(expected)
    for name, result in expected.items():
        row = rows[name]
        assert (row.caption, row.raw, row.hit_limit) == (result.caption, result.raw, result.hit_limit), name
        assert row.sha256 == result.content_hash and row.text == ""
        assert (row.error is None) == (result.error is None), name
    assert rows["copy.png"].caption == rows["image0.png"].caption and rows["image0.png"].caption
    assert "corrupt or truncated image" in rows["broken.png"].error and rows["broken.png"].caption is None
    assert rows["chart.svg"].error.endswith("chart.svg is an SVG; the captioning model needs a raster image")
    models = {(row.model, row.settings) for row in rows.values() if row.error is None}
    assert len(models) == 1
    model, settings = models.pop()
    assert model.startswith("folder@local-") and json.loads(settings)["settings"].startswith("max_length=16;")


def test_identical_images_reach_the_captioner_once(spark: Any, folder: Path) -> None:
    from alttext.spark import distinct_images

    frame = spark.read.format("binaryFile").load(str(folder))
    groups = distinct_images(frame, partitions=3).collect()
    assert len(groups) == 5  # 6 files, two of them identical
    assert sorted(sorted(map(os.path.basename, group.paths)) for group in groups if len(group.paths) > 1) == [
        ["copy.png", "image0.png"]]


def test_path_column_with_missing_and_remote_paths(spark: Any, folder: Path, tiny_model_dir: Path,
                                                   expected: dict[str, Any]) -> None:
    from alttext.spark import caption_images

    paths = [str(folder / "image1.png"), (folder / "image2.png").as_uri(), str(folder / "gone.png"),
             "s3a://bucket/image.png", str(folder / "copy.png")]
    frame = spark.createDataFrame([(path,) for path in paths], "path string")
    rows = {row.path: row for row in caption_images(frame, model=tiny_model_dir, partitions=2).collect()}
    assert [rows[path].caption for path in paths] == [
        expected["image1.png"].caption, expected["image2.png"].caption, None, None, expected["copy.png"].caption]
    assert rows[paths[2]].error == f"{paths[2]}: no such file"
    assert rows[paths[3]].error.startswith("s3a://bucket/image.png: s3a: URIs are read with spark.read.format")


def test_image_source_struct_captions_its_pixels(spark: Any, folder: Path, tiny_model_dir: Path) -> None:
    from alttext.caption.captioner import Captioner
    from alttext.spark import caption_images

    frame = spark.read.format("image").load(str(folder / "image*.png"))
    rows = _by_name(caption_images(frame, model=tiny_model_dir, partitions=2).collect())
    pixels = [Image.open(folder / f"image{index}.png").convert("RGB") for index in range(len(COLOURS))]
    results = Captioner(tiny_model_dir, cache=None, progress=False).caption_results(pixels)
    assert [(rows[f"image{i}.png"].caption, rows[f"image{i}.png"].sha256) for i in range(len(COLOURS))] == [
        (result.caption, result.content_hash) for result in results]


def test_cli_round_trip_then_fix_loads_no_model(spark: Any, folder: Path, tiny_model_dir: Path,
                                                expected: dict[str, Any], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """caption --engine spark writes Parquet and fills the cache (a second run starts no job); a second
    project imports the Parquet results and its fix runs from the cache, with no model."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALTTEXT_CACHE", raising=False)
    images = [str(folder / name) for name in ("image0.png", "broken.png", "image1.png", "copy.png")]
    cli = ["caption", "--engine", "spark", "--master", "local[2]", "--model", str(tiny_model_dir), "--json",
           "--cache", str(tmp_path / "cli-cache.sqlite3")]
    code = main([*cli, "--results", str(tmp_path / "results.parquet"), *images])
    out, err = capsys.readouterr()
    assert code == 2 and "broken.png: corrupt or truncated image" in err
    printed = [row["caption"] for row in json.loads(out)]
    assert printed == [expected[os.path.basename(image)].caption for image in images]

    def no_spark(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached run started a Spark job")

    monkeypatch.setattr("alttext.spark.command._caption_on_spark", no_spark)
    cached = [images[0], images[2], images[3], str(folder / "gone.png")]
    assert main([*cli, *cached]) == 2
    out, err = capsys.readouterr()
    assert [row["caption"] for row in json.loads(out)] == [printed[0], printed[2], printed[3], None]
    assert all(row["cached"] for row in json.loads(out)[:3]) and err.endswith("gone.png: no such file\n")

    project, by_captioner = tmp_path / "site", tmp_path / "site-captioned-here"
    for where in (project, by_captioner):
        (where / "img").mkdir(parents=True)
        for name in ("image0.png", "image1.png"):
            (where / "img" / name).write_bytes((folder / name).read_bytes())
        (where / "page.md").write_text(PAGE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("ALTTEXT_CACHE", None)
    cache = project / ".alttext-cache" / "captions.sqlite3"
    imported = subprocess.run([sys.executable, "-m", "alttext", "cache", "import", str(tmp_path / "results.parquet"),
                               "--cache", str(cache)], cwd=project, env=env, capture_output=True, text=True, check=False)
    assert imported.returncode == 0 and "Imported 2 captions" in imported.stderr, imported.stderr
    probe = ("import json, sys\nfrom alttext.cli import main\ncode = main(sys.argv[1:])\n"
             "print(json.dumps({'code': code, 'torch': 'torch' in sys.modules, "
             "'transformers': 'transformers' in sys.modules}), file=sys.stderr)")
    fixed = subprocess.run([sys.executable, "-c", probe, "fix", "--model", str(tiny_model_dir), "--cache", str(cache),
                            "page.md"], cwd=project, env=env, capture_output=True, text=True, check=False)
    assert json.loads(fixed.stderr.splitlines()[-1]) == {"code": 1, "torch": False, "transformers": False}, fixed.stderr
    monkeypatch.chdir(by_captioner)
    assert main(["fix", "--model", str(tiny_model_dir), "--cache", str(tmp_path / "other.sqlite3"), "page.md"]) == 1
    assert (project / "page.md").read_text() == (by_captioner / "page.md").read_text() != PAGE

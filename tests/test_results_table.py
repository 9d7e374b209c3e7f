"""Caption results as Parquet rows and `alttext cache import`: keys survive the round trip,
errors are skipped, bad files are refused with their name."""

from __future__ import annotations

from pathlib import Path

import pytest

from alttext.caption.cache import CacheKey, CaptionCache
from alttext.caption.results_table import cache_key, import_results, model_and_settings
from alttext.cli import main

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SCHEMA = pa.schema([(name, pa.bool_() if name == "hit_limit" else pa.string())
                    for name in ("path", "sha256", "caption", "raw", "text", "error", "model", "settings", "hit_limit")])
KEYS = [
    pytest.param(CacheKey("ab" * 32, "folder", "local-0123456789abcdef", "max_length=16;num_beams=4", "1;final_period=0"),
                 id="model-folder"),
    pytest.param(CacheKey("cd" * 32, "nlpconnect/vit-gpt2-image-captioning", "dc1d3c2f", "num_beams=1", "1;x=@"),
                 id="hub-model"),
]


@pytest.mark.parametrize("key", KEYS)
def test_model_and_settings_name_the_cache_key(key: CacheKey) -> None:
    model, settings = model_and_settings(key)
    assert model == f"{key.model_id}@{key.model_revision}"
    assert cache_key(key.content_hash, model, settings) == key


@pytest.mark.parametrize(("model", "settings"), [
    pytest.param("no-revision", '{"settings": "", "cleaning": ""}', id="model-without-at"),
    pytest.param("folder@x", "not json", id="settings-not-json"),
    pytest.param("folder@x", '{"settings": "", "cleaning": "", "colour": "red"}', id="unknown-field"),
    pytest.param("folder@x", '{"settings": ""}', id="missing-field"),
])
def test_cells_that_make_no_cache_key(model: str, settings: str) -> None:
    with pytest.raises(ValueError):
        cache_key("ab" * 32, model, settings)


def _write_results(path: Path, keys: list[CacheKey], *, failed: int = 0) -> None:
    rows = [{"path": f"img{i}.png", "sha256": key.content_hash, "caption": f"Caption {i}", "raw": f"caption {i}",
             "text": "", "error": None, "model": model_and_settings(key)[0], "settings": model_and_settings(key)[1],
             "hit_limit": i % 2 == 0} for i, key in enumerate(keys)]
    rows += [{"path": f"bad{i}.png", "sha256": None, "caption": None, "raw": None, "text": "",
              "error": f"bad{i}.png: no such file", "model": None, "settings": None, "hit_limit": None}
             for i in range(failed)]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)


def test_import_stores_captions_and_skips_errors(tmp_path: Path) -> None:
    keys = [param.values[0] for param in KEYS]
    _write_results(tmp_path / "results.parquet", keys, failed=2)
    with CaptionCache(tmp_path / "cache.sqlite3") as cache:
        report = import_results([tmp_path / "results.parquet"], cache)
        assert (report.stored, report.failed) == (2, 2)
        found = cache.get_many(keys)
    assert [(found[key].caption, found[key].raw, found[key].hit_limit) for key in keys] == [
        ("Caption 0", "caption 0", True), ("Caption 1", "caption 1", False)]


def test_import_reads_a_folder_of_part_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "results.parquet"
    folder.mkdir()
    keys = [param.values[0] for param in KEYS]
    _write_results(folder / "part-00000.parquet", keys[:1])
    _write_results(folder / "part-00001.parquet", keys[1:], failed=1)
    cache = tmp_path / "cache.sqlite3"
    assert main(["cache", "import", "--cache", str(cache), str(folder)]) == 0
    assert capsys.readouterr().err == f"Imported 2 captions into {cache}; skipped 1 row with an error.\n"
    with CaptionCache(cache) as opened:
        assert len(opened.get_many(keys)) == 2


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(None, "no such file or folder", id="missing"),
    pytest.param(b"PAR1 but not really", "cannot be read as Parquet", id="not-parquet"),
    pytest.param("table", "not a caption results table (no column caption, raw, error, model, settings)",
                 id="other-table"),
])
def test_import_refuses_what_is_not_a_results_table(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    content: bytes | str | None, message: str) -> None:
    path = tmp_path / "results.parquet"
    if content == "table":
        pq.write_table(pa.table({"sha256": ["ab"]}), path)
    elif content is not None:
        path.write_bytes(content)
    assert main(["cache", "import", "--cache", str(tmp_path / "cache.sqlite3"), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"alttext: error: {path}: {message}") and err.count("\n") == 1


def test_import_names_the_row_with_a_broken_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "results.parquet"
    _write_results(path, [param.values[0] for param in KEYS])
    table = pq.read_table(path)
    pq.write_table(table.set_column(table.schema.get_field_index("model"), "model", pa.array(["x@1", "nomodel"])), path)
    assert main(["cache", "import", "--cache", str(tmp_path / "cache.sqlite3"), str(path)]) == 2
    assert capsys.readouterr().err == f"alttext: error: {path}: row 2: model 'nomodel' is not 'model id@revision'\n"

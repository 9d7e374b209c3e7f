from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from alttext.caption.cache import (
    CACHE_ENV,
    CacheEntry,
    CacheKey,
    CaptionCache,
    cache_file,
    default_cache_path,
    project_root,
)
from tests.conftest import REPO_ROOT

KEY = CacheKey("ab" * 32, "nlpconnect/vit-gpt2-image-captioning", "rev1", "max_length=16;num_beams=4", "1")


def key(index: int, **changes: str) -> CacheKey:
    return replace(KEY, content_hash=f"{index:064x}", **changes)


@pytest.fixture
def cache(tmp_path: Path) -> CaptionCache:
    with CaptionCache(tmp_path / "captions.sqlite3") as opened:
        yield opened


def test_miss_then_hit(cache: CaptionCache) -> None:
    assert cache.get(KEY) is None
    cache.put(KEY, "a dog sitting on a", "A dog sitting", hit_limit=True)
    assert cache.get(KEY) == CacheEntry("a dog sitting on a", "A dog sitting", True, exact=True)


def test_entries_survive_reopening(tmp_path: Path) -> None:
    with CaptionCache(tmp_path / "c.sqlite3") as first:
        first.put(KEY, "a cat", "A cat")
    with CaptionCache(tmp_path / "c.sqlite3") as second:
        assert second.get(KEY) == CacheEntry("a cat", "A cat", None)


@pytest.mark.parametrize("change", [
    pytest.param({"content_hash": "cd" * 32}, id="other-image"),
    pytest.param({"model_id": "Salesforce/blip-image-captioning-base"}, id="other-model"),
    pytest.param({"model_revision": "rev2"}, id="other-revision"),
    pytest.param({"settings": "max_length=16;num_beams=1"}, id="other-settings"),
])
def test_key_changes_miss(cache: CaptionCache, change: dict[str, str]) -> None:
    cache.put(KEY, "a cat", "A cat")
    assert cache.get(replace(KEY, **change)) is None
    assert cache.get(KEY) is not None


def test_new_cleaning_key_returns_raw_for_cleaning_again(cache: CaptionCache) -> None:
    cache.put(KEY, "a cat on a bed with a cat", "A cat on a bed")
    newer = replace(KEY, cleaning="2;final_period=True")
    entry = cache.get(newer)
    assert entry is not None and not entry.exact
    assert entry.raw == "a cat on a bed with a cat"
    cache.put(newer, entry.raw, "A cat on a bed.")
    assert cache.get(newer) == CacheEntry("a cat on a bed with a cat", "A cat on a bed.", None, exact=True)
    assert cache.get(KEY) == CacheEntry("a cat on a bed with a cat", "A cat on a bed", None, exact=True)


def test_put_replaces(cache: CaptionCache) -> None:
    cache.put(KEY, "a cat", "A cat")
    cache.put(KEY, "a dog", "A dog")
    assert cache.get(KEY) == CacheEntry("a dog", "A dog", None)


def test_get_many_thousand_keys_in_one_query(cache: CaptionCache) -> None:
    keys = [key(i) for i in range(1000)]
    cache.put_many((k, CacheEntry(f"raw {i}", f"Caption {i}")) for i, k in enumerate(keys) if i % 2 == 0)
    statements: list[str] = []
    assert cache._connection is not None
    cache._connection.set_trace_callback(statements.append)
    found = cache.get_many(keys)
    assert len(found) == 500
    assert found[keys[998]].caption == "Caption 998"
    assert keys[999] not in found
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == [statements[0]]
    assert len(statements) == 1


def test_get_many_groups_by_model(cache: CaptionCache) -> None:
    other = key(1, model_id="other/model")
    cache.put_many([(key(1), CacheEntry("a", "A")), (other, CacheEntry("b", "B"))])
    found = cache.get_many([key(1), other, key(2)])
    assert {k: e.caption for k, e in found.items()} == {key(1): "A", other: "B"}


def test_uses_wal_and_busy_timeout(tmp_path: Path, cache: CaptionCache) -> None:
    cache.put(KEY, "a", "A")
    assert cache._connection is not None
    assert cache._connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cache._connection.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from alttext.caption.cache import CacheEntry, CacheKey, CaptionCache
    path, name, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.005)
    cache = CaptionCache(path)
    for i in range(150):
        key = CacheKey(f"{name}{i:060d}", "m", "r", "s", "1")
        cache.put(key, f"raw {name} {i}", f"{name} {i}")
        shared = CacheKey(f"shared{i:058d}", "m", "r", "s", "1")
        cache.put(shared, "raw", "shared")
        assert cache.get(key).caption == f"{name} {i}"
        found = cache.get_many([CacheKey(f"{other}{j:060d}", "m", "r", "s", "1")
                                for other in ("aaaa", "bbbb") for j in range(150)])
    cache.close()
    print("done", len(found))
""")


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path, go = tmp_path / "shared.sqlite3", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(go)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("aaaa", "bbbb")]
    go.touch()
    outputs = [writer.communicate(timeout=120) for writer in writers]
    for writer, (out, err) in zip(writers, outputs):
        assert writer.returncode == 0, err
        assert out.startswith("done") and err == ""
    with CaptionCache(path) as cache:
        keys = [CacheKey(f"{name}{i:060d}", "m", "r", "s", "1") for name in ("aaaa", "bbbb") for i in range(150)]
        found = cache.get_many(keys)
        assert len(found) == 300
        assert found[keys[151]].caption == "bbbb 1"
        assert len(cache.get_many([CacheKey(f"shared{i:058d}", "m", "r", "s", "1") for i in range(150)])) == 150


def test_garbage_file_is_reported_once_and_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "captions.sqlite3"
    path.write_bytes(b"this is not a database, just some garbage bytes\n" * 100)
    with caplog.at_level(logging.WARNING, logger="alttext.cache"), CaptionCache(path) as cache:
        assert cache.get(KEY) is None
        cache.put(KEY, "a cat", "A cat")
        assert cache.get(KEY) == CacheEntry("a cat", "A cat", None)
    warnings = [r.getMessage() for r in caplog.records if r.name == "alttext.cache"]
    assert len(warnings) == 1
    assert f"caption cache {path} was corrupt" in warnings[0] and "started a new one" in warnings[0]
    assert (tmp_path / "captions.sqlite3.corrupt").read_bytes().startswith(b"this is not a database")
    with CaptionCache(path) as reopened:
        assert reopened.get(KEY) is not None


def test_truncated_database_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "captions.sqlite3"
    with CaptionCache(path) as cache:
        cache.put_many((key(i), CacheEntry("raw " * 50, f"Caption {i}")) for i in range(2000))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] + b"\xff" * 4096 + data[len(data) // 3 + 4096 :])
    with caplog.at_level(logging.WARNING, logger="alttext.cache"), CaptionCache(path) as cache:
        keys = [key(i) for i in range(2000)]
        found = cache.get_many(keys)
        # Whatever could be read before the damage was noticed is right; usually nothing.
        assert all(found[k].caption == f"Caption {i}" for i, k in enumerate(keys) if k in found)
        cache.put(KEY, "a cat", "A cat")
        assert cache.get(KEY) is not None
    assert len([r for r in caplog.records if "corrupt" in r.getMessage()]) == 1


def test_unusable_location_goes_on_without_cache(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING, logger="alttext.cache"), CaptionCache(blocker / "c.sqlite3") as cache:
        assert cache.get(KEY) is None
        cache.put(KEY, "a", "A")
        assert cache.get_many([KEY, key(1)]) == {}
    messages = [r.getMessage() for r in caplog.records if r.name == "alttext.cache"]
    assert len(messages) == 1 and "going on without it" in messages[0]


def test_older_schema_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "captions.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE captions (key TEXT PRIMARY KEY, caption TEXT)")
        connection.execute("PRAGMA user_version = 99")
    connection.close()
    with CaptionCache(path) as cache:
        cache.put(KEY, "a", "A")
        assert cache.get(KEY) == CacheEntry("a", "A", None)


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param("cache.sqlite3", "cache.sqlite3", id="file"),
    pytest.param(".alttext-cache", ".alttext-cache/captions.sqlite3", id="folder-name"),
    pytest.param("existing", "existing/captions.sqlite3", id="existing-folder"),
    pytest.param("some/dir/", "some/dir/captions.sqlite3", id="trailing-slash"),
])
def test_cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing").mkdir()
    assert cache_file(given) == Path(expected)


def test_default_cache_path_is_at_project_top(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    (tmp_path / "pyproject.toml").write_text("")
    nested = tmp_path / "docs" / "guide"
    nested.mkdir(parents=True)
    assert project_root(nested) == tmp_path
    assert default_cache_path(nested) == tmp_path / ".alttext-cache" / "captions.sqlite3"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere.sqlite3"))
    assert default_cache_path(nested) == tmp_path / "elsewhere.sqlite3"


def test_default_cache_folder_is_git_ignored(tmp_path: Path) -> None:
    with CaptionCache(tmp_path / ".alttext-cache") as cache:
        cache.put(KEY, "a", "A")
    assert (tmp_path / ".alttext-cache" / "captions.sqlite3").is_file()
    assert (tmp_path / ".alttext-cache" / ".gitignore").read_text().splitlines()[-1] == "*"

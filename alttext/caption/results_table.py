"""Captions as table rows (Parquet, Spark) and back into the caption cache.

A row holds one image's result: `sha256`, `caption`, `raw`, `text`, `error`, `model`,
`settings` (and `hit_limit`). `model` is "model id@revision" and `settings` a JSON object of
every other field of the cache key, so a row names exactly the cache entry it fills and
`alttext cache import` stores it where the captioner will look for it. Rows with an error
are reported, never stored: the next run tries those images again.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from alttext.caption.cache import CacheEntry, CacheKey, CaptionCache

RESULT_COLUMNS = ("sha256", "caption", "raw", "text", "error", "model", "settings", "hit_limit")
REQUIRED_COLUMNS = ("sha256", "caption", "raw", "error", "model", "settings")
_NAMED_BY_MODEL = ("content_hash", "model_id", "model_revision")
ROWS_PER_WRITE = 5000


class ResultsError(Exception):
    """A results file cannot be imported; str(error) names it."""


def model_and_settings(key: CacheKey) -> tuple[str, str]:
    """The `model` and `settings` cells naming the cache key a caption was made under."""
    fields = {name: value for name, value in dataclasses.asdict(key).items() if name not in _NAMED_BY_MODEL}
    return f"{key.model_id}@{key.model_revision}", json.dumps(fields, sort_keys=True)


def cache_key(sha256: str, model: str, settings: str) -> CacheKey:
    """The inverse of model_and_settings; ValueError when the cells do not make a cache key."""
    model_id, at, revision = model.rpartition("@")
    if not at or not model_id:
        raise ValueError(f"model {model!r} is not 'model id@revision'")
    try:
        fields = json.loads(settings)
        return CacheKey(content_hash=sha256, model_id=model_id, model_revision=revision, **fields)
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"settings {settings!r} do not match this alttext's cache key ({error})") from None


@dataclass
class ImportReport:
    stored: int = 0  # cache entries written
    failed: int = 0  # rows holding an error instead of a caption


def import_results(paths: Iterable[str | os.PathLike[str]], cache: CaptionCache) -> ImportReport:
    """Store every captioned row of the Parquet files (or Spark output folders) in `cache`."""
    report = ImportReport()
    for path in paths:
        batch: dict[CacheKey, CacheEntry] = {}
        for number, row in enumerate(_rows(path), start=1):
            if row.get("error") is not None or row.get("caption") is None:
                report.failed += 1
                continue
            try:
                key = cache_key(row["sha256"], row["model"], row["settings"])
            except (ValueError, TypeError, AttributeError) as error:
                raise ResultsError(f"{path}: row {number}: {error}") from None
            batch[key] = _entry(row)
            if len(batch) >= ROWS_PER_WRITE:
                report.stored += _store(cache, batch)
        report.stored += _store(cache, batch)
    return report


def _entry(row: Mapping[str, Any]) -> CacheEntry:
    hit_limit = row.get("hit_limit")
    return CacheEntry(row["raw"] or "", row["caption"], None if hit_limit is None else bool(hit_limit))


def _store(cache: CaptionCache, batch: dict[CacheKey, CacheEntry]) -> int:
    count = len(batch)
    cache.put_many(batch.items())
    batch.clear()
    return count


def _rows(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The rows of one Parquet file or folder of part files, a record batch at a time."""
    try:
        import pyarrow as pa
        import pyarrow.dataset as ds
    except ImportError:
        raise ResultsError("reading Parquet needs pyarrow: pip install 'alttext[spark]'") from None
    if not os.path.exists(path):
        raise ResultsError(f"{path}: no such file or folder")
    try:
        dataset = ds.dataset(os.fspath(path), format="parquet")
        missing = [name for name in REQUIRED_COLUMNS if name not in dataset.schema.names]
        if missing:
            raise ResultsError(f"{path}: not a caption results table (no column {', '.join(missing)})")
        columns = [name for name in RESULT_COLUMNS if name in dataset.schema.names]
        for batch in dataset.to_batches(columns=columns):
            yield from batch.to_pylist()
    except (OSError, ValueError, pa.ArrowException) as error:  # unreadable, not Parquet, mixed schemas
        raise ResultsError(f"{path}: cannot be read as Parquet ({error})") from None

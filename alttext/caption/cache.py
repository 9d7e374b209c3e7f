"""A persistent caption cache in SQLite, shared safely by several processes.

A row maps (image content hash, model id, model revision, generation settings,
cleaning key) to the raw model output and the cleaned caption. The raw text is
kept so a new cleaning version (or `--final-period`) re-cleans cached captions
without running the model again.

The cache is never fatal: an unreadable or corrupt file is reported once (a
logging warning, shown on stderr when logging is not configured), moved aside
and rebuilt; if even that fails the run goes on without a cache.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

CACHE_ENV = "ALTTEXT_CACHE"
CACHE_DIR_NAME = ".alttext-cache"
CACHE_FILE_NAME = "captions.sqlite3"
SCHEMA_VERSION = 2  # 2 added the unreadable table; captions of version 1 are kept
BUSY_TIMEOUT_S = 30.0
# Files that mark the top of a project, where the cache folder goes.
PROJECT_MARKERS = (CACHE_DIR_NAME, ".git", ".hg", "pyproject.toml", "mkdocs.yml", "setup.cfg")

log = logging.getLogger("alttext.cache")
T = TypeVar("T")
Row = tuple[str, str, str, str, "int | None"]  # content_hash, cleaning, raw, caption, hit_limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS captions (
    content_hash TEXT NOT NULL,
    model_id TEXT NOT NULL,
    model_revision TEXT NOT NULL,
    settings TEXT NOT NULL,
    cleaning TEXT NOT NULL,
    raw TEXT NOT NULL,
    caption TEXT NOT NULL,
    hit_limit INTEGER,
    created REAL NOT NULL,
    PRIMARY KEY (content_hash, model_id, model_revision, settings, cleaning)
) WITHOUT ROWID
"""
# Images that could not be decoded, so a run need not load the model to find that out again.
# `reader` names the decoder (its version): a fixed one retries them.
UNREADABLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS unreadable (
    content_hash TEXT NOT NULL,
    reader TEXT NOT NULL,
    reason TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (content_hash, reader)
) WITHOUT ROWID
"""
UNREADABLE_LOOKUP = """
SELECT content_hash, reason FROM unreadable WHERE content_hash IN (SELECT value FROM json_each(?)) AND reader = ?
"""
UNREADABLE_INSERT = "INSERT OR REPLACE INTO unreadable VALUES (?, ?, ?, ?)"
# Every row for these images under one model and settings, whatever its cleaning key.
LOOKUP = """
SELECT content_hash, cleaning, raw, caption, hit_limit FROM captions
WHERE content_hash IN (SELECT value FROM json_each(?))
  AND model_id = ? AND model_revision = ? AND settings = ?
"""
INSERT = "INSERT OR REPLACE INTO captions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
# Text read from images (OCR) depends on the image and the OCR engine and settings, not on the
# caption model, so it has a table of its own; `reading` is the reading as JSON.
TEXTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS texts (
    content_hash TEXT NOT NULL,
    engine TEXT NOT NULL,
    reading TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (content_hash, engine)
) WITHOUT ROWID
"""
TEXTS_LOOKUP = "SELECT content_hash, reading FROM texts WHERE content_hash IN (SELECT value FROM json_each(?)) AND engine = ?"
TEXTS_INSERT = "INSERT OR REPLACE INTO texts VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class CacheKey:
    content_hash: str
    model_id: str
    model_revision: str
    settings: str  # GenerationSettings.key()
    cleaning: str  # CLEANING_VERSION plus the cleaning options


@dataclass(frozen=True)
class CacheEntry:
    raw: str
    caption: str
    hit_limit: bool | None = None
    exact: bool = True  # False: raw output stored under another cleaning key; clean it again


class CaptionCache:
    """Captions by CacheKey in one SQLite file; open it lazily, close it with `close()`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = cache_file(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._disabled = False
        self._recovered = False

    def __enter__(self) -> CaptionCache:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CaptionCache({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def get(self, key: CacheKey) -> CacheEntry | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, CacheEntry]:
        """The cached entries among `keys`, one query per (model, revision, settings)."""
        groups: dict[tuple[str, str, str], list[CacheKey]] = {}
        for key in keys:
            groups.setdefault((key.model_id, key.model_revision, key.settings), []).append(key)
        found: dict[CacheKey, CacheEntry] = {}
        for (model_id, revision, settings), members in groups.items():
            parameters = (json.dumps(sorted({key.content_hash for key in members})), model_id, revision, settings)
            rows = self._run(functools.partial(_lookup, parameters=parameters))
            found.update(_match(members, rows or []))
        return found

    def put(self, key: CacheKey, raw: str, caption: str, hit_limit: bool | None = None) -> None:
        self.put_many([(key, CacheEntry(raw, caption, hit_limit))])

    def put_many(self, items: Iterable[tuple[CacheKey, CacheEntry]]) -> None:
        """Store entries in one transaction (replacing any with the same key)."""
        now = time.time()
        rows = [(k.content_hash, k.model_id, k.model_revision, k.settings, k.cleaning, e.raw, e.caption,
                 None if e.hit_limit is None else int(e.hit_limit), now) for k, e in items]
        if rows:
            self._run(lambda db: _write(db, rows))

    def unreadable(self, content_hashes: Sequence[str], reader: str) -> dict[str, str]:
        """The reason each of these images could not be decoded by `reader`, for those it could not."""
        parameters = (json.dumps(sorted(set(content_hashes))), reader)
        rows = self._run(lambda db: db.execute(UNREADABLE_LOOKUP, parameters).fetchall()) if content_hashes else []
        return dict(rows or [])

    def put_unreadable(self, reasons: dict[str, str], reader: str) -> None:
        """Remember that `reader` cannot decode these images (content hash: reason)."""
        now = time.time()
        rows = [(content_hash, reader, reason, now) for content_hash, reason in reasons.items()]
        if rows:
            self._run(lambda db: _write(db, rows, UNREADABLE_INSERT))

    def get_texts(self, content_hashes: Sequence[str], engine: str) -> dict[str, str]:
        """The stored OCR readings (JSON) of these images under `engine` (OCR version and settings)."""
        parameters = (json.dumps(sorted(set(content_hashes))), engine)
        rows = self._run(lambda db: _texts_table(db).execute(TEXTS_LOOKUP, parameters).fetchall())
        return dict(rows or [])

    def put_texts(self, items: Iterable[tuple[str, str]], engine: str) -> None:
        """Store (content hash, reading JSON) pairs read under `engine`."""
        now = time.time()
        rows = [(content_hash, engine, reading, now) for content_hash, reading in items]
        if rows:
            self._run(lambda db: _write(_texts_table(db), rows, TEXTS_INSERT))

    def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T | None:
        """Run `operation(connection)`; on a broken file warn, rebuild once, else go on without."""
        with self._lock:
            for attempt in (1, 2):
                if self._disabled:
                    return None
                try:
                    return operation(self._connect())
                except sqlite3.OperationalError as error:
                    if not _is_corruption(error):
                        self._disable(f"caption cache {self.path} cannot be used ({error}); going on without it")
                        return None
                    self._recover(error, attempt)
                except sqlite3.DatabaseError as error:  # "file is not a database", "malformed"
                    self._recover(error, attempt)
                except OSError as error:  # the folder cannot be made
                    self._disable(f"caption cache {self.path} cannot be used ({error}); going on without it")
            return None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _mark_cache_folder(self.path.parent)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
            try:
                _prepare(connection)
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _recover(self, error: Exception, attempt: int) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if attempt > 1 or self._recovered:
            self._disable(f"caption cache {self.path} is still unusable ({error}); going on without it")
            return
        self._recovered = True
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            if _still_broken(self.path):
                os.replace(self.path, aside)
                for suffix in ("-wal", "-shm"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
        except OSError as move_error:
            self._disable(f"caption cache {self.path} is corrupt ({error}) and cannot be moved aside "
                          f"({move_error}); going on without it")
            return
        log.warning("alttext: caption cache %s was corrupt (%s); moved it to %s and started a new one",
                    self.path, error, aside.name)

    def _disable(self, message: str) -> None:
        if not self._disabled:
            log.warning("alttext: %s", message)
        self._disabled = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _prepare(connection: sqlite3.Connection) -> None:
    """WAL lets readers and one writer work at once; busy_timeout waits for the writer."""
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "wal":
        # May fail on filesystems without shared memory (some network mounts): then stay in
        # rollback-journal mode, which is slower with several writers but just as safe.
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if _is_corruption(error):
                raise
    connection.execute("PRAGMA synchronous = NORMAL")
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        _create_schema(connection, version)


def _create_schema(connection: sqlite3.Connection, version: int) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created it while this one waited for the lock.
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        if current not in (0, 1, SCHEMA_VERSION):
            connection.execute("DROP TABLE IF EXISTS captions")  # an older layout: captions are re-made
        connection.execute(SCHEMA)
        connection.execute(UNREADABLE_SCHEMA)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _lookup(connection: sqlite3.Connection, parameters: tuple[str, ...]) -> list[Row]:
    return connection.execute(LOOKUP, parameters).fetchall()


def _texts_table(connection: sqlite3.Connection) -> sqlite3.Connection:
    connection.execute(TEXTS_SCHEMA)  # a no-op once it exists; older cache files gain it here
    return connection


def _write(connection: sqlite3.Connection, rows: Sequence[tuple[object, ...]], statement: str = INSERT) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany(statement, rows)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _match(keys: list[CacheKey], rows: list[Row]) -> dict[CacheKey, CacheEntry]:
    """Exact cleaning key first; otherwise any row's raw text, marked for cleaning again."""
    by_hash: dict[str, dict[str, tuple[str, str, int | None]]] = {}
    for content_hash, cleaning, raw, caption, hit_limit in rows:
        by_hash.setdefault(content_hash, {})[cleaning] = (raw, caption, hit_limit)
    found: dict[CacheKey, CacheEntry] = {}
    for key in keys:
        variants = by_hash.get(key.content_hash)
        if not variants:
            continue
        exact = key.cleaning in variants
        raw, caption, hit_limit = variants[key.cleaning] if exact else next(iter(variants.values()))
        found[key] = CacheEntry(raw, caption, None if hit_limit is None else bool(hit_limit), exact)
    return found


def _is_corruption(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "not a database" in text or "malformed" in text or "disk image" in text


def _still_broken(path: Path) -> bool:
    """Check again before moving the file: another process may have rebuilt it already."""
    if not path.exists():
        return False
    try:
        probe = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return True
    try:
        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return bool(probe.execute("PRAGMA quick_check").fetchone()[0] != "ok")
    except sqlite3.OperationalError as error:
        return _is_corruption(error)
    except sqlite3.DatabaseError:
        return True
    finally:
        probe.close()


def _mark_cache_folder(folder: Path) -> None:
    """Keep the cache out of version control, as pytest does for .pytest_cache."""
    if folder.name != CACHE_DIR_NAME:
        return
    ignore = folder / ".gitignore"
    if not ignore.exists():
        try:
            ignore.write_text("# Created by alttext: caption cache, safe to delete.\n*\n", encoding="utf-8")
        except OSError:
            pass


def cache_file(path: str | os.PathLike[str]) -> Path:
    """`path` itself, or captions.sqlite3 inside it when it is (or looks like) a folder."""
    candidate = Path(path).expanduser()
    if candidate.is_dir() or (not candidate.exists() and not candidate.suffix) or str(path).endswith(os.sep):
        return candidate / CACHE_FILE_NAME
    return candidate


def default_cache_path(start: str | os.PathLike[str] | None = None) -> Path:
    """$ALTTEXT_CACHE, else .alttext-cache/captions.sqlite3 at the top of the project holding `start`."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return cache_file(configured)
    return project_root(start) / CACHE_DIR_NAME / CACHE_FILE_NAME


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The nearest folder at or above `start` (default: the current one) with a project marker."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return folder
    return here

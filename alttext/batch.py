"""Checking many files: in this process for a few, on all cores for many.

Worker processes are forked after the scanners are imported, so each starts
warm; they send back only the files that have findings or errors, since most
documents have neither.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from alttext.config import Config
from alttext.lint import FileResult, check_file

# A pool costs some 30 ms to start; the scanners do about 20 MB/s a core, so below
# a couple of MB (or a handful of files) one process is as fast.
MIN_FILES_FOR_POOL = 16
MIN_BYTES_FOR_POOL = 2_000_000
_CHUNKS_PER_WORKER = 8

_worker_config: Config | None = None


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def check_files(paths: Sequence[str], config: Config, jobs: int | None = None) -> list[FileResult]:
    """A FileResult for each of `paths`, in the same order."""
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(paths) < MIN_FILES_FOR_POOL or _total_size(paths) < MIN_BYTES_FOR_POOL:
        return [check_file(path, config) for path in paths]
    return _check_in_pool(paths, config, jobs)


def _total_size(paths: Sequence[str]) -> int:
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            pass  # check_file reports it
        if total >= MIN_BYTES_FOR_POOL:
            break
    return total


def _check_in_pool(paths: Sequence[str], config: Config, jobs: int) -> list[FileResult]:
    import multiprocessing

    global _worker_config
    _warm_up_scanners()
    _worker_config = config  # inherited by forked workers; sent to spawned ones
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    chunks = _chunks(list(enumerate(paths)), jobs * _CHUNKS_PER_WORKER)
    results = [FileResult() for _ in paths]
    with context.Pool(jobs, initializer=_init_worker, initargs=(config,)) as pool:
        for chunk_results in pool.imap_unordered(_check_chunk, chunks):
            for index, result in chunk_results:
                results[index] = result
    return results


def _chunks(items: list[tuple[int, str]], count: int) -> list[list[tuple[int, str]]]:
    # Interleaved, so that a folder of big files is spread over all workers.
    return [chunk for chunk in (items[start::count] for start in range(count)) if chunk]


def _init_worker(config: Config) -> None:
    global _worker_config
    _worker_config = config


def _check_chunk(chunk: list[tuple[int, str]]) -> list[tuple[int, FileResult]]:
    assert _worker_config is not None
    results = ((index, check_file(path, _worker_config)) for index, path in chunk)
    return [(index, result) for index, result in results if result.findings or result.errors]


def _warm_up_scanners() -> None:
    from alttext.scan import find_images

    for syntax in ("html", "markdown", "rst"):
        try:
            find_images("", syntax)
        except Exception:  # noqa: BLE001, S110 - a broken scanner is reported per file later
            pass

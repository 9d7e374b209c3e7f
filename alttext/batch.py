"""Checking many files: in this process for a few, on all cores for many.

For many files the list is split into one share per core, balanced by size.
Where the system can fork, this process forks a worker for each share but
its own, checks its own share, then reads the other results from pipes: the
workers start warm (scanners already imported) and cost a millisecond or two,
where a multiprocessing pool costs tens. Workers send back only the files
with findings or errors, since most documents have neither.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from alttext.config import Config
from alttext.lint import FileResult, check_file

# Starting workers costs a few ms; the scanners do about 20 MB/s a core, so
# below a couple of MB (or a handful of files) one process is as fast.
MIN_FILES_FOR_POOL = 16
MIN_BYTES_FOR_POOL = 2_000_000

Share = list[int]  # indexes into the list of paths


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def check_files(paths: Sequence[str], config: Config, jobs: int | None = None) -> list[FileResult]:
    """A FileResult for each of `paths`, in the same order."""
    jobs = min(jobs or default_jobs(), len(paths))
    sizes = _sizes(paths) if jobs > 1 and len(paths) >= MIN_FILES_FOR_POOL else []
    if not sizes or sum(sizes) < MIN_BYTES_FOR_POOL:
        return [check_file(path, config) for path in paths]
    return _check_in_pool(paths, config, jobs, sizes)


def _sizes(paths: Sequence[str]) -> list[int]:
    sizes = []
    for path in paths:
        try:
            sizes.append(os.path.getsize(path))
        except OSError:
            sizes.append(0)  # check_file reports it
    return sizes


def balanced_shares(sizes: Sequence[int], count: int) -> list[Share]:
    """Split indexes into `count` shares of about equal total size (largest first, to the lightest share)."""
    import heapq

    loads = [(0, share) for share in range(count)]
    shares: list[Share] = [[] for _ in range(count)]
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        load, share = heapq.heappop(loads)
        shares[share].append(index)
        heapq.heappush(loads, (load + sizes[index] + 1, share))
    return [sorted(share) for share in shares if share]


def _check_in_pool(paths: Sequence[str], config: Config, jobs: int, sizes: Sequence[int]) -> list[FileResult]:
    shares = balanced_shares(sizes, jobs)
    results = [FileResult() for _ in paths]
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return _check_in_spawned_pool(paths, config, shares, results)
    _warm_up_scanners()
    workers = [_fork_worker(paths, config, share) for share in shares[1:]]
    for index, result in _check_share(paths, config, shares[0]):
        results[index] = result
    for pid, pipe, share in workers:
        for index, result in _collect(pid, pipe, paths, config, share):
            results[index] = result
    return results


def _check_share(paths: Sequence[str], config: Config, share: Share) -> list[tuple[int, FileResult]]:
    results = ((index, check_file(paths[index], config)) for index in share)
    return [(index, result) for index, result in results if result.findings or result.errors]


def _fork_worker(paths: Sequence[str], config: Config, share: Share) -> tuple[int, int, Share]:
    import pickle

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: check the share, send the results, and leave without cleanup
        os.close(read_end)
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(pickle.dumps(_check_share(paths, config, share), pickle.HIGHEST_PROTOCOL))
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, read_end, share


def _collect(pid: int, read_end: int, paths: Sequence[str], config: Config, share: Share) -> list[tuple[int, FileResult]]:
    import pickle

    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    try:
        return pickle.loads(data)  # our own worker's output
    except Exception:  # noqa: BLE001 - the worker died (killed, out of memory): check its share here
        return _check_share(paths, config, share)


def _check_in_spawned_pool(  # pragma: no cover - Windows
    paths: Sequence[str], config: Config, shares: list[Share], results: list[FileResult]
) -> list[FileResult]:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(len(shares)) as pool:
        for pairs in pool.map(_check_share, [paths] * len(shares), [config] * len(shares), shares):
            for index, result in pairs:
                results[index] = result
    return results


def _warm_up_scanners() -> None:
    """Import every scanner and build its parsers before forking, so that no worker does it again."""
    from alttext.scan import find_images

    samples = {"html": "<img src=x.png>", "markdown": "![](x.png)\n", "rst": ".. image:: x.png\n"}
    for syntax, sample in samples.items():
        try:
            find_images(sample, syntax)
        except Exception:  # noqa: BLE001, S110 - a broken scanner is reported per file later
            pass

"""Replace a file's bytes all at once, or not at all.

The new bytes go to a temporary file in the same folder, are flushed to disk,
get the old file's mode and then replace the old file with os.replace, which
is atomic on POSIX and Windows. An interrupt (Ctrl-C) at any point leaves the
old file or the new one, never a mix, and no temporary file behind.

Only SIGKILL (or a crash of the machine) can leave a temporary file. Its
name says whose it is, `.<name>.<pid>-<random>.alttext.tmp`, so that the
next run removes it once that process is gone (`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass

TEMPORARY_SUFFIX = ".alttext.tmp"
# An older alttext wrote no pid; mkstemp adds eight characters of [a-z0-9_].
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:(?P<pid>\d+)-)?[a-z0-9_]{8}" + re.escape(TEMPORARY_SUFFIX) + "$")
# A temporary file this old is stale even if its pid runs again (reused after a reboot):
# no write takes that long.
STALE_AFTER_S = 3600.0
_TAG_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"


class FileChangedError(Exception):
    """The file on disk is no longer the one that was read; the message names it."""


def write_atomic(path: str, data: bytes, *, expected: bytes | None = None) -> None:
    """Write `data` to `path` atomically.

    With `expected`, the file must still hold exactly those bytes (the ones the
    edit was computed from), else FileChangedError and nothing is written.
    A symlink is followed: its target is replaced, the link stays.
    """
    target = os.path.realpath(path)
    mode = _mode_of(target)
    if expected is not None:
        _check_unchanged(path, target, expected)
    folder = os.path.dirname(target)
    prefix = f".{os.path.basename(target)}.{os.getpid()}-"
    temporary = ""
    try:
        # The name is known before the file exists, so an interrupt at any point after
        # os.open (even before its result is assigned) still finds the file to remove.
        for _ in range(100):
            temporary = os.path.join(folder, prefix + _random_tag() + TEMPORARY_SUFFIX)
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"{path}: no free temporary file name next to it")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        if expected is not None:
            _check_unchanged(path, target, expected)  # again, right before the swap
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            if temporary:
                os.unlink(temporary)
        raise
    _fsync_folder(folder)


def _random_tag() -> str:
    """Eight characters as mkstemp makes them (what remove_stale_temporaries recognises)."""
    return "".join(secrets.choice(_TAG_CHARACTERS) for _ in range(8))


def _mode_of(target: str) -> int:
    """The file's permission bits; for a new file, what open() would give it."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _check_unchanged(path: str, target: str, expected: bytes) -> None:
    with open(target, "rb") as file:
        current = file.read(len(expected) + 1)
    if current != expected:
        raise FileChangedError(f"{path}: changed on disk since it was read; skipped (run alttext again)")


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable where the platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class StaleTemporary:
    path: str  # the temporary file
    document: str  # the document it was to replace


def remove_stale_temporaries(documents: Iterable[str]) -> list[StaleTemporary]:
    """Remove the temporary files an interrupted run left next to `documents` (links followed).

    Only files named as `write_atomic` names them for one of these documents
    are touched, and only when the process that made them is gone (or they
    are older than an hour). Returns what was removed.
    """
    by_folder: dict[str, dict[str, str]] = {}
    for document in documents:
        real = os.path.realpath(document)
        by_folder.setdefault(os.path.dirname(real), {})[os.path.basename(real)] = document
    removed = []
    for folder, names in by_folder.items():
        try:
            entries = [entry for entry in os.scandir(folder) if entry.name.endswith(TEMPORARY_SUFFIX)]
        except OSError:
            continue
        for entry in entries:
            found = _TEMPORARY.match(entry.name)
            if found and found.group("name") in names and _stale(entry, found.group("pid")):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(StaleTemporary(entry.path, names[found.group("name")]))
    return removed


def _stale(entry: os.DirEntry[str], pid: str | None) -> bool:
    try:
        if not entry.is_file(follow_symlinks=False):
            return False
        age = time.time() - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    if age > STALE_AFTER_S:
        return True
    return pid is not None and not _running(int(pid))


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid we can judge: leave its file
    return True

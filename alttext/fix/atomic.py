"""Replace a file's bytes all at once, or not at all.

The new bytes go to a temporary file in the same folder, are flushed to disk,
get the old file's mode and then replace the old file with os.replace, which
is atomic on POSIX and Windows. An interrupt (Ctrl-C) at any point leaves the
old file or the new one, never a mix, and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


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
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".alttext.tmp")
    try:
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
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


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

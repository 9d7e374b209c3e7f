"""Which paths belong to the project: nothing outside the root is read or written.

A path counts by where it really is: symbolic links are followed to the end,
so a link inside the root to a file outside it is outside, and a link inside
the root to a file inside it is fine.
"""

from __future__ import annotations

import os


def real_inside(path: str, root: str) -> bool:
    """True when `path`, all links followed, is `root` or below it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def outside_message(path: str, root: str, what: str = "document") -> str:
    """The reason a path is refused, naming where it really leads when that differs."""
    real = os.path.realpath(path)
    leads = "" if os.path.abspath(path) == real else f" (it leads to {real})"
    return f"{what} is outside the project root {root}{leads}; not read or written"

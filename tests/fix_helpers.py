"""Shared helpers for the writer tests: fixed captions and a one-call pipeline."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alttext.fix import run as pipeline

FIX_DATA = Path(__file__).resolve().parent / "data" / "fix"

# Captions with every character that needs escaping in some syntax.
CAPTIONS = {
    "dog.png": "A brown dog lying on a rug",
    "cat.png": 'An orange cat with a "bow" & [bell] on *its* collar',
    "chart.png": "Bar chart of sales: 8 < 14 < 20 < 26 | rising_fast",
    "divider.png": "A grey line",
    "pixel": "A single white pixel",
}


@dataclass(frozen=True)
class FixedResult:
    caption: str
    raw: str
    error: str | None
    cached: bool
    content_hash: str


class FixedCaptions:
    """Captions by image file name: the writers' contract with the captioner, without a model."""

    def __init__(self, captions: dict[str, str] | None = None) -> None:
        self.captions = captions or CAPTIONS
        self.calls: list[list[str | bytes]] = []
        self.contexts: list[Any] = []

    def caption_results(self, images: Sequence[str | bytes], *, contexts: Sequence[Any] | None = None) -> list[FixedResult]:
        self.calls.append(list(images))
        self.contexts.append(list(contexts) if contexts is not None else None)
        return [self._one(image) for image in images]

    def _one(self, image: str | bytes) -> FixedResult:
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        key = "pixel" if isinstance(image, bytes) else os.path.basename(image)
        digest = hashlib.sha256(data).hexdigest()
        if key not in self.captions:
            return FixedResult("", "", f"no caption for {key}", False, digest)
        return FixedResult(self.captions[key], self.captions[key].lower(), None, False, digest)


def copy_case(tmp_path: Path, names: Sequence[str]) -> None:
    """Copy input documents (as their plain names: guide.in.md -> guide.md) and the images."""
    shutil.copytree(FIX_DATA / "img", tmp_path / "img")
    for name in names:
        shutil.copyfile(FIX_DATA / name, tmp_path / name.replace(".in.", "."))


def fix_tree(root: Path, captioner: FixedCaptions | None = None, *, paths: Sequence[str] = (".",),
             write: bool = True) -> tuple[list[pipeline.Rewrite], pipeline.Log, pipeline.Collected]:
    """Run the fix pipeline on `root` (the current folder must be `root`)."""
    import io

    settings = pipeline.Settings(paths=tuple(paths), root=str(root))
    log = pipeline.Log(stream=io.StringIO())
    collected = pipeline.collect(settings, log)
    captions = captioner or FixedCaptions()
    pipeline.caption(collected, settings, log, lambda _settings: captions)
    proposals = pipeline.rewrites(collected, log)
    if write:
        pipeline.write_all(proposals, log)
    return proposals, log, collected

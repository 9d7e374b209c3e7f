"""Reading the text in an image, offline, with rapidocr (PP-OCR models shipped in its wheel).

`TextReader(settings).read(image)` returns a `TextReading`: every line read, with its
box and confidence, in reading order. Photos stay cheap: a text detector run on a
small copy of the image (about 0.03 CPU-s) decides first whether there is any text,
and only where it saw some does the detector run at full size. Flat, drawn images
(screenshots, diagrams, logos), whose small print a small copy would hide, go to the
full-size detector directly. The
recogniser then reads the detected lines largest first, within a budget, so a
screenshot full of small print costs about as much as its caption; `mode="all"`
reads every line.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

__all__ = ["OCR_MODES", "OcrSettings", "OcrUnavailable", "TextLine", "TextReader", "TextReading",
           "ocr_available", "reading_from_json", "reading_order", "reading_to_json"]

OCR_MODES = ("auto", "on", "off", "all")
REC_HEIGHT = 48  # the recogniser's input height: a line costs in proportion to width * 48 / height


class OcrUnavailable(ValueError):
    """OCR was asked for (`ocr = "on"`) but rapidocr or onnxruntime is not installed (a
    setting this machine cannot honour, like a device it lacks)."""


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float  # the recogniser's confidence, 0..1
    box: tuple[int, int, int, int]  # left, top, right, bottom in the image's pixels

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class TextReading:
    lines: tuple[TextLine, ...]  # in reading order
    width: int
    height: int
    flat: float  # share of the image in its few most common colours: high for drawn images
    complete: bool = True  # False: some detected lines were left unread (over the budget)

    @property
    def text(self) -> str:
        """All text read, one line per line, in reading order; "" when none."""
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class OcrSettings:
    mode: str = "auto"  # auto: on when installed; on: required; off; all: read every line
    gate_side: int = 256  # longest side of the copy the no-text decision looks at
    detect_side: int = 800  # longest side the full detector works at
    budget: int = 3000  # recogniser input width (pixels at height 48) per image; `all` has none
    flat_threshold: float = 0.6  # above: a drawn image, detected at full size even if the gate saw nothing

    def __post_init__(self) -> None:
        if self.mode not in OCR_MODES:
            raise ValueError(f"ocr must be one of {', '.join(OCR_MODES)}, not {self.mode!r}")

    @property
    def enabled(self) -> bool:
        return self.mode != "off" and (self.mode != "auto" or ocr_available())

    def key(self) -> str:
        """Everything that changes what is read: the engine's version and these settings."""
        budget = 0 if self.mode == "all" else self.budget
        return (f"rapidocr={_engine_version()};gate={self.gate_side};detect={self.detect_side};"
                f"budget={budget};flat={self.flat_threshold}")


def ocr_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("rapidocr", "onnxruntime"))


def _engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{version('rapidocr')}+ort{version('onnxruntime')}"
    except PackageNotFoundError:
        return "none"


class TextReader:
    """Reads text with rapidocr engines loaded on first use; threads share it one read at a time."""

    def __init__(self, settings: OcrSettings | None = None) -> None:
        self.settings = settings or OcrSettings()
        if self.settings.mode == "on" and not ocr_available():
            raise OcrUnavailable("ocr = \"on\" needs rapidocr and onnxruntime: pip install 'alttext[ocr]'")
        self._engines: dict[int, Any] = {}
        self._lock = threading.RLock()  # rapidocr keeps per-call flags on the engine

    def read(self, image: Image.Image) -> TextReading:
        with self._lock:
            return self._read(image)

    def _read(self, image: Image.Image) -> TextReading:
        import numpy as np

        rgb = image.convert("RGB")
        width, height = rgb.size
        flat = flatness(rgb)
        pixels = np.asarray(rgb)[:, :, ::-1]  # rapidocr works in OpenCV's BGR order
        drawn = flat >= self.settings.flat_threshold
        small = max(width, height) <= self.settings.gate_side
        boxes = [] if drawn and not small else self._detect(pixels, self.settings.gate_side)
        if not small and (boxes or drawn):
            boxes = self._detect(pixels, self.settings.detect_side)
        if not boxes:
            return TextReading((), width, height, flat)
        chosen = budgeted(boxes, None if self.settings.mode == "all" else self.settings.budget)
        lines = [line for box in chosen if (line := self._recognise(pixels, box)) is not None]
        return TextReading(tuple(reading_order(lines)), width, height, flat, complete=len(chosen) == len(boxes))

    def _engine(self, side: int) -> Any:
        """One engine per detector size (the size is part of its configuration)."""
        with self._lock:
            if side not in self._engines:
                from rapidocr import RapidOCR

                self._engines[side] = RapidOCR(params={
                    "Global.log_level": "error", "Global.use_cls": False,
                    "Det.limit_type": "max", "Det.limit_side_len": side,
                    # One thread: the least CPU time per image; images run in parallel instead.
                    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                })
            return self._engines[side]

    def _detect(self, pixels: np.ndarray, side: int) -> list[tuple[int, int, int, int]]:
        found = self._engine(side)(pixels, use_det=True, use_cls=False, use_rec=False)
        if getattr(found, "boxes", None) is None:
            return []
        height, width = pixels.shape[:2]
        boxes = []
        for quad in found.boxes:
            xs, ys = [point[0] for point in quad], [point[1] for point in quad]
            box = (max(0, int(min(xs))), max(0, int(min(ys))), min(width, int(max(xs)) + 1),
                   min(height, int(max(ys)) + 1))
            if _plausible(box, width, height):
                boxes.append(box)
        return boxes

    def _recognise(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> TextLine | None:
        left, top, right, bottom = box
        engine = self._engine(self.settings.detect_side)
        found = engine(pixels[top:bottom, left:right], use_det=False, use_cls=False, use_rec=True)
        texts, scores = getattr(found, "txts", None), getattr(found, "scores", None)
        if not texts or not texts[0].strip():
            return None
        return TextLine(" ".join(texts[0].split()), float(scores[0]), box)


def _plausible(box: tuple[int, int, int, int], width: int, height: int) -> bool:
    """Not a speck, and not the whole picture (the detector's answer to some textures)."""
    box_width, box_height = box[2] - box[0], box[3] - box[1]
    whole = box_width >= 0.9 * width and box_height >= 0.8 * height
    return box_width >= 4 and box_height >= 4 and not whole


def budgeted(boxes: Sequence[tuple[int, int, int, int]], budget: int | None) -> list[tuple[int, int, int, int]]:
    """The boxes worth reading within `budget`: tallest first (titles, headings, labels), and
    among equally tall lines the shorter first (buttons and tabs before body text)."""
    if budget is None:
        return list(boxes)
    order = sorted(boxes, key=lambda b: (-_size_class(b[3] - b[1]), b[2] - b[0]))
    chosen, spent = [], 0
    for box in order:
        cost = (box[2] - box[0]) * REC_HEIGHT // max(box[3] - box[1], 1)
        if chosen and spent + cost > budget:
            continue
        chosen.append(box)
        spent += cost
    return chosen


def _size_class(height: int) -> int:
    """Heights within about 15% of each other rank alike (detector boxes jitter by a few pixels)."""
    import math

    return int(math.log(max(height, 1)) / math.log(1.15))


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    """Top to bottom by rows (lines that overlap vertically by half share a row), left to right."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda item: (item.box[1] + item.box[3]) / 2):
        centre = (line.box[1] + line.box[3]) / 2
        row = rows[-1] if rows else None
        if row and abs(centre - _centre(row)) <= min(line.height, row[0].height) / 2:
            row.append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda item: item.box[0])]


def _centre(row: list[TextLine]) -> float:
    return sum((line.box[1] + line.box[3]) / 2 for line in row) / len(row)


def flatness(image: Image.Image, size: int = 96, colours: int = 6) -> float:
    """Share of a small copy's pixels in its `colours` most common (coarsely quantised) colours.

    Screenshots, diagrams and logos are mostly a few flat colours (0.7 and more); photos
    spread over thousands (usually under 0.3).
    """
    small = image.copy()
    small.thumbnail((size, size))
    quantised = small.point(lambda value: value >> 4)
    counts = sorted((count for count, _ in quantised.getcolors(maxcolors=1 << 12) or []), reverse=True)
    total = small.size[0] * small.size[1]
    return sum(counts[:colours]) / total if counts else 0.0


def reading_to_json(reading: TextReading) -> str:
    import json

    return json.dumps({"width": reading.width, "height": reading.height, "flat": round(reading.flat, 4),
                       "complete": reading.complete,
                       "lines": [[line.text, round(line.score, 4), list(line.box)] for line in reading.lines]},
                      ensure_ascii=False, separators=(",", ":"))


def reading_from_json(text: str) -> TextReading | None:
    """The reading stored by `reading_to_json`; None for anything else (read the image again)."""
    import json

    try:
        data = json.loads(text)
        lines = tuple(TextLine(str(t), float(s), (int(b[0]), int(b[1]), int(b[2]), int(b[3])))
                      for t, s, b in data["lines"])
        return TextReading(lines, int(data["width"]), int(data["height"]), float(data["flat"]),
                           bool(data["complete"]))
    except (ValueError, TypeError, KeyError, IndexError):
        return None

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

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

__all__ = ["OCR_MODES", "OcrSettings", "OcrUnavailable", "TextLine", "TextReader", "TextReading",
           "ocr_available", "reading_from_json", "reading_order", "reading_to_json", "rows"]

OCR_MODES = ("auto", "on", "off", "all")
DRAWN = 0.5  # flatness() from which an image is drawn (screenshot, diagram, logo), not a photo
REC_HEIGHT = 48  # the recogniser's input height: a line costs in proportion to width * 48 / height
REC_MIN_WIDTH = 320  # ... and at least as much as a line this wide


class OcrUnavailable(ValueError):
    """OCR was asked for (`ocr = "on"`) but rapidocr or onnxruntime is not installed (a
    setting this machine cannot honour, like a device it lacks)."""


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float  # the recogniser's confidence, 0..1
    box: tuple[int, int, int, int]  # left, top, right, bottom in the image's pixels
    size: float = 0.0  # height of the letters' ink (about the x-height); 0: not measured

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
    flat: float  # flatness(): high for drawn images, low for photos
    complete: bool = True  # False: some detected lines were left unread (over the budget)

    @property
    def text(self) -> str:
        """All text read, one line per line, in reading order; "" when none."""
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class OcrSettings:
    mode: str = "auto"  # auto: on when installed; on: required; off; all: read every line
    gate_side: int = 256  # longest side of the copy the no-text decision looks at
    detect_side: int = 640  # longest side the full detector works at
    budget: int = 6000  # recogniser input width (pixels at height 48) per image; `all` has none
    flat_threshold: float = DRAWN  # from here a drawn image: detected at full size even if the gate saw nothing

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


@functools.lru_cache(maxsize=1)
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

        from alttext.caption.imageio import to_rgb

        rgb = to_rgb(image, "image")  # transparency over white, as documentation pages show it
        width, height = rgb.size
        pixels = np.asarray(rgb)[:, :, ::-1]  # rapidocr works in OpenCV's BGR order
        flat = flatness(pixels)
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
        if not texts or not texts[0].strip() or not scores:
            return None
        return TextLine(" ".join(texts[0].split()), float(scores[0]), box, ink_height(pixels[top:bottom, left:right]))


def _plausible(box: tuple[int, int, int, int], width: int, height: int) -> bool:
    """Not a speck, and not the whole picture (the detector's answer to some textures)."""
    box_width, box_height = box[2] - box[0], box[3] - box[1]
    whole = box_width >= 0.9 * width and box_height >= 0.8 * height
    return box_width >= 4 and box_height >= 4 and not whole


def ink_height(crop: np.ndarray) -> float:
    """The height of the band of rows where most of a line's ink is: the x-height for
    lower-case text, the cap height for capitals. Unlike the detector's box, which grows
    and shrinks by several pixels from word to word, it tells a title from a label."""
    import numpy as np

    gray = crop.astype(np.int16).mean(axis=2)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = np.abs(gray - np.median(border)) > 48
    rows = ink.sum(axis=1)
    if not rows.any():
        return 0.0
    return float((rows >= 0.5 * rows.max()).sum())


def budgeted(boxes: Sequence[tuple[int, int, int, int]], budget: int | None) -> list[tuple[int, int, int, int]]:
    """The boxes worth reading within `budget`: tallest first (titles, headings, labels), and
    among equally tall lines the shorter first (buttons and tabs before body text)."""
    if budget is None:
        return list(boxes)
    order = sorted(boxes, key=lambda b: (-_size_class(b[3] - b[1]), b[2] - b[0]))
    chosen: list[tuple[int, int, int, int]] = []
    spent = 0
    for box in order:
        cost = recognition_cost(box)
        if chosen and spent + cost > budget:
            continue
        chosen.append(box)
        spent += cost
    return chosen


def recognition_cost(box: tuple[int, int, int, int]) -> int:
    """The recogniser's input width for this line: scaled to height 48, and never under 320
    (it pads shorter lines to that width, so a one-word label costs as much as a sentence)."""
    return max((box[2] - box[0]) * REC_HEIGHT // max(box[3] - box[1], 1), REC_MIN_WIDTH)


def _size_class(height: int) -> int:
    """Heights within about 15% of each other rank alike (detector boxes jitter by a few pixels)."""
    import math

    return int(math.log(max(height, 1)) / math.log(1.15))


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    """Top to bottom by rows, each row left to right."""
    return [line for row in rows(lines) for line in row]


def rows(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    """The lines grouped in rows (centres within half a line's height), top to bottom, each
    left to right."""
    found: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda item: (item.box[1] + item.box[3]) / 2):
        centre = (line.box[1] + line.box[3]) / 2
        row = found[-1] if found else None
        if row and abs(centre - _centre(row)) <= min(line.height, row[0].height) / 2:
            row.append(line)
        else:
            found.append([line])
    return [sorted(row, key=lambda item: item.box[0]) for row in found]


def _centre(row: list[TextLine]) -> float:
    return sum((line.box[1] + line.box[3]) / 2 for line in row) / len(row)


def flatness(pixels: np.ndarray, rows: int = 64) -> float:
    """Share of pixels exactly equal to their right-hand neighbour, over about `rows` rows.

    Drawn images (screenshots, diagrams, logos) are mostly flat areas of one colour: 0.55
    and more on real documentation images. A camera's noise makes almost every pixel differ
    from the next, even in a blue sky or on a grey wall: photos and textures stay under 0.4.
    """
    import numpy as np

    sample = pixels[:: max(1, pixels.shape[0] // rows)]
    if sample.shape[1] < 2:
        return 1.0
    return float(np.all(sample[:, 1:] == sample[:, :-1], axis=-1).mean())


def reading_to_json(reading: TextReading) -> str:
    import json

    return json.dumps({"width": reading.width, "height": reading.height, "flat": round(reading.flat, 4),
                       "complete": reading.complete,
                       "lines": [[line.text, round(line.score, 4), list(line.box), line.size]
                                 for line in reading.lines]},
                      ensure_ascii=False, separators=(",", ":"))


def reading_from_json(text: str) -> TextReading | None:
    """The reading stored by `reading_to_json`; None for anything else (read the image again)."""
    import json

    try:
        data = json.loads(text)
        lines = tuple(TextLine(str(t), float(s), (int(b[0]), int(b[1]), int(b[2]), int(b[3])), float(z))
                      for t, s, b, z in data["lines"])
        return TextReading(lines, int(data["width"]), int(data["height"]), float(data["flat"]),
                           bool(data["complete"]))
    except (ValueError, TypeError, KeyError, IndexError):
        return None

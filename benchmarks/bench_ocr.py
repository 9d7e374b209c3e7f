"""Text in documentation images: does the alt text carry it, and what does reading it cost?

    python benchmarks/bench_ocr.py [--no-stock] [--no-caption] [--show]

Runs over benchmarks/ocr-images/ (real screenshots, diagrams and logos from Debian's -doc
packages, and photos without text; sources and licences in its manifest.json), each with
the key text a person would put in its alt text. Prints:

- key terms present: the share of key terms found in the composed alt text (within
  max-alt-length 125), and in the full text read (the long description);
- photos with text added: photos and drawings whose alt text gained quoted text;
- OCR CPU-s per image (median, p95, worst), for images with text and for photos;
- peers measured in the same run: stock rapidocr on the whole image (its own settings),
  and the default caption model's architecture (../shared/reference-model copied to
  benchmarks/reference-model, random weights, beams 4, 16 tokens, 8 images per call) per image.

CPU time (time.process_time, all threads) is what is compared: it does not depend on how
loaded the machine is. Goals: >= 80% key terms, no text on photos, OCR no more CPU than the
caption per image, a photo without text under 0.05 CPU-s.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
IMAGES = HERE / "ocr-images"
ARCHITECTURE = HERE / "reference-model"
NO_TEXT_KINDS = ("photo", "drawing")
SETTINGS = None  # OcrSettings, from the command line


def load_manifest() -> list[dict]:
    return json.loads((IMAGES / "manifest.json").read_text(encoding="utf-8"))["images"]


def open_image(name: str):
    from PIL import Image

    from alttext.caption.imageio import to_rgb

    with Image.open(IMAGES / name) as image:
        return to_rgb(image, name)


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def present(term: str, text: str) -> bool:
    return f" {normalise(term)} " in f" {normalise(text)} "


def cpu(function, *arguments):
    started = time.process_time()
    result = function(*arguments)
    return result, time.process_time() - started


def run_alttext(entries: list[dict], images: dict) -> list[dict]:
    from alttext.caption.compose import describe
    from alttext.caption.ocr import TextReader

    reader = TextReader(SETTINGS)
    for name in (entries[0]["file"], next(e["file"] for e in entries if e["kind"] == "photo")):
        reader.read(images[name])  # load both detector sizes and the recogniser first
    rows = []
    for entry in entries:
        reading, seconds = cpu(reader.read, images[entry["file"]])
        alt = describe(None, reading, 125)
        rows.append({**entry, "alt": alt.caption, "text": reading.text, "salient": alt.salient, "cpu": seconds})
    return rows


def run_stock(entries: list[dict], images: dict) -> list[float]:
    """rapidocr as installed, on the whole image: its default settings, all threads."""
    import numpy as np
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})
    as_bgr = {name: np.asarray(image)[:, :, ::-1] for name, image in images.items()}
    engine(as_bgr[entries[0]["file"]])
    return [cpu(engine, as_bgr[entry["file"]])[1] for entry in entries]


def run_caption(entries: list[dict], images: dict, batch: int = 8) -> dict[str, float]:
    """CPU-s per image of the caption model's architecture: alttext's own decoding (as
    `alttext caption` runs it) and the model card's code, 8 images per call."""
    import torch
    from bench_caption import alttext_settings, as_loaded, build_model

    from alttext.caption.generate import generate_ids, preprocess
    from alttext.caption.heap import keep_freed_memory

    keep_freed_memory()
    model, processor = build_model(ARCHITECTURE, "cpu", "float32")
    loaded = as_loaded(model, processor, None)
    settings = alttext_settings(4)
    pictures = [images[entry["file"]] for entry in entries]

    def card(chunk: list) -> None:
        with torch.inference_mode():
            model.generate(processor(images=chunk, return_tensors="pt").pixel_values,
                           max_length=16, min_length=16, num_beams=4)

    def alttext(chunk: list) -> None:
        generate_ids(loaded, preprocess(loaded, chunk), settings)

    costs = {}
    for name, run in (("alttext caption (fp32, beams 4)", alttext), ("model card code (batch 8, beams 4)", card)):
        run(pictures[:batch])  # warm up at full size
        _, seconds = cpu(lambda call: [call(pictures[start:start + batch]) for start in range(0, len(pictures), batch)],
                         run)
        costs[name] = seconds / len(pictures)
    return costs


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.3f} / {percentile(values, 0.95):.3f} / {max(values):.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-stock", action="store_true", help="skip stock rapidocr (the slowest part)")
    parser.add_argument("--no-caption", action="store_true", help="skip the caption model")
    parser.add_argument("--show", action="store_true", help="print each image's alt text")
    parser.add_argument("--detect-side", type=int, help="OcrSettings.detect_side (default: alttext's)")
    parser.add_argument("--budget", type=int, help="OcrSettings.budget (default: alttext's)")
    options = parser.parse_args(argv)
    global SETTINGS
    from alttext.caption.ocr import OcrSettings

    changes = {"detect_side": options.detect_side, "budget": options.budget}
    SETTINGS = OcrSettings("on", **{key: value for key, value in changes.items() if value})
    print(f"OCR settings: {SETTINGS.key()}")

    entries = load_manifest()
    images = {entry["file"]: open_image(entry["file"]) for entry in entries}
    rows = run_alttext(entries, images)
    stock = None if options.no_stock else run_stock(entries, images)
    caption = None if options.no_caption else run_caption(entries, images)

    with_text = [row for row in rows if row["kind"] not in NO_TEXT_KINDS]
    without = [row for row in rows if row["kind"] in NO_TEXT_KINDS]
    terms = [(term, row) for row in with_text for term in row["key_text"]]
    in_alt = sum(present(term, row["alt"]) for term, row in terms)
    in_text = sum(present(term, row["text"]) for term, row in terms)
    added = [row["file"] for row in without if row["salient"] or '"' in row["alt"]]

    if options.show:
        for row in rows:
            missing = [term for term in row["key_text"] if not present(term, row["alt"])]
            print(f"{row['file']:34} {row['cpu']:.2f} {row['alt']!r}" + (f"  missing: {missing}" if missing else ""))
        print()
    print(f"{len(with_text)} images with text ({len(terms)} key terms), {len(without)} photos and drawings without\n")
    print("| measure | result | goal |")
    print("|---|---|---|")
    print(f"| key terms in the alt text | {in_alt}/{len(terms)} = {in_alt / len(terms):.0%} | >= 80% |")
    print(f"| key terms in the full text read | {in_text}/{len(terms)} = {in_text / len(terms):.0%} | |")
    print(f"| photos/drawings with text added | {len(added)}/{len(without)} {' '.join(added)} | 0 |")
    print(f"| alt text over 125 characters | {sum(len(row['alt']) > 125 for row in rows)} | 0 |")
    print()
    print("| CPU-s per image | median / p95 / max |")
    print("|---|---|")
    print(f"| alttext OCR, images with text | {spread([row['cpu'] for row in with_text])} |")
    print(f"| alttext OCR, photos and drawings | {spread([row['cpu'] for row in without])} |")
    if stock is not None:
        print(f"| stock rapidocr, images with text | {spread([s for s, row in zip(stock, rows) if row in with_text])} |")
        print(f"| stock rapidocr, photos and drawings | {spread([s for s, row in zip(stock, rows) if row in without])} |")
    for name, seconds in (caption or {}).items():
        print(f"| {name}, reference architecture | {seconds:.3f} (mean) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

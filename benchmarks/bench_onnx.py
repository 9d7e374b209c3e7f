"""The onnx back end against alttext's torch loop and the model card's code, in one run.

    python benchmarks/bench_onnx.py [--images 32] [--repeats 3] [--decoders merged|separate] [--install-size]

Builds the default model's architecture with seeded random weights (as bench_caption.py does),
exports it with `alttext export-onnx`'s own code (fp32 and dynamic int8, the decoders merged as
the command writes them by default), and runs, each in its
own process so that its peak memory (RSS high-water mark, model included) is its own:

- reference batch 8: the model card's code (`generate`, beams 4);
- alttext torch fp32 / int8: `TorchModel` (the fast loop; int8 through torch's dynamic quantization);
- alttext onnx fp32 / int8: `OnnxRuntimeModel` in a process where torch cannot be imported.

Every configuration generates exactly 16 tokens per image (min_length = max_length = 16) with
beams 4 on synthetic 640x480 JPEG photos; agreement is counted against alttext's torch fp32 ids
(which equal the reference's). `--install-size` also installs `alttext[caption-onnx]` and
`alttext[caption]` into fresh virtual environments and reports their sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_caption import (  # noqa: E402
    REPO,
    TOKENS,
    alttext_settings,
    as_loaded,
    build_model,
    make_images,
    open_images,
    peak_rss_mb,
    run_child,
    run_reference,
    token_agreement,
)

ARCHITECTURE = HERE / "reference-model"  # the default model's config.json and preprocessor_config.json
CONFIGS = [  # (name, kind)
    ("reference batch 8 (model card)", "reference"),
    ("alttext torch fp32", "torch"),
    ("alttext torch int8", "torch-int8"),
    ("alttext onnx fp32", "onnx"),
    ("alttext onnx int8", "onnx-int8"),
]


def export(folder: Path, architecture: Path, layout: str) -> None:
    """The random-weight model as an ONNX folder with int8 copies and the files the loader reads,
    its decoders `merged` (the default export) or `separate`."""
    from tokenizers import Tokenizer, models

    from alttext.caption.onnx_export import write_graphs

    model, processor = build_model(architecture, "cpu", "float32")
    write_graphs(model, folder, int8=True, merged=layout == "merged")
    model.config.save_pretrained(folder)
    model.generation_config.save_pretrained(folder)
    processor.save_pretrained(folder)
    Tokenizer(models.BPE()).save(str(folder / "tokenizer.json"))  # ids only: the text is never read


def child(options: argparse.Namespace) -> None:
    kind = options.kind
    images = make_images(options.count)
    settings = alttext_settings(4)
    if kind.startswith("onnx"):
        sys.modules["torch"] = None  # type: ignore[assignment] - the onnx back end must not need it
        from alttext.caption.backends import OnnxRuntimeModel

        backend = OnnxRuntimeModel.load(str(options.folder), device="cpu", dtype=None,
                                        quantize="int8" if kind == "onnx-int8" else None, revision=None)
    else:
        import torch

        from alttext.caption.backends import TorchModel
        from alttext.caption.heap import keep_freed_memory
        from alttext.caption.model import _set_cpu_threads

        keep_freed_memory()
        _set_cpu_threads(torch.device("cpu"))
        model, processor = build_model(options.architecture, "cpu", "float32")
        if kind == "reference":
            run_reference(model, processor, images[:8], 8, 4, "cpu")
            runs = [run_reference(model, processor, images, 8, 4, "cpu") for _ in range(options.repeats)]
            report(runs, len(images))
            return
        backend = TorchModel(as_loaded(model, processor, "int8" if kind == "torch-int8" else None))
    step = backend.batch_size(settings)

    def timed() -> tuple[list, float]:
        ids: list = []
        started = time.perf_counter()
        for start in range(0, len(images), step):
            pixels = backend.preprocess(open_images(images[start : start + step]))
            ids.extend(backend.generate_ids(pixels, settings, None))
        return ids, time.perf_counter() - started

    backend.generate_ids(backend.preprocess(open_images(images[:step])), settings, None)  # warm-up
    report([timed() for _ in range(options.repeats)], len(images))


def report(runs: list[tuple[list, float]], count: int) -> None:
    ids = runs[0][0]
    if any(other != ids for other, _ in runs[1:]):
        raise SystemExit("repeated runs gave different token ids")
    print(json.dumps({"ids": ids, "seconds": sorted(seconds for _, seconds in runs), "images": count,
                      "peak_rss_mb": peak_rss_mb()}))


def run_config(name: str, kind: str, options: argparse.Namespace, folder: Path) -> dict:
    command = [sys.executable, __file__, "--child", "--kind", kind, "--count", str(options.images),
               "--repeats", str(options.repeats), "--folder", str(folder),
               "--architecture", str(options.architecture)]
    data = run_child(command, f"{name} ({options.images} images)")
    seconds = data["seconds"]
    data.update(name=name, rate=data["images"] / seconds[len(seconds) // 2],
                range=f"{data['images'] / seconds[-1]:.2f}–{data['images'] / seconds[0]:.2f}")
    return data


def install_sizes() -> list[tuple[str, float, float]]:
    """(extra, MiB in site-packages, seconds) for fresh venvs; torch==2.13.0 (the CPU build) first
    for the caption extra, as the README says."""
    rows = []
    for extra, first in (("caption-onnx", None), ("caption", "torch==2.13.0")):
        with tempfile.TemporaryDirectory() as venv:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            pip = [str(Path(venv) / "bin" / "python"), "-m", "pip", "install", "-q"]
            if first:
                subprocess.run([*pip, first], check=True, capture_output=True)
            subprocess.run([*pip, f"{REPO}[{extra}]"], check=True, capture_output=True)
            seconds = time.perf_counter() - started
            site = next(Path(venv).glob("lib/python*/site-packages"))
            size = sum(path.stat().st_size for path in site.rglob("*") if path.is_file()) / 2**20
            rows.append((extra, size, seconds))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--architecture", type=Path, default=ARCHITECTURE)
    parser.add_argument("--install-size", action="store_true")
    parser.add_argument("--decoders", choices=("merged", "separate"), default="merged",
                        help="the export's decoder layout (default: merged, as alttext export-onnx writes)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        child(options)
        return 0
    started, load_before = time.perf_counter(), os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="alttext-onnx-bench-"))
    try:
        print("exporting the random-weight model (fp32 and int8)...", file=sys.stderr, flush=True)
        export(folder, options.architecture, options.decoders)
        rows = [run_config(name, kind, options, folder) for name, kind in CONFIGS]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    fp32 = rows[1]["ids"]
    print(f"\nCPU: {os.cpu_count()} cores; load average before {load_before[0]:.2f}, after "
          f"{os.getloadavg()[0]:.2f}; {options.decoders} decoders; beams 4, {TOKENS} tokens per image, {options.images} images; "
          f"median of {options.repeats} timed runs.\n")
    print("| configuration | images/s (median) | range | x model card | peak RSS MiB | agreement with torch fp32 |")
    print("|---|---:|---:|---:|---:|---|")
    for data in rows:
        same = sum(a == b for a, b in zip(data["ids"], fp32))
        print(f"| {data['name']} | {data['rate']:.2f} | {data['range']} | {data['rate'] / rows[0]['rate']:.2f} "
              f"| {data['peak_rss_mb']:.0f} | {same}/{len(fp32)} images equal; {token_agreement(data['ids'], fp32)} |")
    if options.install_size:
        print("\n| install | MiB in site-packages | seconds |\n|---|---:|---:|")
        for extra, size, seconds in install_sizes():
            print(f"| alttext[{extra}] | {size:.0f} | {seconds:.0f} |")
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

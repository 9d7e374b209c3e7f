"""Captioning speed, memory and exactness: the model card's code against alttext, in one run.

    python benchmarks/bench_caption.py [--images 96] [--reference-images 8] [--batch-size N] [--rows precision]

The default model (nlpconnect/vit-gpt2-image-captioning) cannot be downloaded here, and its
speed does not depend on its weights' values, so this builds the same architecture with random
weights (seed 0) from reference-model/config.json next to this script, with its image processor. Every
configuration generates exactly 16 tokens per image (min_length = max_length = 16) on
synthetic 640x480 JPEG photos, and runs in its own process so its peak memory (RSS high-water
mark, model included) is its own. Each configuration is timed --repeats times (default 3) after
a warm-up call of the timed calls' size; the table gives the median and the range, since a
shared machine's speed drifts by 10-20% from one minute to the next. Configurations:

- reference predict_step: the model card's code, one image per `generate` call, beams 4
  (slow: timed on the first --reference-images images only);
- reference batch 8: the same code with 8 images per call; its token ids are the reference
  for alttext's beam search on every image;
- alttext fp32 beams 4 / greedy / int8 beams 4: `preprocess` + `generate_ids`;
- generate greedy / generate int8 (not in the table): the token ids that alttext's greedy
  run must equal, and that its int8 run is compared with. Dynamic int8 quantizes each matrix
  product's input with one scale for all its rows, so int8 ids depend on how rows are grouped
  and are not expected to equal generate's; the table shows how many do, and how many tokens
  match the fp32 captions (random weights make near-ties common, so this understates the
  fidelity on a trained model). Its peak RSS is below fp32's: layers are quantized one at a
  time and the fp32 weights' memory is given back;
- alttext bf16 / fp16 beams 4 and generate bf16 / fp16: on the CPU, alttext's loop against
  `generate` on the same weights and images in reduced precision (--reference-images images,
  batches of 8), as images with equal ids and the share of equal tokens.

With a GPU, alttext fp16 and the reference also run there. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_ARCHITECTURE = HERE / "reference-model"
TOKENS = 16


def build_model(folder: Path, device: str, dtype: str) -> tuple:
    """The real architecture with seeded random weights, and its image processor."""
    import torch
    from transformers import (
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTImageProcessor,
    )

    torch.manual_seed(0)
    model = VisionEncoderDecoderModel(VisionEncoderDecoderConfig.from_pretrained(folder)).eval()
    model = model.to(device=device, dtype=getattr(torch, dtype))
    processor = ViTImageProcessor.from_pretrained(folder)
    return model, processor


def make_images(count: int) -> list[bytes]:
    """Synthetic 640x480 photos as JPEG files' bytes: noise, gradients and shapes, all different.

    Like the model card's code, each run opens its images a batch at a time, so memory holds
    one batch of decoded images, not all of them.
    """
    from PIL import Image, ImageDraw

    files = []
    for index in range(count):
        image = Image.effect_noise((640, 480), 30 + index).convert("RGB")
        gradient = Image.linear_gradient("L").resize((640, 480)).rotate(index * 11)
        image = Image.blend(image, Image.merge("RGB", (gradient, gradient.rotate(90), gradient)), 0.6)
        draw = ImageDraw.Draw(image)
        draw.ellipse((20 * index % 400, 30, 20 * index % 400 + 200, 260), fill=(index * 8 % 256, 120, 200))
        file = io.BytesIO()
        image.save(file, "JPEG", quality=90)
        files.append(file.getvalue())
    return files


def open_images(files: list[bytes]) -> list:
    from PIL import Image

    return [Image.open(io.BytesIO(data)).convert("RGB") for data in files]


def peak_rss_mb() -> float:
    """This process's own peak RSS. Linux's ru_maxrss keeps the parent's peak across fork and
    exec, so a child started by a parent that built a large model would report the parent's;
    VmHWM belongs to the process's own memory map."""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def generate_kwargs(beams: int) -> dict:
    return {"max_length": TOKENS, "min_length": TOKENS, "num_beams": beams}


def run_reference(model, processor, images, batch: int, beams: int, device: str) -> tuple[list, float]:
    """The model card's predict_step: processor, generate, per `batch` images."""
    import torch

    ids: list = []
    started = time.perf_counter()
    for start in range(0, len(images), batch):
        pixel_values = processor(images=open_images(images[start : start + batch]), return_tensors="pt").pixel_values
        pixel_values = pixel_values.to(device=device, dtype=model.dtype)
        with torch.no_grad():
            ids.extend(model.generate(pixel_values, **generate_kwargs(beams)).tolist())
    return ids, time.perf_counter() - started


def as_loaded(model, processor, quantize: str | None):
    """The model as alttext's loader prepares it (quantized, or with the CPU's fast products)."""
    from alttext.caption.model import LoadedModel, place_model

    device, dtype = next(model.parameters()).device, next(model.parameters()).dtype
    model = place_model(model, device, dtype, quantize)
    return LoadedModel(model=model, image_processor=processor, tokenizer=None, model_id="random",
                       revision="random", device=device, dtype=dtype, quantized=quantize)


def alttext_settings(beams: int):
    from alttext.caption.generate import GenerationSettings

    return GenerationSettings(max_length=TOKENS, min_length=TOKENS, num_beams=beams, no_repeat_ngram_size=0)


def run_alttext(loaded, images, beams: int, batch: int | None) -> tuple[list, float]:
    from alttext.caption.generate import (
        generate_ids,
        preprocess,
        recommended_batch_size,
    )

    settings = alttext_settings(beams)
    step = batch or recommended_batch_size(loaded, settings)
    ids: list = []
    started = time.perf_counter()
    for start in range(0, len(images), step):
        ids.extend(generate_ids(loaded, preprocess(loaded, open_images(images[start : start + step])), settings))
    return ids, time.perf_counter() - started


def child(options: argparse.Namespace) -> None:
    """Run one configuration in this process; print its result as JSON."""
    import torch

    from alttext.caption.generate import recommended_batch_size
    from alttext.caption.heap import keep_freed_memory
    from alttext.caption.model import _set_cpu_threads

    device, kind, beams = options.device, options.kind, options.beams
    if kind.startswith("alttext") and device == "cpu":
        keep_freed_memory()  # as Captioner does when it is made
    _set_cpu_threads(torch.device(device))
    model, processor = build_model(options.architecture, device, options.dtype)
    images = make_images(options.count)
    # The warm-up runs one call of the timed run's size, so one-time costs (oneDNN compiles a
    # kernel per new matrix shape) stay out of the timing, for every configuration alike.
    if kind == "reference":
        run_reference(model, processor, images[: options.batch], options.batch, beams, device)
        timed = lambda: run_reference(model, processor, images, options.batch, beams, device)
    elif kind == "agreement":  # one loaded model, both decoders, each run once
        loaded = as_loaded(model, processor, None)
        generated, _ = run_reference(model, processor, images, options.batch, beams, device)
        timed = lambda: run_alttext(loaded, images, beams, options.batch)
    elif kind == "generate-int8":
        int8_model = as_loaded(model, processor, "int8").model
        timed = lambda: run_reference(int8_model, processor, images, 8, beams, device)
    else:
        loaded = as_loaded(model, processor, "int8" if kind == "alttext-int8" else None)
        step = options.batch or recommended_batch_size(loaded, alttext_settings(beams))
        run_alttext(loaded, images[:step], beams, options.batch)
        timed = lambda: run_alttext(loaded, images, beams, options.batch)
    runs = [timed() for _ in range(options.repeats)]
    ids = runs[0][0]
    if any(other != ids for other, _ in runs[1:]):
        raise SystemExit(f"{kind}: repeated runs gave different token ids")
    extra = {"generate_ids": generated} if kind == "agreement" else {}
    print(json.dumps({**extra, "ids": ids, "seconds": sorted(seconds for _, seconds in runs), "images": len(images),
                      "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads()}))


def run_child(command: list[str], label: str) -> dict:
    """Run a benchmark's `--child` command in its own process (its own peak memory) and return
    the JSON object it prints last; a failure stops the benchmark with the child's stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    print(f"running {label}...", file=sys.stderr, flush=True)
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{label} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_config(name: str, kind: str, count: int, beams: int, options, *, batch: int | None = None,
               device: str = "cpu", dtype: str = "float32") -> dict:
    command = [sys.executable, __file__, "--child", "--kind", kind, "--count", str(count), "--beams", str(beams),
               "--device", device, "--dtype", dtype, "--architecture", str(options.architecture),
               "--repeats", str(1 if kind in ("generate-int8", "agreement") or name.endswith("(ids only)")
                                else options.repeats)]
    if batch:
        command += ["--batch", str(batch)]
    data = run_child(command, f"{name} ({count} images)")
    data["name"] = name
    seconds = data["seconds"]
    data["rate"] = data["images"] / seconds[len(seconds) // 2]  # the median run
    data["range"] = f"{data['images'] / seconds[-1]:.2f}–{data['images'] / seconds[0]:.2f}"
    return data


def exactness(ids: list, expected: list) -> str:
    compared = min(len(ids), len(expected))
    same = sum(ids[index] == expected[index] for index in range(compared))
    return f"{same}/{compared} images equal"


def token_agreement(ids: list, expected: list, of: str = "fp32") -> str:
    pairs = [(a, b) for row, other in zip(ids, expected) for a, b in zip(row, other)]
    return f"{100 * sum(a == b for a, b in pairs) / max(1, len(pairs)):.0f}% tokens as {of}"


def reduced_precision_rows(options) -> list[tuple[dict, str]]:
    """bf16 and fp16 on the CPU: alttext's loop against `generate` on the same loaded model and images."""
    rows = []
    for dtype, label in (("bfloat16", "bf16"), ("float16", "fp16")):
        data = run_config(f"alttext {label} beams 4", "agreement", options.reference_images, 4, options,
                          batch=8, dtype=dtype)
        note = (f"{exactness(data['ids'], data['generate_ids'])} to {label} generate; "
                f"{token_agreement(data['ids'], data['generate_ids'], label + ' generate')}")
        rows.append((data, note))
    return rows


def cpu_rows(options) -> list[tuple[dict, str]]:
    count, ref_count, batch = options.images, options.reference_images, options.batch_size
    card = run_config("reference predict_step (1 image/call)", "reference", ref_count, 4, options, batch=1)
    card8 = run_config("reference batch 8", "reference", count, 4, options, batch=8)
    beams = run_config("alttext fp32 beams 4", "alttext", count, 4, options, batch=batch)
    greedy = run_config("alttext fp32 greedy", "alttext", count, 1, options, batch=batch)
    greedy_ref = run_config("generate greedy (ids only)", "reference", count, 1, options, batch=8)
    int8 = run_config("alttext int8 beams 4", "alttext-int8", count, 4, options, batch=batch)
    int8_ref = run_config("generate int8 (ids only)", "generate-int8", ref_count, 4, options)
    # Every configuration generates exactly TOKENS tokens, so rows compare without trimming.
    return [
        (card, f"{exactness(card['ids'], card8['ids'])} to batch 8"),
        (card8, "reference ids"),
        (beams, f"{exactness(beams['ids'], card8['ids'])} to reference"),
        (greedy, f"{exactness(greedy['ids'], greedy_ref['ids'])} to generate greedy"),
        (int8, (f"{exactness(int8['ids'], int8_ref['ids'])} to int8 generate; "
                f"{token_agreement(int8['ids'], beams['ids'])}")),
        *reduced_precision_rows(options),
    ]


def precision_rows(options) -> list[tuple[dict, str]]:
    """fp32 against int8 (speed, peak memory, agreement), then bf16 and fp16 agreement."""
    beams = run_config("alttext fp32 beams 4", "alttext", options.images, 4, options, batch=options.batch_size)
    int8 = run_config("alttext int8 beams 4", "alttext-int8", options.images, 4, options, batch=options.batch_size)
    return [(beams, "fp32 ids"), (int8, token_agreement(int8["ids"], beams["ids"])), *reduced_precision_rows(options)]


def gpu_rows(options) -> list[tuple[dict, str]]:
    count = options.images * 4
    card = run_config("GPU reference batch 8 fp32", "reference", count, 4, options, batch=8, device="cuda")
    fast = run_config("GPU alttext fp16 beams 4", "alttext", count, 4, options, device="cuda", dtype="float16")
    return [(card, "reference ids"), (fast, "fp16 (not compared)")]


def table(rows: list[tuple[dict, str]], reference_rate: float) -> str:
    lines = ["| configuration | images | images/s (median) | range | x reference | peak RSS MB | exactness |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for data, note in rows:
        lines.append(f"| {data['name']} | {data['images']} | {data['rate']:.2f} | {data['range']} "
                     f"| {data['rate'] / reference_rate:.2f} | {data['peak_rss_mb']:.0f} | {note} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96,
                        help="images per configuration (default 96: whole alttext batches on 2 cores, "
                             "32 for beams 4 and 48 for greedy)")
    parser.add_argument("--reference-images", type=int, default=8, help="images for the slow one-per-call reference")
    parser.add_argument("--batch-size", type=int, default=None, help="alttext batch size (default: its own)")
    parser.add_argument("--architecture", type=Path, default=DEFAULT_ARCHITECTURE)
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per configuration; the table shows the median and the range")
    parser.add_argument("--rows", choices=("all", "precision"), default="all",
                        help="precision: only the fp32, int8, bf16 and fp16 rows (agreement and peak memory)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--beams", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.child:
        child(options)
        return 0
    started = time.perf_counter()
    load_before = os.getloadavg()
    rows = cpu_rows(options) if options.rows == "all" else precision_rows(options)
    reference_rate = rows[0][0]["rate"]
    print(f"\nCPU: {os.cpu_count()} cores, {rows[0][0]['threads']} torch threads; load average before "
          f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; {TOKENS} tokens per image; "
          f"reference predict_step timed on {options.reference_images} images, the rest on {options.images}; "
          f"median of {options.repeats} timed runs per configuration.\n")
    print(table(rows, reference_rate))
    if has_cuda():
        gpu = gpu_rows(options)
        print("\nGPU:\n")
        print(table(gpu, gpu[0][0]["rate"]))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


def has_cuda() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                           capture_output=True, text=True, check=False)
    return probe.stdout.strip() == "True"


if __name__ == "__main__":
    raise SystemExit(main())

"""Captioning throughput on Spark local[1] and local[2] against the single-process CLI, one run.

    python benchmarks/bench_spark.py [--images 24] [--model full|tiny|DIR]

Every configuration captions the same synthetic 640x480 JPEG photos, all distinct, with no
cache, on the CPU:

- `alttext caption` (whole process: start, model load, captioning), all cores in one process;
- the same Captioner in this process, model already loaded (the CLI's steady state);
- alttext.spark on local[1] and local[2]: a cold job (Python workers start and load the model)
  and a warm job (workers reused, model loaded): the steady state of a long job.

Per-core throughput divides by the cores each configuration keeps busy (the CLI and
local[2]: 2; local[1]: 1). CPU seconds per image (user + system: of the CLI process, of this
process for the in-process run, of the JVM and Spark's Python workers for a job) do not depend
on how busy a shared machine is, unlike wall-clock figures. `--model full` (default) builds the default model's architecture
with random weights from benchmarks/reference-model (957 MB); `tiny` the test model. Prints a
markdown table and the load average, since wall-clock figures on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
REFERENCE = HERE / "reference-model"
CORES = os.cpu_count() or 1


def full_size_model(folder: Path) -> Path:
    """The default architecture, random weights (seed 0), a word-level tokenizer of its vocabulary size."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTImageProcessor,
    )

    config = VisionEncoderDecoderConfig.from_pretrained(REFERENCE)
    torch.manual_seed(0)
    model = VisionEncoderDecoderModel(config).eval()
    end = config.decoder.eos_token_id if config.decoder.eos_token_id is not None else 50256
    for name in ("decoder_start_token_id", "pad_token_id", "eos_token_id", "bos_token_id"):
        setattr(model.generation_config, name, end)
    model.save_pretrained(folder)
    vocabulary = {f"w{index}": index for index in range(config.decoder.vocab_size) if index != end}
    words = Tokenizer(models.WordLevel({**vocabulary, "<|endoftext|>": end}, unk_token="<|endoftext|>"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    special = dict.fromkeys(("eos_token", "bos_token", "unk_token", "pad_token"), "<|endoftext|>")
    PreTrainedTokenizerFast(tokenizer_object=words, **special).save_pretrained(folder)
    ViTImageProcessor.from_pretrained(REFERENCE).save_pretrained(folder)
    return folder


def write_images(folder: Path, count: int) -> list[str]:
    from PIL import Image, ImageDraw

    paths = []
    for index in range(count):
        image = Image.effect_noise((640, 480), 30 + index).convert("RGB")
        draw = ImageDraw.Draw(image)
        draw.ellipse((20 * index % 400, 30, 20 * index % 400 + 200, 260), fill=(index * 8 % 256, 120, 200))
        file = io.BytesIO()
        image.save(file, "JPEG", quality=90)
        path = folder / f"photo{index:04d}.jpg"
        path.write_bytes(file.getvalue())
        paths.append(str(path))
    return paths


class Timed:
    """Wall seconds and CPU seconds (user + system, of this process or of its descendants)."""

    def __init__(self, cpu: Callable[[], float]) -> None:
        self.cpu = cpu

    def __enter__(self) -> Timed:  # noqa: PYI034 - Self needs Python 3.11
        self.started, self.cpu_started = time.perf_counter(), self.cpu()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall, self.cpu_seconds = time.perf_counter() - self.started, self.cpu() - self.cpu_started


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def descendants_cpu() -> float:
    """CPU seconds of every live descendant (the JVM, Spark's Python daemon and workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    mine, total, frontier = {os.getpid()}, 0.0, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in mine:
                mine.add(pid)
                frontier.append(pid)
                total += times[pid]
    return total


def time_cli(model: Path, images: list[str]) -> tuple[Timed, list[str]]:
    command = [sys.executable, "-m", "alttext", "caption", "--model", str(model), "--device", "cpu",
               "--no-cache", *images]
    with Timed(children_cpu) as timed:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    return timed, done.stdout.splitlines()


def time_in_process(model: Path, images: list[str]) -> tuple[Timed, list[str]]:
    from alttext.caption.captioner import Captioner

    captioner = Captioner(str(model), device="cpu", cache=None, progress=False)
    captioner.caption(images[:2])  # load the model
    with Timed(time.process_time) as timed:
        captions = captioner.caption(images)
    return timed, captions


def time_spark(master: str, model: Path, images: list[str]) -> tuple[Timed, Timed, list[str]]:
    """(cold job, warm job, captions in image order) on a fresh session."""
    from pyspark.sql import SparkSession

    from alttext.spark import caption_images

    session = (SparkSession.builder.master(master).appName("alttext bench")
               .config("spark.pyspark.python", sys.executable).config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        frame = session.read.format("binaryFile").load(images)
        times, captions = [], {}
        for _ in ("cold", "warm"):
            with Timed(descendants_cpu) as timed:
                rows = caption_images(frame, model=model, device="cpu").collect()
            times.append(timed)
            captions = {row.path.removeprefix("file:"): row.caption for row in rows}
        return times[0], times[1], [captions.get(image) or "" for image in images]
    finally:
        session.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--model", default="full", help="full (default), tiny, or a model folder")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="alttext-bench-spark-") as scratch:
        work = Path(scratch)
        (work / "images").mkdir()
        images = write_images(work / "images", args.images)
        model = _model(args.model, work / "model")
        cli, cli_captions = time_cli(model, images)
        steady, steady_captions = time_in_process(model, images)
        spark = {master: time_spark(master, model, images) for master in ("local[1]", "local[2]")}
    same = all(captions == cli_captions for captions in [steady_captions, *(run[2] for run in spark.values())])
    _print(args, len(images), cli, steady, spark, same, load_before)
    return 0 if same else 1


def _model(choice: str, folder: Path) -> Path:
    if choice == "full":
        return full_size_model(folder)
    if choice == "tiny":
        from tests.tiny_model import build_tiny_captioning_model

        return build_tiny_captioning_model(folder)
    return Path(choice)


def _print(args: argparse.Namespace, count: int, cli: Timed, steady: Timed,
           spark: dict[str, tuple[Timed, Timed, list[str]]], same: bool, load_before: tuple[float, ...]) -> None:
    rows = [("alttext caption (whole process)", cli, CORES), ("Captioner in process, model loaded", steady, CORES)]
    for master, (cold, warm, _) in spark.items():
        cores = int(master[len("local["):-1])
        rows += [(f"spark {master}, cold job", cold, cores), (f"spark {master}, warm job", warm, cores)]
    print(f"{count} images 640x480, model {args.model}, {CORES} CPUs, load average "
          f"{load_before[0]:.1f} before / {os.getloadavg()[0]:.1f} after\n")
    print("| configuration | wall s | images/s | images/s per core | CPU s per image |")
    print("|---|---:|---:|---:|---:|")
    for name, timed, cores in rows:
        print(f"| {name} | {timed.wall:.1f} | {count / timed.wall:.2f} | {count / timed.wall / cores:.2f} "
              f"| {timed.cpu_seconds / count:.2f} |")
    one, two = (count / spark[master][1].wall for master in ("local[1]", "local[2]"))
    per_core = count / steady.wall / CORES
    print(f"\nwarm local[2] / local[1]: {two / one:.2f}x (goal >= 1.6x); warm local[2] per core / in-process "
          f"per core: {two / 2 / per_core:.2f} (goal >= 0.8)")
    cpu = {master: spark[master][1].cpu_seconds / count for master in spark}
    print(f"CPU s per image (robust to load): in-process {steady.cpu_seconds / count:.2f}, "
          f"local[1] {cpu['local[1]']:.2f}, local[2] {cpu['local[2]']:.2f}")
    print(f"captions equal across all configurations: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    raise SystemExit(main())

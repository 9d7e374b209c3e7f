"""The openai back end's own cost per image, next to the default model's, in one run.

    python benchmarks/bench_prompted.py [--images 24] [--server-delay 0.2]

A loopback OpenAI-compatible server (tests/openai_server.py, in its own process) answers every request after
--server-delay seconds, standing in for the model's time on a GPU box; what is left is alttext's
side: reading and hashing the image, building the prompt, re-encoding the image as a data: URI,
the HTTP round trip and reading the answer. Rows:

- openai, concurrency 1 / 4 / 8: `Captioner(backend="openai")` on the same synthetic 640x480
  JPEG photos (no cache, no OCR): wall time and this process's CPU time per image;
- openai, cached re-run: the same images again with a warm cache, the server's address now
  unreachable (0 errors: nothing was sent);
- default model fp32 beams 4: alttext's encoder-decoder path (the default architecture with
  random weights, as bench_caption.py builds it), preprocessing and generation, on the same images.

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_caption import DEFAULT_ARCHITECTURE, as_loaded, build_model, make_images, run_alttext  # noqa: E402


def run_openai(paths: list[str], url: str, concurrency: int, cache: Path | bool) -> tuple[float, float, int]:
    """(wall s, CPU s, errors) for one Captioner run over `paths`."""
    from alttext.caption.captioner import Captioner

    captioner = Captioner("bench-model", backend="openai", api_base=url, concurrency=concurrency, cache=cache,
                          ocr="off", progress=False)
    wall, cpu = time.perf_counter(), time.process_time()
    results = captioner.caption_results(paths)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    captioner.close()
    return wall, cpu, sum(result.error is not None for result in results)


@contextmanager
def _server(delay: float) -> Iterator[str]:
    """The loopback server in a process of its own, so its CPU time is not counted as ours."""
    process = subprocess.Popen([sys.executable, "-m", "tests.openai_server", "--delay", str(delay)],
                               cwd=HERE.parent, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait()


def run_default(files: list[bytes]) -> tuple[float, float]:
    model, processor = build_model(DEFAULT_ARCHITECTURE, "cpu", "float32")
    loaded = as_loaded(model, processor, None)
    run_alttext(loaded, files[:2], 4, 8)  # warm-up
    cpu = time.process_time()
    _, wall = run_alttext(loaded, files, 4, 8)
    return wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--server-delay", type=float, default=0.2, help="seconds the server takes per answer")
    parser.add_argument("--skip-default", action="store_true", help="leave out the default model's row")
    options = parser.parse_args(argv)
    files = make_images(options.images)
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory() as folder, _server(options.server_delay) as url:
        paths = []
        for number, data in enumerate(files):
            path = Path(folder) / f"photo-{number}.jpg"
            path.write_bytes(data)
            paths.append(str(path))
        for concurrency in (1, 4, 8):
            wall, cpu, errors = run_openai(paths, url, concurrency, False)
            rows.append((f"openai, concurrency {concurrency}", wall, cpu, f"{errors} errors"))
        run_openai(paths, url, 4, Path(folder) / "cache")
        wall, cpu, errors = run_openai(paths, "http://127.0.0.1:9/v1", 4, Path(folder) / "cache")
        rows.append(("openai, cached re-run", wall, cpu, f"server unreachable, {errors} errors"))
    if not options.skip_default:
        wall, cpu = run_default(files)
        rows.append(("default model fp32 beams 4 (CPU)", wall, cpu, "in-process"))
    count = options.images
    print(f"{count} images 640x480 JPEG; server delay {options.server_delay:g} s per answer\n")
    print("| configuration | images/s | wall ms/image | CPU ms/image | notes |")
    print("|---|---:|---:|---:|---|")
    for name, wall, cpu, note in rows:
        print(f"| {name} | {count / wall:.1f} | {1000 * wall / count:.1f} | {1000 * cpu / count:.1f} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`alttext serve` under 1, 8 and 32 concurrent clients against in-process batch captioning, one run.

    python benchmarks/bench_serve.py [--images 64] [--model full|tiny|DIR] [--clients 1,8,32]

Both sides caption the same synthetic 640x480 JPEG photos, all distinct, with no cache and
no OCR, on the CPU:

- in process: one `Captioner.caption_results` call over all the images, model loaded (the
  CLI's steady state), timed before and after the server runs; the reference is their mean,
  so load that drifts during the run is shared by both sides;
- `alttext serve` in a subprocess, model loaded by a warm-up request; N client threads each
  send one image at a time (chat completion, image as a data: URI) until all are answered.

Prints images/s, the share of in-process throughput, p50/p95 latency per request and the
server's CPU seconds per image (robust to a loaded machine, unlike wall-clock figures), and
checks that every answer equals the in-process caption. `--model full` (default) builds the
default model's architecture with random weights from benchmarks/reference-model; `tiny`
the test model.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_spark import REPO, Timed, _model, descendants_cpu, write_images  # noqa: E402

CORES = os.cpu_count() or 1


@dataclass
class Run:
    name: str
    wall: float
    cpu_per_image: float
    latencies: list[float]  # seconds per request; empty in process
    captions: list[str]
    batches: int = 0  # Captioner calls the server made (0 in process: one call)


class InProcess:
    """A loaded Captioner, timed over all the images at once."""

    def __init__(self, model: Path, images: list[str]) -> None:
        from alttext.caption.captioner import Captioner

        self.images = images
        self.captioner = Captioner(str(model), device="cpu", cache=None, ocr="off", progress=False)
        self.captioner.caption(images[:2])  # load the model

    def run(self, name: str) -> Run:
        with Timed(time.process_time) as timed:
            results = self.captioner.caption_results(self.images)
        _progress(name, timed.wall)
        return Run(name, timed.wall, timed.cpu_seconds / len(self.images), [],
                   [result.caption or "" for result in results])


class Served:
    """`alttext serve` on a free loopback port, with the same model and options."""

    def __init__(self, model: Path, max_batch: int, window_ms: float) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        command = [sys.executable, "-m", "alttext", "serve", "--model", str(model), "--device", "cpu", "--no-cache",
                   "--ocr", "off", "--port", str(self.port), "--max-batch", str(max_batch),
                   "--batch-window-ms", str(window_ms), "--log-level", "warning"]
        self.process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(REPO)})
        deadline = time.monotonic() + 300
        while not self._answers_health():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("alttext serve did not start")
            time.sleep(0.5)

    def _answers_health(self) -> bool:
        try:
            return self.ask("GET", "/health", None)[0] == 200
        except OSError:
            return False

    def ask(self, method: str, path: str, body: bytes | None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def caption(self, body: bytes) -> str:
        status, answer = self.ask("POST", "/v1/chat/completions", body)
        if status != 200:
            raise RuntimeError(f"alttext serve answered {status}: {answer}")
        return str(answer["choices"][0]["message"]["content"])

    def run(self, clients: int, bodies: list[bytes]) -> Run:
        """`clients` threads, each sending the next image as soon as its last one is answered."""
        captions: list[str] = [""] * len(bodies)
        latencies: list[float] = [0.0] * len(bodies)
        next_index = iter(range(len(bodies)))
        lock = threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                started = time.perf_counter()
                captions[index] = self.caption(bodies[index])
                latencies[index] = time.perf_counter() - started

        threads = [threading.Thread(target=client) for _ in range(clients)]
        batches = self.ask("GET", "/health", None)[1]["batches"]
        with Timed(descendants_cpu) as timed:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        batches = self.ask("GET", "/health", None)[1]["batches"] - batches
        name = f"alttext serve, {clients} client{'s' if clients > 1 else ''}"
        _progress(name, timed.wall)
        return Run(name, timed.wall, timed.cpu_seconds / len(bodies), latencies, captions, batches)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def _progress(name: str, wall: float) -> None:
    print(f"{name}: {wall:.1f} s", file=sys.stderr, flush=True)


def request_body(path: str) -> bytes:
    uri = "data:image/jpeg;base64," + base64.b64encode(Path(path).read_bytes()).decode()
    return json.dumps({"model": "alttext", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": uri}}]}]}).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=64, help="images per configuration (default: 64)")
    parser.add_argument("--model", default="full", help="full (default), tiny, or a model folder")
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients to try (default: 1,8,32)")
    parser.add_argument("--max-batch", type=int, default=32, help="the server's --max-batch (default: 32)")
    parser.add_argument("--batch-window-ms", type=float, default=100.0, help="the server's window (default: 100, "
                        "as alttext serve's)")
    args = parser.parse_args(argv)
    clients_list = [int(clients) for clients in args.clients.split(",")]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="alttext-bench-serve-") as scratch:
        images, model = _inputs(Path(scratch), args.images, args.model)
        reference = InProcess(model, images)
        before = reference.run("in process, before")
        server = Served(model, args.max_batch, args.batch_window_ms)
        try:
            bodies = [request_body(image) for image in images]
            server.caption(request_body(images[0]))  # load the model
            served = [server.run(clients, bodies[:_images_for(clients, len(bodies))]) for clients in clients_list]
        finally:
            server.stop()
        after = reference.run("in process, after")
    same = after.captions == before.captions and all(
        run.captions == before.captions[:len(run.captions)] for run in served)
    _print(args, len(images), before, after, served, same, load_before)
    return 0 if same else 1


def _inputs(work: Path, count: int, choice: str) -> tuple[list[str], Path]:
    """The images, written as JPEG files, and the model folder (built unless `choice` is a folder)."""
    (work / "images").mkdir()
    return write_images(work / "images", count), _model(choice, work / "model")


def _print(args: argparse.Namespace, count: int, before: Run, after: Run, served: list[Run], same: bool,
           load_before: tuple[float, ...]) -> None:
    reference = count / ((before.wall + after.wall) / 2)
    print(f"\n{count} images 640x480, model {args.model}, {CORES} CPUs, server --max-batch {args.max_batch} "
          f"--batch-window-ms {args.batch_window_ms:g}, load average {load_before[0]:.1f} before / "
          f"{os.getloadavg()[0]:.1f} after\n")
    print("| configuration | images | model calls | wall s | images/s | share of in-process | p50 latency s "
          "| p95 latency s | CPU s per image |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in [before, after, *served]:
        rate = len(run.captions) / run.wall
        p50, p95 = (f"{value:.2f}" for value in _percentiles(run.latencies)) if run.latencies else ("-", "-")
        calls = run.batches or "1"
        print(f"| {run.name} | {len(run.captions)} | {calls} | {run.wall:.1f} | {rate:.2f} | {rate / reference:.0%} | {p50} | {p95} "
              f"| {run.cpu_per_image:.2f} |")
    print(f"\nin-process reference (mean of before and after): {reference:.2f} images/s; goal: >= 85% at 32 clients")
    print(f"every served caption equals the in-process one: {'yes' if same else 'NO'}")


def _images_for(clients: int, count: int) -> int:
    """Few clients get fewer images: one image per model call costs as much as a batch on the CPU."""
    return min(count, max(8, 4 * clients))


def _percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")  # 5% steps: cuts[9] = p50, cuts[18] = p95
    return cuts[9], cuts[18]


if __name__ == "__main__":
    raise SystemExit(main())

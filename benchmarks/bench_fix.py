"""How long `alttext fix` takes over the fixtures/ tree: cold cache, warm cache, and the overhead
beyond captioning.

    python benchmarks/bench_fix.py                 # the tiny test model, built here
    python benchmarks/bench_fix.py --full-size     # the default model's architecture, random weights
    python benchmarks/bench_fix.py --model DIR     # any local captioning model folder

Rows (all in this run, on this machine):
- `alttext check` as a whole process: the floor (reading and scanning only);
- `alttext fix --dry-run`, cold cache, whole process: model load + captioning + the rest;
- the same in-process, split into phases: scanning and resolving, the captioner call,
  rewriting with verification, and the diff; "overhead" is everything but the captioner call;
- `alttext fix --dry-run`, warm cache, whole process: must load no model (torch is checked
  with -X importtime) and finish in under a second.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_spark import full_size_model  # noqa: E402  # the default architecture, saved like a download

CPU_TIMES: dict[int, list[float]] = {}


def whole_process(arguments: list[str], cwd: Path, runs: int, fresh_cache: Path | None = None) -> list[float]:
    """Wall times of `runs` runs; their CPU times (user + system) go to CPU_TIMES[id(result)]."""
    times, cpu = [], []
    for _ in range(runs):
        if fresh_cache is not None:
            shutil.rmtree(fresh_cache, ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "alttext", *arguments], cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode not in (0, 1):
            raise SystemExit(f"alttext {' '.join(arguments)} failed:\n{result.stderr.decode()[-2000:]}")
    CPU_TIMES[id(times)] = cpu
    return times


def imports_torch(arguments: list[str], cwd: Path) -> bool:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "alttext", *arguments], cwd=cwd,
                            capture_output=True, text=True, check=False)
    return any(line.rstrip().endswith((" torch", " transformers")) for line in result.stderr.splitlines())


class TimedCaptioner:
    """Wraps the real captioner and adds up the time spent inside it (model load included)."""

    def __init__(self, options: dict[str, object]) -> None:
        started = time.perf_counter()
        from alttext.caption.captioner import Captioner

        self.inner = Captioner(**options)  # type: ignore[arg-type]
        self.seconds = time.perf_counter() - started
        self.images = 0

    def caption_results(self, images: list[str | bytes]) -> list[object]:
        started = time.perf_counter()
        results = self.inner.caption_results(images)
        self.seconds += time.perf_counter() - started
        self.images += len(images)
        return results


def in_process_phases(tree: Path, model: str, cache: Path) -> dict[str, float]:
    from alttext.fix import run as pipeline
    from alttext.fix.diff import unified_diff

    os.chdir(tree)
    settings = pipeline.Settings(paths=(".",), root=".",
                                 captioner_options={"model": model, "device": "cpu", "cache": str(cache)})
    log = pipeline.Log(stream=io.StringIO())
    phases: dict[str, float] = {}
    started = time.perf_counter()
    collected = pipeline.collect(settings, log)
    phases["scan and resolve"] = time.perf_counter() - started
    timed: list[TimedCaptioner] = []

    def make(settings: pipeline.Settings) -> TimedCaptioner:
        timed.append(TimedCaptioner(dict(settings.captioner_options)))
        return timed[-1]

    started = time.perf_counter()
    pipeline.caption(collected, settings, log, make)
    caption_total = time.perf_counter() - started
    phases["captioner (load + generate)"] = timed[0].seconds if timed else 0.0
    phases["warnings and report"] = caption_total - phases["captioner (load + generate)"]
    started = time.perf_counter()
    proposals = pipeline.rewrites(collected, log)
    phases["rewrite and verify"] = time.perf_counter() - started
    started = time.perf_counter()
    for proposal in proposals:
        unified_diff(proposal.plan.path, proposal.plan.document.raw, proposal.data)
    phases["diff"] = time.perf_counter() - started
    phases["images captioned"] = float(timed[0].images if timed else 0)
    os.chdir(REPO)
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a local captioning model folder (default: build the tiny test model)")
    parser.add_argument("--full-size", action="store_true",
                        help="build the default model's architecture with random weights (957 MB) instead")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="alttext-bench-fix-") as scratch:
        work = Path(scratch)
        build = full_size_model if args.full_size else _tiny_model
        model = args.model or str(build(work / "model"))
        tree = work / "fixtures"
        shutil.copytree(REPO / "fixtures", tree)
        cache = work / "cache"
        model_args = ["--model", model, "--device", "cpu", "--cache", str(cache / "captions.sqlite")]
        fix = ["fix", "--dry-run", *model_args, "."]

        check = whole_process(["check", "."], tree, args.runs)
        cold = whole_process(fix, tree, max(1, args.runs // 2), fresh_cache=cache)
        shutil.rmtree(cache, ignore_errors=True)
        phases = in_process_phases(tree, model, cache / "captions.sqlite")
        warm = whole_process(fix, tree, args.runs)
        warm_torch = imports_torch(fix, tree)
    name = args.model or ("default architecture, random weights" if args.full_size else "tiny test model")
    _print(name, check, cold, warm, warm_torch, phases)
    return 0 if statistics.median(warm) < 1.0 and not warm_torch else 1


def _tiny_model(folder: Path) -> Path:
    from tests.tiny_model import build_tiny_captioning_model

    return build_tiny_captioning_model(folder)


def _print(model: str, check: list[float], cold: list[float], warm: list[float], warm_torch: bool,
           phases: dict[str, float]) -> None:
    def ms(values: list[float]) -> str:
        cpu = statistics.median(CPU_TIMES[id(values)]) * 1000
        return f"{statistics.median(values) * 1000:8.0f} ms (min {min(values) * 1000:.0f}, n={len(values)})  cpu {cpu:6.0f} ms"

    print(f"alttext fix over fixtures/ ({model}), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print(f"{'run':58} {'wall time, median':36} cpu (user+sys)")
    print(f"{'alttext check . (whole process, the floor)':58} {ms(check)}")
    print(f"{'alttext fix --dry-run ., cold cache (whole process)':58} {ms(cold)}")
    print(f"{'alttext fix --dry-run ., warm cache (whole process)':58} {ms(warm)}")
    print(f"{'  warm run imported torch/transformers':58} {'yes' if warm_torch else 'no'}")
    images = int(phases.pop("images captioned"))
    total = sum(phases.values())
    print(f"\ncold run in-process, by phase ({images} distinct images captioned):")
    for name, seconds in phases.items():
        print(f"  {name:56} {seconds * 1000:8.1f} ms")
    overhead = total - phases["captioner (load + generate)"]
    print(f"  {'total':56} {total * 1000:8.1f} ms")
    print(f"  {'overhead beyond captioning':56} {overhead * 1000:8.1f} ms "
          f"({overhead / total * 100:.1f} % of the cold run)")


if __name__ == "__main__":
    raise SystemExit(main())

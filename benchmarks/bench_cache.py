"""How long does `alttext caption` take over 1,000 images that are all in the caption cache?

    python benchmarks/bench_cache.py [--images 1000] [--runs 3]

Builds the tiny test model (tests/tiny_model.py) and 1,000 distinct images in a
temporary folder, for two image sizes (small web images and 640x480 photos);
captions every image once so the cache is warm; then times, as whole fresh
processes, best of --runs:

- `alttext caption --model DIR IMAGES...` with every image cached (loads no model),
- `python -c "import torch, transformers"`: what any run that loads a model pays
  before its first caption (the reference a cached run is compared with).

Prints a table; "model loaded" comes from the cached run's own output (every row
"cached": true) and from whether torch was imported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SIZES = {"small 160x120 PNG": ((160, 120), "png"), "photo 640x480 JPEG": ((640, 480), "jpg")}
PROBE = (
    "import json, sys\nfrom alttext.cli import main\ncode = main(sys.argv[1:])\n"
    "print(json.dumps({'code': code, 'torch': 'torch' in sys.modules}), file=sys.stderr)"
)


def make_images(folder: Path, count: int, size: tuple[int, int], suffix: str) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        image = Image.effect_noise(size, 20 + index % 60).convert("RGB")
        image.putpixel((index % size[0], index // size[0] % size[1]), (index % 256, 7, 9))  # all distinct
        path = folder / f"image{index:05d}.{suffix}"
        image.save(path, quality=85) if suffix == "jpg" else image.save(path)
        paths.append(path)
    return paths


def warm_cache(model_dir: Path, cache: Path, paths: list[Path]) -> float:
    """Caption every image once (the tiny model is fast); returns seconds taken."""
    sys.path.insert(0, str(REPO))
    from alttext.caption.captioner import Captioner

    started = time.perf_counter()
    captioner = Captioner(model_dir, cache=cache, device="cpu", progress=False)
    results = captioner.caption_results(paths)
    captioner.close()
    assert all(r.error is None for r in results), [r.error for r in results if r.error][:3]
    return time.perf_counter() - started


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def best_of(runs: int, command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    results = [timed(command, env, cwd) for _ in range(runs)]
    return min(results, key=lambda pair: pair[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    env.pop("ALTTEXT_CACHE", None)
    sys.path.insert(0, str(REPO))
    from tests.tiny_model import build_tiny_captioning_model

    rows = []
    with tempfile.TemporaryDirectory(prefix="alttext-bench-cache-") as scratch:
        root = Path(scratch)
        model_dir = build_tiny_captioning_model(root / "model")
        reference, _ = best_of(args.runs, [sys.executable, "-c", "import torch, transformers"], env, root)
        for label, (size, suffix) in SIZES.items():
            paths = make_images(root / suffix, args.images, size, suffix)
            megabytes = sum(path.stat().st_size for path in paths) / 1e6
            cache = root / f"cache-{suffix}.sqlite3"
            warm = warm_cache(model_dir, cache, paths)
            command = [sys.executable, "-c", PROBE, "caption", "--json", "--model", str(model_dir),
                       "--cache", str(cache), *map(str, paths)]
            seconds, done = best_of(args.runs, command, env, root)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            cached = all(row["cached"] for row in json.loads(done.stdout))
            loaded_torch = json.loads(done.stderr.splitlines()[-1])["torch"]
            rows.append((label, args.images, megabytes, warm, seconds, cached, loaded_torch))
    print(f"{'images':<22} {'count':>6} {'MB':>7} {'first run s':>12} {'cached run s':>13} "
          f"{'all cached':>11} {'torch imported':>15}")
    for label, count, megabytes, warm, seconds, cached, loaded_torch in rows:
        print(f"{label:<22} {count:>6} {megabytes:>7.1f} {warm:>12.2f} {seconds:>13.3f} {cached!s:>11} "
              f"{loaded_torch!s:>15}")
    print(f"{'reference: import torch, transformers (fresh process)':<61} {reference:>13.3f}")
    print(f"(best of {args.runs} fresh processes each; first run = the tiny test model captioning every image)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

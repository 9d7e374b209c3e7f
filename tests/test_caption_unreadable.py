"""Broken images are found before the model loads, and remembered by content in the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
from PIL import Image

from alttext.caption.cache import CaptionCache
from alttext.caption.captioner import Captioner
from alttext.caption.imageio import content_hash, reader_key
from tests.conftest import REPO_ROOT

RUN = textwrap.dedent("""
    import json, sys
    from alttext.caption.captioner import Captioner
    captioner = Captioner(sys.argv[1], cache=sys.argv[2], device="cpu")
    results = captioner.caption_results(sys.argv[3:])
    print(json.dumps({
        "errors": [r.error for r in results], "cached": [r.cached for r in results],
        "loads": captioner.model_loads, "torch": "torch" in sys.modules,
        "transformers": "transformers" in sys.modules,
    }))
""")


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for seed in range(2):
        path = paths[f"good{seed}"] = tmp_path / f"good{seed}.png"
        Image.effect_noise((40, 40), 30 + 40 * seed).convert("RGB").save(path)
    paths["empty"] = tmp_path / "empty.png"
    paths["empty"].write_bytes(b"")
    paths["truncated"] = tmp_path / "truncated.png"
    paths["truncated"].write_bytes(paths["good0"].read_bytes()[:120])
    paths["text"] = tmp_path / "notes.jpg"
    paths["text"].write_text("not an image at all\n")
    return paths


def run(model: Path, cache: Path, paths: list[Path]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", RUN, str(model), str(cache), *map(str, paths)],
                          env=env, capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout)


def test_broken_images_among_cached_ones_load_no_model(tiny_model_dir: Path, images: dict[str, Path],
                                                       tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    good = [images["good0"], images["good1"]]
    Captioner(tiny_model_dir, cache=cache, device="cpu").caption_results(good)
    broken = [images["empty"], images["truncated"], images["text"]]
    for attempt in ("found", "remembered"):
        result = run(tiny_model_dir, cache, [*good, *broken])
        assert result["loads"] == 0 and not result["torch"] and not result["transformers"], attempt
        assert result["cached"] == [True, True, False, False, False]
        errors = result["errors"][2:]
        assert result["errors"][:2] == [None, None]
        assert all(error.startswith(str(path)) for error, path in zip(errors, broken))
        assert "not an image format that can be read (0 bytes)" in errors[0]
        assert "corrupt or truncated" in errors[1]
        assert "not an image format" in errors[2]
    with CaptionCache(cache) as opened:
        hashes = [content_hash(path.read_bytes()) for path in broken]
        assert set(opened.unreadable(hashes, reader_key())) == set(hashes)
        assert opened.unreadable(hashes, "alttext-reader=fixed") == {}  # a new decoder tries again


def test_remembered_error_names_each_file_with_that_content(tiny_model_dir: Path, images: dict[str, Path],
                                                            tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    Captioner(tiny_model_dir, cache=cache, device="cpu").caption_results([images["truncated"]])
    copy = tmp_path / "elsewhere.png"
    copy.write_bytes(images["truncated"].read_bytes())
    captioner = Captioner(tiny_model_dir, cache=cache, device="cpu")
    results = captioner.caption_results([copy, images["truncated"]])
    assert captioner.model_loads == 0
    assert results[0].error is not None and results[0].error.startswith(f"{copy}: corrupt or truncated")
    assert results[1].error is not None and results[1].error.startswith(f"{images['truncated']}: corrupt")


def test_broken_image_found_while_captioning_is_remembered(tiny_model_dir: Path, images: dict[str, Path],
                                                           tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    first = Captioner(tiny_model_dir, cache=cache, device="cpu", batch_size=1)
    results = first.caption_results([images["good0"], images["text"]])  # the good one loads the model
    assert first.model_loads == 1 and results[0].caption is not None and results[1].error is not None
    again = Captioner(tiny_model_dir, cache=cache, device="cpu")
    results = again.caption_results([images["good0"], images["text"]])
    assert again.model_loads == 0 and results[0].cached and "not an image format" in (results[1].error or "")


def test_without_a_cache_broken_images_alone_load_no_model(tiny_model_dir: Path, images: dict[str, Path]) -> None:
    captioner = Captioner(tiny_model_dir, cache=None, device="cpu")
    results = captioner.caption_results([images["empty"], images["text"]])
    assert captioner.model_loads == 0 and all(result.error for result in results)

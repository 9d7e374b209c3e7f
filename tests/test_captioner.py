from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
from PIL import Image

from alttext.caption.cache import CaptionCache
from alttext.caption.captioner import (
    Captioner,
    CaptionError,
    ModelUnavailable,
    cached_hub_commit,
    model_identity,
)
from alttext.caption.clean import CLEANING_VERSION, clean_caption
from alttext.caption.generate import GenerationSettings
from tests.conftest import REPO_ROOT


def noise_image(seed: int, size: tuple[int, int] = (48, 40)) -> Image.Image:
    bands = [Image.effect_noise(size, 40 + 10 * ((seed + band) % 7)) for band in range(3)]
    return Image.merge("RGB", [band.rotate(seed * 37 % 360) for band in bands])


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for seed in range(7):
        path = folder / f"photo{seed}.{'jpg' if seed % 2 else 'png'}"
        noise_image(seed).save(path)
        paths.append(path)
    return paths


def reference_raw_captions(model_dir: Path, paths: list[Path], settings: GenerationSettings) -> list[str]:
    """The model card's way: open, convert to RGB, image processor, generate, decode."""
    import torch
    from transformers import (
        AutoImageProcessor,
        AutoTokenizer,
        VisionEncoderDecoderModel,
    )

    model = VisionEncoderDecoderModel.from_pretrained(model_dir).eval()
    processor = AutoImageProcessor.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    images = [Image.open(path).convert("RGB") for path in paths]
    pixel_values = processor(images=images, return_tensors="pt").pixel_values
    with torch.inference_mode():
        ids = model.generate(pixel_values, **settings.generate_kwargs())
    return [text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True)]


@pytest.mark.parametrize("batch_size", [pytest.param(None, id="default-batch"), pytest.param(1, id="batch-1"),
                                        pytest.param(3, id="batch-3-uneven")])
def test_captions_equal_the_model_cards_code(tiny_model_dir: Path, photos: list[Path], batch_size: int | None) -> None:
    captioner = Captioner(tiny_model_dir, batch_size=batch_size, cache=None, device="cpu")
    results = captioner.caption_results(photos)
    expected = reference_raw_captions(tiny_model_dir, photos, captioner.settings)
    assert [r.raw for r in results] == expected
    assert [r.caption for r in results] == [clean_caption(raw) for raw in expected]
    assert all(r.error is None and not r.cached and r.content_hash for r in results)
    assert captioner.images_captioned == len(photos) and captioner.model_loads == 1


def test_identical_bytes_are_captioned_once(tiny_model_dir: Path, photos: list[Path], tmp_path: Path) -> None:
    data = photos[0].read_bytes()
    copy = tmp_path / "copy-with-another-name.png"
    copy.write_bytes(data)
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    captioner = Captioner(tiny_model_dir, cache=None, device="cpu")
    results = captioner.caption_results([photos[0], copy, data, uri, str(photos[0]), photos[1]])
    assert captioner.images_captioned == 2
    assert len({r.caption for r in results[:5]}) == 1
    assert len({r.content_hash for r in results[:5]}) == 1 and results[5].content_hash != results[0].content_hash


def test_second_run_is_answered_by_the_cache(tiny_model_dir: Path, photos: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "captions.sqlite3"
    first = Captioner(tiny_model_dir, cache=cache, device="cpu").caption_results(photos)
    second_captioner = Captioner(tiny_model_dir, cache=cache, device="cpu")
    second = second_captioner.caption_results(photos)
    assert second_captioner.model_loads == 0 and second_captioner.images_captioned == 0
    assert all(r.cached for r in second) and not any(r.cached for r in first)
    assert [(r.caption, r.raw, r.content_hash, r.hit_limit) for r in second] == \
        [(r.caption, r.raw, r.content_hash, r.hit_limit) for r in first]


def test_partly_cached_run_captions_only_the_new_images(tiny_model_dir: Path, photos: list[Path],
                                                        tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite3"
    Captioner(tiny_model_dir, cache=cache, device="cpu").caption_results(photos[:4])
    captioner = Captioner(tiny_model_dir, cache=cache, device="cpu")
    results = captioner.caption_results(photos)
    assert [r.cached for r in results] == [True] * 4 + [False] * 3
    assert captioner.images_captioned == 3


@pytest.mark.parametrize(("change", "loads_model"), [
    pytest.param({"num_beams": 1}, True, id="beams"),
    pytest.param({"max_length": 8}, True, id="max-length"),
    pytest.param({"no_repeat_ngram_size": 0}, True, id="no-repeat-ngram"),
    pytest.param({"final_period": True}, False, id="final-period-recleans"),
    pytest.param({"caption_max_length": 12}, False, id="caption-max-length-recleans"),
])
def test_key_changes(tiny_model_dir: Path, photos: list[Path], tmp_path: Path, change: dict[str, object],
                     loads_model: bool) -> None:
    cache = tmp_path / "c.sqlite3"
    Captioner(tiny_model_dir, cache=cache, device="cpu").caption_results(photos[:3])
    changed = Captioner(tiny_model_dir, cache=cache, device="cpu", **change)
    results = changed.caption_results(photos[:3])
    assert changed.model_loads == int(loads_model)
    assert all(r.cached is not loads_model for r in results)
    if change.get("final_period"):
        assert all(r.caption and r.caption.endswith(".") for r in results)
    if "caption_max_length" in change:
        assert all(r.caption is not None and len(r.caption) <= 12 for r in results)
    again = Captioner(tiny_model_dir, cache=cache, device="cpu", **change)
    assert again.caption_results(photos[:3]) == [r if r.cached else _as_cached(r) for r in results]
    assert again.model_loads == 0


def _as_cached(result):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(result, cached=True)


def test_new_cleaning_version_recleans_without_the_model(tiny_model_dir: Path, photos: list[Path],
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "c.sqlite3"
    first = Captioner(tiny_model_dir, cache=cache, device="cpu").caption_results(photos[:2])
    monkeypatch.setattr("alttext.caption.captioner.CLEANING_VERSION", "next")
    monkeypatch.setattr("alttext.caption.captioner.clean_caption", lambda raw, **options: "re-cleaned " + raw)
    captioner = Captioner(tiny_model_dir, cache=cache, device="cpu")
    assert captioner.cleaning_key.startswith("next;")
    results = captioner.caption_results(photos[:2])
    assert captioner.model_loads == 0
    assert [r.caption for r in results] == ["re-cleaned " + (r.raw or "") for r in first]
    with CaptionCache(cache) as opened:
        import sqlite3

        rows = sqlite3.connect(opened.path).execute("SELECT DISTINCT cleaning FROM captions").fetchall()
    assert sorted(row[0].split(";")[0] for row in rows) == sorted([CLEANING_VERSION, "next"])


def test_new_model_revision_misses(tiny_model_dir: Path, photos: list[Path], tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    cache = tmp_path / "c.sqlite3"
    Captioner(model_dir, cache=cache, device="cpu").caption_results(photos[:2])
    weights = next(model_dir.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # new weights of the same size: the last parameter's last byte changes
    weights.write_bytes(bytes(data))
    captioner = Captioner(model_dir, cache=cache, device="cpu")
    assert not any(r.cached for r in captioner.caption_results(photos[:2]))
    assert captioner.model_loads == 1


def test_a_copy_of_the_model_folder_elsewhere_hits_the_cache(tiny_model_dir: Path, photos: list[Path],
                                                            tmp_path: Path) -> None:
    """A fresh checkout (other path, new file times) of the same model files reuses the captions."""
    cache = tmp_path / "c.sqlite3"
    first = Captioner(tiny_model_dir, cache=cache, device="cpu").caption_results(photos[:2])
    elsewhere = Path(shutil.copytree(tiny_model_dir, tmp_path / "checkout" / "model"))
    for path in elsewhere.iterdir():
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    captioner = Captioner(elsewhere, cache=cache, device="cpu")
    again = captioner.caption_results(photos[:2])
    assert all(result.cached for result in again)
    assert [r.caption for r in again] == [r.caption for r in first]
    assert captioner.model_loads == 0


def test_identity_matches_the_loader(tiny_model_dir: Path) -> None:
    captioner = Captioner(tiny_model_dir, cache=None, device="cpu")
    loaded = captioner._model()
    assert model_identity(str(tiny_model_dir)) == ("folder", loaded.revision)


def test_bad_images_get_errors_and_the_rest_captions(tiny_model_dir: Path, photos: list[Path],
                                                     tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(photos[1].read_bytes()[:300])
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(os.urandom(2000))
    svg = tmp_path / "logo.svg"
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    images = [photos[0], truncated, garbage, svg, tmp_path / "missing.png", photos[2]]
    captioner = Captioner(tiny_model_dir, cache=tmp_path / "c.sqlite3", device="cpu", batch_size=2)
    results = captioner.caption_results(images)
    assert results[0].caption and results[5].caption
    errors = [r.error or "" for r in results[1:5]]
    assert errors[0].startswith(f"{truncated}: corrupt or truncated image")
    assert errors[1].startswith(f"{garbage}: not an image format")
    assert errors[2] == f"{svg} is an SVG; the captioning model needs a raster image"
    assert errors[3] == f"{tmp_path / 'missing.png'}: no such file"
    assert all(r.caption is None for r in results[1:5])
    with pytest.raises(CaptionError, match=f"^{truncated}: corrupt"):
        captioner.caption([photos[0], truncated])


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_one_images_error(tiny_model_dir: Path, photos: list[Path], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.png"
    noise_image(9, (300, 300)).save(big)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)
    results = Captioner(tiny_model_dir, cache=None, device="cpu").caption_results([big, photos[0]])
    assert results[0].error is not None and "decompression bomb" in results[0].error
    assert results[1].caption


def rgba(path: Path) -> None:
    image = noise_image(11).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    image.save(path)


def palette(path: Path) -> None:
    noise_image(12).convert("P", palette=Image.Palette.ADAPTIVE).save(path, transparency=0)


def animated(path: Path) -> None:
    noise_image(13).save(path, save_all=True, append_images=[noise_image(14)], duration=50)


IMAGE_KINDS = [
    pytest.param("rgba.png", rgba, id="png-rgba"),
    pytest.param("palette.png", palette, id="png-palette-transparent"),
    pytest.param("gray-alpha.png", lambda p: noise_image(15).convert("LA").save(p), id="png-la"),
    pytest.param("cmyk.jpg", lambda p: noise_image(16).convert("CMYK").save(p), id="jpeg-cmyk"),
    pytest.param("anim.gif", animated, id="gif-animated"),
    pytest.param("pic.webp", lambda p: noise_image(17).save(p), id="webp"),
    pytest.param("pic.bmp", lambda p: noise_image(18).save(p), id="bmp"),
    pytest.param("pic.tiff", lambda p: noise_image(19).save(p), id="tiff"),
    pytest.param("gray16.png", lambda p: noise_image(20).convert("I").point(lambda v: v * 256)
                 .convert("I;16").save(p), id="png-16-bit"),
]


def test_every_image_kind_is_captioned(tiny_model_dir: Path, tmp_path: Path) -> None:
    paths = []
    for param in IMAGE_KINDS:
        name, make = param.values
        path = tmp_path / name
        make(path)
        paths.append(path)
    from alttext.caption.imageio import load_image

    captioner = Captioner(tiny_model_dir, cache=None, device="cpu")
    results = captioner.caption_results(paths)
    assert [r.error for r in results] == [None] * len(paths)
    # Each caption is the one for the converted RGB image, captioned on its own.
    expected = captioner.caption_results([load_image(path) for path in paths])
    assert [r.raw for r in results] == [r.raw for r in expected]


def test_pil_images_and_bytes(tiny_model_dir: Path, photos: list[Path]) -> None:
    captioner = Captioner(tiny_model_dir, cache=None, device="cpu")
    from_path, from_bytes, from_pil = captioner.caption(
        [photos[3], photos[3].read_bytes(), Image.open(photos[3]).convert("RGB")])
    assert from_path == from_bytes == from_pil


def test_images_are_decoded_in_the_background(tiny_model_dir: Path, photos: list[Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from alttext.caption import imageio

    threads: list[str] = []
    real_decode = imageio.decode_image

    def recording_decode(data: bytes, name: str) -> Image.Image:
        threads.append(threading.current_thread().name)
        return real_decode(data, name)

    monkeypatch.setattr(imageio, "decode_image", recording_decode)
    # Text reading decodes each image in its own thread (alttext-ocr); here only the model's decoding counts.
    results = Captioner(tiny_model_dir, cache=None, device="cpu", batch_size=2, ocr="off").caption_results(photos)
    assert all(r.caption is not None for r in results)
    # One image is decoded before the model loads, to know there is one it can read.
    assert threads[0] == threading.current_thread().name
    assert len(threads) == len(photos) + 1
    assert all(name.startswith("alttext-decode") for name in threads[1:])


def test_no_images(tiny_model_dir: Path, tmp_path: Path) -> None:
    captioner = Captioner(tiny_model_dir, cache=tmp_path / "c.sqlite3", device="cpu")
    assert captioner.caption_results([]) == [] and captioner.caption([]) == []
    assert captioner.model_loads == 0


def test_progress_callback(tiny_model_dir: Path, photos: list[Path]) -> None:
    calls: list[tuple[int, int]] = []
    captioner = Captioner(tiny_model_dir, cache=None, device="cpu", batch_size=2,
                          progress=lambda done, total: calls.append((done, total)))
    captioner.caption_results(photos)
    assert calls == [(2, 7), (4, 7), (6, 7), (7, 7)]


@pytest.mark.parametrize("max_length", [pytest.param(4, id="short"), pytest.param(16, id="model-card")])
def test_hit_limit_says_whether_generation_reached_max_length(tiny_model_dir: Path, photos: list[Path],
                                                              max_length: int) -> None:
    import torch

    captioner = Captioner(tiny_model_dir, cache=None, device="cpu", max_length=max_length)
    results = captioner.caption_results(photos)
    assert captioner._loaded is not None
    loaded = captioner._loaded.loaded  # the torch back end's transformers model
    from alttext.caption.generate import preprocess
    from alttext.caption.imageio import load_image

    with torch.inference_mode():
        rows = loaded.model.generate(preprocess(loaded, [load_image(p) for p in photos]),
                                     **captioner.settings.generate_kwargs()).tolist()
    eos = loaded.model.generation_config.eos_token_id
    assert [r.hit_limit for r in results] == [eos not in row[1:] for row in rows]
    if max_length == 4:
        assert any(r.hit_limit for r in results)


def test_device_this_machine_lacks_is_model_unavailable(tiny_model_dir: Path, photos: list[Path]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    captioner = Captioner(tiny_model_dir, cache=None, device="cuda")
    with pytest.raises(ModelUnavailable, match="CUDA is not available"):
        captioner.caption_results(photos[:1])


def test_missing_model_folder_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not exist") as caught:
        Captioner(str(tmp_path / "no-such-model"), cache=tmp_path / "c.sqlite3")
    assert "\n" not in str(caught.value)


def test_cached_hub_commit_reads_the_hub_cache_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snapshot = tmp_path / "models--org--tiny" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    assert cached_hub_commit("org/tiny") is None  # no config.json, no ref
    (snapshot / "config.json").write_text("{}")
    assert cached_hub_commit("org/tiny") is None  # no refs/main
    assert cached_hub_commit("org/tiny", "a" * 40) == "a" * 40  # a commit needs no ref
    (tmp_path / "models--org--tiny" / "refs").mkdir()
    (tmp_path / "models--org--tiny" / "refs" / "main").write_text("a" * 40)
    assert cached_hub_commit("org/tiny") == "a" * 40
    assert cached_hub_commit("org/other") is None


HUB_RUN = textwrap.dedent("""
    import json, sys
    from alttext.caption.captioner import Captioner
    captioner = Captioner("org/tiny-captioner", cache=sys.argv[1], device="cpu")
    results = captioner.caption_results(sys.argv[2:])
    loaded = captioner._loaded
    print(json.dumps({
        "captions": [r.caption for r in results], "cached": [r.cached for r in results],
        "loads": captioner.model_loads, "torch": "torch" in sys.modules,
        "transformers": "transformers" in sys.modules,
        "identity": list(captioner._identity or ()),
        "loader": [loaded.model_id, loaded.revision] if loaded else None,
    }))
""")


def fake_hub_cache(root: Path, model_dir: Path) -> str:
    """The tiny model laid out as huggingface_hub caches a download of org/tiny-captioner."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = root / "models--org--tiny-captioner"
    shutil.copytree(model_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return commit


def test_hub_model_fully_cached_run_imports_no_torch(tiny_model_dir: Path, photos: list[Path],
                                                     tmp_path: Path) -> None:
    commit = fake_hub_cache(tmp_path / "hub", tiny_model_dir)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-c", HUB_RUN, str(tmp_path / "cache"), *map(str, photos[:3])]
    first = json.loads(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)
    second = json.loads(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)
    assert first["loads"] == 1 and first["torch"] and first["cached"] == [False] * 3
    assert first["identity"] == first["loader"] == ["org/tiny-captioner", commit]
    assert second["loads"] == 0 and second["cached"] == [True] * 3
    assert second["torch"] is False and second["transformers"] is False
    assert second["captions"] == first["captions"]


def test_hub_model_not_cached_offline_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "empty"), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(REPO_ROOT)}
    script = ("from alttext.caption.captioner import Captioner, ModelUnavailable\n"
              "try:\n    Captioner('org/not-downloaded', cache=r'%s')\n"
              "except ModelUnavailable as error:\n    print(error)\n") % (tmp_path / "c.sqlite3")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert "'org/not-downloaded'" in lines[0] and "HF_HUB_OFFLINE" in lines[0] and "--model" in lines[0]


def test_two_processes_share_one_cache(tiny_model_dir: Path, photos: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    halves = [photos[:5], photos[2:]]  # overlapping: both processes write photos 2-4
    runs = [subprocess.Popen([sys.executable, "-m", "alttext", "caption", "--json", "--model", str(tiny_model_dir),
                              "--device", "cpu", "--batch-size", "1", "--cache", str(cache), *map(str, half)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for half in halves]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert all(err == "" for _, err in outputs)
    captioner = Captioner(tiny_model_dir, cache=cache, device="cpu")
    results = captioner.caption_results(photos)
    assert all(r.cached for r in results) and captioner.model_loads == 0
    by_image = {row["image"]: row["caption"] for out, _ in outputs for row in json.loads(out)}
    assert [by_image[str(path)] for path in photos] == [r.caption for r in results]

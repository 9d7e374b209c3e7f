"""Captions made in one precision are never served for another."""

from __future__ import annotations

from pathlib import Path

import pytest

from alttext.caption.precision import expected_precision, precision_key


@pytest.mark.parametrize(("device", "dtype", "quantize", "expected"), [
    pytest.param("cpu", None, None, "dtype=float32;quantize=none", id="cpu-default"),
    pytest.param("cpu", "fp32", "int8", "dtype=float32;quantize=int8", id="int8"),
    pytest.param("cpu", "bf16", None, "dtype=bfloat16;quantize=none", id="bf16"),
    pytest.param("cuda:1", None, None, "dtype=float16;quantize=none", id="cuda-default-is-fp16"),
    pytest.param("cuda", "float32", None, "dtype=float32;quantize=none", id="cuda-fp32"),
    pytest.param("mps", "auto", None, "dtype=float32;quantize=none", id="mps-default"),
])
def test_expected_precision(device: str, dtype: str | None, quantize: str | None, expected: str) -> None:
    assert expected_precision(device, dtype, quantize) == expected


@pytest.mark.parametrize(("dtype", "quantize"), [("torch.float32", None), ("torch.bfloat16", None),
                                                 ("torch.float16", None), ("torch.float32", "int8")])
def test_loader_precision_matches_the_expected_one(dtype: str, quantize: str | None) -> None:
    alias = {"torch.float32": "fp32", "torch.bfloat16": "bf16", "torch.float16": "fp16"}[dtype]
    assert precision_key(dtype, quantize) == expected_precision("cpu", alias, quantize)


def test_auto_without_a_gpu_driver_is_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert expected_precision("auto", None, None) == "dtype=float32;quantize=none"


@pytest.mark.parametrize(("first", "second"), [
    pytest.param({"quantize": "int8"}, {}, id="int8-then-fp32"),
    pytest.param({}, {"quantize": "int8"}, id="fp32-then-int8"),
    pytest.param({"dtype": "bf16"}, {}, id="bf16-then-fp32"),
    pytest.param({"dtype": "bf16"}, {"dtype": "fp16"}, id="bf16-then-fp16"),
])
def test_cache_never_serves_another_precision(tiny_model_dir: Path, tmp_path: Path, first: dict,
                                              second: dict) -> None:
    from PIL import Image

    from alttext.caption.captioner import Captioner

    paths = []
    for seed in range(3):
        path = tmp_path / f"{seed}.png"
        Image.effect_noise((40, 40), 20 + 30 * seed).convert("RGB").save(path)
        paths.append(path)
    cache = tmp_path / "cache.sqlite3"
    made = Captioner(tiny_model_dir, cache=cache, device="cpu", **first)
    made.caption_results(paths)
    assert made.model_loads == 1
    other = Captioner(tiny_model_dir, cache=cache, device="cpu", **second)
    results = other.caption_results(paths)
    assert other.model_loads == 1 and not any(result.cached for result in results)
    uncached = Captioner(tiny_model_dir, cache=False, device="cpu", **second).caption_results(paths)
    assert [r.raw for r in results] == [r.raw for r in uncached]
    again = Captioner(tiny_model_dir, cache=cache, device="cpu", **first)
    assert all(result.cached for result in again.caption_results(paths)) and again.model_loads == 0

"""int8 quantization: layer by layer, nothing of the fp32 layers left, nothing printed."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from PIL import Image

from alttext.caption.model import load_model, quantize_int8
from tests.conftest import REPO_ROOT


def raw_model(folder: Path):
    from transformers import VisionEncoderDecoderModel

    return VisionEncoderDecoderModel.from_pretrained(folder).eval()


def test_quantized_layers_are_freed_without_the_garbage_collector(tiny_model_dir: Path) -> None:
    from transformers.pytorch_utils import Conv1D

    model = raw_model(tiny_model_dir)
    layers = [weakref.ref(module) for module in model.modules() if isinstance(module, (Conv1D, torch.nn.Linear))]
    assert len(layers) > 10
    gc.disable()  # reference cycles would keep them until a collection
    try:
        quantize_int8(model)
        assert [layer for layer in layers if layer() is not None] == []
    finally:
        gc.enable()
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    kinds = {type(module) for module in model.modules()}
    assert DynamicInt8Linear in kinds and Conv1D not in kinds and torch.nn.Linear not in kinds


def test_layer_by_layer_equals_torch_quantize_dynamic(tiny_model_dir: Path) -> None:
    import warnings

    from alttext.caption.generate import GenerationSettings, generate_ids, preprocess
    from alttext.caption.model import _conv1d_as_linear

    ours = load_model(str(tiny_model_dir), device="cpu", quantize="int8")
    theirs = load_model(str(tiny_model_dir), device="cpu")
    theirs.model = raw_model(tiny_model_dir)
    for parent in list(theirs.model.modules()):
        for name, child in list(parent.named_children()):
            if type(child).__name__ == "Conv1D":
                setattr(parent, name, _conv1d_as_linear(child))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        quantize_dynamic(theirs.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    images = [Image.effect_noise((32, 32), 20 + 15 * seed).convert("RGB") for seed in range(6)]
    settings = GenerationSettings(max_length=10, num_beams=2)
    pixels = preprocess(ours, images)
    assert generate_ids(ours, pixels, settings) == generate_ids(theirs, pixels, settings)


def test_int8_captioning_prints_nothing(tiny_model_dir: Path, tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    Image.effect_noise((40, 40), 50).convert("RGB").save(image)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "default"}
    done = subprocess.run([sys.executable, "-m", "alttext", "caption", "--model", str(tiny_model_dir), "--device",
                           "cpu", "--quantize", "int8", "--no-cache", str(image)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and done.stderr == ""

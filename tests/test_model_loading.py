"""Loading captioning models: local folders, the offline hub cache, clear one-line failures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from alttext.caption.model import (
    DEFAULT_MODEL,
    ModelUnavailable,
    folder_fingerprint,
    load_model,
    resolve_device,
    resolve_dtype,
)
from tests.conftest import REPO_ROOT

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_local_folder_loads_through_from_pretrained(tiny_model_dir):
    from transformers import GPT2LMHeadModel, VisionEncoderDecoderModel

    loaded = load_model(str(tiny_model_dir))
    assert isinstance(loaded.model, VisionEncoderDecoderModel)
    assert isinstance(loaded.model.decoder, GPT2LMHeadModel)
    assert not loaded.model.training
    assert loaded.model_id == str(tiny_model_dir.resolve())
    assert loaded.revision == folder_fingerprint(tiny_model_dir)
    assert loaded.revision.startswith("local-")
    assert (loaded.device, loaded.dtype, loaded.quantized) == (torch.device("cpu"), torch.float32, None)
    assert loaded.tokenizer.eos_token == "<|endoftext|>"
    assert loaded.image_processor.size == {"height": 32, "width": 32}


def test_relative_folder_gives_absolute_model_id(tiny_model_dir, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)
    loaded = load_model(f"./{tiny_model_dir.name}")
    assert loaded.model_id == str(tiny_model_dir.resolve())


def test_fingerprint_changes_with_weights_and_config(tiny_model_dir, tmp_path):
    copy = Path(shutil.copytree(tiny_model_dir, tmp_path / "copy"))
    before = folder_fingerprint(copy)
    assert folder_fingerprint(copy) == before
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes() + b" ")
    after_weights = folder_fingerprint(copy)
    config = json.loads((copy / "config.json").read_text())
    config["decoder_start_token_id"] = 1
    (copy / "config.json").write_text(json.dumps(config))
    after_config = folder_fingerprint(copy)
    (copy / "generation_config.json").write_text(json.dumps({"num_beams": 2}))
    assert len({before, after_weights, after_config, folder_fingerprint(copy)}) == 4


def test_bf16_on_cpu_when_asked(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir), dtype="bf16")
    assert loaded.dtype == torch.bfloat16
    assert next(loaded.model.parameters()).dtype == torch.bfloat16


def test_int8_quantizes_every_linear_layer_including_gpt2_conv1d(tiny_model_dir):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear
    from transformers.pytorch_utils import Conv1D

    loaded = load_model(str(tiny_model_dir), quantize="int8")
    modules = list(loaded.model.modules())
    assert loaded.quantized == "int8"
    assert not any(isinstance(module, (Conv1D, torch.nn.Linear)) for module in modules)
    block = loaded.model.decoder.transformer.h[0]
    assert isinstance(block.attn.c_attn, DynamicQuantizedLinear)
    assert isinstance(loaded.model.encoder.layers[0].attention.q_proj, DynamicQuantizedLinear)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"quantize": "int4"}, "unknown quantization", id="unknown-quantization"),
        pytest.param({"quantize": "int8", "dtype": "bf16"}, "fp32", id="int8-needs-fp32"),
        pytest.param({"dtype": "fp8"}, "unknown dtype", id="unknown-dtype"),
        pytest.param({"device": "tpu9"}, "device", id="unknown-device"),
    ],
)
def test_bad_options_are_value_errors(tiny_model_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_model(str(tiny_model_dir), **kwargs)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("cpu", "cpu", id="cpu"),
        pytest.param("auto", "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu",
                     id="auto"),
    ],
)
def test_resolve_device(name, expected):
    assert resolve_device(name).type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


@pytest.mark.parametrize(
    ("dtype", "device", "expected"),
    [
        pytest.param(None, "cpu", torch.float32, id="cpu-default-fp32"),
        pytest.param(None, "cuda", torch.float16, id="cuda-default-fp16"),
        pytest.param("bf16", "cuda", torch.bfloat16, id="cuda-bf16"),
        pytest.param("FP32", "cuda", torch.float32, id="cuda-fp32-any-case"),
        pytest.param("half", "cpu", torch.float16, id="half-alias"),
    ],
)
def test_resolve_dtype(dtype, device, expected):
    assert resolve_dtype(dtype, torch.device(device)) == expected


def assert_one_line_naming(error: ModelUnavailable, name: str) -> None:
    text = str(error)
    assert "\n" not in text
    assert repr(name) in text


def test_missing_folder_is_one_line_error(tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(ModelUnavailable) as caught:
        load_model(missing)
    assert_one_line_naming(caught.value, missing)


def test_uncached_hub_model_offline_fails_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        load_model(DEFAULT_MODEL)
    assert time.monotonic() - started < 2
    assert_one_line_naming(caught.value, DEFAULT_MODEL)
    assert "HF_HUB_OFFLINE" in str(caught.value) and "--model" in str(caught.value)


def test_uncached_hub_model_online_asks_the_hub_once(monkeypatch, tmp_path):
    """Here the Hub is unreachable; where it is reachable, the made-up name is not found there."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    name = "alttext-tests/no-such-captioning-model"
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        load_model(name)
    assert time.monotonic() - started < 15  # one request with a timeout, no retries with backoff
    assert_one_line_naming(caught.value, name)
    assert "cannot be reached" in str(caught.value) or "not found on the Hub" in str(caught.value)


def fake_hub_cache(cache: Path, repo_id: str, model_dir: Path) -> None:
    """Lay out model files the way huggingface_hub caches a download."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    shutil.copytree(model_dir, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)


def test_cached_hub_model_loads_offline_with_its_commit(tiny_model_dir, tmp_path):
    """In a fresh interpreter, so the cache location and offline mode apply from import on."""
    fake_hub_cache(tmp_path / "hub", "example/tiny-captioner", tiny_model_dir)
    script = (
        "from alttext.caption.model import load_model\n"
        "loaded = load_model('example/tiny-captioner')\n"
        "print(loaded.model_id, loaded.revision, type(loaded.model).__name__)\n"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["example/tiny-captioner", COMMIT, "VisionEncoderDecoderModel"]


def test_not_an_image_to_text_model(tmp_path):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                         vocab_size=50)).save_pretrained(tmp_path)
    with pytest.raises(ModelUnavailable, match="not an image-to-text model") as caught:
        load_model(str(tmp_path))
    assert "\n" not in str(caught.value)


def test_remote_code_is_not_run_unless_asked(tiny_model_dir, tmp_path):
    folder = Path(shutil.copytree(tiny_model_dir, tmp_path / "custom"))
    marker = tmp_path / "code-ran"
    (folder / "custom_config.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from transformers import VisionEncoderDecoderConfig\n"
        "class CustomConfig(VisionEncoderDecoderConfig):\n    model_type = 'custom-captioner'\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "custom_config.CustomConfig"}
    config["model_type"] = "custom-captioner"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelUnavailable, match="trust-remote-code") as caught:
        load_model(str(folder))
    assert "\n" not in str(caught.value)
    assert not marker.exists()


def build_tiny_blip(folder: Path) -> Path:
    """A tiny BLIP captioner: another model family, loaded through the Auto classes."""
    from transformers import (
        BertTokenizerFast,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipTextConfig,
        BlipVisionConfig,
    )

    folder.mkdir(parents=True, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "photo", "of", "dog", "cat", "red", "blue"]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    tokenizer.save_pretrained(folder)
    text = BlipTextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=2, max_position_embeddings=32, bos_token_id=tokenizer.cls_token_id,
                          eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
                          sep_token_id=tokenizer.sep_token_id)
    vision = BlipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=32, patch_size=8)
    torch.manual_seed(0)
    config = BlipConfig(text_config=text.to_dict(), vision_config=vision.to_dict(), projection_dim=32)
    BlipForConditionalGeneration(config).save_pretrained(folder)
    BlipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def test_other_model_families_load_and_fall_back_to_generate(tmp_path):
    from PIL import Image
    from transformers import BlipForConditionalGeneration

    from alttext.caption.fast_beam import cut_after_eos
    from alttext.caption.generate import (
        GenerationSettings,
        decode,
        generate_ids,
        preprocess,
        search_plan,
    )

    loaded = load_model(str(build_tiny_blip(tmp_path / "blip")))
    assert isinstance(loaded.model, BlipForConditionalGeneration)
    settings = GenerationSettings(max_length=8, num_beams=2)
    assert search_plan(loaded.model, settings) is None
    pixels = preprocess(loaded, [Image.new("RGB", (40, 30), "red"), Image.new("RGB", (30, 60), "blue")])
    ids = generate_ids(loaded, pixels, settings)
    with torch.inference_mode():
        expected = loaded.model.generate(pixel_values=pixels, **settings.generate_kwargs()).tolist()
    eos = loaded.model.generation_config.eos_token_id
    assert ids == [cut_after_eos(row, (eos,)) for row in expected]
    assert decode(loaded, ids) == [text.strip() for text in loaded.tokenizer.batch_decode(expected, skip_special_tokens=True)]


@pytest.mark.parametrize(("removed", "named"), [
    pytest.param(("tokenizer.json", "tokenizer_config.json"), "no tokenizer files", id="none-at-all"),
    pytest.param(("tokenizer.json", "tokenizer_config.json", "generation_config.json"), "no tokenizer files",
                 id="nor-generation-config"),
])
def test_folder_without_tokenizer_names_the_missing_files(tiny_model_dir: Path, tmp_path: Path,
                                                          removed: tuple[str, ...], named: str) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    for name in removed:
        (folder / name).unlink()
    with pytest.raises(ModelUnavailable) as caught:
        load_model(str(folder), device="cpu")
    message = str(caught.value)
    assert "\n" not in message and named in message and "tokenizer.json" in message
    assert "save_pretrained" in message and str(folder) in message


def test_folder_with_half_a_bpe_tokenizer_names_the_other_half(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match=r"has vocab\.json but not merges\.txt; copy them"):
        load_model(str(folder), device="cpu")

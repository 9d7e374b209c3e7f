"""Export a ViT/DeiT/Swin + GPT-2 VisionEncoderDecoder model to ONNX, in the published layout.

The folder written is the one Hugging Face Optimum and transformers.js use for encoder-decoder
models, so the ONNX back end (onnx_model.py) reads this export and published ones alike:

- `encoder_model.onnx`: pixel_values -> last_hidden_state (projected to the decoder's width);
- `decoder_model.onnx`: input_ids, encoder_hidden_states -> logits and every layer's
  `present.{i}.decoder.key/value` and `present.{i}.encoder.key/value` (the cross-attention keys
  and values of the image, computed here once);
- `decoder_with_past_model.onnx`: input_ids and `past_key_values.{i}.{decoder,encoder}.{key,value}`
  -> logits and `present.{i}.decoder.key/value`. The image's keys and values may be given once
  per image (its beams share them; the axis is named `images`) or once per row, as published
  graphs take them;
- the tokenizer, image processor, config and generation config files, copied as saved.

The decoder graphs are built from the model's own modules, one GPT-2 block at a time, with the
keys and values as explicit tensors (as fast_vit_gpt2.py runs them), and exported with torch's
own exporter. `check_export` compares the ONNX back end's token ids with the torch loop's.
Needs the caption extra (torch, transformers) and the `onnx` package.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from alttext.caption.onnx_merge import DECODER_FILE, DECODER_WITH_PAST_FILE
from alttext.caption.onnx_model import CROSS_BATCH_AXIS, ENCODER, QUANTIZED

OPSET = 17
ENCODER_FILE = f"{ENCODER}.onnx"
COPIED_FILES = ("config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt")


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    files: tuple[str, ...]
    images_checked: int
    images_equal: int


class _Encoder(nn.Module):
    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        from alttext.caption.fast_vit_gpt2 import encode

        return encode(self.model, pixel_values)


class _Decoder(nn.Module):
    """GPT-2 with cross-attention, keys and values passed in and out as plain tensors."""

    def __init__(self, model: Any, *, with_past: bool) -> None:
        super().__init__()
        self.gpt2 = model.decoder
        self.with_past = with_past

    def forward(self, input_ids: torch.Tensor, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        transformer = self.gpt2.transformer
        blocks = list(transformer.h)
        past = [inputs[4 * i : 4 * i + 4] for i in range(len(blocks))] if self.with_past else None
        start = past[0][0].shape[2] if past else 0
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0) + start
        hidden = transformer.wte(input_ids) + transformer.wpe(positions)
        presents: list[torch.Tensor] = []
        for index, block in enumerate(blocks):
            if past:
                self_past, cross = past[index][:2], past[index][2:]
            else:
                self_past, cross = None, _cross_keys_values(block.crossattention, inputs[0])
            hidden, key, value = _self_attention(block, hidden, self_past)
            hidden = hidden + _cross_attention(block.crossattention, block.ln_cross_attn(hidden), *cross)
            hidden = hidden + block.mlp(block.ln_2(hidden))
            presents += [key, value] if past else [key, value, *cross]
        logits = self.gpt2.lm_head(transformer.ln_f(hidden))
        return (logits, *presents)


def _heads(tensor: torch.Tensor, head_dim: int) -> torch.Tensor:
    return tensor.view(*tensor.shape[:-1], -1, head_dim).transpose(1, 2)


def _merge_heads(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.transpose(1, 2).reshape(tensor.shape[0], tensor.shape[2], -1)


def _self_attention(block: Any, hidden: torch.Tensor, past: tuple[torch.Tensor, ...] | None) -> tuple:
    attention = block.attn
    query, key, value = attention.c_attn(block.ln_1(hidden)).split(attention.split_size, dim=2)
    query, key, value = (_heads(part, attention.head_dim) for part in (query, key, value))
    if past is not None:
        key, value = torch.cat((past[0], key), dim=2), torch.cat((past[1], value), dim=2)
        output = functional.scaled_dot_product_attention(query, key, value, scale=attention.scaling)
    else:
        output = functional.scaled_dot_product_attention(query, key, value, is_causal=True, scale=attention.scaling)
    return hidden + attention.c_proj(_merge_heads(output)), key, value


def _cross_keys_values(attention: Any, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    keys, values = attention.c_attn(states).split(attention.split_size, dim=2)
    return _heads(keys, attention.head_dim), _heads(values, attention.head_dim)


def _cross_attention(attention: Any, hidden: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Cross-attention whose keys and values may come once per image, shared by its beams.

    The rows of `hidden` are image-major (an image's beams next to each other), so the queries
    of each image's rows go into one product against that image's keys and values. With keys
    and values given once per row (the published layout), each group is one row, as before."""
    query = _heads(attention.q_attn(hidden), attention.head_dim)  # [rows, heads, sequence, head_dim]
    rows, heads, sequence, head_dim = query.shape
    images = keys.shape[0]
    grouped = query.reshape(images, -1, heads, sequence, head_dim).transpose(1, 2).reshape(images, heads, -1, head_dim)
    output = functional.scaled_dot_product_attention(grouped, keys, values, scale=attention.scaling)
    output = output.reshape(images, heads, -1, sequence, head_dim).transpose(1, 2).reshape(rows, heads, sequence, head_dim)
    return attention.c_proj(_merge_heads(output))


def export_onnx(model_name: str, out: str | Path, *, int8: bool = False, check_images: int = 4,
                revision: str | None = None, merged: bool = True) -> ExportReport:
    """Export `model_name` (hub id or folder) to `out`; optionally an int8 copy; check the result.

    `merged` (the default) writes the two decoders as one `decoder_model_merged.onnx` (see
    onnx_merge.py): the weights they share are stored, loaded and held in memory once."""
    from alttext.caption.fast_vit_gpt2 import supports
    from alttext.caption.model import ModelUnavailable, load_model

    loaded = load_model(model_name, device="cpu", dtype="fp32", revision=revision)
    if not supports(loaded.model):
        raise ModelUnavailable(f"model {model_name!r} is not a VisionEncoderDecoder with a GPT-2 decoder; "
                               "export-onnx supports those (the default model's kind)")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    files = write_graphs(loaded.model, folder, int8=int8, merged=merged)
    _copy_settings(loaded, folder)
    checked, equal = (0, 0)
    if check_images:
        checked, equal = check_export(load_model(model_name, device="cpu", dtype="fp32", revision=revision),
                                      folder, check_images)
    return ExportReport(folder, tuple(files), checked, equal)


def write_graphs(model: Any, folder: Path, *, int8: bool, merged: bool) -> list[str]:
    """The model's graphs in `folder` (its int8 copies, its decoders merged as asked); the files written."""
    from alttext.caption.cpu_products import stock_layers

    files = _export_graphs(stock_layers(model), folder)  # exporters know torch's own layers
    if int8:
        files += quantize_int8(folder)
    if merged:
        from alttext.caption.onnx_merge import merge_folder

        files = merge_folder(folder, files)
    return files


def _export_graphs(model: Any, folder: Path) -> list[str]:
    config = model.config
    size = getattr(config.encoder, "image_size", 224)
    size = size if isinstance(size, int) else size[0]
    pixel_values = torch.zeros(1, getattr(config.encoder, "num_channels", 3), size, size)
    layers = model.decoder.config.n_layer
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's tracer warnings are about shapes we mark dynamic
        states = _Encoder(model)(pixel_values)
        _export(_Encoder(model), (pixel_values,), folder / ENCODER_FILE, ["pixel_values"], ["last_hidden_state"],
                {"pixel_values": {0: "batch"}, "last_hidden_state": {0: "batch", 1: "encoder_sequence"}})
        input_ids = torch.zeros(2, 1, dtype=torch.long)
        states = states.expand(2, -1, -1).contiguous()
        first = _Decoder(model, with_past=False)
        outputs = first(input_ids, states)
        names = [f"present.{i}.{part}.{kind}" for i in range(layers) for part in ("decoder", "encoder")
                 for kind in ("key", "value")]
        _export(first, (input_ids, states), folder / DECODER_FILE, ["input_ids", "encoder_hidden_states"],
                ["logits", *names], {"input_ids": {0: "batch", 1: "sequence"},
                                     "encoder_hidden_states": {0: "batch", 1: "encoder_sequence"},
                                     "logits": {0: "batch", 1: "sequence"},
                                     **{name: {0: "batch", 2: "past" if ".decoder." in name else "encoder_sequence"}
                                        for name in names}})
        past_names = [name.replace("present.", "past_key_values.") for name in names]
        new_names = [name for name in names if ".decoder." in name]
        _export(_Decoder(model, with_past=True), (input_ids, *outputs[1:]), folder / DECODER_WITH_PAST_FILE,
                ["input_ids", *past_names], ["logits", *new_names],
                {"input_ids": {0: "batch"}, "logits": {0: "batch"},
                 **{name: {0: "batch", 2: "past"} for name in past_names if ".decoder." in name},
                 # the image's keys and values, once per image whatever its number of beams
                 **{name: {0: CROSS_BATCH_AXIS, 2: "encoder_sequence"} for name in past_names if ".encoder." in name},
                 **{name: {0: "batch", 2: "past_plus_one"} for name in new_names}})
    return [ENCODER_FILE, DECODER_FILE, DECODER_WITH_PAST_FILE]


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            dynamic: dict[str, dict[int, str]]) -> None:
    torch.onnx.export(module.eval(), args, str(path), input_names=inputs, output_names=outputs,
                      dynamic_axes=dynamic, opset_version=OPSET, dynamo=False, do_constant_folding=True)


def _copy_settings(loaded: Any, folder: Path) -> None:
    """Tokenizer, image processor and configs, saved by transformers so every file is present."""
    loaded.model.config.save_pretrained(folder)
    loaded.model.generation_config.save_pretrained(folder)
    loaded.tokenizer.save_pretrained(folder)
    loaded.image_processor.save_pretrained(folder)
    source = Path(loaded.model_id)
    for name in COPIED_FILES:  # a file transformers would not write (a slow tokenizer's vocabulary)
        if source.is_dir() and (source / name).is_file() and not (folder / name).exists():
            shutil.copyfile(source / name, folder / name)


def quantize_int8(folder: Path) -> list[str]:
    """Dynamic int8 copies (`*_quantized.onnx`) of the three graphs, weights per channel."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    written = []
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process is for static quantization, not this
    try:
        for name in (ENCODER_FILE, DECODER_FILE, DECODER_WITH_PAST_FILE):
            target = name.replace(".onnx", f"{QUANTIZED}.onnx")
            quantize_dynamic(folder / name, folder / target, weight_type=QuantType.QInt8, per_channel=True)
            written.append(target)
    finally:
        root.setLevel(level)
    return written


def check_export(loaded: Any, folder: Path, count: int) -> tuple[int, int]:
    """(images, images whose ONNX token ids equal the torch loop's) on `count` sample images."""
    from alttext.caption.generate import GenerationSettings, generate_ids, preprocess
    from alttext.caption.onnx_model import load_onnx_model, onnx_generate_ids

    images = sample_images(count)
    settings = GenerationSettings()
    pixel_values = preprocess(loaded, images)
    expected = generate_ids(loaded, pixel_values, settings)
    onnx = load_onnx_model(str(folder))
    got = onnx_generate_ids(onnx, pixel_values.numpy(), settings)
    return len(images), sum(a == b for a, b in zip(expected, got))


def sample_images(count: int) -> list[Any]:
    """Deterministic RGB images with shapes and gradients, for checking an export."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    images = []
    for index in range(count):
        base = np.linspace(0, 255, 96, dtype=np.float32)[None, :, None] * rng.random(3, dtype=np.float32)
        pixels = np.broadcast_to(base, (96, 96, 3)).copy()
        top, left = rng.integers(0, 60, 2)
        pixels[top : top + 30, left : left + 30] = rng.integers(0, 256, 3)
        pixels += rng.normal(0, 8 + index, pixels.shape).astype(np.float32)
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
    return images

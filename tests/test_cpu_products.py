"""The CPU's fast products (oneDNN): the same weights and, on these models, the same captions as torch's."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from transformers import VisionEncoderDecoderModel
from transformers.pytorch_utils import Conv1D

from alttext.caption.cpu_products import (
    OneDnnConv1D,
    OneDnnLinear,
    onednn_available,
    use_column_major_weights,
    use_fast_products,
)
from alttext.caption.generate import GenerationSettings, generate_ids, preprocess
from alttext.caption.model import load_model
from tests.test_generate import mixed_images, reference_ids

needs_onednn = pytest.mark.skipif(not onednn_available(), reason="this torch build has no oneDNN")


def torch_products_model(folder: Path) -> torch.nn.Module:
    """The same model as transformers loads it: torch's own products, row-major weights."""
    return VisionEncoderDecoderModel.from_pretrained(folder).eval()


def layer_kinds(model: torch.nn.Module) -> Counter:
    return Counter(type(module) for module in model.modules())


@needs_onednn
def test_loaded_cpu_model_runs_every_product_through_onednn(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir), device="cpu")
    kinds = layer_kinds(loaded.model)
    assert kinds[OneDnnLinear] > 0 and kinds[OneDnnConv1D] > 0
    assert kinds[torch.nn.Linear] == 0 and kinds[Conv1D] == 0
    original = torch_products_model(tiny_model_dir).state_dict()
    assert loaded.model.state_dict().keys() == original.keys()
    assert all(torch.equal(value, original[name]) for name, value in loaded.model.state_dict().items())


@needs_onednn
def test_onednn_logits_equal_torch_logits_to_rounding(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir), device="cpu")
    original = torch_products_model(tiny_model_dir)
    pixels = preprocess(loaded, mixed_images())
    start = torch.full((pixels.shape[0], 3), loaded.model.generation_config.decoder_start_token_id)
    with torch.inference_mode():
        fast = loaded.model(pixel_values=pixels, decoder_input_ids=start).logits
        slow = original(pixel_values=pixels, decoder_input_ids=start).logits
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)


@needs_onednn
@pytest.mark.parametrize("beams", [pytest.param(1, id="greedy"), pytest.param(4, id="beams4")])
def test_captions_equal_those_of_torch_products(tiny_model_dir, beams):
    loaded = load_model(str(tiny_model_dir), device="cpu")
    original = replace(loaded, model=torch_products_model(tiny_model_dir))
    settings = GenerationSettings(max_length=16, num_beams=beams, no_repeat_ngram_size=0)
    pixels = preprocess(loaded, mixed_images() * 2)
    assert generate_ids(loaded, pixels, settings) == reference_ids(original, pixels, settings)


def test_products_that_need_gradients_stay_on_torch():
    layer = torch.nn.Linear(8, 3)
    expected = torch.nn.functional.linear
    layer.__class__ = OneDnnLinear
    inputs = torch.randn(5, 8, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # oneDNN's kernel would warn that it has no backward
        output = layer(inputs)
        output.sum().backward()
    assert torch.equal(output, expected(inputs, layer.weight, layer.bias))
    torch.testing.assert_close(inputs.grad, layer.weight.sum(dim=0).expand(5, 8))


@needs_onednn
def test_row_major_conv1d_weight_falls_back_to_torch():
    layer = Conv1D(6, 4)  # weight [in=4, out=6], row-major as GPT-2 stores it
    torch.nn.init.normal_(layer.weight)
    inputs = torch.randn(2, 3, 4)
    with torch.inference_mode():
        expected = layer(inputs)
        layer.__class__ = OneDnnConv1D
        assert torch.equal(layer(inputs), expected)
        use_column_major_weights(layer)
        torch.testing.assert_close(layer(inputs), expected)


def test_column_major_weights_keep_values_shapes_and_outputs(tiny_model_dir):
    model = torch_products_model(tiny_model_dir)
    pixels = preprocess(load_model(str(tiny_model_dir)), mixed_images())
    inputs = {"pixel_values": pixels, "max_length": 12, "num_beams": 4}
    with torch.inference_mode():
        before = model.generate(**inputs)
    weights = [module.weight for module in model.modules() if isinstance(module, Conv1D)]
    copies = [weight.detach().clone() for weight in weights]
    use_column_major_weights(model)
    use_column_major_weights(model)  # a second call changes nothing
    assert weights and all(torch.equal(weight, copy) for weight, copy in zip(weights, copies))
    assert all(weight.shape == copy.shape and weight.stride() == (1, copy.shape[0]) for weight, copy in zip(weights, copies))
    with torch.inference_mode():
        assert torch.equal(model.generate(**inputs), before)


def test_int8_model_keeps_its_quantized_layers(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir), device="cpu", quantize="int8")
    kinds = layer_kinds(loaded.model)
    assert kinds[OneDnnLinear] == 0 and kinds[OneDnnConv1D] == 0 and kinds[Conv1D] == 0
    assert any("quantized" in kind.__module__ for kind in kinds)


@needs_onednn
def test_use_fast_products_twice_changes_nothing_more(tiny_model_dir):
    model = torch_products_model(tiny_model_dir)
    use_fast_products(model)
    once = layer_kinds(model), {name: value.clone() for name, value in model.state_dict().items()}
    use_fast_products(model)
    assert layer_kinds(model) == once[0]
    assert all(torch.equal(value, once[1][name]) for name, value in model.state_dict().items())

"""Generation is exact: alttext's token ids equal `model.generate`'s for every image.

The tiny fixture model has the default model's classes (ViT encoder, GPT-2 decoder), so
these tests run alttext's own decoding loop, and check that they do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from PIL import Image

from alttext.caption.fast_beam import cut_after_eos
from alttext.caption.generate import (
    GenerationSettings,
    decode,
    generate_ids,
    preprocess,
    recommended_batch_size,
    search_plan,
)
from alttext.caption.model import LoadedModel, load_model
from tests.tiny_model import build_tiny_captioning_model


def mixed_images() -> list[Image.Image]:
    """Images of different sizes and content, so the batch's captions differ."""
    gradient = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    noise = Image.effect_noise((40, 40), 80).convert("RGB")
    checker = Image.new("RGB", (20, 20), "white")
    checker.paste(Image.new("RGB", (10, 10), "black"), (0, 0))
    checker.paste(Image.new("RGB", (10, 10), "black"), (10, 10))
    mandel = Image.effect_mandelbrot((50, 30), (-2, -1.2, 1, 1.2), 40).convert("RGB")
    return [
        Image.new("RGB", (32, 32), "red"), gradient, noise, checker, mandel,
        Image.new("RGB", (100, 20), (20, 200, 90)), gradient.rotate(90, expand=True), noise.resize((33, 17)),
    ]


def with_eos_at(loaded: LoadedModel, position: int, strength: float) -> LoadedModel:
    """Make EOS likely near `position`: its output row (untied from the input embedding, which
    is also the start token's) gains that position embedding's direction. Captions then end at
    different steps for different images, and beams finish before max_length."""
    decoder = loaded.model.decoder
    eos = loaded.model.generation_config.eos_token_id
    with torch.no_grad():
        decoder.lm_head.weight = torch.nn.Parameter(decoder.lm_head.weight.clone())
        direction = decoder.transformer.wpe.weight[position]
        decoder.lm_head.weight[eos] += strength * direction / direction.norm()
    return loaded


def with_eos_ids(loaded: LoadedModel, eos_ids: list[int]) -> LoadedModel:
    loaded.model.generation_config.eos_token_id = eos_ids
    return loaded


@pytest.fixture(scope="module")
def variants(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedModel]:
    """The fixture model plus models built with other seeds, whose captions end early and unevenly."""
    seed3 = str(build_tiny_captioning_model(tmp_path_factory.mktemp("tiny-seed-3"), seed=3))
    seed5 = str(build_tiny_captioning_model(tmp_path_factory.mktemp("tiny-seed-5"), seed=5))
    return {
        "seed0": load_model(str(tiny_model_dir)),
        "seed3-eos-near-9": with_eos_at(load_model(seed3), 9, 1.0),
        "seed5-eos-near-9": with_eos_at(load_model(seed5), 9, 1.0),
        "seed5-eos-near-5": with_eos_at(load_model(seed5), 5, 0.3),
        "seed3-two-eos-ids": with_eos_ids(load_model(seed3), [0, 175]),
    }


@pytest.fixture(scope="module")
def pixel_values(variants: dict[str, LoadedModel]) -> torch.Tensor:
    return preprocess(variants["seed0"], mixed_images())


def reference_ids(loaded: LoadedModel, pixels: torch.Tensor, settings: GenerationSettings) -> list[list[int]]:
    """What transformers returns, each row without the batch's padding."""
    with torch.inference_mode():
        output = loaded.model.generate(pixel_values=pixels, **settings.generate_kwargs())
    eos = loaded.model.generation_config.eos_token_id
    eos_ids = tuple(eos) if isinstance(eos, list) else (eos,)
    return [cut_after_eos(row, eos_ids) for row in output.tolist()]


def settings_param(beams: int, length: int, ngram: int = 0, minimum: int = 0):
    return pytest.param(
        GenerationSettings(max_length=length, num_beams=beams, no_repeat_ngram_size=ngram, min_length=minimum),
        id=f"beams{beams}-len{length}-ngram{ngram}-min{minimum}",
    )


SETTINGS = [
    *(settings_param(beams, length) for beams in (1, 2, 4) for length in (2, 7, 16)),
    settings_param(4, 16, ngram=3),
    settings_param(4, 16, ngram=2, minimum=5),
    settings_param(4, 7, minimum=5),
    settings_param(3, 16, ngram=2),
    settings_param(2, 7, ngram=3, minimum=5),
    settings_param(1, 16, ngram=2),
    settings_param(1, 16, minimum=5),
]
VARIANTS = ["seed0", "seed3-eos-near-9", "seed5-eos-near-9", "seed5-eos-near-5", "seed3-two-eos-ids"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("settings", SETTINGS)
def test_ids_equal_transformers_generate(variants, pixel_values, variant, settings):
    loaded = variants[variant]
    assert search_plan(loaded.model, settings) is not None, "the fast decoding loop must be the one under test"
    assert generate_ids(loaded, pixel_values, settings) == reference_ids(loaded, pixel_values, settings)


def test_variants_cover_early_and_late_endings(variants, pixel_values):
    """Guard the test above: some captions end early, some run to max_length, in one batch too."""
    settings = GenerationSettings(max_length=16, num_beams=4, no_repeat_ngram_size=0)
    lengths = {name: [len(ids) for ids in generate_ids(loaded, pixel_values, settings)] for name, loaded in variants.items()}
    assert any(length == 16 for row in lengths.values() for length in row)
    assert any(length < 16 for row in lengths.values() for length in row)
    assert any(len(set(row)) > 1 for row in lengths.values()), lengths


@pytest.mark.parametrize("beams", [pytest.param(1, id="greedy"), pytest.param(4, id="beams4")])
def test_more_images_than_one_batch(variants, beams):
    loaded = variants["seed5-eos-near-9"]
    settings = GenerationSettings(max_length=10, num_beams=beams, no_repeat_ngram_size=2)
    images = mixed_images() * 7
    assert len(images) > recommended_batch_size(loaded, settings)
    pixels = preprocess(loaded, images)
    assert generate_ids(loaded, pixels, settings) == reference_ids(loaded, pixels, settings)


@pytest.mark.parametrize("beams", [pytest.param(1, id="greedy"), pytest.param(4, id="beams4")])
def test_batch_results_do_not_depend_on_neighbours(variants, pixel_values, beams):
    loaded = variants["seed5-eos-near-9"]
    settings = GenerationSettings(max_length=12, num_beams=beams)
    together = generate_ids(loaded, pixel_values, settings)
    alone = [generate_ids(loaded, pixel_values[index : index + 1], settings)[0] for index in range(len(pixel_values))]
    assert together == alone


def test_unreproducible_generation_config_falls_back_to_generate(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir))
    loaded.model.generation_config.repetition_penalty = 1.5
    settings = GenerationSettings(max_length=10, num_beams=3)
    pixels = preprocess(loaded, mixed_images()[:4])
    assert search_plan(loaded.model, settings) is None
    assert generate_ids(loaded, pixels, settings) == reference_ids(loaded, pixels, settings)


def test_int8_model_runs_the_fast_loop_close_to_fp32(tiny_model_dir):
    """Dynamic int8 quantizes each matrix product's input with one scale for all its rows, so its
    ids depend on which rows share a product (how many workers, how many beams per step) and
    equal neither generate's nor fp32's in general. They stay close to fp32's: the benchmark
    reports how close on the full-size model; here most images must agree."""
    loaded = load_model(str(tiny_model_dir), quantize="int8")
    settings = GenerationSettings(max_length=12, num_beams=4, no_repeat_ngram_size=0)
    pixels = preprocess(loaded, mixed_images())
    assert search_plan(loaded.model, settings) is not None
    ids = generate_ids(loaded, pixels, settings)
    fp32_ids = generate_ids(load_model(str(tiny_model_dir)), pixels, settings)
    start = loaded.model.generation_config.decoder_start_token_id
    assert all(row[0] == start and 1 < len(row) <= settings.max_length for row in ids)
    assert sum(row == fp32_row for row, fp32_row in zip(ids, fp32_ids)) >= len(ids) // 2


def test_preprocess_gives_model_sized_float_pixels(variants):
    pixels = preprocess(variants["seed0"], mixed_images())
    assert pixels.shape == (8, 3, 32, 32)
    assert pixels.dtype == torch.float32
    assert pixels.min() >= -1.0 and pixels.max() <= 1.0  # mean and std 0.5


def test_decode_drops_special_tokens_and_spaces(variants):
    loaded = variants["seed0"]
    tokenizer = loaded.tokenizer
    words = tokenizer.encode(" a dog sitting on a couch")
    ids = [[tokenizer.eos_token_id, *words, tokenizer.eos_token_id], [tokenizer.eos_token_id]]
    assert decode(loaded, ids) == ["a dog sitting on a couch", ""]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param([0, 5, 6, 0, 0, 0], [0, 5, 6, 0], id="cut-after-first-eos"),
        pytest.param([0, 5, 6, 7], [0, 5, 6, 7], id="no-eos-kept-whole"),
        pytest.param([0, 0, 0], [0, 0], id="eos-right-after-start"),
        pytest.param([0], [0], id="start-only"),
    ],
)
def test_cut_after_eos(row, expected):
    assert cut_after_eos(row, (0,)) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"max_length": 1}, "max_length", id="max-length-too-short"),
        pytest.param({"num_beams": 0}, "num_beams", id="no-beams"),
        pytest.param({"no_repeat_ngram_size": -1}, "no_repeat_ngram_size", id="negative-ngram"),
        pytest.param({"min_length": -2}, "min_length", id="negative-min-length"),
    ],
)
def test_settings_reject_nonsense(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerationSettings(**kwargs)


def test_settings_key_is_stable_and_distinct():
    default = GenerationSettings()
    assert default.key() == "max_length=16;num_beams=4;no_repeat_ngram_size=3;min_length=0"
    variants = [GenerationSettings(max_length=20), GenerationSettings(num_beams=1),
                GenerationSettings(no_repeat_ngram_size=0), GenerationSettings(min_length=3)]
    assert len({default.key(), *(settings.key() for settings in variants)}) == 5


@pytest.mark.parametrize("length", [pytest.param(3, id="shorter-than-min"), pytest.param(5, id="reached-min")])
def test_in_place_min_length_equals_transformers_processor(length):
    from transformers import MinLengthLogitsProcessor

    from alttext.caption.fast_beam import MinLength

    scores = torch.randn(6, 50)
    input_ids = torch.zeros((6, length), dtype=torch.long)
    expected = MinLengthLogitsProcessor(5, [7, 0])(input_ids, scores.clone())
    assert torch.equal(MinLength(5, (7, 0))(input_ids, scores.clone()), expected)


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
@pytest.mark.parametrize("beams", [pytest.param(1, id="greedy"), pytest.param(4, id="beams4")])
def test_reduced_precision_loop_agrees_with_generate_on_tiny_models(tiny_model_dir, dtype, beams):
    """In bf16 and fp16 the fast loop rounds some products differently from `generate` (other row
    groupings), so on the full-size model near-tied beams can differ (README and bench_caption.py
    give the measured agreement). On the tiny models, with no near ties, every image agrees: a
    loop that computed anything else than `generate` in reduced precision would fail here."""
    loaded = load_model(str(tiny_model_dir), device="cpu", dtype=dtype)
    settings = GenerationSettings(max_length=16, num_beams=beams, no_repeat_ngram_size=0)
    pixels = preprocess(loaded, mixed_images() * 2)
    assert pixels.dtype == loaded.dtype != torch.float32
    assert search_plan(loaded.model, settings) is not None
    assert generate_ids(loaded, pixels, settings) == reference_ids(loaded, pixels, settings)

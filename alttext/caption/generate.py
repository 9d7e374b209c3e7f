"""Images to pixel values to token ids to text, exact to transformers' `generate`.

ViT + GPT-2 VisionEncoderDecoder models (the default model) run through a faster decoding loop
(fast_vit_gpt2.py) that returns the same token ids as `model.generate`; every other model, or
generation settings that loop does not reproduce, go through `model.generate` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alttext.caption.model import LoadedModel
from alttext.caption.search_plan import as_tuple, cut_after_eos, plan_search, unreproduced_settings

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from alttext.caption.search_plan import SearchPlan

@dataclass(frozen=True)
class GenerationSettings:
    """How captions are decoded. Defaults: the model card's beams and length, plus no repeated 3-grams."""

    max_length: int = 16  # tokens, counting the decoder's start token, as in transformers
    num_beams: int = 4
    no_repeat_ngram_size: int = 3  # 0 turns it off (the model card's setting)
    min_length: int = 0

    def __post_init__(self) -> None:
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2, not {self.max_length}")
        if self.num_beams < 1:
            raise ValueError(f"num_beams must be at least 1, not {self.num_beams}")
        if self.no_repeat_ngram_size < 0 or self.min_length < 0:
            raise ValueError("no_repeat_ngram_size and min_length must not be negative")

    def key(self) -> str:
        """A stable string naming these settings, for cache keys."""
        return (
            f"max_length={self.max_length};num_beams={self.num_beams};"
            f"no_repeat_ngram_size={self.no_repeat_ngram_size};min_length={self.min_length}"
        )

    def generate_kwargs(self) -> dict[str, int]:
        return {
            "max_length": self.max_length,
            "num_beams": self.num_beams,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "min_length": self.min_length,
        }


def preprocess(loaded: LoadedModel, images: list[Image.Image]) -> torch.Tensor:
    """RGB PIL images to the model's pixel values, on its device and in its dtype."""
    pixel_values = loaded.image_processor(images=images, return_tensors="pt")["pixel_values"]
    return pixel_values.to(device=loaded.device, dtype=loaded.dtype)


# A CPU worker decodes its images' beams together: images x beams rows per matrix product,
# and the more rows, the faster each. Every image also keeps its cross-attention keys and
# values (14.5 MB for the default model) while it decodes, which bounds the images per worker.
CPU_ROWS_PER_WORKER = 64
CPU_IMAGES_PER_WORKER = (16, 24)  # fewest, most
MIN_IMAGES_PER_WORKER = 4


def recommended_batch_size(loaded: LoadedModel, settings: GenerationSettings) -> int:
    """Images per call that keep every core busy without growing memory much; more on a GPU."""
    if loaded.device.type == "cuda":
        return 128 if settings.num_beams <= 4 else 64
    fewest, most = CPU_IMAGES_PER_WORKER
    return max(fewest, min(most, CPU_ROWS_PER_WORKER // settings.num_beams)) * _cpu_threads()


def generate_ids(
    loaded: LoadedModel, pixel_values: torch.Tensor, settings: GenerationSettings, *, batch_size: int | None = None
) -> list[list[int]]:
    """Token ids per image: the decoder start token, then the caption's tokens through the first EOS.

    Equal to `model.generate(pixel_values, **settings)`'s row for that image, without batch padding.
    `batch_size` is the most images per model call (default: `recommended_batch_size`).
    """
    step = batch_size or recommended_batch_size(loaded, settings)
    plan = search_plan(loaded.model, settings)
    if plan is not None:
        return _fast_generate(loaded, pixel_values, plan, step)
    results: list[list[int]] = []
    for start in range(0, pixel_values.shape[0], step):
        results.extend(_transformers_generate(loaded, pixel_values[start : start + step], settings))
    return results


def decode(loaded: LoadedModel, ids: list[list[int]]) -> list[str]:
    """Token ids to text, special tokens dropped, surrounding space stripped."""
    return [text.strip() for text in loaded.tokenizer.batch_decode(ids, skip_special_tokens=True)]


def _fast_generate(loaded: LoadedModel, pixel_values: torch.Tensor, plan: SearchPlan, step: int) -> list[list[int]]:
    """On a multi-core CPU, one single-threaded worker per core, each on its own images.

    Independent workers never wait for each other, unlike one pipeline whose every small
    operation is split across the cores; on a busy machine that waiting costs more than the
    work. Each image's result is the same either way.
    """
    from alttext.caption import fast_vit_gpt2, heap

    if loaded.device.type == "cpu":
        heap.keep_freed_memory()
    count = pixel_values.shape[0]
    workers = _cpu_threads() if loaded.device.type == "cpu" else 1
    workers = max(1, min(workers, count // MIN_IMAGES_PER_WORKER))
    size = max(1, min(step // workers, -(-count // workers)))
    chunks = [pixel_values[start : start + size] for start in range(0, count, size)]
    if loaded.device.type != "cpu":
        return [ids for chunk in chunks for ids in fast_vit_gpt2.generate(loaded.model, chunk, plan)]
    # Single-threaded even for a few images: the products of one image's beams are too small to
    # split across cores, and the threads' waiting for each other costs more than they save.
    return _in_parallel(lambda chunk: fast_vit_gpt2.generate(loaded.model, chunk, plan), chunks, workers)


def _in_parallel(work: Any, chunks: list, workers: int) -> list[list[int]]:
    from concurrent.futures import ThreadPoolExecutor

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # Each worker sets its own OpenMP thread count too: oneDNN reads that per thread, and
        # would otherwise start a second thread per worker and crowd the cores.
        with ThreadPoolExecutor(max_workers=workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            return [ids for result in pool.map(work, chunks) for ids in result]
    finally:
        torch.set_num_threads(threads)


def _cpu_threads() -> int:
    import torch

    return max(1, torch.get_num_threads())


def _transformers_generate(loaded: LoadedModel, pixel_values: torch.Tensor, settings: GenerationSettings) -> list[list[int]]:
    import torch

    with torch.inference_mode():
        output = loaded.model.generate(pixel_values=pixel_values, **settings.generate_kwargs())  # type: ignore[operator]
    eos_ids = as_tuple(loaded.model.generation_config.eos_token_id)
    return [cut_after_eos(row, eos_ids) for row in output.tolist()]


def search_plan(model: Any, settings: GenerationSettings) -> SearchPlan | None:
    """The fast loop's plan for this model and these settings, or None when generate() must run."""
    from alttext.caption import fast_vit_gpt2

    config = model.generation_config
    if not (_transformers_supported() and fast_vit_gpt2.supports(model)) or config.do_sample:
        return None
    if unreproduced_settings(config.to_diff_dict()):
        return None
    return plan_search(settings, config.to_dict(), getattr(model.config, "decoder_start_token_id", None))


def _transformers_supported() -> bool:
    """The fast loop reproduces the beam search of transformers 5."""
    import transformers

    return int(transformers.__version__.split(".")[0]) >= 5

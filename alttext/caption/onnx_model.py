"""Caption with an encoder-decoder model exported to ONNX, on ONNX Runtime, without torch.

A model folder in the published layout (see onnx_export.py; transformers.js repositories keep
it in an `onnx/` subfolder) holds `encoder_model.onnx`, `decoder_model.onnx` and
`decoder_with_past_model.onnx` (int8 copies end in `_quantized.onnx`), next to `config.json`,
`generation_config.json`, `preprocessor_config.json` and `tokenizer.json`. Where the two decoders
are absent, `decoder_model_merged.onnx` (Optimum's and transformers.js's other layout, see
onnx_merge.py) serves both steps: the first with empty past tensors and use_cache_branch false.

The search is alttext's own (np_search.py: transformers' beam and greedy search step for step).
The first decoder step runs once per image and returns the image's cross-attention keys and
values, which every later step and beam reuses; only the self-attention history is re-ordered
between steps. alttext's own exports take those keys and values once per image, shared by its
beams (their batch axis is named `images`); published graphs take a copy for every beam.
Imports onnxruntime, tokenizers, NumPy and Pillow, never torch.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alttext.caption.model import ModelUnavailable, folder_fingerprint
from alttext.caption.np_search import BeamSearch, GreedySearch
from alttext.caption.search_plan import SearchPlan, plan_search, unreproduced_settings

ENCODER = "encoder_model"
DECODER = "decoder_model"
DECODER_WITH_PAST = "decoder_with_past_model"
DECODER_MERGED = "decoder_model_merged"
USE_CACHE_BRANCH = "use_cache_branch"
# The batch axis of the with-past decoder's cross-attention inputs in alttext's exports (see
# onnx_export.py): one row per image, shared by its beams. Published graphs name it as the other
# inputs' and want one row per beam.
CROSS_BATCH_AXIS = "images"
QUANTIZED = "_quantized"
SETTINGS_FILES = ("config.json", "preprocessor_config.json", "tokenizer.json")
# Below 4 rows the products may take another kernel path: pad, as the torch loop does, so a
# caption never depends on how many images share its batch.
MIN_ROWS = 4
IMAGES_PER_CALL = 16
ENCODER_IMAGES = 4  # images per encoder run (see _encode)
MIN_IMAGES_PER_WORKER = 4  # fewer images than this per core: one worker
ONNX_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}
PIL_RESAMPLE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5}  # PIL's own numbering, as transformers saves it


@dataclass(frozen=True)
class ImageSettings:
    """What the model's image processor does (ViT-style: resize, rescale, normalise)."""

    height: int
    width: int
    resample: int
    do_resize: bool
    do_rescale: bool
    rescale_factor: float
    do_normalize: bool
    mean: tuple[float, ...]
    std: tuple[float, ...]


@dataclass
class OnnxModel:
    encoder: Any  # onnxruntime.InferenceSession
    decoder: Any
    decoder_with_past: Any
    tokenizer: Any  # tokenizers.Tokenizer
    image: ImageSettings
    generation: dict[str, Any]
    decoder_start_id: int | None
    layers: int
    clean_up_spaces: bool
    model_id: str
    revision: str
    quantized: str | None
    merged: bool = False  # decoder and decoder_with_past are one graph that takes use_cache_branch
    cross_per_image: bool = False  # the with-past decoder takes the image's keys and values once for all its beams


def onnx_folder(name: str) -> Path | None:
    """The folder holding the ONNX graphs for a model folder (itself or its `onnx/`), or None."""
    folder = Path(name).expanduser()
    for candidate in (folder, folder / "onnx"):
        if (candidate / f"{ENCODER}.onnx").is_file() or (candidate / f"{ENCODER}{QUANTIZED}.onnx").is_file():
            return candidate
    return None


def load_onnx_model(name: str, *, quantize: str | None = None, revision: str | None = None,
                    threads: int | None = None) -> OnnxModel:
    """Load the ONNX graphs, tokenizer and image settings of a folder or hub id.

    `threads`: ONNX Runtime threads per call (default 1: the cores are used by running one
    single-threaded worker per core, as the torch loop does; see onnx_generate_ids)."""
    folder = _model_folder(name, revision, QUANTIZED if quantize == "int8" else "")
    graphs = onnx_folder(str(folder))
    if graphs is None:
        raise ModelUnavailable(f"model {name!r} has no ONNX export ({ENCODER}.onnx); make one with "
                               f"alttext export-onnx --model {name} FOLDER")
    suffix = QUANTIZED if quantize == "int8" else ""
    if quantize not in (None, "int8"):
        raise ModelUnavailable(f"unknown quantization {quantize!r} (use int8)")
    config = _read_json(folder, "config.json")
    decoder_config = config.get("decoder", config)
    generation = _read_json(folder, "generation_config.json", required=False)
    odd = unreproduced_settings(generation)
    if odd or generation.get("do_sample"):
        raise ModelUnavailable(f"model {name!r} asks for generation settings the ONNX back end does not "
                               f"reproduce ({', '.join(odd) or 'do_sample'}); use the torch back end")
    encoder = _session(graphs, ENCODER + suffix, threads)
    merged = not all((graphs / f"{part}{suffix}.onnx").is_file() for part in (DECODER, DECODER_WITH_PAST))
    if merged and not (graphs / f"{DECODER_MERGED}{suffix}.onnx").is_file():
        raise ModelUnavailable(f"model folder {str(graphs)!r} has neither {DECODER}{suffix}.onnx with "
                               f"{DECODER_WITH_PAST}{suffix}.onnx nor {DECODER_MERGED}{suffix}.onnx")
    if merged:
        decoder = decoder_with_past = _session(graphs, DECODER_MERGED + suffix, threads)
        if USE_CACHE_BRANCH not in {meta.name for meta in decoder.get_inputs()}:
            raise ModelUnavailable(f"{DECODER_MERGED}{suffix}.onnx in {str(graphs)!r} has no {USE_CACHE_BRANCH} "
                                   "input (expected a merged decoder as Optimum writes it)")
    else:
        decoder, decoder_with_past = (_session(graphs, part + suffix, threads) for part in (DECODER, DECODER_WITH_PAST))
    return OnnxModel(
        encoder, decoder, decoder_with_past,
        tokenizer=_tokenizer(folder),
        image=_image_settings(_read_json(folder, "preprocessor_config.json")),
        generation=generation,
        decoder_start_id=config.get("decoder_start_token_id"),
        layers=int(decoder_config.get("n_layer", decoder_config.get("num_hidden_layers", 0))),
        clean_up_spaces=bool(_read_json(folder, "tokenizer_config.json", required=False)
                             .get("clean_up_tokenization_spaces", False)),
        model_id=str(folder.resolve()) if Path(name).expanduser().is_dir() else name,
        revision=folder_fingerprint(folder),
        quantized=quantize,
        merged=merged,
        cross_per_image=_takes_cross_per_image(decoder_with_past),
    )


def _model_folder(name: str, revision: str | None, suffix: str) -> Path:
    folder = Path(name).expanduser()
    if folder.is_dir():
        return folder
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelUnavailable(f"model folder {name!r} does not exist")
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ModelUnavailable(f"model {name!r} is not a folder; pass an exported folder (--model DIR) or "
                               "install huggingface_hub to fetch a hub id") from None
    try:
        return Path(snapshot_download(name, revision=revision, allow_patterns=["*.json", "*.txt", *_graph_files(suffix)]))
    except Exception as error:  # network and hub errors come from several libraries
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelUnavailable(f"model {name!r} could not be fetched ({first}); on a machine without "
                               "network, pass an exported folder with --model DIR") from None


def _graph_files(suffix: str) -> list[str]:
    """The graphs a hub repository may hold for this precision, not its other variants (transformers.js
    repositories publish fp16, q4 and more next to them)."""
    return [f"{where}{part}{suffix}.onnx" for where in ("", "onnx/")
            for part in (ENCODER, DECODER, DECODER_WITH_PAST, DECODER_MERGED)]


def _read_json(folder: Path, name: str, *, required: bool = True) -> dict[str, Any]:
    path = folder / name
    if not path.is_file():
        if required:
            raise ModelUnavailable(f"model folder {str(folder)!r} has no {name}")
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelUnavailable(f"{path}: cannot be read ({error})") from None


def _session(folder: Path, part: str, threads: int | None) -> Any:
    import onnxruntime

    path = folder / f"{part}.onnx"
    if not path.is_file():
        raise ModelUnavailable(f"model folder {str(folder)!r} has no {path.name}")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings are about graph rewrites, not results
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _tokenizer(folder: Path) -> Any:
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelUnavailable(f"model folder {str(folder)!r} has no tokenizer.json (the ONNX back end reads "
                               "the fast tokenizer file; save the tokenizer with transformers to write it)")
    return Tokenizer.from_file(str(path))


def _image_settings(config: dict[str, Any]) -> ImageSettings:
    size = config.get("size", 224)
    if isinstance(size, int):
        height = width = size
    elif isinstance(size, dict) and "height" in size and "width" in size:
        height, width = int(size["height"]), int(size["width"])
    else:
        raise ModelUnavailable(f"image processor size {size!r} is not supported by the ONNX back end")
    if config.get("do_center_crop"):
        raise ModelUnavailable("image processors that crop are not supported by the ONNX back end")
    mean, std = config.get("image_mean", [0.5] * 3), config.get("image_std", [0.5] * 3)
    return ImageSettings(height, width, int(config.get("resample", 2)), bool(config.get("do_resize", True)),
                         bool(config.get("do_rescale", True)), float(config.get("rescale_factor", 1 / 255)),
                         bool(config.get("do_normalize", True)), tuple(mean), tuple(std))


def preprocess(model: OnnxModel, images: list[Any]) -> np.ndarray:
    """RGB PIL images to pixel values [images, 3, height, width], as transformers' PIL processor makes them."""
    settings = model.image
    rows = []
    for image in images:
        if settings.do_resize:
            image = image.resize((settings.width, settings.height), resample=PIL_RESAMPLE[settings.resample])
        pixels = np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)
        values = (pixels.astype(np.float64) * settings.rescale_factor).astype(np.float32) \
            if settings.do_rescale else pixels.astype(np.float32)
        if settings.do_normalize:
            mean = np.asarray(settings.mean, dtype=np.float32)[:, None, None]
            std = np.asarray(settings.std, dtype=np.float32)[:, None, None]
            values = (values - mean) / std
        rows.append(values)
    return np.stack(rows)


def search_plan(model: OnnxModel, settings: Any) -> SearchPlan:
    plan = plan_search(settings, model.generation, model.decoder_start_id)
    if plan is None:
        raise ModelUnavailable(f"model {model.model_id!r} has no decoder start token in its configuration")
    return plan


def onnx_generate_ids(model: OnnxModel, pixel_values: np.ndarray, settings: Any, *,
                      batch_size: int | None = None) -> list[list[int]]:
    """Token ids per image, start token through the first EOS, as the torch loop returns them."""
    plan = search_plan(model, settings)
    count = len(pixel_values)
    # One single-threaded worker per core, each on its own images: small products split across
    # threads spend more time waiting for each other than computing (sessions run concurrently).
    workers = max(1, min(cores(), count // MIN_IMAGES_PER_WORKER))
    step = max(1, min(batch_size or IMAGES_PER_CALL, -(-count // workers)))
    chunks = [pixel_values[start : start + step] for start in range(0, count, step)]
    if workers == 1:
        return [ids for chunk in chunks for ids in _generate(model, chunk, plan)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alttext-onnx") as pool:
        return [ids for result in pool.map(lambda chunk: _generate(model, chunk, plan), chunks) for ids in result]


def _generate(model: OnnxModel, pixel_values: np.ndarray, plan: SearchPlan) -> list[list[int]]:
    images, beams = len(pixel_values), plan.num_beams
    if images < MIN_ROWS:
        pixel_values = np.concatenate([pixel_values, np.repeat(pixel_values[-1:], MIN_ROWS - images, axis=0)])
    rows = len(pixel_values)
    states = _encode(model, pixel_values.astype(np.float32))
    start = np.full((rows, 1), plan.start_id, dtype=np.int64)
    feed = {"input_ids": start, "encoder_hidden_states": states}
    if model.merged:
        feed |= {USE_CACHE_BRANCH: _flag(model.decoder, False), **_empty_pasts(model.decoder, rows)}
    outputs = model.decoder.run(None, feed)
    logits, present = outputs[0][:, -1, :], _by_name(model.decoder, outputs)
    cross = {name.replace("present.", "past_key_values."): value
             for name, value in present.items() if ".encoder." in name}
    history = {name.replace("present.", "past_key_values."): value
               for name, value in present.items() if ".decoder." in name}
    if beams > 1:  # every beam starts from the image's one first step
        logits = np.repeat(logits, beams, axis=0)
        if not model.cross_per_image:  # a published graph wants them for every row
            cross = {name: np.repeat(value, beams, axis=0) for name, value in cross.items()}
        history = {name: np.repeat(value, beams, axis=0) for name, value in history.items()}
    search = BeamSearch(plan, rows) if beams > 1 else GreedySearch(plan, rows)
    cached = _declared(model.decoder, {USE_CACHE_BRANCH: _flag(model.decoder, True),  # a merged graph's inputs
                                       "encoder_hidden_states": np.repeat(states, beams, axis=0)}) if model.merged else {}
    for _ in range(1, plan.max_length):
        tokens, sources, done = search.step(logits)
        if done:
            break
        if beams > 1:
            history = {name: value[sources] for name, value in history.items()}
        outputs = model.decoder_with_past.run(None, {"input_ids": tokens[:, None].astype(np.int64), **history, **cross,
                                                     **cached})
        logits = outputs[0][:, -1, :]
        history = {name.replace("present.", "past_key_values."): value  # a merged graph's cross ones are empty
                   for name, value in _by_name(model.decoder_with_past, outputs).items() if ".encoder." not in name}
    return search.results()[:images]


def _encode(model: OnnxModel, pixel_values: np.ndarray) -> np.ndarray:
    """The encoder's last hidden state, ENCODER_IMAGES images per run: with 197 rows per image
    its products are as fast for a few images as for many, and ONNX Runtime keeps the memory
    of its largest run (attention scores grow with the images per run) for later runs."""
    parts = [model.encoder.run(["last_hidden_state"], {"pixel_values": pixel_values[start : start + ENCODER_IMAGES]})[0]
             for start in range(0, len(pixel_values), ENCODER_IMAGES)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _takes_cross_per_image(session: Any) -> bool:
    """Whether the with-past decoder's cross-attention inputs have alttext's per-image batch axis."""
    axes = {meta.shape[0] for meta in session.get_inputs()
            if meta.name.startswith("past_key_values.") and ".encoder." in meta.name}
    return axes == {CROSS_BATCH_AXIS}


def _declared(session: Any, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = {meta.name for meta in session.get_inputs()}
    return {name: value for name, value in feed.items() if name in names}


def _flag(session: Any, value: bool) -> np.ndarray:
    """use_cache_branch, in the rank the graph declares (Optimum's is [1])."""
    meta = next(meta for meta in session.get_inputs() if meta.name == USE_CACHE_BRANCH)
    return np.full([1] * len(meta.shape), value, dtype=np.bool_)


def _empty_pasts(session: Any, rows: int) -> dict[str, np.ndarray]:
    """Zero-length past keys and values for a merged graph's first step, typed as it declares them:
    `rows` on the batch axis, the fixed sizes (heads, head size) as declared, 0 on any other axis
    (the sequence axis, or one the graph leaves unnamed)."""
    pasts = {}
    for meta in session.get_inputs():
        if not meta.name.startswith("past_key_values."):
            continue
        shape = [rows, *(dim if isinstance(dim, int) else 0 for dim in meta.shape[1:])]
        pasts[meta.name] = np.zeros(shape, dtype=ONNX_TYPES[meta.type])
    return pasts


def _by_name(session: Any, outputs: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {meta.name: value for meta, value in zip(session.get_outputs(), outputs) if meta.name != "logits"}


def decode(model: OnnxModel, ids: list[list[int]]) -> list[str]:
    """Token ids to text, special tokens dropped, as transformers' tokenizer decodes them."""
    texts = model.tokenizer.decode_batch(ids, skip_special_tokens=True)
    if model.clean_up_spaces:
        texts = [_clean_up_spaces(text) for text in texts]
    return [text.strip() for text in texts]


def _clean_up_spaces(text: str) -> str:
    """transformers' `clean_up_tokenization`."""
    for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                          (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(before, after)
    return text


def end_token_ids(model: OnnxModel) -> set[int]:
    value = model.generation.get("eos_token_id")
    if value is None:
        return set()
    return set(value) if isinstance(value, list) else {int(value)}

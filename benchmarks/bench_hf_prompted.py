"""What a prompted transformers model costs per image on the CPU, next to the default captioner, in one run.

    python benchmarks/bench_hf_prompted.py [--images 4] [--full-size-images 1] [--split] [--no-full-size]

No weights can be downloaded here, and speed does not depend on the weights' values, so every
model has random weights:

- default model: the ViT + GPT-2 architecture of nlpconnect/vit-gpt2-image-captioning
  (reference-model/config.json, as bench_caption.py builds it), through alttext's own loop,
  4 beams, 16 tokens per image: what `alttext fix` runs today;
- tiny SmolVLM and tiny Florence-2: the test suite's models (tests/tiny_vlm.py), saved and loaded
  through `load_hf_prompted`;
- SmolVLM-256M-sized: HuggingFaceTB/SmolVLM-256M-Instruct's architecture (SigLIP-B/16 at 512 px,
  pixel shuffle to 64 tokens per 512-px tile, SmolLM2-135M), written in this script, with one
  tile per image (the global view only); with --split also as SmolVLM's processor splits
  images (here resized to 1024 px: a 640x480 photo becomes 4 tiles plus the global view, 320
  image tokens; every further tile costs 64 tokens and one more pass of the vision tower). The
  full-size rows take about a minute of CPU per image on 2 cores, so they run on
  --full-size-images images (default 1), the split row only when asked.

Every prompted model answers a prompt of about 140 words of rules and page context about
synthetic 640x480 photos. A random model never ends its answer, so each answer runs to the
budget the length limit sets (--max-length characters: 95 new tokens at the default 125); a
trained model stops at its end token, usually after 15-40 tokens, so real answers cost less
decoding than shown here. The prompt is tokenized by the test models' small tokenizer, which
spends about twice the tokens a trained one does: the prompt tokens column says how many. Each
configuration runs in its own process (peak RSS is its own), after a short warm-up call; CPU
seconds count all threads of the process and depend less than wall seconds on how loaded the
machine is (threads that spin while waiting for a core still count). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import bench_caption as caption  # noqa: E402

RULES = (
    "You write alt text for images on web pages, for people who use screen readers. Describe what the "
    "image shows and why it is on the page, in the page's language, in one or two short sentences. Do "
    "not begin with 'image of' or 'picture of'. Do not repeat the figure caption. If the image is a "
    "link, describe where the link goes. If the image adds nothing to the page, say it is decorative. "
    "Answer with JSON: {\"alt\": \"...\", \"decorative\": false}."
)
CONTEXT = (
    "Page title: Release notes for version 4.2\nNearest heading: Faster start-up\n"
    "Paragraph: Start-up time fell by a third on every platform we measure, most on Windows.\n"
    "Figure caption: Start-up time per platform, before and after.\nText in the image: Linux macOS Windows 1.2 s 0.8 s\n"
    "Page language: en. Longest alt text: 125 characters."
)

# HuggingFaceTB/SmolVLM-256M-Instruct's architecture (an Idefics3 model).
SMOLVLM_256M_VISION = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                       "num_attention_heads": 12, "image_size": 512, "patch_size": 16}
SMOLVLM_256M_TEXT = {"model_type": "llama", "vocab_size": 49280, "hidden_size": 576, "intermediate_size": 1536,
                     "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
                     "max_position_embeddings": 8192, "rope_theta": 100000, "tie_word_embeddings": True}
SMOLVLM_256M_SCALE = 4
SMOLVLM_256M_IMAGE_SEQ_LEN = 64  # (512 / 16)^2 patches / 4^2


def full_size_smolvlm(tiny_folder: Path, split: bool):
    """The 256M architecture with random weights, and the tiny model's tokenizer and chat template
    in a processor laid out like the model card's (tokens the tokenizer lacks decode to nothing)."""
    import torch
    from transformers import AutoProcessor, Idefics3Config, Idefics3ForConditionalGeneration, Idefics3ImageProcessorPil

    tiny = AutoProcessor.from_pretrained(tiny_folder)
    image_processor = Idefics3ImageProcessorPil(size={"longest_edge": 1024 if split else 512},
                                                max_image_size={"longest_edge": 512}, do_image_splitting=split)
    processor = type(tiny)(image_processor=image_processor, tokenizer=tiny.tokenizer,
                           image_seq_len=SMOLVLM_256M_IMAGE_SEQ_LEN, chat_template=tiny.chat_template)
    tokenizer = tiny.tokenizer
    text = {**SMOLVLM_256M_TEXT, "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id}
    config = Idefics3Config(vision_config=SMOLVLM_256M_VISION, text_config=text, scale_factor=SMOLVLM_256M_SCALE,
                            image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
                            pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.update(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return model, processor


def prompted_model(kind: str, folder: Path):
    """A TransformersPromptedModel: tiny ones through load_hf_prompted, the full-size one built here."""
    import torch

    from alttext.caption.hf_prompted import TransformersPromptedModel, load_hf_prompted, prompt_mode
    from alttext.caption.model import place_model
    from tests.tiny_vlm import build_tiny_florence2, build_tiny_smolvlm

    if kind == "tiny-florence2":
        return load_hf_prompted(str(build_tiny_florence2(folder)), device="cpu")
    smolvlm = build_tiny_smolvlm(folder)
    if kind == "tiny-smolvlm":
        return load_hf_prompted(str(smolvlm), device="cpu")
    model, processor = full_size_smolvlm(smolvlm, split=kind == "smolvlm-256m-split")
    model = place_model(model, torch.device("cpu"), torch.float32, None)
    return TransformersPromptedModel(model, processor, model_id=kind, revision="random", key=kind,
                                     mode=prompt_mode("idefics3", processor, kind))


def count_tokens(prompted) -> dict:
    """Wrap the model's generate to count prompt and answer tokens (the answers' text is noise)."""
    counts = {"prompt": 0, "new": 0, "rows": 0}
    generate = prompted.model.generate

    def counted(**inputs):
        output = generate(**inputs)
        rows, prompt_length = inputs["input_ids"].shape
        new = output.shape[1] - (1 if prompted.model.config.is_encoder_decoder else prompt_length)  # 1: decoder start
        counts.update(prompt=counts["prompt"] + rows * prompt_length, new=counts["new"] + rows * new,
                      rows=counts["rows"] + rows)
        return output

    prompted.model.generate = counted
    return counts


def run_prompted(kind: str, count: int, max_length: int) -> dict:
    from alttext.caption.prompted import Prompt

    images = caption.make_images(count)
    prompt = Prompt(system=RULES, user=CONTEXT, language="en", max_length=max_length)
    with tempfile.TemporaryDirectory() as folder:
        prompted = prompted_model(kind, Path(folder))
    warm_up = Prompt(system=RULES, user=CONTEXT, language="en", max_length=1)  # the shortest budget
    prompted.answer(caption.open_images(images[:1]), [warm_up])
    counts = count_tokens(prompted)
    cpu, wall = time.process_time(), time.perf_counter()
    answers = prompted.answer(caption.open_images(images), [prompt] * count)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu": cpu, "wall": wall, "images": count, "prompt_tokens": counts["prompt"] / counts["rows"],
            "new_tokens": counts["new"] / counts["rows"], "answers": len(answers)}


def run_default(count: int) -> dict:
    from alttext.caption.generate import generate_ids, preprocess

    model, processor = caption.build_model(caption.DEFAULT_ARCHITECTURE, "cpu", "float32")
    loaded = caption.as_loaded(model, processor, None)
    settings = caption.alttext_settings(4)
    images = caption.make_images(count)
    generate_ids(loaded, preprocess(loaded, caption.open_images(images)), settings)  # warm-up, the same batch
    cpu, wall = time.process_time(), time.perf_counter()
    ids = generate_ids(loaded, preprocess(loaded, caption.open_images(images)), settings)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu": cpu, "wall": wall, "images": count, "prompt_tokens": 0,
            "new_tokens": sum(len(row) - 1 for row in ids) / len(ids), "answers": len(ids)}


CONFIGS = {  # kind: label
    "default": "default model (ViT + GPT-2), beams 4",
    "tiny-smolvlm": "prompted: tiny SmolVLM (test model)",
    "tiny-florence2": "prompted: tiny Florence-2 (test model)",
    "smolvlm-256m": "prompted: SmolVLM-256M-sized, 1 tile",
    "smolvlm-256m-split": "prompted: SmolVLM-256M-sized, split into tiles",
}


def child(options: argparse.Namespace) -> None:
    import torch

    from alttext.caption.model import _set_cpu_threads

    _set_cpu_threads(torch.device("cpu"))
    data = run_default(options.count) if options.kind == "default" else run_prompted(
        options.kind, options.count, options.max_length)
    print(json.dumps({**data, "peak_rss_mb": caption.peak_rss_mb(), "threads": torch.get_num_threads()}))


def run_config(kind: str, count: int, options: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", "--kind", kind, "--count", str(count),
               "--max-length", str(options.max_length)]
    return {**caption.run_child(command, f"{CONFIGS[kind]} ({count} images)"), "name": CONFIGS[kind]}


def table(rows: list[dict]) -> str:
    reference = rows[0]["cpu"] / rows[0]["images"]
    lines = ["| configuration | images | prompt tokens/image | new tokens/image | CPU s/image | x default "
             "| wall s/image | peak RSS MB |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        per_image = row["cpu"] / row["images"]
        lines.append(f"| {row['name']} | {row['images']} | {row['prompt_tokens']:.0f} | {row['new_tokens']:.0f} "
                     f"| {per_image:.2f} | {per_image / reference:.1f} | {row['wall'] / row['images']:.2f} "
                     f"| {row['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4, help="images per configuration (default 4)")
    parser.add_argument("--max-length", type=int, default=125, help="the prompts' length limit in characters")
    parser.add_argument("--full-size-images", type=int, default=1, help="images for the SmolVLM-256M-sized rows")
    parser.add_argument("--split", action="store_true", help="add the SmolVLM-256M-sized row with image splitting")
    parser.add_argument("--no-full-size", action="store_true", help="skip the SmolVLM-256M-sized rows")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def configurations(options: argparse.Namespace) -> list[tuple[str, int]]:
    """(kind, images) to run; the default model is timed on a whole batch of its own size, as alttext runs it."""
    runs = [("default", max(options.images, 16)), ("tiny-smolvlm", options.images), ("tiny-florence2", options.images)]
    if not options.no_full_size:
        runs.append(("smolvlm-256m", options.full_size_images))
        if options.split:
            runs.append(("smolvlm-256m-split", options.full_size_images))
    return runs


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.child:
        child(options)
        return 0
    started, load_before = time.perf_counter(), os.getloadavg()
    rows = [run_config(kind, count, options) for kind, count in configurations(options)]
    print(f"\nCPU: {os.cpu_count()} cores, {rows[0]['threads']} torch threads; load average before "
          f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; prompts' length limit {options.max_length} "
          f"characters; random weights (answers run to the token budget).\n")
    print(table(rows))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Captioning settings shared by `caption`, `fix` and `suggest`: the flags, and how they
combine with `[tool.alttext]` (flags win)."""

from __future__ import annotations

import argparse
import os
from typing import Any

# [tool.alttext] keys for the captioner, with the type each must have.
CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,), "device": (str,), "dtype": (str,), "quantize": (str,), "batch-size": (int,),
    "num-beams": (int,), "max-length": (int,), "no-repeat-ngram-size": (int,), "final-period": (bool,),
    "caption-max-length": (int,), "cache": (str, bool), "cache-dir": (str,), "backend": (str,),
    "ocr": (str, bool), "max-alt-length": (int,),
    # prompted back ends (alttext.caption.prompt, openai_backend)
    "prompt-template": (str,), "api-base": (str,), "api-key-env": (str,), "request-timeout": (int, float),
    "concurrency": (int,), "max-retries": (int,),
}
OCR_CHOICES = ("auto", "on", "off", "all")  # alttext.caption.ocr.OCR_MODES, without importing it
_FLAGS = ("model", "revision", "device", "dtype", "quantize", "batch_size", "num_beams", "max_length",
          "no_repeat_ngram_size", "final_period", "caption_max_length", "ocr", "max_alt_length", "backend",
          "prompt_template", "api_base", "api_key_env", "request_timeout", "concurrency", "max_retries")


def add_captioner_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("captioning")
    group.add_argument("--model", metavar="ID|DIR", help="Hugging Face model id or local model folder")
    from alttext.caption.backend_names import BACKENDS

    group.add_argument("--backend", choices=BACKENDS,
                       help="torch (transformers) or onnx (an ONNX export on ONNX Runtime, no torch); "
                            "default auto: onnx for a folder holding only an ONNX export; "
                            "openai: an OpenAI-compatible server at --api-base (images are sent to it); "
                            "vlm: a prompted transformers model (SmolVLM, Florence-2) on this machine")
    group.add_argument("--revision", metavar="REV", help="model revision (branch, tag or commit) for a hub id")
    group.add_argument("--device", metavar="auto|cpu|cuda|mps", help="where the model runs (default: auto = CUDA, then MPS, then CPU)")
    group.add_argument("--dtype", choices=("fp32", "fp16", "bf16"), help="weights' precision (default: fp16 on CUDA, else fp32)")
    group.add_argument("--quantize", choices=("int8",), help="dynamic int8 on the CPU: faster, captions may differ slightly")
    group.add_argument("--batch-size", type=positive, metavar="N", help="images per model call (default: chosen for the device)")
    group.add_argument("--num-beams", type=positive, metavar="N", help="beam search width (default: 4; 1 = greedy)")
    group.add_argument("--max-length", type=positive, metavar="N", help="most tokens per caption (default: 16)")
    group.add_argument("--no-repeat-ngram-size", type=not_negative, metavar="N", help="never repeat an N-gram of tokens (default: 3; 0 = off)")
    group.add_argument("--final-period", action="store_true", default=None, help="end each caption with a period")
    group.add_argument("--caption-max-length", type=positive, metavar="CHARS", help="cut captions at a word boundary to this many characters")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--cache", metavar="PATH", help="caption cache file or folder (default: .alttext-cache/ at the project top, or $ALTTEXT_CACHE)")
    where.add_argument("--no-cache", action="store_true", help="neither read nor write the caption cache")
    group.add_argument("--ocr", choices=OCR_CHOICES,
                       help="read the text in images: auto = when rapidocr is installed (default), all = every line, "
                            "not only the largest")
    group.add_argument("--max-alt-length", type=positive, metavar="CHARS", help="longest alt text to compose (default: 125)")
    group.add_argument("--prompt-template", metavar="FILE",
                       help="prompt for a prompted backend: a text file with {placeholders} (see the README)")
    group.add_argument("--api-base", metavar="URL", help="the openai backend's server, such as http://127.0.0.1:8000/v1")
    group.add_argument("--api-key-env", metavar="VAR",
                       help="environment variable holding the server's API key (default: send no key)")
    group.add_argument("--request-timeout", type=positive_seconds, metavar="SECONDS",
                       help="how long to wait for the server's answer to one image (default: 60)")
    group.add_argument("--concurrency", type=positive, metavar="N", help="requests in flight at once (default: 4)")
    group.add_argument("--max-retries", type=not_negative, metavar="N",
                       help="retries after 429, 5xx or a timeout, with backoff (default: 4)")
    group.add_argument("--trust-remote-code", action="store_true", help="allow a hub model to run its own Python code (only for models you trust)")


def positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def not_negative(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive whole number, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def captioner_options(args: argparse.Namespace, config_root: str, extra: dict[str, object], source: str | None) -> dict[str, Any]:
    """Captioner keyword arguments: [tool.alttext] values, then the flags given.

    `args` may lack any flag (callers that offer fewer flags pass a plain Namespace).
    """
    config = checked_config(extra, source)
    options: dict[str, Any] = {key.replace("-", "_"): value for key, value in config.items()
                               if key not in ("cache", "cache-dir")}
    if isinstance(options.get("model"), str) and os.path.isdir(os.path.join(config_root, options["model"])):
        options["model"] = os.path.join(config_root, options["model"])  # a folder named relative to the config
    if isinstance(options.get("prompt_template"), str):
        options["prompt_template"] = os.path.join(config_root, options["prompt_template"])
    cache = config.get("cache", config.get("cache-dir"))
    if cache is not None:
        options["cache"] = os.path.join(config_root, cache) if isinstance(cache, str) else cache
    options.update({key: value for key in _FLAGS if (value := getattr(args, key, None)) is not None})
    if getattr(args, "cache", None):
        options["cache"] = args.cache
    if getattr(args, "no_cache", False):
        options["cache"] = False
    if getattr(args, "trust_remote_code", False):
        options["trust_remote_code"] = True
    return options


def checked_config(extra: dict[str, object], source: str | None) -> dict[str, object]:
    """The captioner's keys of [tool.alttext], each checked for type."""
    from alttext.config import ConfigError

    values = {key: value for key, value in extra.items() if key in CONFIG_TYPES}
    for key, value in values.items():
        allowed = CONFIG_TYPES[key]
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join(kind.__name__ for kind in allowed)
            raise ConfigError(f"{source}: [tool.alttext] {key}: expected {names}, got {value!r}")
    if isinstance(values.get("ocr"), str) and values["ocr"] not in OCR_CHOICES:
        raise ConfigError(f"{source}: [tool.alttext] ocr: expected one of {', '.join(OCR_CHOICES)} "
                          f"or true/false, got {values['ocr']!r}")
    return values

"""`alttext caption IMAGES...`: print a caption for each image, one per line or as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

EPILOG = """\
Line N of the output is image N's caption (empty when it failed; the error is on stderr).
Captions are cached in .alttext-cache/captions.sqlite3 at the top of the project (or
$ALTTEXT_CACHE, or --cache PATH): a second run over the same images loads no model.
Settings may also come from [tool.alttext] in pyproject.toml; flags win.
exit status: 0 every image captioned, 2 an image could not be captioned (the others still
are), the model cannot be loaded, or a usage/config error.
"""

# [tool.alttext] keys this command reads, with the type each must have.
CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,), "device": (str,), "dtype": (str,), "quantize": (str,), "batch-size": (int,),
    "num-beams": (int,), "max-length": (int,), "no-repeat-ngram-size": (int,), "final-period": (bool,),
    "caption-max-length": (int,), "cache": (str, bool), "cache-dir": (str,),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "caption",
        help="write a caption for each image",
        description="Caption images with an image-to-text model (default: nlpconnect/vit-gpt2-image-captioning).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files, data: URIs, or - for one image on stdin")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {image, caption, raw, cached, error}")
    parser.add_argument("--model", metavar="ID|DIR", help="Hugging Face model id or local model folder")
    parser.add_argument("--revision", metavar="REV", help="model revision (branch, tag or commit) for a hub id")
    parser.add_argument("--device", metavar="auto|cpu|cuda|mps", help="where the model runs (default: auto = CUDA, then MPS, then CPU)")
    parser.add_argument("--dtype", choices=("fp32", "fp16", "bf16"), help="weights' precision (default: fp16 on CUDA, else fp32)")
    parser.add_argument("--quantize", choices=("int8",), help="dynamic int8 on the CPU: faster, captions may differ slightly")
    parser.add_argument("--batch-size", type=_positive, metavar="N", help="images per model call (default: chosen for the device)")
    parser.add_argument("--num-beams", type=_positive, metavar="N", help="beam search width (default: 4; 1 = greedy)")
    parser.add_argument("--max-length", type=_positive, metavar="N", help="most tokens per caption (default: 16)")
    parser.add_argument("--no-repeat-ngram-size", type=_not_negative, metavar="N", help="never repeat an N-gram of tokens (default: 3; 0 = off)")
    parser.add_argument("--final-period", action="store_true", default=None, help="end each caption with a period")
    parser.add_argument("--caption-max-length", type=_positive, metavar="CHARS", help="cut captions at a word boundary to this many characters")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cache", metavar="PATH", help="caption cache file or folder (default: .alttext-cache/ at the project top, or $ALTTEXT_CACHE)")
    where.add_argument("--no-cache", action="store_true", help="neither read nor write the caption cache")
    parser.add_argument("--trust-remote-code", action="store_true", help="allow a hub model to run its own Python code (only for models you trust)")
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read [tool.alttext] from (default: the nearest one)")
    parser.set_defaults(run=run)


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _not_negative(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive whole number, got {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from alttext.config import ConfigError

    try:
        options = _options(args)
        images, names = _images(args.images)
    except (ConfigError, ValueError) as error:
        print(f"alttext: error: {error}", file=sys.stderr)
        return 2
    results = _caption(images, names, options)
    if results is None:
        return 2
    _print(results, args.images, as_json=args.json)
    return 2 if any(result.error for result in results) else 0


def _caption(images: list[Any], names: list[str], options: dict[str, Any]) -> list[Any] | None:
    """Captioner results, or None after printing why the model cannot be used."""
    import warnings

    from alttext.caption.captioner import Captioner, ModelUnavailable

    # Oversized images are refused with a message naming them; Pillow's warning would repeat it.
    warnings.filterwarnings("ignore", message="Image size .* could be decompression bomb")
    if not sys.stderr.isatty():  # download bars are for people watching, not for logs
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        captioner = Captioner(**options)
        try:
            return captioner.caption_results(images, names)
        finally:
            captioner.close()
    except (ModelUnavailable, ValueError) as error:
        print(f"alttext: error: {error}", file=sys.stderr)
        return None


def _print(results: list[Any], arguments: list[str], *, as_json: bool) -> None:
    for argument, result in zip(arguments, results):
        if result.error:
            label = "not captioned" if "is an SVG" in result.error else "error"
            print(f"alttext: {label}: {result.error}", file=sys.stderr)
    if as_json:
        rows = [{"image": argument, "caption": r.caption, "raw": r.raw, "cached": r.cached, "error": r.error}
                for argument, r in zip(arguments, results)]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(result.caption or "")
    sys.stdout.flush()


def _images(arguments: list[str]) -> tuple[list[Any], list[str]]:
    """The captioner's inputs: paths and data: URIs as given, `-` as the bytes on stdin."""
    if arguments.count("-") > 1:
        raise ValueError("- (stdin) can be given only once")
    images: list[Any] = [sys.stdin.buffer.read() if argument == "-" else argument for argument in arguments]
    names = ["<stdin>" if argument == "-" else _name(argument) for argument in arguments]
    return images, names


def _name(argument: str) -> str:
    return argument if not argument.startswith("data:") else f"{argument[:40]}... ({len(argument)} characters)"


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Captioner options: [tool.alttext] values, then the flags given."""
    root, config = _config(args)
    options: dict[str, Any] = {key.replace("-", "_"): value for key, value in config.items()
                               if key not in ("cache", "cache-dir")}
    if isinstance(options.get("model"), str) and os.path.isdir(os.path.join(root, options["model"])):
        options["model"] = os.path.join(root, options["model"])  # a folder named relative to the config
    cache = config.get("cache", config.get("cache-dir"))
    options["cache"] = os.path.join(root, cache) if isinstance(cache, str) else (cache is not False)
    flags = {"model": args.model, "revision": args.revision, "device": args.device, "dtype": args.dtype,
             "quantize": args.quantize, "batch_size": args.batch_size, "num_beams": args.num_beams,
             "max_length": args.max_length, "no_repeat_ngram_size": args.no_repeat_ngram_size,
             "final_period": args.final_period, "caption_max_length": args.caption_max_length}
    options.update({key: value for key, value in flags.items() if value is not None})
    if args.cache:
        options["cache"] = args.cache
    if args.no_cache:
        options["cache"] = False
    if args.trust_remote_code:
        options["trust_remote_code"] = True
    return options


def _config(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    """(folder of the config file, its caption settings), checked for type."""
    from alttext.config import ConfigError, find_pyproject, load_config

    if args.config and not os.path.isfile(args.config):
        raise ConfigError(f"--config {args.config}: no such file")
    source = args.config or find_pyproject(".")
    if not source:
        return os.getcwd(), {}
    config = load_config(source)
    values = {key: value for key, value in config.extra.items() if key in CONFIG_TYPES}
    for key, value in values.items():
        allowed = CONFIG_TYPES[key]
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join(kind.__name__ for kind in allowed)
            raise ConfigError(f"{source}: [tool.alttext] {key}: expected {names}, got {value!r}")
    return config.root, values

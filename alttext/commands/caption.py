"""`alttext caption IMAGES...`: print a caption for each image, one per line or as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from alttext.commands.caption_options import add_captioner_arguments, captioner_options
from alttext.printable import printable

EPILOG = """\
Line N of the output is image N's caption (empty when it failed; the error is on stderr).
Captions are cached in .alttext-cache/captions.sqlite3 at the top of the project (or
$ALTTEXT_CACHE, or --cache PATH): a second run over the same images loads no model.
Text in the images is read (OCR) when rapidocr is installed (the ocr extra) and composed
into the caption; --json gives all of it as "text" for a long description.
Settings may also come from [tool.alttext] in pyproject.toml; flags win.
exit status: 0 every image captioned, 2 an image could not be captioned (the others still
are), the model cannot be loaded, or a usage/config error.
"""

def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "caption",
        help="write a caption for each image",
        description="Caption images with an image-to-text model (default: nlpconnect/vit-gpt2-image-captioning).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files, data: URIs, or - for one image on stdin")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {image, caption, raw, text, kind, cached, error, decorative}")
    add_captioner_arguments(parser)
    add_engine_arguments(parser)
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read [tool.alttext] from (default: the nearest one)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from alttext.config import ConfigError

    try:
        options = _options(args)
        images, names = _images(args.images)
    except (ConfigError, ValueError) as error:
        print(printable(f"alttext: error: {error}"), file=sys.stderr)
        return 2
    results = _caption(images, names, options) if args.engine == "local" else _caption_on_spark(args, options)
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
        print(printable(f"alttext: error: {error}"), file=sys.stderr)
        return None


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    from alttext.commands.caption_options import positive

    group = parser.add_argument_group("Spark")
    group.add_argument("--engine", choices=("local", "spark"), default="local",
                       help="caption in this process (default) or as a Spark job (pip install 'alttext[spark]')")
    group.add_argument("--master", metavar="URL", help="Spark master for --engine spark (default: the running "
                       "session's, else local[*])")
    group.add_argument("--partitions", type=positive, metavar="N", help="Spark tasks (default: one per core)")
    group.add_argument("--results", metavar="DIR.parquet", help="also keep the Spark results table here")


def _caption_on_spark(args: argparse.Namespace, options: dict[str, Any]) -> list[Any] | None:
    """Spark results in argument order, or None after printing why Spark cannot run."""
    from alttext.spark.command import SparkUnavailable, caption_with_spark

    if "-" in args.images:
        print("alttext: error: --engine spark reads image files; - (stdin) needs --engine local", file=sys.stderr)
        return None
    try:
        return caption_with_spark(args.images, options, master=args.master, partitions=args.partitions,
                                  results_path=args.results)
    except (SparkUnavailable, ValueError) as error:
        print(f"alttext: error: {error}", file=sys.stderr)
        return None


def _print(results: list[Any], arguments: list[str], *, as_json: bool) -> None:
    for result in results:
        if result.error:
            label = "not captioned" if "is an SVG" in result.error else "error"
            print(printable(f"alttext: {label}: {result.error}"), file=sys.stderr)
    if as_json:
        rows = [{"image": argument, "caption": r.caption, "raw": r.raw, "text": getattr(r, "text", ""),
                 "kind": getattr(r, "kind", None), "cached": r.cached, "error": r.error,
                 "decorative": getattr(r, "decorative", False)}
                for argument, r in zip(arguments, results)]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(printable(result.caption or ""))
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
    from alttext.config import ConfigError, find_pyproject, load_config

    if args.config and not os.path.isfile(args.config):
        raise ConfigError(f"--config {args.config}: no such file")
    source = args.config or find_pyproject(".")
    if not source:
        return captioner_options(args, os.getcwd(), {}, None)
    config = load_config(source)
    return captioner_options(args, config.root, config.extra, source)

"""`alttext serve`: the local captioner as an OpenAI-compatible HTTP server."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from alttext.commands.caption_options import add_captioner_arguments, positive
from alttext.printable import printable

EPILOG = """\
endpoints: GET /v1/models, POST /v1/chat/completions (one image_url content part holding a
data: URI; the answer's message content is the alt text), GET /health (no key needed).
The captioner, its options and its cache are those of `alttext caption` ([tool.alttext],
then the flags). A prompted back end (--backend vlm, openai) is asked the request's own text
(system and user messages) and its answer is returned as it is; the encoder-decoder model
takes no prompt, so there the text changes nothing.
Security defaults: binds 127.0.0.1; no key unless --api-key-env names an environment variable
holding one (then every /v1 request needs Authorization: Bearer KEY); remote image URLs
refused unless --allow-remote-images; file: and other schemes always refused.
exit status: 0 stopped, 2 usage/config error, the model cannot be used, or the server cannot
start (such as a port in use).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve",
        help="serve the captioner over an OpenAI-compatible HTTP API",
        description="Serve the local captioner over an OpenAI-compatible HTTP API (pip install 'alttext[serve]').",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        conflict_handler="resolve",  # --api-key-env here is the server's key, not a captioning back end's
    )
    add_captioner_arguments(parser)
    group = parser.add_argument_group("server")
    group.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    group.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    group.add_argument("--api-key-env", dest="server_key_env", metavar="NAME",
                       help="require the API key held in this environment variable (never printed)")
    group.add_argument("--served-model-name", metavar="NAME", help="model name in /v1/models and answers "
                       "(default: the model id, or a model folder's name)")
    group.add_argument("--batch-window-ms", type=_not_negative_number, default=100.0, metavar="MS",
                       help="how long a batch waits for more requests once the model is free (default: 100; "
                            "small next to a caption on a CPU; lower it on a GPU for a lone client's latency)")
    group.add_argument("--max-batch", type=positive, default=32, metavar="N", help="most requests per batch (default: 32)")
    group.add_argument("--max-queue", type=positive, default=256, metavar="N",
                       help="most waiting requests; more get 503 with Retry-After (default: 256)")
    group.add_argument("--max-body-bytes", type=positive, default=16 * 1024 * 1024, metavar="N",
                       help="largest request body; larger get 413 (default: 16 MiB)")
    group.add_argument("--max-image-bytes", type=positive, default=10 * 1024 * 1024, metavar="N",
                       help="largest encoded image, decoded from its data: URI or fetched; larger get 413 (default: 10 MiB)")
    group.add_argument("--allow-remote-images", action="store_true",
                       help="also fetch http(s) image URLs (the server then makes requests on clients' behalf)")
    group.add_argument("--fetch-timeout", type=_not_negative_number, default=20.0, metavar="SECONDS",
                       help="deadline for fetching one remote image (default: 20)")
    group.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info")
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read [tool.alttext] from (default: the nearest one)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from alttext.caption.backend_names import PROMPTED_BACKENDS
    from alttext.commands.caption import _options
    from alttext.config import ConfigError

    try:
        api_key = _api_key(args.server_key_env)
        options = _options(args)
        serving = _imports()
    except (ConfigError, ValueError, ImportError) as error:
        print(printable(f"alttext: error: {error}"), file=sys.stderr)
        return 2
    captioner = _captioner(options)
    if captioner is None:
        return 2
    batcher_type, app_type, settings_type, caption_batch, uvicorn = serving
    try:
        batcher = batcher_type(caption_batch(captioner), window_s=args.batch_window_ms / 1000,
                               max_batch=args.max_batch, max_queue=args.max_queue)
        settings = settings_type(model=args.served_model_name or _served_name(captioner.model_name),
                                 api_key=api_key, max_body_bytes=args.max_body_bytes,
                                 max_image_bytes=args.max_image_bytes,
                                 allow_remote_images=args.allow_remote_images, fetch_timeout_s=args.fetch_timeout,
                                 prompted=captioner.backend in PROMPTED_BACKENDS)
        uvicorn.run(app_type(batcher, settings), host=args.host, port=args.port, log_level=args.log_level)
    except SystemExit:  # uvicorn's way to say it could not start (it logged why: a port in use, ...)
        print(f"alttext: error: the server could not start on {args.host}:{args.port}", file=sys.stderr)
        return 2
    finally:
        captioner.close()
    return 0


def _not_negative_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected 0 or a positive number, got {text!r}")
    return value


def _api_key(variable: str | None) -> str | None:
    """The key held in the named variable; an unset or empty one is an error, never a silent no-auth."""
    if variable is None:
        return None
    key = os.environ.get(variable, "").strip()
    if not key:
        raise ValueError(f"--api-key-env {variable}: that environment variable is unset or empty")
    return key


def _imports() -> tuple[Any, Any, Any, Any, Any]:
    try:
        import uvicorn

        from alttext.serve.app import ServeSettings, build_app, caption_asked
        from alttext.serve.batcher import Batcher
    except ImportError as error:
        raise ImportError(f"alttext serve needs the serve extra: pip install 'alttext[serve]' ({error})") from None
    return Batcher, build_app, ServeSettings, caption_asked, uvicorn


def _captioner(options: dict[str, Any]) -> Any:
    """The Captioner `alttext caption` would build, or None after printing why there is none."""
    import warnings

    from alttext.caption.captioner import Captioner, ModelUnavailable

    warnings.filterwarnings("ignore", message="Image size .* could be decompression bomb")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        return Captioner(**{**options, "progress": False})
    except (ModelUnavailable, ValueError) as error:
        print(printable(f"alttext: error: {error}"), file=sys.stderr)
        return None


def _served_name(model: str) -> str:
    """A hub id as it is; a folder by its name only, so answers do not show the server's paths."""
    return os.path.basename(os.path.normpath(model)) if os.path.isdir(model) else model

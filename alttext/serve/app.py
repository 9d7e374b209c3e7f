"""The Starlette application: routes, bearer-token auth, size limits, OpenAI-shaped errors.

Handlers only translate: a request becomes one image with its prompt (an Asked) handed to
the Batcher, its CaptionResult becomes a chat.completion. Nothing here captions, caches or
cleans. A prompted back end answers the client's own prompt, so the client gets the model's
answer as it is (alttext's openai back end reads its JSON); the encoder-decoder captioner's
answer is the cleaned caption.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alttext.serve.batcher import Batcher, QueueFull
from alttext.serve.protocol import ApiError, ChatRequest, completion, error_body, model_list, parse_chat_request

RETRY_AFTER_S = 1
USER_AGENT = "alttext-serve (fetching an image a client asked to caption)"


@dataclass(frozen=True)
class Asked:
    """One request's image and the prompt its client sent."""

    image: bytes
    system: str = ""
    user: str = ""


def caption_asked(captioner: Any) -> Callable[[Sequence[Asked], Sequence[str]], list[Any]]:
    """The Batcher's batch function: a Captioner call for the batch, each image with its prompt."""
    from alttext.caption.prompted import Prompt

    def caption(asked: Sequence[Asked], names: Sequence[str]) -> list[Any]:
        prompts = [Prompt(item.system, item.user, max_length=captioner.max_alt_length)
                   if item.system or item.user else None for item in asked]
        return captioner.caption_results([item.image for item in asked], names, prompts=prompts)

    return caption


@dataclass(frozen=True)
class ServeSettings:
    model: str  # the name /v1/models lists and answers carry
    api_key: str | None = None  # None: no auth
    max_body_bytes: int = 16 * 1024 * 1024
    max_image_bytes: int = 10 * 1024 * 1024
    allow_remote_images: bool = False
    fetch_timeout_s: float = 20.0
    prompted: bool = False  # a prompted back end: answers go back as the model gave them


def build_app(batcher: Batcher, settings: ServeSettings) -> Starlette:
    """The server's ASGI app; it starts the batcher's worker on startup and stops it on shutdown."""
    started = int(time.time())

    async def models(request: Request) -> Response:
        _authorize(request, settings.api_key)
        return JSONResponse(model_list(settings.model, started))

    async def chat_completions(request: Request) -> Response:
        _authorize(request, settings.api_key)
        chat = parse_chat_request(_json(await _body(request, settings.max_body_bytes)),
                                  allow_remote=settings.allow_remote_images,
                                  max_image_bytes=settings.max_image_bytes)
        image = await _image(chat, settings)
        try:
            result = await batcher.submit(Asked(image, chat.system, chat.user), "the image")
        except QueueFull:
            raise ApiError(503, "the server is busy: too many requests are waiting; retry shortly",
                           kind="server_error", code="queue_full") from None
        if settings.prompted and result.raw is not None:  # the model's answer to the client's prompt
            extra = {"cached": result.cached, "alt": result.caption, "decorative": result.decorative,
                     "error": result.error, "text": result.text, "kind": result.kind}
            return JSONResponse(completion(result.raw, settings.model, hit_limit=False, extra=extra))
        if result.error is not None:
            raise ApiError(400, result.error, code="invalid_image", param="messages")
        extra = {"cached": result.cached, "raw": result.raw, "text": result.text, "kind": result.kind}
        return JSONResponse(completion(result.caption or "", settings.model, hit_limit=result.hit_limit, extra=extra))

    async def health(request: Request) -> Response:
        stats = batcher.stats
        return JSONResponse({"status": "ok", "model": settings.model, "batches": stats.batches,
                             "images": stats.images, "largest_batch": stats.largest_batch,
                             "failed_batches": stats.failed_batches, "waiting": batcher.waiting})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        batcher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(batcher.stop)

    routes = [Route("/v1/models", models, methods=["GET"]),
              Route("/v1/chat/completions", chat_completions, methods=["POST"]),
              Route("/health", health, methods=["GET"])]
    handlers: Any = {ApiError: _api_error, HTTPException: _http_error, Exception: _internal_error}
    return Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)


def _authorize(request: Request, api_key: str | None) -> None:
    if api_key is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
        raise ApiError(401, "missing or wrong API key: send it as Authorization: Bearer KEY",
                       kind="invalid_request_error", code="invalid_api_key")


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is larger than the {limit} byte limit", code="request_too_large")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise ApiError(400, f"the request body is not valid JSON ({error})") from None


async def _image(chat: ChatRequest, settings: ServeSettings) -> bytes:
    """The request's image bytes, fetched (off the event loop, bounded) when it is a URL."""
    if chat.image is not None:
        return chat.image
    from alttext.fix.fetch import fetch

    assert chat.url is not None
    try:
        return await asyncio.to_thread(fetch, chat.url, settings.max_image_bytes, settings.fetch_timeout_s, USER_AGENT)
    except ValueError as error:
        raise ApiError(413, f"the image at the URL is too large: {error}", code="image_too_large") from None
    except OSError as error:  # DownloadTimeout is one
        raise ApiError(400, f"the image URL could not be fetched: {error}", code="image_fetch_failed") from None


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if error.status == 503 else None
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return JSONResponse(error_body(str(error.detail), "invalid_request_error"), status_code=error.status_code)


async def _internal_error(request: Request, error: Exception) -> Response:
    """Model failures and bugs: a 500 in the same shape (the traceback stays in the server log)."""
    return JSONResponse(error_body(f"captioning failed: {error}", "server_error"), status_code=500)

"""OpenAI's chat-completions wire format, as pure functions: request in, image out;
caption in, answer out; and the error body every failure uses.

Only what a captioning request needs is read: one `image_url` content part (a `data:`
URI, or an http(s) URL when remote images are allowed) and the text parts, kept as the
prompt: the system messages' text and the user messages' text. A prompted back end is asked
that prompt as it is (alttext's own openai back end sends the page's context in it); the
encoder-decoder captioner has no prompt input, so there the text changes nothing.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from alttext.caption.imageio import ImageError, read_bytes


class ApiError(Exception):
    """A request the server refuses: HTTP status, OpenAI error type and code, and why."""

    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.kind, self.code, self.param)


def error_body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error object, which its clients turn into typed exceptions."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


@dataclass(frozen=True)
class ChatRequest:
    """What a chat-completion request asks for: one image (bytes, or a remote URL to fetch)."""

    image: bytes | None  # the decoded data: URI
    url: str | None  # an http(s) URL, only when remote images are allowed
    system: str  # the system (and developer) messages' text parts, joined
    user: str  # the user messages' text parts, joined
    model: str | None

    @property
    def prompt(self) -> str:
        return "\n".join(part for part in (self.system, self.user) if part)


def parse_chat_request(body: Any, *, allow_remote: bool, max_image_bytes: int) -> ChatRequest:
    """The request's image and prompt, or ApiError saying what is wrong with it."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    if body.get("stream"):
        raise ApiError(400, "stream is not supported: a caption is one short answer", param="stream")
    if body.get("n", 1) != 1:
        raise ApiError(400, "n must be 1", param="n")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list", param="messages")
    urls, system, user = _content_parts(messages)
    if len(urls) != 1:
        raise ApiError(400, f"expected exactly one image_url content part, got {len(urls)}", param="messages")
    model = body.get("model")
    image, url = _image_source(urls[0], allow_remote=allow_remote, max_bytes=max_image_bytes)
    return ChatRequest(image, url, "\n".join(system), "\n".join(user), model if isinstance(model, str) else None)


def _content_parts(messages: list[Any]) -> tuple[list[str], list[str], list[str]]:
    """The image URLs, the system messages' texts and the other messages' texts."""
    urls: list[str] = []
    system: list[str] = []
    user: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            raise ApiError(400, "each message must be an object", param="messages")
        texts = system if message.get("role") in ("system", "developer") else user
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content if isinstance(content, list) else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind == "image_url":
                image_url = part.get("image_url")
                url = image_url.get("url") if isinstance(image_url, dict) else image_url
                if not isinstance(url, str):
                    raise ApiError(400, "image_url.url must be a string", param="messages")
                urls.append(url)
    return urls, system, user


def _image_source(url: str, *, allow_remote: bool, max_bytes: int) -> tuple[bytes | None, str | None]:
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme == "data":
        return decode_data_uri(url, max_bytes), None
    if scheme in ("http", "https"):
        if not allow_remote:
            raise ApiError(400, "remote image URLs are refused; send the image as a data: URI "
                                "(or start the server with --allow-remote-images)", param="messages",
                           code="remote_images_disabled")
        return None, url
    raise ApiError(400, f"unsupported image URL scheme {scheme + ':' if scheme else '(none)'}; "
                        "send the image as a data: URI", param="messages", code="unsupported_url_scheme")


def decode_data_uri(uri: str, max_bytes: int) -> bytes:
    """The image in a data: URI, refused (413) past `max_bytes` before and after decoding."""
    if len(uri) * 3 // 4 > max_bytes + 3 and ";base64," in uri[:200].lower():
        raise too_large_image(max_bytes)
    try:
        data = read_bytes(uri, "the image")
    except ImageError as error:
        raise ApiError(400, str(error), param="messages") from None
    if len(data) > max_bytes:
        raise too_large_image(max_bytes)
    return data


def too_large_image(max_bytes: int) -> ApiError:
    return ApiError(413, f"the image is larger than the {max_bytes} byte limit", code="image_too_large")


def completion(caption: str, model: str, *, hit_limit: bool | None, extra: dict[str, Any]) -> dict[str, Any]:
    """A chat.completion answer whose message is the alt text.

    Token counts are not tracked by the local captioner: usage reports zeros.
    `alttext` carries what the CLI's --json gives (cached, raw, text, kind).
    """
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": caption},
            "finish_reason": "length" if hit_limit else "stop",
            "logprobs": None,
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "alttext": extra,
    }


def model_list(model: str, created: int) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": model, "object": "model", "created": created, "owned_by": "alttext"}]}

"""`--backend openai`: a prompted back end that asks an OpenAI-compatible server.

POST {api-base}/chat/completions with the prompt and the image as an `image_url`
content part holding a `data:` URI (vLLM, Ollama, LiteLLM, llama.cpp's server,
hosted gateways, `alttext serve`). Standard library only: no torch, no openai
package. Images leave the machine here, and only here, to the server the user named.

The API key is read from the environment variable that `api-key-env` names, when
it names one; it is sent only in the Authorization header and never printed.
Requests run on a bounded thread pool; 429 and 5xx answers, timeouts and dropped
connections are retried with exponential backoff, honouring Retry-After.
"""

from __future__ import annotations

import base64
import email.utils
import io
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alttext import __version__
from alttext.caption.prompted import Prompt, Refusal

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_CONCURRENCY = 4
DEFAULT_RETRIES = 4
MAX_WAIT_S = 60.0  # the longest pause between two tries, whatever Retry-After asks
FIRST_WAIT_S = 0.5  # then 1, 2, 4... seconds
MAX_SIDE = 1024  # pixels: larger images are scaled down before they are sent
PNG_COLOURS = 4096  # an image with more colours than this is a photo: sent as JPEG
PNG_LIMIT = 1_500_000  # bytes: a PNG larger than this is sent as JPEG instead
MAX_TOKENS = 300
MAX_MESSAGE_CHARS = 200  # of a server's error message, in ours
RETRIED_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


class OpenAIError(Exception):
    """One request that failed for good; the message names no image and holds no key."""


@dataclass(frozen=True)
class OpenAISettings:
    api_base: str
    model: str
    api_key_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    concurrency: int = DEFAULT_CONCURRENCY
    retries: int = DEFAULT_RETRIES
    max_wait: float = MAX_WAIT_S
    first_wait: float = FIRST_WAIT_S


def load_prompted(model: str, options: Mapping[str, Any]) -> OpenAIModel:
    """The back end for `model` on the server at options["api_base"]; raises ValueError for bad options."""
    return OpenAIModel(settings_from(model, options))


def settings_from(model: str, options: Mapping[str, Any]) -> OpenAISettings:
    from alttext.caption.model import DEFAULT_MODEL

    if model == DEFAULT_MODEL:
        raise ValueError("the openai backend needs --model NAME (or model in [tool.alttext]): the model's name on the server")
    api_base = options.get("api_base")
    if not api_base:
        raise ValueError("the openai backend needs the server's address: --api-base URL "
                         "(or api-base in [tool.alttext]), such as http://127.0.0.1:8000/v1")
    parts = urllib.parse.urlsplit(str(api_base))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"api-base must be an http:// or https:// URL, not {api_base!r}")
    if parts.username or parts.password:
        raise ValueError("api-base must not hold a user name or password; name the key's variable with api-key-env")
    key_env = options.get("api_key_env") or None
    if key_env is not None and not os.environ.get(str(key_env)):
        raise ValueError(f"api-key-env names the environment variable {key_env}, which is not set")
    numbers = {name: options[name] for name in ("timeout", "concurrency", "retries") if options.get(name) is not None}
    settings = OpenAISettings(str(api_base).rstrip("/"), model, key_env, **numbers)
    if settings.timeout <= 0 or settings.concurrency < 1 or settings.retries < 0:
        raise ValueError("request-timeout and concurrency must be positive, max-retries 0 or more")
    return settings


class OpenAIModel:
    """A PromptedModel over HTTP; see the module docstring."""

    revision = ""  # a server's model has no revision we can see; its name is its identity

    def __init__(self, settings: OpenAISettings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.model_id = settings.model
        self.url = settings.api_base + "/chat/completions"
        self._sleep = sleep
        self.requests = 0  # HTTP requests sent, retries included
        self._count = threading.Lock()

    def key(self) -> str:
        """What of the requests changes the answers: always greedy, the same size limits."""
        return f"openai;temperature=0;max_tokens={MAX_TOKENS};side={MAX_SIDE}"

    def answer(self, images: list[Image.Image], prompts: list[Prompt]) -> list[str | Refusal]:
        if len(images) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts for {len(images)} images")
        workers = min(self.settings.concurrency, max(len(images), 1))
        with ThreadPoolExecutor(workers, thread_name_prefix="alttext-openai") as pool:
            return list(pool.map(self._answer_one, images, prompts))

    def _answer_one(self, image: Image.Image, prompt: Prompt) -> str | Refusal:
        try:
            return self._ask(request_body(self.model_id, image, prompt))
        except OpenAIError as error:
            return Refusal(str(error))

    def _ask(self, body: bytes) -> str:
        attempt = 0
        while True:
            try:
                return read_content(self._post(body))
            except _Retryable as error:
                if attempt >= self.settings.retries:
                    raise OpenAIError(f"{error.message} (gave up after {attempt + 1} tries)") from None
                wait = error.retry_after if error.retry_after is not None else self.settings.first_wait * 2 ** attempt
                if wait > self.settings.max_wait:
                    raise OpenAIError(f"{error.message}; the server asks to wait {wait:.0f} s, "
                                      f"more than the {self.settings.max_wait:.0f} s alttext waits") from None
                self._sleep(wait)
                attempt += 1

    def _post(self, body: bytes) -> bytes:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": f"alttext/{__version__}"}
        key = os.environ.get(self.settings.api_key_env, "") if self.settings.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with self._count:
            self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:  # noqa: S310 - http(s) only
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            message = f"HTTP {error.code}: {_server_message(error, key)}"
            if error.code in RETRIED_STATUSES:
                raise _Retryable(message, retry_after(error.headers.get("Retry-After"))) from None
            raise OpenAIError(message) from None
        except TimeoutError:
            raise _Retryable(f"no answer within {self.settings.timeout:g} s", None) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise _Retryable(f"no answer within {self.settings.timeout:g} s", None) from None
            raise _Retryable(f"cannot reach {self.settings.api_base}: {error.reason}", None) from None
        except (ConnectionError, OSError) as error:  # reset or dropped half way
            raise _Retryable(f"the connection to {self.settings.api_base} failed: {error}", None) from None


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


def request_body(model: str, image: Image.Image, prompt: Prompt) -> bytes:
    """The chat completion request for one image and its prompt."""
    user: list[dict[str, Any]] = [{"type": "text", "text": prompt.user},
                                  {"type": "image_url", "image_url": {"url": data_uri(image)}}]
    messages: list[dict[str, Any]] = [{"role": "system", "content": prompt.system}] if prompt.system else []
    messages.append({"role": "user", "content": user})
    return json.dumps({"model": model, "messages": messages, "max_tokens": MAX_TOKENS, "temperature": 0},
                      ensure_ascii=False).encode("utf-8")


def data_uri(image: Image.Image) -> str:
    """The image as a `data:` URI, at most MAX_SIDE pixels a side: PNG for few colours (screenshots,
    diagrams: JPEG would blur their text), JPEG for photos and wherever the PNG would be large."""
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    image = image if image.mode in ("RGB", "L") else image.convert("RGB")
    buffer = io.BytesIO()
    kind = "png" if image.getcolors(PNG_COLOURS) is not None else "jpeg"
    if kind == "png":
        image.save(buffer, format="PNG")
        if buffer.tell() > PNG_LIMIT:
            buffer, kind = io.BytesIO(), "jpeg"
    if kind == "jpeg":
        image.save(buffer, format="JPEG", quality=90)
    return f"data:image/{kind};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def read_content(data: bytes) -> str:
    """The assistant's text in a chat completion response; OpenAIError when there is none."""
    try:
        response = json.loads(data.decode("utf-8"))
        message = response["choices"][0]["message"]
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError):
        raise OpenAIError(f"the server's response is not a chat completion: {_short(data.decode('utf-8', 'replace'))!r}") from None
    if not isinstance(message, dict):
        raise OpenAIError("the server's response has no message")
    content = message.get("content")
    if isinstance(content, list):  # content parts
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str) or not content.strip():
        refusal = message.get("refusal")
        raise OpenAIError(f"the model refused: {_short(str(refusal))}" if refusal else "the model's answer is empty")
    return content


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(error: urllib.error.HTTPError, key: str) -> str:
    """The server's own short message: `error.message` of an OpenAI error body, else its text."""
    try:
        body = error.read(4096).decode("utf-8", "replace")
    except OSError:
        body = ""
    text = body
    try:
        parsed = json.loads(body)
        detail = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        text = str(detail.get("message") or detail.get("detail") or detail) if isinstance(detail, dict) else str(detail)
    except ValueError:
        pass
    text = _short(text) or (error.reason or "no message")
    return text.replace(key, "[key]") if key else text


def _short(text: str) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "\u2026"

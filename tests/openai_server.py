"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, that misbehaves when told to.

`FakeOpenAI(reply)` serves POST /v1/chat/completions in a thread (stdlib http.server);
`reply(request)` decides each answer, so a test scripts 429s, 500s, slow answers or
broken JSON. Every request is recorded (headers and parsed body) for the test to check.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    number: int  # 1-based, in arrival order

    @property
    def texts(self) -> str:
        """All the text the request's messages hold."""
        parts = []
        for message in self.body["messages"]:
            content = message["content"]
            if isinstance(content, str):
                parts.append(content)
            else:
                parts.extend(part["text"] for part in content if part["type"] == "text")
        return "\n".join(parts)

    @property
    def image(self) -> Image.Image:
        """The image of the request, decoded from its data: URI."""
        (url,) = [part["image_url"]["url"] for message in self.body["messages"] if isinstance(message["content"], list)
                  for part in message["content"] if part["type"] == "image_url"]
        header, _, data = url.partition(",")
        assert header.startswith("data:image/") and header.endswith(";base64"), header
        return Image.open(io.BytesIO(base64.b64decode(data)))


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a dict is sent as JSON, bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering


def chat(content: str) -> Reply:
    """A successful chat completion whose message is `content`."""
    return Reply(body={"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}]})


def alt_json(alt: str, decorative: bool = False) -> Reply:
    return chat(json.dumps({"alt": alt, "decorative": decorative}))


class FakeOpenAI:
    def __init__(self, reply: Callable[[Received], Reply]) -> None:
        self.reply = reply
        self.received: list[Received] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                with server._lock:
                    request = Received(self.path, dict(self.headers.items()), body, len(server.received) + 1)
                    server.received.append(request)
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    answer = server.reply(request)
                    time.sleep(answer.delay)
                    data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to answer
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    """Serve one fixed answer after `--delay` seconds until stopped; print the base URL first."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--alt", default="A synthetic test photo")
    options = parser.parse_args()
    body = alt_json(options.alt).body
    with FakeOpenAI(lambda request: Reply(body=body, delay=options.delay)) as server:
        print(server.url, flush=True)
        server.thread.join()


if __name__ == "__main__":
    main()

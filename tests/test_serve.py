"""`alttext serve` run for real: a subprocess on a loopback port with the tiny model, driven by
the official openai client and by plain HTTP."""

from __future__ import annotations

import base64
import http.client
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alttext.cli import main
from alttext.serve.protocol import ApiError, parse_chat_request
from tests.conftest import REPO_ROOT

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
openai = pytest.importorskip("openai")
Image = pytest.importorskip("PIL.Image")

KEY = "test-key-8c1f"
MAX_BODY = 256 * 1024
MAX_IMAGE = 64 * 1024


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    port: int
    project: Path  # its working folder: the project whose cache it shares
    process: subprocess.Popen[bytes]

    def client(self, key: str | None = KEY) -> Any:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key or "none", max_retries=0, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(project: Path, *flags: object, env: dict[str, str] | None = None) -> Server:
    project.mkdir(parents=True, exist_ok=True)
    (project / ".git").mkdir(exist_ok=True)  # the project top, where the default cache lives
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    environment.pop("ALTTEXT_CACHE", None)
    process = subprocess.Popen([sys.executable, "-m", "alttext", "serve", "--port", str(port), "--ocr", "off",
                                "--log-level", "warning", *map(str, flags)],
                               cwd=project, env=environment, stderr=subprocess.PIPE)
    server = Server(f"http://127.0.0.1:{port}", port, project, process)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"alttext serve exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if request(server, "GET", "/health")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("alttext serve did not answer /health in time")


def stop_server(server: Server) -> None:
    server.process.terminate()
    server.process.wait(timeout=30)


def request(server: Server, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """Plain HTTP: status, headers and the JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")
    finally:
        connection.close()


def chat_body(url: str, text: str = "Write alt text for this image.") -> dict[str, Any]:
    return {"model": "any", "messages": [{"role": "user", "content": [
        {"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}]}]}


def post_chat(server: Server, url: str, key: str | None = KEY) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return request(server, "POST", "/v1/chat/completions", json.dumps(chat_body(url)).encode(), headers)


def png(seed: int, size: tuple[int, int] = (40, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 20 + seed).convert("RGB").rotate(seed * 7).save(buffer, "PNG")
    return buffer.getvalue()


def data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def ask(client: Any, data: bytes) -> Any:
    return client.chat.completions.create(model="any", messages=chat_body(data_uri(data))["messages"])


def cli_caption(capsys: pytest.CaptureFixture[str], model: Path, image: Path, *flags: str) -> str:
    assert main(["caption", "--model", str(model), "--ocr", "off", *flags, str(image)]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Defaults except: a key, small size limits, and a long batching window so that
    concurrent requests surely meet."""
    running = start_server(tmp_path_factory.mktemp("serve-project"), "--model", tiny_model_dir,
                           "--api-key-env", "ALTTEXT_TEST_KEY", "--max-body-bytes", MAX_BODY,
                           "--max-image-bytes", MAX_IMAGE, "--batch-window-ms", 300,
                           env={"ALTTEXT_TEST_KEY": KEY})
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def open_server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No key, remote images allowed, one request at a time and a queue of one."""
    running = start_server(tmp_path_factory.mktemp("serve-open"), "--model", tiny_model_dir, "--no-cache",
                           "--allow-remote-images", "--max-batch", 1, "--max-queue", 1, "--batch-window-ms", 0)
    yield running
    stop_server(running)


def test_models_lists_the_served_model(server: Server, tiny_model_dir: Path) -> None:
    models = server.client().models.list()
    assert [model.id for model in models.data] == [tiny_model_dir.name]  # a folder's name, not its path


def test_caption_is_what_alttext_caption_gives(server: Server, tiny_model_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(png(1))
    answer = ask(server.client(), image.read_bytes())
    expected = cli_caption(capsys, tiny_model_dir, image, "--no-cache").rstrip("\n")
    assert expected and answer.choices[0].message.content == expected
    assert answer.object == "chat.completion" and answer.model == tiny_model_dir.name
    assert answer.choices[0].message.role == "assistant" and answer.id.startswith("chatcmpl-")


def test_concurrent_requests_share_model_calls(server: Server) -> None:
    before = request(server, "GET", "/health")[2]
    images = [png(100 + index) for index in range(8)]
    client = server.client()
    with ThreadPoolExecutor(len(images)) as pool:
        answers = list(pool.map(lambda data: ask(client, data), images))
    after = request(server, "GET", "/health")[2]
    assert all(answer.choices[0].message.content for answer in answers)
    assert after["images"] - before["images"] == len(images)
    assert after["batches"] - before["batches"] < len(images)
    assert after["largest_batch"] > 1


def test_cache_is_shared_with_the_cli(server: Server, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(server.project)  # the CLI and the server in the same project: the same default cache
    monkeypatch.delenv("ALTTEXT_CACHE", raising=False)
    by_cli, by_server = server.project / "cli-first.png", server.project / "server-first.png"
    by_cli.write_bytes(png(7))
    by_server.write_bytes(png(8))
    caption = json.loads(cli_caption(capsys, tiny_model_dir, by_cli, "--json"))[0]
    answer = ask(server.client(), by_cli.read_bytes())
    assert answer.choices[0].message.content == caption["caption"]
    assert answer.model_extra["alttext"]["cached"] is True

    first = ask(server.client(), by_server.read_bytes())
    assert first.model_extra["alttext"]["cached"] is False
    again = json.loads(cli_caption(capsys, tiny_model_dir, by_server, "--json"))[0]
    assert again["cached"] is True and again["caption"] == first.choices[0].message.content


@pytest.mark.parametrize("key", [pytest.param(None, id="no-key"), pytest.param("wrong", id="wrong-key")])
def test_a_missing_or_wrong_key_is_refused(server: Server, key: str | None) -> None:
    status, _, body = post_chat(server, data_uri(png(2)), key=key)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert request(server, "GET", "/v1/models", headers={"Authorization": f"Bearer {key}"} if key else {})[0] == 401
    with pytest.raises(openai.AuthenticationError):
        server.client(key="wrong").models.list()
    assert request(server, "GET", "/health")[0] == 200  # health needs no key


def test_an_oversized_body_is_refused(server: Server) -> None:
    status, _, body = post_chat(server, data_uri(os.urandom(MAX_BODY)))
    assert status == 413 and body["error"]["code"] == "request_too_large"


def test_an_oversized_image_is_refused(server: Server) -> None:
    status, _, body = post_chat(server, data_uri(os.urandom(MAX_IMAGE + 1000)))  # the body is within its limit
    assert status == 413 and body["error"]["code"] == "image_too_large"


@pytest.mark.parametrize(("url", "code"), [
    pytest.param("file:///etc/passwd", "unsupported_url_scheme", id="file"),
    pytest.param("ftp://127.0.0.1/a.png", "unsupported_url_scheme", id="ftp"),
    pytest.param("http://127.0.0.1:9/a.png", "remote_images_disabled", id="http-disabled"),
    pytest.param("https://example.com/a.png", "remote_images_disabled", id="https-disabled"),
])
def test_urls_other_than_data_are_refused(server: Server, url: str, code: str) -> None:
    status, _, body = post_chat(server, url)
    assert status == 400 and body["error"]["code"] == code
    with pytest.raises(openai.BadRequestError):
        server.client().chat.completions.create(model="any", messages=chat_body(url)["messages"])


def test_an_unreadable_image_is_a_bad_request(server: Server) -> None:
    status, _, body = post_chat(server, data_uri(b"not an image at all"))
    assert status == 400 and body["error"]["type"] == "invalid_request_error" and "the image" in body["error"]["message"]


def test_binds_loopback_by_default(server: Server) -> None:
    table = Path("/proc/net/tcp")
    if not table.is_file():
        pytest.skip("reads the socket table of Linux")
    listening = [line.split()[1] for line in table.read_text().splitlines()[1:] if line.split()[3] == "0A"]
    assert f"0100007F:{server.port:04X}" in listening  # 127.0.0.1, not 0.0.0.0


def test_a_flood_gets_503_and_the_server_stays_up(open_server: Server) -> None:
    images = [data_uri(png(200 + index, (96, 96))) for index in range(40)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda url: post_chat(open_server, url, key=None), images))
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {200, 503} and 200 in statuses and 503 in statuses
    refused = next(answer for answer in answers if answer[0] == 503)
    assert refused[1]["retry-after"] == "1" and refused[2]["error"]["code"] == "queue_full"
    status, _, health = request(open_server, "GET", "/health")
    assert status == 200 and health["status"] == "ok" and health["largest_batch"] == 1


def test_remote_images_when_allowed(open_server: Server, tiny_model_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "remote.png"
    image.write_bytes(png(3))
    handler = type("Handler", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(tmp_path)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{files.server_address[1]}"
        status, _, body = post_chat(open_server, f"{base}/remote.png", key=None)
        missing = post_chat(open_server, f"{base}/missing.png", key=None)
    finally:
        files.shutdown()
    assert status == 200
    assert body["choices"][0]["message"]["content"] == cli_caption(capsys, tiny_model_dir, image, "--no-cache").rstrip("\n")
    assert missing[0] == 400 and missing[2]["error"]["code"] == "image_fetch_failed"
    assert post_chat(open_server, "file://" + str(image), key=None)[0] == 400  # file: even when remote is on


@pytest.mark.parametrize(("body", "message"), [
    pytest.param([], "JSON object", id="not-an-object"),
    pytest.param({"messages": []}, "non-empty", id="no-messages"),
    pytest.param({"messages": [{"role": "user", "content": "hello"}]}, "got 0", id="no-image"),
    pytest.param({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,a"}}] * 2}]},
                 "got 2", id="two-images"),
    pytest.param({**chat_body("data:image/png;base64,AAAA"), "stream": True}, "stream", id="stream"),
    pytest.param({**chat_body("data:image/png;base64,AAAA"), "n": 2}, "n must be 1", id="n"),
    pytest.param(chat_body("data:image/png;base64,A"), "invalid base64", id="bad-base64"),
    pytest.param(chat_body("/etc/passwd"), "unsupported", id="a-path"),
])
def test_requests_that_cannot_be_answered(body: Any, message: str) -> None:
    with pytest.raises(ApiError, match=message) as raised:
        parse_chat_request(body, allow_remote=False, max_image_bytes=MAX_IMAGE)
    assert raised.value.status == 400


def test_the_prompt_and_the_image_are_read() -> None:
    body = {"model": "m", "messages": [{"role": "system", "content": "Be brief."}, *chat_body("data:,abc")["messages"]]}
    parsed = parse_chat_request(body, allow_remote=False, max_image_bytes=MAX_IMAGE)
    assert parsed.image == b"abc" and parsed.url is None and parsed.model == "m"
    assert parsed.prompt == "Be brief.\nWrite alt text for this image."
    assert (parsed.system, parsed.user) == ("Be brief.", "Write alt text for this image.")


def test_an_unset_key_variable_stops_the_server(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALTTEXT_UNSET_KEY", raising=False)
    assert main(["serve", "--api-key-env", "ALTTEXT_UNSET_KEY"]) == 2
    assert "ALTTEXT_UNSET_KEY: that environment variable is unset or empty" in capsys.readouterr().err


def test_a_taken_port_is_an_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "alttext", "serve", "--model", str(tiny_model_dir), "--no-cache",
                               "--port", str(port)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"could not start on 127.0.0.1:{port}" in done.stderr


def test_fix_through_the_openai_backend_writes_the_served_captions(
        server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end on the bundled fixtures: `alttext fix --backend openai` against `alttext serve`."""
    import shutil

    from alttext.scan import find_images

    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "fixtures", project / "fixtures")
    (project / ".git").mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setenv("ALTTEXT_CLIENT_KEY", KEY)
    argv = ["fix", "fixtures/docs/guide.md", "--backend", "openai", "--api-base", server.url + "/v1",
            "--model", "served", "--api-key-env", "ALTTEXT_CLIENT_KEY", "--no-cache"]
    assert main(argv) == 1, capsys.readouterr().err
    guide = (project / "fixtures" / "docs" / "guide.md").read_text(encoding="utf-8")
    written = {ref.src: ref.alt for ref in find_images(guide, "markdown") if ref.alt}
    before = {ref.src: ref.alt for ref in find_images((REPO_ROOT / "fixtures" / "docs" / "guide.md")
                                                       .read_text(encoding="utf-8"), "markdown") if ref.alt}
    new = {src: alt for src, alt in written.items() if src not in before}
    assert new, guide
    client = server.client()
    for src, alt in new.items():
        served = ask(client, (project / "fixtures" / "docs" / src).read_bytes()).choices[0].message.content
        assert alt == served, src
    assert KEY not in capsys.readouterr().err


def prompted_body(url: str, system: str, user: str) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "system", "content": system},
                                       {"role": "user", "content": [{"type": "text", "text": user},
                                                                    {"type": "image_url", "image_url": {"url": url}}]}]}


@pytest.fixture(scope="module")
def vlm_server(tiny_smolvlm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A prompted back end served: the tiny SmolVLM with its defaults."""
    running = start_server(tmp_path_factory.mktemp("serve-vlm"), "--backend", "vlm", "--model", tiny_smolvlm_dir,
                           "--batch-window-ms", 0)
    yield running
    stop_server(running)


def test_a_served_prompted_model_is_asked_the_clients_prompt(vlm_server: Server) -> None:
    """`alttext serve --backend vlm`: each request's own prompt reaches the model (and its cache key),
    and the answer is the model's, as it is."""
    image = data_uri(png(5))
    answers = []
    for user in ("Page title: Sales. Write the alt text.", "Page title: Sales. Write the alt text.",
                 "Page title: Staff. Write the alt text."):
        body = json.dumps(prompted_body(image, "Answer in JSON.", user)).encode()
        status, _, answer = request(vlm_server, "POST", "/v1/chat/completions", body)
        assert status == 200, answer
        answers.append(answer)
    first, again, _ = answers
    assert [answer["alttext"]["cached"] for answer in answers] == [False, True, False]
    assert again["choices"][0]["message"]["content"] == first["choices"][0]["message"]["content"]
    assert set(first["alttext"]) >= {"alt", "decorative", "error"}


def test_fix_through_the_openai_backend_relays_its_prompts_to_a_served_vlm(
        vlm_server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """alttext's openai back end against `alttext serve --backend vlm`: the served model is asked the
    client's prompt (the page's context), not a prompt of the server's own."""
    import sqlite3

    (tmp_path / ".git").mkdir()
    (tmp_path / "chart.png").write_bytes(png(11))
    (tmp_path / "page.md").write_text("# Quarterly sales\n\nRevenue grew in every region.\n\n![](chart.png)\n",
                                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    argv = ["fix", "page.md", "--backend", "openai", "--api-base", vlm_server.url + "/v1", "--model", "served",
            "--no-cache", "--ocr", "off"]
    status = main(argv)
    err = capsys.readouterr().err
    # A random model's answer is written as the alt text, or refused as no usable alt text, naming the image.
    assert status == 1 or (status == 2 and "page.md:5:1: error:" in err), err
    with sqlite3.connect(vlm_server.project / ".alttext-cache" / "captions.sqlite3") as cache:
        settings = [row[0] for row in cache.execute("SELECT settings FROM captions")]
    assert any("template=given" in entry for entry in settings), settings

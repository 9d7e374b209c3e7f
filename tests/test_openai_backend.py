"""`--backend openai` against a real local server that answers like OpenAI and misbehaves on purpose."""

from __future__ import annotations

import email.utils
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from alttext.caption.captioner import Captioner
from alttext.caption.openai_backend import OpenAIModel, OpenAISettings, retry_after
from alttext.caption.prompted import Prompt, Refusal
from alttext.cli import main
from alttext.context import ImageContext, Sourced
from tests.conftest import FIXTURES, REPO_ROOT
from tests.openai_server import FakeOpenAI, Received, Reply, alt_json, chat

PROMPT = Prompt("Rules.", "Describe it.", language="en", max_length=125)
KEY_ENV = "ALTTEXT_TEST_KEY"


def _image(color: str = "red", size: tuple[int, int] = (24, 16)) -> Image.Image:
    image = Image.new("RGB", size, color)
    image.putpixel((3, 2), (1, 2, 3))
    return image


def _model(url: str, **options: object) -> OpenAIModel:
    settings = {"timeout": 5.0, "retries": 2, "first_wait": 0.05, **options}
    return OpenAIModel(OpenAISettings(url, "m", **settings))  # type: ignore[arg-type]


def test_the_request_holds_the_image_the_prompt_and_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-123")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-sent")
    image = _image()
    with FakeOpenAI(lambda request: alt_json("A red square")) as server:
        (answer,) = _model(server.url, api_key_env=KEY_ENV).answer([image], [PROMPT])
    assert json.loads(answer) == {"alt": "A red square", "decorative": False}
    (request,) = server.received
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test-123"
    assert request.body["model"] == "m" and request.body["temperature"] == 0
    assert request.body["messages"][0] == {"role": "system", "content": "Rules."}
    assert "Describe it." in request.texts
    sent = request.image
    assert sent.format == "PNG" and sent.size == image.size and sent.tobytes() == image.tobytes()


def test_no_key_is_sent_unless_a_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-sent")
    with FakeOpenAI(lambda request: chat("A red square")) as server:
        _model(server.url).answer([_image()], [PROMPT])
    assert "Authorization" not in server.received[0].headers


def test_large_images_are_scaled_down() -> None:
    with FakeOpenAI(lambda request: chat("A red square")) as server:
        _model(server.url).answer([_image(size=(3000, 1500))], [PROMPT])
    assert server.received[0].image.size == (1024, 512)


def test_photos_go_as_jpeg() -> None:
    photo = Image.new("RGB", (96, 64))
    photo.putdata([(x * 2, y * 3, (x * y) % 256) for y in range(64) for x in range(96)])  # 6,144 colours
    assert photo.getcolors(4096) is None
    with FakeOpenAI(lambda request: chat("A photo")) as server:
        _model(server.url).answer([photo], [PROMPT])
    sent = server.received[0].image
    assert sent.format == "JPEG" and sent.size == photo.size


def test_429_waits_as_long_as_retry_after_says() -> None:
    def reply(request: Received) -> Reply:
        return Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}) if request.number == 1 \
            else chat("A red square")

    with FakeOpenAI(reply) as server:
        started = time.monotonic()
        (answer,) = _model(server.url).answer([_image()], [PROMPT])
        took = time.monotonic() - started
    assert answer == "A red square" and len(server.received) == 2
    assert 1.0 <= took < 4.0


def test_500_then_success_is_retried_with_backoff() -> None:
    with FakeOpenAI(lambda request: Reply(500, b"oops") if request.number < 3 else chat("A red square")) as server:
        started = time.monotonic()
        (answer,) = _model(server.url, first_wait=0.2).answer([_image()], [PROMPT])
        took = time.monotonic() - started
    assert answer == "A red square" and len(server.received) == 3
    assert 0.6 <= took < 3.0  # waited 0.2 s, then 0.4 s


def test_a_server_that_keeps_failing_gives_a_refusal_with_its_status_and_message() -> None:
    with FakeOpenAI(lambda request: Reply(503, {"error": {"message": "model is loading"}})) as server:
        (answer,) = _model(server.url, retries=2).answer([_image()], [PROMPT])
    assert isinstance(answer, Refusal)
    assert answer.reason == "HTTP 503: model is loading (gave up after 3 tries)"
    assert len(server.received) == 3


def test_a_retry_after_beyond_the_cap_gives_up_at_once() -> None:
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    with FakeOpenAI(lambda request: Reply(429, {"error": {"message": "quota"}}, {"Retry-After": later})) as server:
        started = time.monotonic()
        (answer,) = _model(server.url).answer([_image()], [PROMPT])
    assert isinstance(answer, Refusal) and "asks to wait" in answer.reason and "HTTP 429: quota" in answer.reason
    assert len(server.received) == 1 and time.monotonic() - started < 2


@pytest.mark.parametrize(("value", "low", "high"), [("7", 7, 7), ("0", 0, 0), ("soon", None, None), ("", None, None)])
def test_retry_after_values(value: str, low: float | None, high: float | None) -> None:
    seconds = retry_after(value)
    assert seconds == low == high


def test_retry_after_as_an_http_date() -> None:
    seconds = retry_after(email.utils.formatdate(time.time() + 30, usegmt=True))
    assert seconds is not None and 28 <= seconds <= 31


def test_a_timeout_is_retried_then_reported_within_bounds() -> None:
    with FakeOpenAI(lambda request: Reply(delay=3.0, body={"late": True})) as server:
        started = time.monotonic()
        (answer,) = _model(server.url, timeout=0.3, retries=1).answer([_image()], [PROMPT])
        took = time.monotonic() - started
    assert isinstance(answer, Refusal) and answer.reason == "no answer within 0.3 s (gave up after 2 tries)"
    assert len(server.received) == 2 and 0.6 <= took < 2.5


def test_malformed_json_is_a_refusal_not_a_crash() -> None:
    with FakeOpenAI(lambda request: Reply(200, b'{"choices": [{"message": ')) as server:
        (answer,) = _model(server.url).answer([_image()], [PROMPT])
    assert isinstance(answer, Refusal) and "not a chat completion" in answer.reason
    assert len(server.received) == 1


def test_a_wrong_key_is_not_retried_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-wrong-456")

    def reply(request: Received) -> Reply:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return Reply(401, {"error": {"message": f"Incorrect API key provided: {key}"}})

    with FakeOpenAI(reply) as server:
        (answer,) = _model(server.url, api_key_env=KEY_ENV).answer([_image()], [PROMPT])
    assert isinstance(answer, Refusal)
    assert answer.reason == "HTTP 401: Incorrect API key provided: [key]"
    assert len(server.received) == 1


def test_concurrency_is_bounded() -> None:
    with FakeOpenAI(lambda request: Reply(delay=0.2, body=chat("A square").body)) as server:
        answers = _model(server.url, concurrency=2).answer([_image() for _ in range(6)], [PROMPT] * 6)
    assert answers == ["A square"] * 6 and server.most_in_flight == 2


# The Captioner's prompted path ------------------------------------------------------------------

def _write_images(folder: Path) -> list[str]:
    folder.mkdir(exist_ok=True)
    paths = []
    for color in ("red", "blue"):
        path = folder / f"{color}.png"
        _image(color).save(path)
        paths.append(str(path))
    return paths


def _captioner(url: str, cache: Path, **options: object) -> Captioner:
    return Captioner("m", backend="openai", api_base=url, cache=cache, ocr="off", progress=False,
                     **options)  # type: ignore[arg-type]


FIGURE = ImageContext(figure_caption=Sourced("Sales by month", 4, 1), heading=Sourced("Results", 2, 1),
                      language=Sourced("fr", 1, 1))


def test_captioner_asks_once_per_image_and_context_and_caches(tmp_path: Path) -> None:
    red, blue = _write_images(tmp_path / "img")
    other = ImageContext(heading=Sourced("Team", 9, 1))
    with FakeOpenAI(lambda request: alt_json(f"Image number {request.number}")) as server:
        results = _captioner(server.url, tmp_path / "cache").caption_results(
            [red, red, red, blue], contexts=[FIGURE, FIGURE, other, FIGURE])
        assert len(server.received) == 3  # red twice with the same context is asked once
        figure = [r for r in server.received if "Sales by month" in r.texts]
        assert len(figure) == 2  # red and blue (requests run side by side: any order)
        assert all("Results" in r.texts and "Page language: fr" in r.texts for r in figure)
        assert [r.error for r in results] == [None] * 4 and all(r.prompted for r in results)
        assert results[0].caption == results[1].caption != results[2].caption
        again = _captioner(server.url, tmp_path / "cache").caption_results(
            [red, red, blue], contexts=[FIGURE, other, FIGURE])
        assert len(server.received) == 3  # everything from the cache
        assert [r.caption for r in again] == [results[0].caption, results[2].caption, results[3].caption]
        assert all(r.cached for r in again)
        moved = ImageContext(figure_caption=Sourced("Sales by quarter", 4, 1), language=FIGURE.language)
        _captioner(server.url, tmp_path / "cache").caption_results([red], contexts=[moved])
        assert len(server.received) == 4  # a changed context asks again
        template = tmp_path / "prompt.txt"
        template.write_text("Describe this image for {page_title} in {language}.", encoding="utf-8")
        _captioner(server.url, tmp_path / "cache", prompt_template=template).caption_results([red], contexts=[FIGURE])
        assert len(server.received) == 5  # and so does a changed template
        assert server.received[-1].texts == "Describe this image for  in fr."


def test_captioner_results_name_the_image(tmp_path: Path) -> None:
    red, blue = _write_images(tmp_path / "img")
    broken = tmp_path / "img" / "broken.png"
    broken.write_bytes(b"\x89PNG not really")

    def reply(request: Received) -> Reply:
        color = request.image.getpixel((0, 0))
        return alt_json("picture") if color == (255, 0, 0) else Reply(400, {"error": {"message": "bad image"}})

    with FakeOpenAI(reply) as server:
        results = _captioner(server.url, False).caption_results([red, blue, str(broken)])
    assert results[0].error == (f"{red}: the model's answer is no usable alt text: the answer 'Picture' is a "
                                "placeholder, not alt text ('{\"alt\": \"picture\", \"decorative\": false}')")
    assert results[1].error == f"{blue}: the openai back end gave no answer: HTTP 400: bad image"
    assert results[2].error is not None and results[2].error.startswith(str(broken))
    assert len(server.received) == 2  # the broken image is never sent


def test_a_decorative_answer(tmp_path: Path) -> None:
    (red, _) = _write_images(tmp_path / "img")
    with FakeOpenAI(lambda request: alt_json("", decorative=True)) as server:
        (result,) = _captioner(server.url, tmp_path / "cache").caption_results([red])
        (cached,) = _captioner(server.url, tmp_path / "cache").caption_results([red])
    assert (result.caption, result.decorative, result.error) == ("", True, None)
    assert cached.decorative and cached.cached and len(server.received) == 1


def test_the_text_read_from_the_image_is_in_the_prompt(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr")
    screenshot = FIXTURES / "images" / "new-repository.png"
    with FakeOpenAI(lambda request: alt_json("The New repository form")) as server:
        captioner = Captioner("m", backend="openai", api_base=server.url, cache=tmp_path / "cache", ocr="on",
                              progress=False)
        (result,) = captioner.caption_results([str(screenshot)])
    assert result.caption == "The New repository form" and "Repository name" in result.text
    assert "Repository name" in server.received[0].texts


def test_bad_options_fail_when_the_captioner_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    from alttext.caption.model import ModelUnavailable

    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ModelUnavailable, match="needs --model NAME"):
        Captioner(backend="openai", api_base="http://127.0.0.1:9/v1", cache=False)
    with pytest.raises(ModelUnavailable, match="needs the server's address"):
        Captioner("m", backend="openai", cache=False)
    with pytest.raises(ModelUnavailable, match="http:// or https://"):
        Captioner("m", backend="openai", api_base="file:///etc", cache=False)
    with pytest.raises(ModelUnavailable, match=f"{KEY_ENV}, which is not set"):
        Captioner("m", backend="openai", api_base="http://127.0.0.1:9/v1", api_key_env=KEY_ENV, cache=False)


def test_importing_the_backend_does_not_import_torch() -> None:
    code = ("import sys, alttext.caption.openai_backend, alttext.caption.prompted_path; "
            "print(any(m in sys.modules for m in ('torch', 'transformers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "False"


# End to end --------------------------------------------------------------------------------------

@pytest.fixture()
def docs_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docs").mkdir()
    shutil.copytree(FIXTURES / "images", tmp_path / "images")
    (tmp_path / "docs" / "index.md").write_text(
        "# Acme dashboards\n\n## Results\n\n![](../images/cat.png)\n\n"
        "[![](../images/team-photo.jpg)](https://acme.dev/team)\n", encoding="utf-8")
    (tmp_path / "docs" / "page.html").write_text(
        '<html lang="de"><body><h1>Katzen</h1><figure><img src="../images/cat.png">'
        "<figcaption>Unsere Katze</figcaption></figure></body></html>\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.alttext]\nocr = false\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _answer_by_prompt(request: Received) -> Reply:
    if "Unsere Katze" in request.texts:
        return alt_json("Eine orange Katze schläft auf dem Sofa")
    if "acme.dev/team" in request.texts:
        return alt_json("Meet the Acme team")
    return alt_json("An orange cat asleep on a sofa")


def test_fix_writes_the_servers_alt_text_and_a_second_run_sends_nothing(
        docs_tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-e2e-secret")
    with FakeOpenAI(_answer_by_prompt) as server:
        argv = ["fix", "docs", "--backend", "openai", "--api-base", server.url, "--model", "m",
                "--api-key-env", KEY_ENV]
        assert main(argv) == 1
        assert (docs_tree / "docs" / "index.md").read_text(encoding="utf-8") == (
            "# Acme dashboards\n\n## Results\n\n![An orange cat asleep on a sofa](../images/cat.png)\n\n"
            "[![Meet the Acme team](../images/team-photo.jpg)](https://acme.dev/team)\n")
        assert '<img alt="Eine orange Katze schläft auf dem Sofa" src="../images/cat.png">' in \
            (docs_tree / "docs" / "page.html").read_text(encoding="utf-8")
        assert len(server.received) == 3  # cat.png twice, in two contexts
        assert all(r.headers["Authorization"] == "Bearer sk-e2e-secret" for r in server.received)
        german = next(r for r in server.received if "Unsere Katze" in r.texts)
        assert "Page language: de" in german.texts and "Katzen" in german.texts
        for path in ("index.md", "page.html"):
            (docs_tree / "docs" / path).write_text(
                (docs_tree / "docs" / path).read_text(encoding="utf-8")
                .replace("An orange cat asleep on a sofa", "").replace(' alt="Eine orange Katze schläft auf dem Sofa"', "")
                .replace("Meet the Acme team", ""), encoding="utf-8")
        assert main(argv) == 1
        assert len(server.received) == 3  # the second run is answered from the cache
        assert "An orange cat asleep on a sofa" in (docs_tree / "docs" / "index.md").read_text(encoding="utf-8")
    output = capsys.readouterr()
    assert "sk-e2e-secret" not in output.out + output.err


def test_suggest_proposes_a_models_decorative_verdict_and_fix_leaves_it(
        docs_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI(lambda request: alt_json("", decorative=True)) as server:
        argv = ["--backend", "openai", "--api-base", server.url, "--model", "m", "docs/page.html"]
        assert main(["fix", *argv]) == 0
        assert "the model judges the image decorative" in capsys.readouterr().err
        assert main(["suggest", *argv, "-o", "proposals.json"]) in (0, 1)
        assert main(["fix", *argv[:-1], "docs/index.md"]) == 0
        assert "it is the only content of a link, which needs a name" in capsys.readouterr().err
    (entry,) = json.loads((docs_tree / "proposals.json").read_text(encoding="utf-8"))["entries"]
    assert entry["status"] == "decorative" and entry["alt"] == ""


def test_a_bad_prompt_template_in_the_config_names_the_file(docs_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (docs_tree / "prompt.txt").write_text("Describe {the_image}", encoding="utf-8")
    (docs_tree / "pyproject.toml").write_text(
        '[tool.alttext]\nocr = false\nbackend = "openai"\napi-base = "http://127.0.0.1:9/v1"\n'
        'prompt-template = "prompt.txt"\n', encoding="utf-8")
    assert main(["fix", "docs"]) == 2
    err = capsys.readouterr().err
    assert str(docs_tree / "prompt.txt") in err and "unknown placeholder {the_image}" in err


@pytest.mark.slow
def test_the_default_backend_sends_nothing_anywhere(docs_tree: Path, tiny_model_dir: Path) -> None:
    code = (
        "import sys\n"
        "connections = []\n"
        "sys.addaudithook(lambda event, args: connections.append(args) if event == 'socket.connect' else None)\n"
        "from alttext.cli import main\n"
        f"status = main(['fix', 'docs', '--model', {str(tiny_model_dir)!r}, '--cache', 'cache'])\n"
        "print(status, connections)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=docs_tree,
                         env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)})
    assert out.stdout.strip() == "1 []", out.stderr

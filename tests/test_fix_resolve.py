"""Which image a src means: relative, site-root absolute, data: URIs, remote (localhost only), SVG."""

from __future__ import annotations

import base64
import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from alttext.fix.resolve import ResolvedImage, Resolver, decode_data_uri, svg_text

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)
SVG_TITLED = b'<svg xmlns="http://www.w3.org/2000/svg"><title>Sales  by\nmonth</title><rect/></svg>'
SVG_DESC = b'<svg xmlns="http://www.w3.org/2000/svg"><desc>A red square</desc><rect/></svg>'
SVG_BARE = b'<svg xmlns="http://www.w3.org/2000/svg"><g><title>not a root child</title></g></svg>'


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "docs" / "img").mkdir(parents=True)
    (tmp_path / "docs" / "img" / "dog.png").write_bytes(PNG)
    (tmp_path / "docs" / "img" / "my dog.png").write_bytes(PNG)
    (tmp_path / "docs" / "chart.svg").write_bytes(SVG_TITLED)
    (tmp_path / "docs" / "bare.svg").write_bytes(SVG_BARE)
    (tmp_path / "docs" / "guide").mkdir()
    return tmp_path


def _resolve(project: Path, src: str, document: str = "docs/guide/page.md", **options: object) -> ResolvedImage:
    resolver = Resolver(project_root=str(project), site_root=str(project / "docs"), **options)  # type: ignore[arg-type]
    return resolver.resolve(src, str(project / document))


@pytest.mark.parametrize(
    ("src", "document", "expected"),
    [
        pytest.param("../img/dog.png", "docs/guide/page.md", "docs/img/dog.png", id="relative"),
        pytest.param("img/dog.png?v=3#top", "docs/index.md", "docs/img/dog.png", id="query-and-fragment"),
        pytest.param("img/my%20dog.png", "docs/index.md", "docs/img/my dog.png", id="percent-encoded"),
        pytest.param("img/my dog.png", "docs/index.md", "docs/img/my dog.png", id="literal-space"),
        pytest.param("/img/dog.png", "docs/guide/page.md", "docs/img/dog.png", id="site-root-absolute"),
    ],
)
def test_local_files(project: Path, src: str, document: str, expected: str) -> None:
    image = _resolve(project, src, document)
    assert image.problem is None
    assert image.path == str(project / expected)
    assert image.read_bytes() == PNG


@pytest.mark.parametrize(
    ("src", "problem", "is_error"),
    [
        pytest.param("../img/cat.png", r"image file not found: .*docs/img/cat\.png", True, id="missing"),
        pytest.param("../../../etc/passwd", "outside the project root", True, id="escapes-root"),
        pytest.param("https://example.com/a.png", "remote image not fetched", False, id="remote-not-fetched"),
        pytest.param("//cdn.example.com/a.png", "remote image not fetched", False, id="protocol-relative"),
        pytest.param("ftp://example.com/a.png", "ftp: images are not read", False, id="other-scheme"),
        pytest.param("", "no image source", False, id="empty"),
        pytest.param("../bare.svg", r"SVG image has no <title> or <desc>", False, id="svg-without-title"),
        pytest.param("data:image/png;base64,@@@", "bad base64", True, id="bad-data-uri"),
        pytest.param("..", "not an image file", True, id="folder"),
    ],
)
def test_problems(project: Path, src: str, problem: str, is_error: bool) -> None:
    image = _resolve(project, src)
    assert image.problem is not None
    assert re.search(problem, image.problem), image.problem
    assert image.is_error is is_error
    assert not (image.text is None and image.problem is None)


def test_symlink_out_of_the_project_is_not_read(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.png"
    outside.write_bytes(PNG)
    (project / "docs" / "img" / "link.png").symlink_to(outside)
    image = _resolve(project, "../img/link.png")
    assert image.is_error and "outside the project root" in (image.problem or "")


def test_absolute_path_without_site_root_says_how_to_fix(project: Path) -> None:
    image = Resolver(project_root=str(project)).resolve("/img/dog.png", str(project / "docs" / "index.md"))
    assert image.is_error and "site-root" in (image.problem or "")


def test_svg_file_brings_its_title(project: Path) -> None:
    image = _resolve(project, "chart.svg", "docs/index.md")
    assert image.text == "Sales by month"
    assert image.problem is None


@pytest.mark.parametrize(
    ("uri", "media_type", "data"),
    [
        pytest.param("data:image/png;base64," + base64.b64encode(PNG).decode(), "image/png", PNG, id="base64"),
        pytest.param("data:image/png;base64,iVBO%0ARw0K", "image/png", base64.b64decode("iVBORw0K"),
                     id="base64-with-escaped-newline"),
        pytest.param("data:,Hello%2C%20World", "text/plain", b"Hello, World", id="percent-encoded"),
        pytest.param("data:image/svg+xml;charset=utf-8,%3Csvg%2F%3E", "image/svg+xml", b"<svg/>", id="svg-params"),
    ],
)
def test_decode_data_uri(uri: str, media_type: str, data: bytes) -> None:
    assert decode_data_uri(uri) == (media_type, data)


def test_data_uri_image_and_svg(project: Path) -> None:
    png = _resolve(project, "data:image/png;base64," + base64.b64encode(PNG).decode())
    assert png.data == PNG and png.problem is None
    svg = _resolve(project, "data:image/svg+xml;base64," + base64.b64encode(SVG_DESC).decode())
    assert svg.text == "A red square"


@pytest.mark.parametrize(
    ("svg", "expected"),
    [
        pytest.param(SVG_TITLED, "Sales by month", id="title"),
        pytest.param(SVG_DESC, "A red square", id="desc"),
        pytest.param(SVG_BARE, None, id="nested-title-ignored"),
        pytest.param(b"<svg><title>  </title><desc>Fallback</desc></svg>", "Fallback", id="blank-title"),
        pytest.param(b"<svg><title>broken", None, id="malformed"),
    ],
)
def test_svg_text(svg: bytes, expected: str | None) -> None:
    assert svg_text(svg) == expected


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("www")
    (root / "dog.png").write_bytes(PNG)
    (root / "big.png").write_bytes(PNG + b"\0" * 5000)
    (root / "chart.svg").write_bytes(SVG_TITLED)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_remote_from_localhost(project: Path, server: str) -> None:
    image = _resolve(project, f"{server}/dog.png", fetch_remote=True)
    assert image.data == PNG and image.problem is None
    svg = _resolve(project, f"{server}/chart.svg", fetch_remote=True)
    assert svg.text == "Sales by month"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        pytest.param("/big.png", "over the 1000 byte limit", id="size-limit"),
        pytest.param("/gone.png", "404", id="not-found"),
    ],
)
def test_fetch_remote_problems(project: Path, server: str, path: str, problem: str) -> None:
    image = _resolve(project, server + path, fetch_remote=True, max_bytes=1000)
    assert image.is_error and problem in (image.problem or "")

"""The review page's pictures: previews fit the card, full-size copies keep every pixel readable."""

from __future__ import annotations

import base64
import io

import pytest

from alttext.fix import review_images
from alttext.fix.review_images import full_size_uri, is_svg, preview_uri

Image = pytest.importorskip("PIL.Image")


def _encode(size: tuple[int, int], image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to show
    return exif.tobytes()


def _decode(uri: str) -> tuple[str, bytes]:
    header, _, payload = uri.partition(",")
    return header, base64.b64decode(payload)


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_browser_formats_are_embedded_as_they_are() -> None:
    for image_format, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif")):
        data = _encode((1280, 720), image_format)
        assert _decode(full_size_uri(data, svg=False)) == (f"data:{mime};base64", data)


@pytest.mark.parametrize(
    ("data", "size"),
    [
        pytest.param(_encode((300, 200), "BMP"), (300, 200), id="bmp-as-png"),
        pytest.param(_encode((300, 200), "JPEG", exif=_rotated()), (200, 300), id="exif-rotated-jpeg-upright"),
    ],
)
def test_other_images_are_re_encoded_upright(data: bytes, size: tuple[int, int]) -> None:
    header, png = _decode(full_size_uri(data, svg=False))
    assert header == "data:image/png;base64" and _size(png) == size


def test_huge_images_are_scaled_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_images, "EMBED_AS_IS_BYTES", 100)
    monkeypatch.setattr(review_images, "FULL_SIZE_LIMIT", 500)
    header, png = _decode(full_size_uri(_encode((1600, 900), "PNG"), svg=False))
    assert header == "data:image/png;base64" and _size(png) == (500, 281)


def test_previews_fit_the_card_and_svg_stays_svg() -> None:
    _, png = _decode(preview_uri(_encode((1600, 900), "PNG"), svg=False))
    assert _size(png) == (240, 135)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    assert is_svg("x.bin", svg) and not is_svg("x.png", _encode((2, 2), "PNG"))
    assert _decode(full_size_uri(svg, svg=True)) == ("data:image/svg+xml;base64", svg)

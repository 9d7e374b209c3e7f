from __future__ import annotations

import base64
import gzip
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest

Image = pytest.importorskip("PIL.Image")

from alttext.caption.imageio import ImageError, content_hash, load_image, read_bytes

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


def close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def solid(color: tuple[int, int, int], size: tuple[int, int] = (16, 16)) -> Image.Image:
    return Image.new("RGB", size, color)


def rgba_png() -> bytes:
    image = Image.new("RGBA", (16, 16), (0, 0, 0, 0))  # transparent black must become white
    image.putpixel((0, 0), (255, 0, 0, 128))
    return save(image, "PNG")


def palette_with_transparency() -> bytes:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 1)
    return save(image, "PNG", transparency=0)


def la_png() -> bytes:
    image = Image.new("LA", (16, 16), (0, 0))
    image.putpixel((0, 0), (0, 255))
    return save(image, "PNG")


def cmyk_jpeg() -> bytes:
    return save(Image.new("CMYK", (16, 16), (255, 0, 0, 0)), "JPEG", quality=95)


def animated_gif() -> bytes:
    first, second = solid(RED).convert("P"), solid(BLUE).convert("P")
    return save(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def sixteen_bit_png() -> bytes:
    import numpy as np

    pixels = np.full((16, 16), 4096, dtype=np.uint16)
    pixels[0, 0] = 65535
    return save(Image.fromarray(pixels), "PNG")


def float_tiff() -> bytes:
    import numpy as np

    pixels = np.zeros((16, 16), dtype=np.float32)
    pixels[0, 0] = 1.0
    return save(Image.fromarray(pixels), "TIFF")


# (file name, bytes, pixel (1,1)'s expected color, pixel (0,0)'s expected color)
KINDS: list[object] = [
    pytest.param("photo.jpg", lambda: save(solid(RED), "JPEG", quality=95), RED, RED, id="jpeg"),
    pytest.param("shot.png", lambda: save(solid(GREEN), "PNG"), GREEN, GREEN, id="png-rgb"),
    pytest.param("alpha.png", rgba_png, WHITE, (255, 127, 127), id="png-rgba-over-white"),
    pytest.param("palette.png", palette_with_transparency, WHITE, RED, id="png-palette-transparency"),
    pytest.param("gray-alpha.png", la_png, WHITE, BLACK, id="png-la"),
    pytest.param("cmyk.jpg", cmyk_jpeg, (0, 255, 255), (0, 255, 255), id="jpeg-cmyk"),
    pytest.param("anim.gif", animated_gif, RED, RED, id="gif-first-frame"),
    pytest.param("pic.webp", lambda: save(solid(BLUE), "WEBP", lossless=True), BLUE, BLUE, id="webp"),
    pytest.param("pic.bmp", lambda: save(solid(RED), "BMP"), RED, RED, id="bmp"),
    pytest.param("pic.tiff", lambda: save(solid(GREEN), "TIFF"), GREEN, GREEN, id="tiff"),
    pytest.param("deep.png", sixteen_bit_png, (16, 16, 16), WHITE, id="png-16-bit-gray-scaled"),
    pytest.param("float.tif", float_tiff, BLACK, WHITE, id="tiff-float-gray"),
    pytest.param("bits.png", lambda: save(Image.new("1", (16, 16), 1), "PNG"), WHITE, WHITE, id="png-1-bit"),
    pytest.param("icon.ico", lambda: save(solid(BLUE), "ICO"), BLUE, BLUE, id="ico"),
    pytest.param("no-extension", lambda: save(solid(RED), "PNG"), RED, RED, id="name-without-suffix"),
]


@pytest.mark.parametrize(("name", "make", "inside", "corner"), KINDS)
def test_every_image_kind_becomes_rgb(tmp_path: Path, name: str, make: Callable[[], bytes],
                                      inside: tuple[int, int, int], corner: tuple[int, int, int]) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    image = load_image(path)
    assert image.mode == "RGB"
    assert image.size == (16, 16)
    assert close(image.getpixel((1, 1)), inside), image.getpixel((1, 1))
    assert close(image.getpixel((0, 0)), corner), image.getpixel((0, 0))


@pytest.mark.parametrize("orientation", [pytest.param(6, id="rotate-90"), pytest.param(3, id="rotate-180"),
                                         pytest.param(8, id="rotate-270")])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    stored = Image.new("RGB", (40, 20), RED)
    stored.paste(BLUE, (20, 0, 40, 20))  # left half red, right half blue, as stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.jpg"
    path.write_bytes(save(stored, "JPEG", quality=95, exif=exif.tobytes()))
    image = load_image(path)
    if orientation == 3:
        assert image.size == (40, 20)
        assert close(image.getpixel((5, 10)), BLUE) and close(image.getpixel((35, 10)), RED)
    else:
        # 6: turned clockwise, the stored left edge is on top; 8: counter-clockwise, at the bottom.
        top, bottom = (RED, BLUE) if orientation == 6 else (BLUE, RED)
        assert image.size == (20, 40)
        assert close(image.getpixel((10, 5)), top) and close(image.getpixel((10, 35)), bottom)


def png_bytes() -> bytes:
    return save(solid(GREEN), "PNG")


@pytest.mark.parametrize("make_uri", [
    pytest.param(lambda data: "data:image/png;base64," + base64.b64encode(data).decode(), id="base64"),
    pytest.param(lambda data: "data:image/png;base64," + base64.urlsafe_b64encode(data).decode().rstrip("="),
                 id="base64-urlsafe-unpadded"),
    pytest.param(lambda data: "data:image/png;base64," + "\n".join(
        base64.b64encode(data).decode()[i:i + 60] for i in range(0, 999, 60)), id="base64-wrapped-lines"),
    pytest.param(lambda data: "data:image/png;base64," + quote_from_bytes(base64.b64encode(data)),
                 id="base64-percent-encoded"),
    pytest.param(lambda data: "data:image/png," + quote_from_bytes(data), id="percent-encoded"),
    pytest.param(lambda data: "data:;base64," + base64.b64encode(data).decode(), id="no-media-type"),
    pytest.param(lambda data: "data:image/png;charset=utf-8;base64," + base64.b64encode(data).decode(),
                 id="extra-parameter"),
])
def test_data_uri(make_uri: Callable[[bytes], str]) -> None:
    data = png_bytes()
    assert read_bytes(make_uri(data)) == data
    assert close(load_image(make_uri(data)).getpixel((3, 3)), GREEN)


def test_bytes_and_pil_images_are_sources(tmp_path: Path) -> None:
    data = save(solid(RED), "JPEG", quality=95)
    assert close(load_image(data).getpixel((3, 3)), RED)
    assert close(load_image(bytearray(data)).getpixel((3, 3)), RED)
    assert close(load_image(memoryview(data)).getpixel((3, 3)), RED)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    assert close(load_image(str(path)).getpixel((3, 3)), RED)
    in_memory = Image.new("RGBA", (8, 8), (0, 0, 255, 0))
    assert load_image(in_memory).getpixel((1, 1)) == WHITE


def test_content_hash_is_sha256_of_bytes() -> None:
    data = png_bytes()
    assert content_hash(data) == hashlib.sha256(data).hexdigest()
    assert content_hash(data) != content_hash(data + b"\0")


@pytest.mark.parametrize(("name", "data"), [
    pytest.param("logo.svg", SVG, id="svg-suffix"),
    pytest.param("logo.svgz", gzip.compress(SVG), id="svgz-suffix"),
    pytest.param("logo.png", SVG, id="svg-content-raster-name"),
    pytest.param("logo.bin", gzip.compress(SVG), id="svgz-content"),
    pytest.param("bare.img", b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", id="bom-bare-svg"),
    pytest.param("commented.img", b"<!-- made by hand -->\n<svg/>", id="leading-comment"),
])
def test_svg_is_refused_clearly(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImageError) as caught:
        load_image(path)
    assert str(caught.value) == f"{path} is an SVG; the captioning model needs a raster image"


def test_svg_data_uri_is_refused() -> None:
    uri = "data:image/svg+xml;base64," + base64.b64encode(SVG).decode()
    with pytest.raises(ImageError, match="is an SVG; the captioning model needs a raster image"):
        load_image(uri)
    with pytest.raises(ImageError, match="is an SVG"):
        load_image("data:image/png," + quote_from_bytes(SVG))  # mislabelled, sniffed


def truncated(fmt: str) -> Callable[[], bytes]:
    def make() -> bytes:
        data = save(Image.effect_noise((64, 64), 50).convert("RGB"), fmt)
        return data[: len(data) // 2]

    return make


@pytest.mark.parametrize(("name", "make", "message"), [
    pytest.param("cut.jpg", truncated("JPEG"), "corrupt or truncated image", id="truncated-jpeg"),
    pytest.param("cut.png", truncated("PNG"), "corrupt or truncated image", id="truncated-png"),
    pytest.param("noise.jpg", lambda: bytes(range(256)) * 8, "not an image format that can be read", id="garbage"),
    pytest.param("empty.png", lambda: b"", "not an image format that can be read", id="empty-file"),
    pytest.param("header.png", lambda: png_bytes()[:40], "corrupt or truncated image", id="header-only"),
])
def test_broken_images_name_the_file(tmp_path: Path, name: str, make: Callable[[], bytes], message: str) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(ImageError) as caught:
        load_image(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("limit", [pytest.param(300, id="warning-range"), pytest.param(100, id="error-range")])
def test_decompression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    # 20x20 = 400 pixels: Pillow only warns above a limit of 300, and refuses above 2 x 100.
    path = tmp_path / "bomb.png"
    path.write_bytes(save(solid(RED, (20, 20)), "PNG"))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ImageError, match=rf"^{path}: image is larger than the {limit}-pixel limit"):
        load_image(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 400)
    assert load_image(path).size == (20, 20)


@pytest.mark.parametrize(("source", "message"), [
    pytest.param("missing.png", "missing.png: no such file", id="missing"),
    pytest.param("data:image/png;base64", "malformed data: URI", id="uri-without-comma"),
    pytest.param("data:image/png;base64,@@@@", "invalid base64", id="uri-bad-base64"),
])
def test_unreadable_sources(source: str, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        load_image(source)


def test_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a folder, not an image"):
        load_image(tmp_path)


def test_long_data_uri_is_shortened_in_messages() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"not an image at all" * 100).decode()
    with pytest.raises(ImageError) as caught:
        load_image(uri)
    assert len(str(caught.value)) < 160
    assert str(caught.value).startswith("data:image/png;base64,")

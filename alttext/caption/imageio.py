"""Image files, bytes and `data:` URIs to RGB pixels the captioning model can read.

Every failure is an `ImageError` whose message names the image: a missing file,
an SVG (the model needs a raster image), a decompression bomb, a truncated or
corrupt file. Pillow is imported lazily so `alttext check` never pays for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

if TYPE_CHECKING:
    from PIL import Image

    ImageSource = str | Path | bytes | bytearray | memoryview | Image.Image
else:
    ImageSource = object

SVG_MEDIA_TYPE = "image/svg+xml"
SVG_SUFFIXES = (".svg", ".svgz")
WHITE = (255, 255, 255, 255)
ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


# Bump when decoding changes what it can read: images the cache remembers as unreadable are
# tried again (so are they after a Pillow upgrade).
READER_VERSION = "1"


def reader_key() -> str:
    """Names this decoder in the cache's record of unreadable images."""
    from PIL import __version__ as pillow_version

    return f"alttext-reader={READER_VERSION};pillow={pillow_version}"


class ImageError(Exception):
    """One image cannot be captioned; str(error) names it and says why."""


def content_hash(data: bytes) -> str:
    """The sha256 of an image's bytes: identical files share a caption."""
    return hashlib.sha256(data).hexdigest()


def describe(source: ImageSource) -> str:
    """A short name for `source` in messages: the path, or a summary of the data."""
    if isinstance(source, (str, Path)):
        text = str(source)
        return text if not text.startswith("data:") else f"{text[:40]}... ({len(text)} characters)"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes of image data>"
    size = getattr(source, "size", None)
    return f"<in-memory image {size[0]}x{size[1]}>" if size else f"<{type(source).__name__}>"


def read_bytes(source: str | Path | bytes | bytearray | memoryview, name: str | None = None) -> bytes:
    """The encoded image: a file's contents, the bytes themselves, or a decoded `data:` URI."""
    name = name or describe(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, str) and source.startswith("data:"):
        return _data_uri_bytes(source, name)
    path = Path(source)
    if path.suffix.lower() in SVG_SUFFIXES:
        raise ImageError(_svg_message(name))
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a folder, not an image") from None
    except OSError as error:
        raise ImageError(f"{name}: cannot read: {error.strerror or error}") from None


def _data_uri_bytes(uri: str, name: str) -> bytes:
    header, comma, payload = uri[len("data:"):].partition(",")
    if not comma:
        raise ImageError(f"{name}: malformed data: URI (no comma before the data)")
    params = [part.strip().lower() for part in header.split(";")]
    if params[0] == SVG_MEDIA_TYPE:
        raise ImageError(_svg_message(name))
    raw = unquote_to_bytes(payload)
    if "base64" not in params[1:]:
        return raw
    # Whitespace, missing padding and the URL-safe alphabet all occur in the wild.
    compact = b"".join(raw.split()).rstrip(b"=").translate(bytes.maketrans(b"-_", b"+/"))
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageError(f"{name}: invalid base64 in data: URI ({error})") from None


def looks_like_svg(data: bytes) -> bool:
    """SVG markup, plain or gzip-compressed (.svgz)."""
    if data[:2] == b"\x1f\x8b":
        import gzip
        import zlib

        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                data = stream.read(4096)
        except (OSError, EOFError, zlib.error):
            return False
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in head


def _svg_message(name: str) -> str:
    return f"{name} is an SVG; the captioning model needs a raster image"


def load_image(source: ImageSource, name: str | None = None) -> Image.Image:
    """Any image Pillow opens, the first frame of an animation, upright and in RGB."""
    from PIL import Image

    name = name or describe(source)
    if isinstance(source, Image.Image):
        return to_rgb(source, name)
    return decode_image(read_bytes(source, name), name)


def decode_image(data: bytes, name: str) -> Image.Image:
    """Encoded bytes to an upright RGB image; refuses SVG, bombs and broken files."""
    from PIL import Image, UnidentifiedImageError

    if looks_like_svg(data):
        raise ImageError(_svg_message(name))
    try:
        image = Image.open(io.BytesIO(data))
        _refuse_bomb(image.size, name)
        image.load()
    except Image.DecompressionBombError:
        raise ImageError(_bomb_message(name)) from None
    except UnidentifiedImageError:
        raise ImageError(_unidentified_message(data, name)) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
        raise ImageError(f"{name}: corrupt or truncated image ({error})") from None
    return to_rgb(image, name)


# Signatures of common formats, to tell a damaged file from one that is no image at all.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"RIFF", "WebP"),
)


def _unidentified_message(data: bytes, name: str) -> str:
    kind = next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)
    if kind is not None:
        return f"{name}: corrupt or truncated image (starts like a {kind} file but cannot be read)"
    return f"{name}: not an image format that can be read ({len(data)} bytes)"


def _refuse_bomb(size: tuple[int, int], name: str) -> None:
    """Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse those too.

    Checked by hand rather than by turning the warning into an error: warning filters
    are process-wide and images are decoded in a background thread.
    """
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and size[0] * size[1] > limit:
        raise ImageError(_bomb_message(name))


def _bomb_message(name: str) -> str:
    from PIL import Image

    return (f"{name}: image is larger than the {Image.MAX_IMAGE_PIXELS or 0:,}-pixel limit "
            "(it may be a decompression bomb)")


def to_rgb(image: Image.Image, name: str) -> Image.Image:
    """Apply EXIF orientation, then convert any mode to RGB with alpha over white."""
    try:
        return _flatten(_upright(image))
    except (OSError, ValueError) as error:
        raise ImageError(f"{name}: cannot convert {image.mode} image to RGB ({error})") from None


def _upright(image: Image.Image) -> Image.Image:
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        return image  # unreadable EXIF: use the pixels as stored


def _flatten(image: Image.Image) -> Image.Image:
    from PIL import Image

    if image.mode in SIXTEEN_BIT_MODES or image.mode == "F":
        image = _eight_bit_gray(image)
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, WHITE), rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _eight_bit_gray(image: Image.Image) -> Image.Image:
    """16-bit and float grayscale scaled to 0-255; Pillow's own convert would clip it to white."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        low, high = (float(pixels.min()), float(pixels.max())) if pixels.size else (0.0, 1.0)
        scaled = (pixels - low) / ((high - low) or 1.0) * 255.0
    elif image.mode == "I" and pixels.max(initial=0) <= 255:
        scaled = pixels  # 8-bit data held in a 32-bit mode
    else:
        scaled = pixels / 257.0
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))

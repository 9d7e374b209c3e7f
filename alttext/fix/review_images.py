"""The review page's pictures: a small preview and a full-size copy of each image, as data: URIs.

Both are embedded so the page needs nothing but itself: the preview is a
downscaled PNG, the full-size copy is the file's own bytes when a browser
shows that format and it is not huge (so text in a screenshot stays sharp),
otherwise a PNG no larger than FULL_SIZE_LIMIT pixels a side.
"""

from __future__ import annotations

import base64
import io

THUMBNAIL_SIZE = (240, 180)
FULL_SIZE_LIMIT = 2400  # pixels, longest side, when the image has to be re-encoded
EMBED_AS_IS_BYTES = 4 * 1024 * 1024
_BROWSER_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def is_svg(name: str, data: bytes) -> bool:
    name = name.lower()
    return name.endswith(".svg") or name.startswith("data:image/svg") or b"<svg" in data[:2048]


def preview_uri(data: bytes, *, svg: bool) -> str:
    """A preview that fits THUMBNAIL_SIZE."""
    if svg:
        return _svg_uri(data)
    image = _open(data)
    image.thumbnail(THUMBNAIL_SIZE)
    return _png_uri(image)


def full_size_uri(data: bytes, *, svg: bool) -> str:
    """The whole image at its own size, or scaled to FULL_SIZE_LIMIT when it must be re-encoded."""
    if svg:
        return _svg_uri(data)
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        mime = _BROWSER_FORMATS.get(opened.format or "")
        orientation = opened.getexif().get(0x0112, 1)
    if mime and len(data) <= EMBED_AS_IS_BYTES and orientation == 1:
        return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    image = _open(data)
    image.thumbnail((FULL_SIZE_LIMIT, FULL_SIZE_LIMIT))
    return _png_uri(image)


def _svg_uri(data: bytes) -> str:
    # Inside an <img>, a browser renders an SVG without loading anything it references.
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def _open(data: bytes):  # type: ignore[no-untyped-def]  # PIL stays an optional import
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        opened.seek(0)
        image = ImageOps.exif_transpose(opened).copy()
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    return image


def _png_uri(image) -> str:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

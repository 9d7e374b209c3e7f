"""Reading text in images with the real rapidocr models, on real rendered text, a real
Chromium screenshot and photo-like images without text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from alttext.cli import main
from tests.conftest import FIXTURES

pytest.importorskip("rapidocr")
pytest.importorskip("onnxruntime")
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from alttext.caption.compose import describe
from alttext.caption.ocr import OcrSettings, TextReader

FONT_FOLDER = Path("/usr/share/fonts/truetype/dejavu")
SCREENSHOT = FIXTURES / "images" / "new-repository.png"
sys.path.insert(0, str(FIXTURES))
from make_screenshot import chromium, screenshot


@pytest.fixture(scope="module")
def reader() -> TextReader:
    return TextReader(OcrSettings("on"))


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    if not (FONT_FOLDER / name).exists():
        pytest.skip("DejaVu fonts are not installed (apt-get install fonts-dejavu-core)")
    return ImageFont.truetype(str(FONT_FOLDER / name), size)


def banner(text: str, size: int, ink: str, paper: str, width: int = 640, height: int = 200) -> Image.Image:
    image = Image.new("RGB", (width, height), paper)
    ImageDraw.Draw(image).text((24, (height - size) // 2), text, font=font(size), fill=ink)
    return image


def photo(kind: str, seed: int) -> Image.Image:
    """Photo-like pictures without text: sensor noise over gradients, soft shapes, texture."""
    import numpy as np

    rng = np.random.default_rng(seed)
    height, width = 480, 640
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    sky = np.stack([90 + 100 * y, 140 + 80 * y, 200 + 40 * x], axis=-1)
    if kind == "shapes":
        image = Image.fromarray(sky.astype("uint8"))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            cx, cy, r = rng.integers(0, width), rng.integers(0, height), rng.integers(20, 120)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(6)), dtype=float)
    elif kind == "texture":
        grain = rng.normal(0, 1, (height // 8, width // 8, 3))
        pixels = sky * 0.5 + 60 * np.asarray(Image.fromarray(((grain + 3) * 40).clip(0, 255).astype("uint8"))
                                              .resize((width, height), Image.BICUBIC), dtype=float) / 255 * 2
    else:
        pixels = sky
    pixels = pixels + rng.normal(0, 12, pixels.shape)
    return Image.fromarray(pixels.clip(0, 255).astype("uint8"))


@pytest.mark.parametrize(("text", "size", "ink", "paper"), [
    pytest.param("Deploy pipeline", 18, "black", "white", id="small-black-on-white"),
    pytest.param("Billing settings", 32, "white", "#1f3b73", id="white-on-navy"),
    pytest.param("Weekly report", 56, "#e8590c", "#f1f3f5", id="large-orange-on-grey"),
    pytest.param("Release notes", 24, "#2b8a3e", "#ffffff", id="green-on-white"),
])
def test_reads_rendered_text(reader: TextReader, text: str, size: int, ink: str, paper: str) -> None:
    reading = reader.read(banner(text, size, ink, paper))
    assert text.lower() in reading.text.lower()
    alt = describe("a close up of a sign", reading, 125)
    assert text.lower() in alt.caption.lower() and alt.kind is not None


@pytest.mark.parametrize("kind", ["gradient", "shapes", "texture"])
@pytest.mark.parametrize("seed", [1, 2])
def test_photo_without_text_gets_no_text(reader: TextReader, kind: str, seed: int) -> None:
    reading = reader.read(photo(kind, seed))
    alt = describe("A view of a blue sky over a field", reading, 125)
    assert alt.salient == () and '"' not in alt.caption
    assert alt.caption == "A view of a blue sky over a field"


def test_photo_stays_on_the_small_detector(reader: TextReader) -> None:
    """No text seen on the small copy of a photo: the full-size detector never runs."""
    fresh = TextReader(OcrSettings("on"))
    fresh.read(photo("shapes", 7))
    assert list(fresh._engines) == [fresh.settings.gate_side]


def test_fixture_screenshot_salient_text(reader: TextReader) -> None:
    reading = reader.read(Image.open(SCREENSHOT))
    alt = describe("a screenshot of a web page", reading, 125)
    assert alt.kind == "screenshot"
    assert alt.caption.startswith('Screenshot: "Create a new repository"')
    assert {"Owner", "Repository name"} <= set(alt.salient) and len(alt.caption) <= 125
    assert "Acme Code" not in alt.salient  # the site's navigation bar gives way to the page's own labels
    for label in ("Owner", "Repository name", "Create repository"):
        assert label in reading.text


def test_all_mode_reads_every_line(reader: TextReader) -> None:
    budgeted = reader.read(Image.open(SCREENSHOT))
    everything = TextReader(OcrSettings("all")).read(Image.open(SCREENSHOT))
    assert everything.complete and len(everything.lines) >= len(budgeted.lines)
    assert "anyone on the internet can see this repository" in everything.text


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_screenshot_through_the_captioner(tmp_path: Path, tiny_model_dir: Path) -> None:
    from alttext.caption.captioner import Captioner

    page = """<!doctype html><html><body style="font:16px 'DejaVu Sans';margin:40px">
    <h1 style="font-size:30px">Billing settings</h1>
    <p>Choose how often invoices are sent to the finance team.</p>
    <label><b>Invoice email</b></label><br><input value="finance@acme.test" style="font-size:16px"><br><br>
    <button style="font-size:18px;padding:8px 16px;background:#1f883d;color:white;border:0">Save changes</button>
    </body></html>"""
    image = tmp_path / "billing.png"
    screenshot(page, image, size=(800, 450))
    captioner = Captioner(tiny_model_dir, cache=tmp_path / "cache", ocr="on")
    result = captioner.caption_results([str(image)])[0]
    captioner.close()
    assert result.error is None and result.kind == "screenshot"
    assert result.caption.startswith('Screenshot: "Billing settings"')
    assert '"Save changes"' in result.caption
    assert "Invoice email" in result.text and result.description is not None


def test_captioner_caches_readings(tmp_path: Path, tiny_model_dir: Path) -> None:
    from alttext.caption.captioner import Captioner

    first = Captioner(tiny_model_dir, cache=tmp_path / "cache", ocr="on")
    before = first.caption_results([str(SCREENSHOT)])[0]
    first.close()
    second = Captioner(tiny_model_dir, cache=tmp_path / "cache", ocr="on")
    after = second.caption_results([str(SCREENSHOT)])[0]
    second.close()
    assert after.cached and after.text == before.text and after.caption == before.caption
    assert second._reader is not None and second._reader._engines == {}  # read from the cache, no OCR run
    other = Captioner(tiny_model_dir, cache=tmp_path / "cache", ocr="all")
    assert other.caption_results([str(SCREENSHOT)])[0].text != before.text  # other settings: read again
    other.close()


def test_ocr_off_leaves_the_caption_alone(tmp_path: Path, tiny_model_dir: Path) -> None:
    from alttext.caption.captioner import Captioner

    captioner = Captioner(tiny_model_dir, cache=False, ocr="off")
    result = captioner.caption_results([str(SCREENSHOT)])[0]
    assert result.text == "" and result.caption == result.description and '"' not in (result.caption or "")


def test_caption_json_has_the_text(tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["caption", "--model", str(tiny_model_dir), "--cache", str(tmp_path / "c"), "--json",
                 "--max-alt-length", "80", str(SCREENSHOT)])
    row = json.loads(capsys.readouterr().out)[0]
    assert code == 0 and row["kind"] == "screenshot" and "Repository name" in row["text"]
    assert row["caption"].startswith('Screenshot: "Create a new repository"') and len(row["caption"]) <= 80
    assert main(["caption", "--model", str(tiny_model_dir), "--no-cache", "--json", "--ocr", "off",
                 str(SCREENSHOT)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["text"] == ""


def test_suggest_offers_the_full_text(tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "new.png").write_bytes(SCREENSHOT.read_bytes())
    (tmp_path / "guide.md").write_text("# Start\n\n![](img/new.png)\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.alttext]\nocr = "all"\nmax-alt-length = 100\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["suggest", ".", "--model", str(tiny_model_dir), "--cache", "c", "-o", "alt.json",
                 "--review", "review.html"]) == 1
    entry = json.loads((tmp_path / "alt.json").read_text(encoding="utf-8"))["entries"][0]
    assert entry["alt"].startswith('Screenshot: "Create a new repository"') and len(entry["alt"]) <= 100
    assert "you choose who can see and commit" in entry["text"] and entry["image_kind"] == "screenshot"
    assert any("long description" in warning for warning in entry["warnings"])
    assert "you choose who can see and commit" in (tmp_path / "review.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ['"sometimes"', "3"])
def test_bad_ocr_setting_names_the_file(tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.alttext]\nocr = {value}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["caption", "--no-cache", str(SCREENSHOT)]) == 2
    assert "pyproject.toml: [tool.alttext] ocr:" in capsys.readouterr().err

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alttext.cli import main
from tests.conftest import REPO_ROOT

Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("cli-images")
    paths = []
    for index, color in enumerate(["red", "navy", "olive"]):
        path = folder / f"image{index}.png"
        image = Image.effect_noise((40, 32), 30 + 20 * index).convert("RGB")
        Image.blend(image, Image.new("RGB", image.size, color), 0.5).save(path)
        paths.append(path)
    return paths


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty project folder, so no config file or cache of the repository is used."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    monkeypatch.delenv("ALTTEXT_CACHE", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main(["caption", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_one_caption_per_line(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, images: list[Path],
                              tmp_path: Path) -> None:
    code, out, err = run(capsys, "--model", tiny_model_dir, *images)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 3 and all(lines)
    from alttext.caption.captioner import Captioner

    assert lines == Captioner(tiny_model_dir, cache=None).caption(images)
    assert (tmp_path / ".alttext-cache" / "captions.sqlite3").is_file()  # the default cache, at the project top


def test_json_and_second_run_from_the_cache(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path,
                                            images: list[Path]) -> None:
    code, out, _ = run(capsys, "--json", "--model", tiny_model_dir, *images)
    first = json.loads(out)
    assert code == 0
    assert [row["image"] for row in first] == [str(path) for path in images]
    assert set(first[0]) == {"image", "caption", "raw", "text", "kind", "cached", "error", "decorative"}
    assert [row["cached"] for row in first] == [False] * 3 and [row["error"] for row in first] == [None] * 3
    code, out, _ = run(capsys, "--json", "--model", tiny_model_dir, *images)
    second = json.loads(out)
    assert [row["cached"] for row in second] == [True] * 3
    assert [row["caption"] for row in second] == [row["caption"] for row in first]


def test_bad_images_are_reported_and_the_rest_captioned(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path,
                                                        images: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"><title>Logo</title></svg>')
    code, out, err = run(capsys, "--model", tiny_model_dir, images[0], broken, logo, "missing.webp", images[1])
    assert code == 2
    lines = out.splitlines()
    assert len(lines) == 5 and lines[0] and lines[4] and lines[1:4] == ["", "", ""]
    messages = err.splitlines()
    assert len(messages) == 3
    assert messages[0].startswith(f"alttext: error: {broken}: corrupt or truncated image (")
    assert messages[1:] == [
        f"alttext: not captioned: {logo} is an SVG; the captioning model needs a raster image",
        "alttext: error: missing.webp: no such file",
    ]


def test_data_uri_and_stdin(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, images: list[Path],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = images[2].read_bytes()
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "--model", tiny_model_dir, "--json", uri, "-", images[2])
    rows = json.loads(out)
    assert code == 0
    assert rows[0]["caption"] == rows[1]["caption"] == rows[2]["caption"]
    assert rows[1]["image"] == "-"


def test_flags_reach_the_captioner(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, images: list[Path],
                                   tmp_path: Path) -> None:
    cache = tmp_path / "elsewhere" / "c.sqlite3"
    code, out, _ = run(capsys, "--model", tiny_model_dir, "--device", "cpu", "--dtype", "fp32",
                       "--batch-size", "2", "--num-beams", "1", "--max-length", "6", "--no-repeat-ngram-size", "0",
                       "--final-period", "--cache", cache, "--json", *images)
    assert code == 0 and cache.is_file()
    from alttext.caption.captioner import Captioner

    expected = Captioner(tiny_model_dir, cache=None, num_beams=1, max_length=6, no_repeat_ngram_size=0,
                         final_period=True).caption_results(images)
    rows = json.loads(out)
    assert [row["caption"] for row in rows] == [r.caption for r in expected]
    assert all(row["caption"].endswith(".") for row in rows if row["caption"])


def test_no_cache_writes_nothing(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, images: list[Path],
                                 tmp_path: Path) -> None:
    code, _, _ = run(capsys, "--model", tiny_model_dir, "--no-cache", images[0])
    assert code == 0
    assert not (tmp_path / ".alttext-cache").exists()


def test_cache_location_from_environment(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path,
                                         images: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTTEXT_CACHE", str(tmp_path / "from-env.sqlite3"))
    assert run(capsys, "--model", tiny_model_dir, images[0])[0] == 0
    assert (tmp_path / "from-env.sqlite3").is_file() and not (tmp_path / ".alttext-cache").exists()


def test_settings_from_pyproject(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, images: list[Path],
                                 tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.alttext]\nmodel = "{tiny_model_dir}"\nfinal-period = true\ncache = "captions-here"\n')
    code, out, _ = run(capsys, images[0])
    assert code == 0 and out.strip().endswith(".")
    assert (tmp_path / "captions-here" / "captions.sqlite3").is_file()
    code, out, _ = run(capsys, "--no-cache", images[0])
    assert code == 0 and out.strip().endswith(".")


@pytest.mark.parametrize(("config", "message"), [
    pytest.param("num-beams = 'four'", "num-beams: expected int, got 'four'", id="wrong-type"),
    pytest.param("final-period = 1", "final-period: expected bool, got 1", id="int-for-bool"),
])
def test_bad_config_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path, images: list[Path],
                                     config: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.alttext]\n{config}\n")
    code, out, err = run(capsys, images[0])
    assert code == 2 and out == ""
    assert message in err and err.startswith("alttext: error: ")


def test_missing_model_folder(capsys: pytest.CaptureFixture[str], images: list[Path], tmp_path: Path) -> None:
    code, out, err = run(capsys, "--model", tmp_path / "no-model-here", images[0])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no-model-here" in err and "does not exist" in err


@pytest.mark.parametrize("argv", [
    pytest.param(["--batch-size", "0"], id="batch-size-zero"),
    pytest.param(["--num-beams", "x"], id="beams-not-a-number"),
    pytest.param(["--cache", "a", "--no-cache"], id="cache-and-no-cache"),
    pytest.param(["--dtype", "fp8"], id="unknown-dtype"),
])
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["caption", *argv, "image.png"])
    assert caught.value.code == 2


def test_bad_option_value_is_one_line(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path,
                                      images: list[Path]) -> None:
    code, out, err = run(capsys, "--model", tiny_model_dir, "--device", "tpu", "--no-cache", images[0])
    assert code == 2 and out == ""
    assert err.startswith("alttext: error: ") and err.count("\n") == 1 and "tpu" in err


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    return {**env, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_CACHE": str(tmp_path / "empty-hub-cache"), **extra}


@pytest.mark.parametrize("offline", [pytest.param(True, id="HF_HUB_OFFLINE"), pytest.param(False, id="no-network")])
def test_hub_model_that_is_not_downloaded(tmp_path: Path, images: list[Path], offline: bool) -> None:
    env = subprocess_env(tmp_path, **({"HF_HUB_OFFLINE": "1"} if offline else {}))
    done = subprocess.run([sys.executable, "-m", "alttext", "caption", str(images[0])], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("alttext: error: model 'nlpconnect/vit-gpt2-image-captioning'")
    assert "--model" in lines[0] and "Traceback" not in done.stderr


def test_cached_run_in_a_fresh_process_imports_no_torch(tiny_model_dir: Path, images: list[Path],
                                                        tmp_path: Path) -> None:
    env = subprocess_env(tmp_path)
    command = [sys.executable, "-m", "alttext", "caption", "--json", "--model", str(tiny_model_dir), *map(str, images)]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    probe = ("import json, sys\nfrom alttext.cli import main\ncode = main(sys.argv[1:])\n"
             "print(json.dumps({'code': code, 'torch': 'torch' in sys.modules, "
             "'transformers': 'transformers' in sys.modules, 'PIL': 'PIL.Image' in sys.modules}), file=sys.stderr)")
    second = subprocess.run([sys.executable, "-c", probe, *command[3:]], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=True)
    assert json.loads(second.stderr) == {"code": 0, "torch": False, "transformers": False, "PIL": False}
    assert [row["caption"] for row in json.loads(second.stdout)] == [row["caption"] for row in json.loads(first.stdout)]
    assert all(row["cached"] for row in json.loads(second.stdout))


# A light install (`pip install alttext`): torch and transformers cannot be imported.
WITHOUT_CAPTION_EXTRA = ("import sys\nsys.modules['torch'] = sys.modules['transformers'] = None\n"
                         "from alttext.cli import main\nsys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize("command", ["caption", "fix"])
def test_without_the_caption_extra_one_line_says_what_to_install(tmp_path: Path, images: list[Path],
                                                                 tiny_model_dir: Path, command: str) -> None:
    (tmp_path / "photo.png").write_bytes(images[0].read_bytes())
    (tmp_path / "page.md").write_text("![](photo.png)\n", encoding="utf-8")
    target = str(images[0]) if command == "caption" else "page.md"
    done = subprocess.run([sys.executable, "-c", WITHOUT_CAPTION_EXTRA, command, "--model", str(tiny_model_dir),
                           "--no-cache", target], cwd=tmp_path, env=subprocess_env(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == ("alttext: error: captioning needs the caption extra "
                                           "(missing: torch, transformers): pip install 'alttext[caption]'")

"""The onnx back end: exported tiny models, run with torch unimportable, against the torch loop."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from alttext.caption.backends import resolve_backend  # noqa: E402
from alttext.caption.captioner import Captioner  # noqa: E402
from alttext.caption.generate import GenerationSettings, generate_ids, preprocess  # noqa: E402
from alttext.caption.model import ModelUnavailable, load_model  # noqa: E402
from alttext.caption.onnx_export import (  # noqa: E402
    DECODER_FILE,
    DECODER_WITH_PAST_FILE,
    ENCODER_FILE,
    export_onnx,
    sample_images,
)
from alttext.caption.onnx_merge import DECODER_MERGED_FILE, USE_CACHE_BRANCH  # noqa: E402

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent

# Run alttext in a process where torch and transformers cannot be imported.
WITHOUT_TORCH = textwrap.dedent("""
    import json, sys
    sys.modules["torch"] = None
    sys.modules["transformers"] = None
    mode = sys.argv[1]
    if mode == "ids":
        import numpy as np
        from alttext.caption.generate import GenerationSettings
        from alttext.caption.onnx_model import load_onnx_model, onnx_generate_ids
        model = load_onnx_model(sys.argv[2], quantize=sys.argv[3] or None)
        pixels = np.load(sys.argv[4])
        ids = onnx_generate_ids(model, pixels, GenerationSettings(num_beams=int(sys.argv[5])))
        print(json.dumps(ids))
    else:
        from alttext.cli import main
        code = main(sys.argv[2:])
        print(json.dumps({"torch": sys.modules.get("torch") is not None}), file=sys.stderr)
        raise SystemExit(code)
""")


def without_torch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """(torch model folder, its ONNX export with separate decoders and int8 copies) for ViT + GPT-2
    and DeiT + GPT-2."""
    from tests.tiny_model import build_tiny_captioning_model, build_tiny_deit_gpt2_model

    root = tmp_path_factory.mktemp("onnx")
    built = {"vit-gpt2": build_tiny_captioning_model(root / "vit-gpt2"),
             "deit-gpt2": build_tiny_deit_gpt2_model(root / "deit-gpt2")}
    exported = {}
    for name, folder in built.items():
        report = export_onnx(str(folder), root / f"{name}-onnx", int8=name == "vit-gpt2", check_images=4,
                             merged=False)
        assert report.images_checked == 4
        exported[name] = (folder, report.folder)
    return exported


@pytest.fixture(scope="module")
def merged(pairs: dict[str, tuple[Path, Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny ViT + GPT-2 model exported in the merged-decoder layout, with its int8 copy."""
    model_dir, _ = pairs["vit-gpt2"]
    report = export_onnx(str(model_dir), tmp_path_factory.mktemp("merged") / "onnx", int8=True, check_images=4)
    assert (report.images_checked, report.images_equal) == (4, 4)
    return report.folder


def test_merged_export_writes_optimums_layout(pairs: dict[str, tuple[Path, Path]], merged: Path) -> None:
    import onnx
    import onnxruntime

    _, onnx_dir = pairs["vit-gpt2"]
    assert sorted(path.name for path in merged.glob("*.onnx")) == [
        "decoder_model_merged.onnx", "decoder_model_merged_quantized.onnx", "encoder_model.onnx",
        "encoder_model_quantized.onnx"]
    decoder = onnxruntime.InferenceSession(str(merged / DECODER_MERGED_FILE))
    inputs = [i.name for i in decoder.get_inputs()]
    assert inputs[:2] == ["input_ids", "encoder_hidden_states"]
    assert inputs[2:4] == ["past_key_values.0.decoder.key", "past_key_values.0.decoder.value"]
    assert inputs[-1] == USE_CACHE_BRANCH and len(inputs) == 2 + 8 + 1
    assert [o.name for o in decoder.get_outputs()][:3] == ["logits", "present.0.decoder.key", "present.0.decoder.value"]
    graph = onnx.load(str(merged / DECODER_MERGED_FILE)).graph
    assert [node.op_type for node in graph.node] == ["If"]
    branches = [graph.node[0].attribute[i].g for i in range(2)]
    stored = weight_bytes(graph) + sum(weight_bytes(branch) for branch in branches)
    separate = sum(weight_bytes(onnx.load(str(onnx_dir / name)).graph) for name in (DECODER_FILE, DECODER_WITH_PAST_FILE))
    assert 0 < stored < 0.6 * separate  # the weights both decoders use are stored once
    from alttext.caption.onnx_model import load_onnx_model

    assert load_onnx_model(str(merged)).cross_per_image  # the with-past branch's inputs keep their axis


def weight_bytes(graph: Any) -> int:
    from onnx import numpy_helper

    return sum(numpy_helper.to_array(weight).nbytes for weight in graph.initializer)


@pytest.mark.parametrize("beams", [pytest.param(4, id="beams4"), pytest.param(1, id="greedy")])
def test_merged_layout_ids_equal_separate_and_torch_without_torch(pairs: dict[str, tuple[Path, Path]], merged: Path,
                                                                  beams: int, tmp_path: Path) -> None:
    import numpy as np

    model_dir, onnx_dir = pairs["vit-gpt2"]
    loaded = load_model(str(model_dir), device="cpu", dtype="fp32")
    pixels = preprocess(loaded, sample_images(12))
    expected = generate_ids(loaded, pixels, GenerationSettings(num_beams=beams))
    np.save(tmp_path / "pixels.npy", pixels.numpy())
    runs = {folder: without_torch("ids", str(folder), "", str(tmp_path / "pixels.npy"), str(beams))
            for folder in (merged, onnx_dir)}
    assert all(done.returncode == 0 for done in runs.values()), [done.stderr for done in runs.values()]
    assert json.loads(runs[merged].stdout) == json.loads(runs[onnx_dir].stdout) == expected


def test_merged_int8_ids_equal_separate_int8(pairs: dict[str, tuple[Path, Path]], merged: Path,
                                            tmp_path: Path) -> None:
    import numpy as np

    model_dir, onnx_dir = pairs["vit-gpt2"]
    pixels = preprocess(load_model(str(model_dir), device="cpu", dtype="fp32"), sample_images(8))
    np.save(tmp_path / "pixels.npy", pixels.numpy())
    runs = [without_torch("ids", str(folder), "int8", str(tmp_path / "pixels.npy"), "4") for folder in (merged, onnx_dir)]
    assert all(done.returncode == 0 for done in runs), [done.stderr for done in runs]
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)


def test_folder_without_decoders_is_one_line_error(merged: Path, tmp_path: Path) -> None:
    from alttext.caption.onnx_model import load_onnx_model

    broken = tmp_path / "broken"
    shutil.copytree(merged, broken)
    (broken / DECODER_MERGED_FILE).unlink()
    with pytest.raises(ModelUnavailable, match="has neither decoder_model.onnx with decoder_with_past_model.onnx "
                                               "nor decoder_model_merged.onnx") as caught:
        load_onnx_model(str(broken))
    assert "\n" not in str(caught.value)


def test_merged_file_without_use_cache_branch_is_one_line_error(pairs: dict[str, tuple[Path, Path]], merged: Path,
                                                                tmp_path: Path) -> None:
    from alttext.caption.onnx_model import load_onnx_model

    _, onnx_dir = pairs["vit-gpt2"]
    broken = tmp_path / "broken"
    shutil.copytree(merged, broken)
    shutil.copyfile(onnx_dir / DECODER_FILE, broken / DECODER_MERGED_FILE)
    with pytest.raises(ModelUnavailable, match="decoder_model_merged.onnx in .* has no use_cache_branch input"):
        load_onnx_model(str(broken))


def test_export_writes_the_published_layout(pairs: dict[str, tuple[Path, Path]]) -> None:
    import onnxruntime

    _, folder = pairs["vit-gpt2"]
    for name in ("tokenizer.json", "config.json", "generation_config.json", "preprocessor_config.json"):
        assert (folder / name).is_file(), name
    encoder = onnxruntime.InferenceSession(str(folder / ENCODER_FILE))
    decoder = onnxruntime.InferenceSession(str(folder / DECODER_FILE))
    with_past = onnxruntime.InferenceSession(str(folder / DECODER_WITH_PAST_FILE))
    assert [i.name for i in encoder.get_inputs()] == ["pixel_values"]
    assert [i.name for i in decoder.get_inputs()] == ["input_ids", "encoder_hidden_states"]
    assert [o.name for o in decoder.get_outputs()][:5] == [
        "logits", "present.0.decoder.key", "present.0.decoder.value", "present.0.encoder.key",
        "present.0.encoder.value"]
    assert "past_key_values.1.encoder.value" in [i.name for i in with_past.get_inputs()]
    assert [o.name for o in with_past.get_outputs()] == [
        "logits", "present.0.decoder.key", "present.0.decoder.value", "present.1.decoder.key",
        "present.1.decoder.value"]
    assert (folder / "decoder_with_past_model_quantized.onnx").is_file()


def as_published(folder: Path, out: Path) -> Path:
    """A copy of an alttext export whose with-past decoder names the cross-attention inputs' batch axis
    as published graphs do: a reader must then give every beam its own copy of them."""
    import onnx

    shutil.copytree(folder, out)
    for name in (DECODER_WITH_PAST_FILE, "decoder_with_past_model_quantized.onnx"):
        if not (out / name).is_file():
            continue
        model = onnx.load(str(out / name))
        for value in model.graph.input:
            if ".encoder." in value.name:
                value.type.tensor_type.shape.dim[0].dim_param = "batch"
        onnx.save(model, str(out / name))
    return out


@pytest.mark.parametrize("quantize", ["", "int8"])
def test_beams_share_the_images_keys_and_values_and_published_graphs_get_copies(
        pairs: dict[str, tuple[Path, Path]], quantize: str, tmp_path: Path) -> None:
    import numpy as np

    from alttext.caption.onnx_model import load_onnx_model

    model_dir, onnx_dir = pairs["vit-gpt2"]
    published = as_published(onnx_dir, tmp_path / "published")
    assert load_onnx_model(str(onnx_dir)).cross_per_image
    assert not load_onnx_model(str(published)).cross_per_image
    loaded = load_model(str(model_dir), device="cpu", dtype="fp32")
    pixels = preprocess(loaded, sample_images(10))
    np.save(tmp_path / "pixels.npy", pixels.numpy())
    runs = [without_torch("ids", str(folder), quantize, str(tmp_path / "pixels.npy"), "4") for folder in (onnx_dir, published)]
    assert all(done.returncode == 0 for done in runs), [done.stderr for done in runs]
    shared, copied = (json.loads(done.stdout) for done in runs)
    assert shared == copied
    if not quantize:
        assert shared == generate_ids(loaded, pixels, GenerationSettings(num_beams=4))


@pytest.mark.parametrize("pair", ["vit-gpt2", "deit-gpt2"])
@pytest.mark.parametrize("beams", [pytest.param(4, id="beams4"), pytest.param(1, id="greedy")])
def test_onnx_ids_equal_the_torch_loop_without_torch(pairs: dict[str, tuple[Path, Path]], pair: str,
                                                     beams: int, tmp_path: Path) -> None:
    import numpy as np

    model_dir, onnx_dir = pairs[pair]
    loaded = load_model(str(model_dir), device="cpu", dtype="fp32")
    pixels = preprocess(loaded, sample_images(12))
    expected = generate_ids(loaded, pixels, GenerationSettings(num_beams=beams))
    np.save(tmp_path / "pixels.npy", pixels.numpy())
    done = without_torch("ids", str(onnx_dir), "", str(tmp_path / "pixels.npy"), str(beams))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


def test_int8_graphs_run_and_give_well_formed_ids(pairs: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    import numpy as np

    model_dir, onnx_dir = pairs["vit-gpt2"]
    loaded = load_model(str(model_dir), device="cpu", dtype="fp32")
    pixels = preprocess(loaded, sample_images(8))
    np.save(tmp_path / "pixels.npy", pixels.numpy())
    done = without_torch("ids", str(onnx_dir), "int8", str(tmp_path / "pixels.npy"), "4")
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout)
    eos = loaded.model.generation_config.eos_token_id
    assert len(ids) == 8
    assert all(row[0] == eos and 1 < len(row) <= 16 for row in ids)
    assert all(0 <= token < loaded.model.decoder.config.vocab_size for row in ids for token in row)


def test_pixel_values_equal_transformers_processor(pairs: dict[str, tuple[Path, Path]]) -> None:
    import numpy as np

    from alttext.caption.onnx_model import load_onnx_model
    from alttext.caption.onnx_model import preprocess as onnx_preprocess

    model_dir, onnx_dir = pairs["vit-gpt2"]
    images = sample_images(3) + [sample_images(1)[0].resize((17, 93))]
    expected = preprocess(load_model(str(model_dir), device="cpu", dtype="fp32"), images).numpy()
    assert np.array_equal(onnx_preprocess(load_onnx_model(str(onnx_dir)), images), expected)


def test_caption_cli_without_torch_gives_the_torch_captions(pairs: dict[str, tuple[Path, Path]],
                                                            tmp_path: Path) -> None:
    model_dir, onnx_dir = pairs["vit-gpt2"]
    paths = []
    for index, image in enumerate(sample_images(5)):
        paths.append(tmp_path / f"image{index}.png")
        image.save(paths[-1])
    torch_captions = Captioner(model_dir, cache=None, device="cpu").caption([str(p) for p in paths])
    done = without_torch("cli", "caption", "--json", "--no-cache", "--model", str(onnx_dir), *map(str, paths))
    assert done.returncode == 0, done.stderr
    assert [row["caption"] for row in json.loads(done.stdout)] == torch_captions
    assert json.loads(done.stderr.strip().splitlines()[-1]) == {"torch": False}


def test_onnx_captioning_never_imports_transformers_even_where_installed(pairs: dict[str, tuple[Path, Path]],
                                                                         tmp_path: Path) -> None:
    """A machine with transformers but no torch: the onnx back end neither needs nor imports it
    (importing it costs seconds and prints its warning that PyTorch is missing)."""
    _, onnx_dir = pairs["vit-gpt2"]
    sample_images(1)[0].save(tmp_path / "image.png")
    script = textwrap.dedent("""
        import json, sys
        sys.modules["torch"] = None
        from alttext.cli import main
        code = main(sys.argv[1:])
        print(json.dumps({"transformers": "transformers" in sys.modules}), file=sys.stderr)
        raise SystemExit(code)
    """)
    done = subprocess.run([sys.executable, "-c", script, "caption", "--no-cache", "--model", str(onnx_dir),
                           str(tmp_path / "image.png")], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == ['{"transformers": false}']


def test_cache_keeps_back_ends_apart(pairs: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    model_dir, onnx_dir = pairs["vit-gpt2"]
    both = tmp_path / "both"
    shutil.copytree(model_dir, both)
    for graph in onnx_dir.glob("*.onnx"):
        shutil.copyfile(graph, both / graph.name)
    image = tmp_path / "image.png"
    sample_images(1)[0].save(image)
    cache = tmp_path / "cache.sqlite3"
    runs = [("onnx", None), ("torch", None), ("onnx", "int8"), ("onnx", None)]
    results = []
    for backend, quantize in runs:
        captioner = Captioner(both, cache=cache, device="cpu", backend=backend, quantize=quantize)
        results.append((captioner.caption_results([str(image)])[0].cached, captioner.model_loads))
        captioner.close()
    assert results == [(False, 1), (False, 1), (False, 1), (True, 0)]


@pytest.mark.parametrize(("files", "backend", "expected"), [
    pytest.param(["encoder_model.onnx"], "auto", "onnx", id="export-only"),
    pytest.param(["onnx/encoder_model.onnx"], "auto", "onnx", id="transformers-js-layout"),
    pytest.param(["onnx/encoder_model.onnx", "onnx/decoder_model_merged.onnx"], "auto", "onnx", id="merged-layout"),
    pytest.param(["encoder_model_quantized.onnx", "decoder_model_merged_quantized.onnx"], "auto", "onnx",
                 id="merged-int8-only"),
    pytest.param(["encoder_model.onnx", "model.safetensors"], "auto", "torch", id="both"),
    pytest.param(["model.safetensors"], "auto", "torch", id="torch-only"),
    pytest.param(["model.safetensors"], "onnx", "onnx", id="named"),
    pytest.param(["encoder_model.onnx"], "TORCH", "torch", id="named-any-case"),
])
def test_resolve_backend(tmp_path: Path, files: list[str], backend: str, expected: str) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert resolve_backend(str(tmp_path), backend) == expected


def test_resolve_backend_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown backend 'tensorflow' \\(use auto, torch, onnx, openai, vlm\\)"):
        resolve_backend("nlpconnect/vit-gpt2-image-captioning", "tensorflow")


def test_export_without_tokenizer_file_is_one_line_error(pairs: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    from alttext.caption.onnx_model import load_onnx_model

    _, onnx_dir = pairs["vit-gpt2"]
    broken = tmp_path / "broken"
    shutil.copytree(onnx_dir, broken)
    (broken / "tokenizer.json").unlink()
    with pytest.raises(ModelUnavailable, match="has no tokenizer.json") as caught:
        load_onnx_model(str(broken))
    assert "\n" not in str(caught.value)


def test_export_onnx_command(pairs: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    model_dir, _ = pairs["deit-gpt2"]
    done = subprocess.run([sys.executable, "-m", "alttext", "export-onnx", "--model", str(model_dir),
                           str(tmp_path / "out"), "--check-images", "3"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "checked: 3 of 3 sample images have the same tokens as the torch loop" in done.stdout
    assert f"wrote {ENCODER_FILE}, {DECODER_MERGED_FILE} to" in done.stdout  # merged by default
    assert resolve_backend(str(tmp_path / "out"), "auto") == "onnx"


def test_export_onnx_command_separate_decoders(pairs: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    model_dir, _ = pairs["deit-gpt2"]
    done = subprocess.run([sys.executable, "-m", "alttext", "export-onnx", "--model", str(model_dir),
                           str(tmp_path / "out"), "--decoders", "separate", "--check-images", "3"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"wrote {ENCODER_FILE}, {DECODER_FILE}, {DECODER_WITH_PAST_FILE} to" in done.stdout
    assert "checked: 3 of 3 sample images have the same tokens as the torch loop" in done.stdout
    assert resolve_backend(str(tmp_path / "out"), "auto") == "onnx"


@pytest.mark.parametrize(("suffix", "expected"), [
    pytest.param("", ["onnx/decoder_model_merged.onnx", "onnx/encoder_model.onnx"], id="fp32"),
    pytest.param("_quantized", ["onnx/decoder_model_merged_quantized.onnx", "onnx/encoder_model_quantized.onnx"],
                 id="int8"),
])
def test_hub_download_takes_only_the_graphs_it_reads(suffix: str, expected: list[str]) -> None:
    from huggingface_hub.utils import filter_repo_objects

    from alttext.caption.onnx_model import _graph_files

    published = [f"onnx/{part}{variant}.onnx" for part in ("encoder_model", "decoder_model_merged")
                 for variant in ("", "_quantized", "_fp16", "_q4", "_int8", "_bnb4")]
    assert sorted(filter_repo_objects(published, allow_patterns=_graph_files(suffix))) == expected

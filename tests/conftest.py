from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a tiny random ViT + GPT-2 captioning model, tokenizer and image processor."""
    pytest.importorskip("torch")
    from tests.tiny_model import build_tiny_captioning_model

    return build_tiny_captioning_model(tmp_path_factory.mktemp("tiny-vit-gpt2"))


@pytest.fixture(scope="session")
def tiny_onnx_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model exported by `alttext export-onnx` (fp32), for the onnx back end."""
    pytest.importorskip("onnx")
    from alttext.caption.onnx_export import export_onnx

    return export_onnx(str(tiny_model_dir), tmp_path_factory.mktemp("tiny-onnx") / "model", check_images=2).folder


# The suite replays a fixed set of property examples, so a result never depends on the luck
# of a draw; HYPOTHESIS_PROFILE=explore searches widely for new failing cases.
settings.register_profile("replay", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))


@pytest.fixture(scope="session")
def tiny_smolvlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a tiny random SmolVLM (Idefics3) chat model with its processor and chat template."""
    pytest.importorskip("torch")
    from tests.tiny_vlm import build_tiny_smolvlm

    return build_tiny_smolvlm(tmp_path_factory.mktemp("tiny-smolvlm"))


@pytest.fixture(scope="session")
def tiny_florence2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a tiny random Florence-2 model with its processor."""
    pytest.importorskip("torch")
    from tests.tiny_vlm import build_tiny_florence2

    return build_tiny_florence2(tmp_path_factory.mktemp("tiny-florence2"))

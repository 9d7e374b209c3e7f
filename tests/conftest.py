from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a tiny random ViT + GPT-2 captioning model, tokenizer and image processor."""
    pytest.importorskip("torch")
    from tests.tiny_model import build_tiny_captioning_model

    return build_tiny_captioning_model(tmp_path_factory.mktemp("tiny-vit-gpt2"))

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


# The suite replays a fixed set of property examples, so a result never depends on the luck
# of a draw; HYPOTHESIS_PROFILE=explore searches widely for new failing cases.
settings.register_profile("replay", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))

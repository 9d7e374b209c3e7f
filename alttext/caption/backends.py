"""The local captioning back ends, siblings behind one small interface.

`Captioner` holds a `LocalModel` and never asks which one: `torch` (transformers'
VisionEncoderDecoder and image-to-text models, generate.py and fast_vit_gpt2.py) or `onnx`
(an ONNX export on ONNX Runtime, onnx_model.py, with no torch at all). `auto` picks `onnx` for
a model folder that holds an ONNX export and no torch weights, else `torch`.

Prompted back ends (prompted.PromptedModel: image and prompt in, words out) are chosen by
name too: backend_names.PROMPTED_BACKENDS maps each name to the module whose
`load_prompted(model, options) -> PromptedModel` loads it, imported only when chosen.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from alttext.caption.backend_names import BACKENDS, PROMPTED_BACKENDS
from alttext.caption.generate import GenerationSettings

if TYPE_CHECKING:
    from alttext.caption.prompted import PromptedModel

__all__ = ["BACKENDS", "PROMPTED_BACKENDS", "LocalModel", "is_prompted", "load_local_model", "load_prompted_model",
           "resolve_backend"]
TORCH_WEIGHTS = ("*.safetensors", "pytorch_model*.bin")


class LocalModel(Protocol):
    """A loaded model: images to pixel values to token ids to text."""

    model_id: str
    revision: str
    dtype: str  # the weights' precision, a torch dtype's name or an alias such as float32
    quantized: str | None  # int8, or None

    def preprocess(self, images: list[Any]) -> Any: ...
    def join(self, parts: list[Any]) -> Any: ...
    def generate_ids(self, pixel_values: Any, settings: GenerationSettings, batch_size: int | None) -> list[list[int]]: ...
    def decode(self, ids: list[list[int]]) -> list[str]: ...
    def end_token_ids(self) -> set[int]: ...
    def batch_size(self, settings: GenerationSettings) -> int: ...


def resolve_backend(model: str, backend: str | None) -> str:
    """`torch`, `onnx` or a prompted back end's name for this model; raises ValueError for an unknown name."""
    from alttext.caption.onnx_model import onnx_folder

    name = (backend or "auto").lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (use {', '.join(BACKENDS)})")
    if name != "auto":
        return name
    folder = Path(model).expanduser()
    has_torch_weights = folder.is_dir() and any(next(folder.glob(pattern), None) for pattern in TORCH_WEIGHTS)
    return "onnx" if onnx_folder(model) is not None and not has_torch_weights else "torch"


def is_prompted(backend: str) -> bool:
    return backend in PROMPTED_BACKENDS


def load_prompted_model(name: str, backend: str, options: Mapping[str, Any]) -> PromptedModel:
    """The prompted back end `backend` for model `name`; `options` are the Captioner's (each
    back end takes the ones it knows: api_base, timeout, device...). Raises ValueError for bad ones."""
    module = importlib.import_module(PROMPTED_BACKENDS[backend])
    loaded: PromptedModel = module.load_prompted(name, options)
    return loaded


def load_local_model(name: str, backend: str, *, device: str, dtype: str | None, quantize: str | None,
                     revision: str | None, trust_remote_code: bool) -> LocalModel:
    if backend == "onnx":
        return OnnxRuntimeModel.load(name, device=device, dtype=dtype, quantize=quantize, revision=revision)
    from alttext.caption.model import load_model

    return TorchModel(load_model(name, device=device, dtype=dtype, quantize=quantize, revision=revision,
                                 trust_remote_code=trust_remote_code))


class TorchModel:
    """transformers on torch: the fast ViT + GPT-2 loop where it applies, else `generate`."""

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded
        self.model_id, self.revision = loaded.model_id, loaded.revision
        self.dtype, self.quantized = str(loaded.dtype), loaded.quantized

    def preprocess(self, images: list[Any]) -> Any:
        from alttext.caption.generate import preprocess

        return preprocess(self.loaded, images)

    def join(self, parts: list[Any]) -> Any:
        import torch

        return torch.cat(parts)

    def generate_ids(self, pixel_values: Any, settings: GenerationSettings, batch_size: int | None) -> list[list[int]]:
        from alttext.caption.generate import generate_ids

        return generate_ids(self.loaded, pixel_values, settings, batch_size=batch_size)

    def decode(self, ids: list[list[int]]) -> list[str]:
        from alttext.caption.generate import decode

        return decode(self.loaded, ids)

    def end_token_ids(self) -> set[int]:
        from alttext.caption.search_plan import as_tuple

        return set(as_tuple(getattr(self.loaded.model.generation_config, "eos_token_id", None)))

    def batch_size(self, settings: GenerationSettings) -> int:
        from alttext.caption.generate import recommended_batch_size

        return recommended_batch_size(self.loaded, settings)


class OnnxRuntimeModel:
    """An ONNX export on ONNX Runtime's CPU provider (onnx_model.py)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.model_id, self.revision = model.model_id, model.revision
        self.dtype, self.quantized = "float32", model.quantized  # int8 graphs keep float32 activations

    @classmethod
    def load(cls, name: str, *, device: str, dtype: str | None, quantize: str | None,
             revision: str | None) -> OnnxRuntimeModel:
        from alttext.caption.model import ModelUnavailable

        if device not in ("auto", "cpu"):
            raise ModelUnavailable(f"the onnx backend runs on the CPU; drop --device {device}")
        if dtype not in (None, "auto", "fp32", "float32"):
            raise ModelUnavailable(f"the onnx backend runs the export's own precision; drop --dtype {dtype} "
                                   "(--quantize int8 picks the int8 graphs)")
        _require_onnx_packages()
        from alttext.caption.onnx_model import load_onnx_model

        return cls(load_onnx_model(name, quantize=quantize, revision=revision))

    def preprocess(self, images: list[Any]) -> Any:
        from alttext.caption.onnx_model import preprocess

        return preprocess(self.model, images)

    def join(self, parts: list[Any]) -> Any:
        import numpy as np

        return np.concatenate(parts)

    def generate_ids(self, pixel_values: Any, settings: GenerationSettings, batch_size: int | None) -> list[list[int]]:
        from alttext.caption.onnx_model import onnx_generate_ids

        return onnx_generate_ids(self.model, pixel_values, settings, batch_size=batch_size)

    def decode(self, ids: list[list[int]]) -> list[str]:
        from alttext.caption.onnx_model import decode

        return decode(self.model, ids)

    def end_token_ids(self) -> set[int]:
        from alttext.caption.onnx_model import end_token_ids

        return end_token_ids(self.model)

    def batch_size(self, settings: GenerationSettings) -> int:
        from alttext.caption.onnx_model import IMAGES_PER_CALL, cores

        return IMAGES_PER_CALL * cores()  # a call's images are shared among one worker per core


ONNX_PACKAGES = {"onnxruntime": "onnxruntime", "tokenizers": "tokenizers", "numpy": "numpy", "PIL": "pillow"}


def _require_onnx_packages() -> None:
    import importlib.util

    from alttext.caption.model import ModelUnavailable

    missing = [package for module, package in ONNX_PACKAGES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise ModelUnavailable(f"the onnx backend needs the caption-onnx extra (missing: {', '.join(missing)}): "
                               "pip install 'alttext[caption-onnx]'")

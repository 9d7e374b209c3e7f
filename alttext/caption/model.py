"""Load an image-captioning model, offline-first, onto the right device.

A hub id is loaded from the local Hugging Face cache when it is there; the Hub is
asked once (no retries) only when it is not and `HF_HUB_OFFLINE` is unset. A folder
is loaded as it is. Failures become one-line `ModelUnavailable` errors.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

DEFAULT_MODEL = "nlpconnect/vit-gpt2-image-captioning"
QUANTIZE_CHOICES = ("int8",)
DTYPE_NAMES = {
    "fp32": "float32", "float32": "float32", "float": "float32",
    "fp16": "float16", "float16": "float16", "half": "float16",
    "bf16": "bfloat16", "bfloat16": "bfloat16",
}
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".msgpack", ".h5", ".onnx", ".onnx_data")
SETTINGS_SUFFIXES = (".json", ".txt", ".model", ".py", ".jinja")  # configs, vocabularies, model code, chat templates
SAMPLED_BYTES = 1 << 20  # read from each end of a weight file for its fingerprint
# A tokenizer is saved as one of these sets of files (fast tokenizer, byte-level BPE,
# WordPiece, SentencePiece).
TOKENIZER_FILE_SETS = (("tokenizer.json",), ("vocab.json", "merges.txt"), ("vocab.txt",),
                       ("tokenizer.model",), ("spiece.model",), ("sentencepiece.bpe.model",))


class ModelUnavailable(Exception):
    """The model cannot be loaded; str(error) is one line naming the model and what to do."""


CAPTION_PACKAGES = {"torch": "torch", "transformers": "transformers", "PIL": "pillow"}  # module: package


def require_caption_packages() -> None:
    """Raise ModelUnavailable, in one line, when the caption extra is not (fully) installed.

    The packages are imported, not just looked up: loading a model imports them next anyway,
    and a broken install is caught here too rather than as a traceback further in.
    """
    import importlib

    missing = []
    for module, package in CAPTION_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise ModelUnavailable(f"captioning needs the caption extra (missing: {', '.join(missing)}): "
                               "pip install 'alttext[caption]'")


@dataclass
class LoadedModel:
    model: PreTrainedModel
    image_processor: Any
    tokenizer: Any
    model_id: str  # hub id, or absolute local folder
    revision: str  # hub commit hash, or a fingerprint of the local folder's config and weights
    device: torch.device
    dtype: torch.dtype
    quantized: str | None


def resolve_device(device: str = "auto") -> torch.device:
    """`auto` picks CUDA, then Apple MPS, then CPU; other names must be usable here."""
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"unknown device {device!r} (use auto, cpu, cuda, cuda:N or mps)") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} was asked for but Apple MPS is not available")
    return resolved


def resolve_dtype(dtype: str | None, device: torch.device) -> torch.dtype:
    """Half precision on CUDA, fp32 elsewhere, unless a dtype is named."""
    import torch

    if dtype is None or dtype == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    name = DTYPE_NAMES.get(dtype.lower())
    if name is None:
        raise ValueError(f"unknown dtype {dtype!r} (use fp32, fp16 or bf16)")
    return getattr(torch, name)


def load_model(
    name: str = DEFAULT_MODEL,
    *,
    device: str = "auto",
    dtype: str | None = None,
    quantize: str | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load model, image processor and tokenizer for `name` (hub id or folder)."""
    location, torch_device, torch_dtype = prepare_load(name, revision, device, dtype, quantize)
    model, image_processor, tokenizer = _from_pretrained(
        location.source, revision=revision, local_only=location.local_only, trust_remote_code=trust_remote_code
    )
    model = place_model(model, torch_device, torch_dtype, quantize)
    return LoadedModel(
        model=model,
        image_processor=image_processor,
        tokenizer=tokenizer,
        model_id=location.source,
        revision=location.revision(revision),
        device=torch_device,
        dtype=torch_dtype,
        quantized=quantize,
    )


@dataclass(frozen=True)
class ModelLocation:
    """Where a model named by hub id or folder is: what `from_pretrained` is given, and how."""

    source: str  # the hub id, or the folder's absolute path (also the model's id)
    local_only: bool  # a folder, or a hub id found in the local cache
    fingerprint: str  # folder_fingerprint of a folder; empty for a hub id

    def revision(self, requested: str | None) -> str:
        """The folder's fingerprint, else the cached snapshot's commit, else what was asked for."""
        return self.fingerprint or _cached_commit(self.source, requested) or (requested or "unknown")


def prepare_load(name: str, revision: str | None, device: str, dtype: str | None,
                 quantize: str | None) -> tuple[ModelLocation, torch.device, torch.dtype]:
    """Where the model is, and the device and dtype it will run in, checked before any weights load
    (for every transformers loader: this module's and hf_prompted's)."""
    # Where the model is comes first: a missing model is reported without importing torch.
    location = locate_model(name, revision)
    require_caption_packages()
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, torch_device)
    _check_quantize(quantize, torch_device, torch_dtype)
    return location, torch_device, torch_dtype


def locate_model(name: str, revision: str | None) -> ModelLocation:
    """Find the model without importing torch; raise a one-line ModelUnavailable when it is not there."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        return ModelLocation(str(folder.resolve()), True, folder_fingerprint(folder))
    if _looks_like_path(name):
        raise ModelUnavailable(f"model folder {name!r} does not exist")
    return ModelLocation(name, _hub_files_status(name, revision), "")


def _check_quantize(quantize: str | None, device: torch.device, dtype: torch.dtype) -> None:
    import torch

    if quantize is None:
        return
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"unknown quantization {quantize!r} (use int8)")
    if device.type != "cpu":
        raise ValueError("--quantize int8 works on the CPU only; use --device cpu or drop --quantize")
    if dtype != torch.float32:
        raise ValueError("--quantize int8 needs fp32 weights; drop --dtype")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), read now rather than when huggingface_hub was imported."""
    from huggingface_hub import constants

    truthy = {"1", "ON", "YES", "TRUE"}
    from_env = any(os.environ.get(name, "").upper() in truthy for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return from_env or bool(constants.HF_HUB_OFFLINE)


# Integrations replace this with their own way to name a model folder (MkDocs `model:`, Sphinx `alttext_model`).
MODEL_FOLDER_HINT = "pass --model /path/to/folder"


def hub_command(action: str) -> str:
    """The installed huggingface_hub's command for `download` or `login`: `hf` since 0.34
    (1.0 removed `huggingface-cli`)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(part) for part in version("huggingface_hub").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        major, minor = 1, 0
    if (major, minor) >= (0, 34):
        return "hf auth login" if action == "login" else f"hf {action}"
    return f"huggingface-cli {action}"


def _hub_files_status(repo_id: str, revision: str | None) -> bool:
    """True when the model is in the local cache; else probe the Hub once and explain failure."""
    import importlib.util

    if importlib.util.find_spec("huggingface_hub") is None:  # it comes with the caption extra
        require_caption_packages()
    if _cached_commit(repo_id, revision):
        return True
    advice = (
        f"download it on a connected machine ({hub_command('download')} {repo_id}) and copy the Hugging Face "
        f"cache, or save it to a folder and {MODEL_FOLDER_HINT}"
    )
    if _hub_offline():
        raise ModelUnavailable(
            f"model {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; {advice}"
        )
    _probe_hub(repo_id, revision, advice)
    return False


def _probe_hub(repo_id: str, revision: str | None, advice: str) -> None:
    """One quick request, so a missing network fails in under a second instead of retrying."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        HfApi().model_info(repo_id, revision=revision, timeout=10)
    except GatedRepoError as error:
        raise ModelUnavailable(f"model {repo_id!r} is gated on the Hub; log in with {hub_command('login')}") from error
    except RevisionNotFoundError as error:
        raise ModelUnavailable(f"model {repo_id!r} has no revision {revision!r} on the Hub") from error
    except RepositoryNotFoundError as error:
        raise ModelUnavailable(
            f"model {repo_id!r} was not found on the Hub (check the name, or pass --model /path/to/folder)"
        ) from error
    except Exception as error:  # network errors come from several libraries
        raise ModelUnavailable(
            f"model {repo_id!r} is not in the local Hugging Face cache and the Hub cannot be reached; {advice}"
        ) from error


def _cached_commit(repo_id: str, revision: str | None) -> str | None:
    """The commit hash of the cached snapshot holding config.json, or None."""
    from huggingface_hub import try_to_load_from_cache

    try:
        path = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    except ValueError:  # an invalid repo id is simply "not cached"
        return None
    if not isinstance(path, str):
        return None
    return Path(path).parent.name


def folder_fingerprint(folder: Path) -> str:
    """A short hash of what a model folder holds, the same for any copy or checkout of it.

    Settings and tokenizer files are hashed whole, and an `onnx/` subfolder's files count too. A weight file counts by its size and its
    first and last SAMPLED_BYTES: the safetensors header lists every tensor's offsets, and two
    trainings differ at both ends, while hashing gigabytes would slow every cached run.
    """
    digest = hashlib.sha256()
    exports = folder / "onnx"  # where published ONNX exports keep their graphs
    inside = sorted(exports.iterdir()) if exports.is_dir() else []
    for path in sorted(folder.iterdir()) + inside:
        if not path.is_file() or not path.name.endswith(WEIGHT_SUFFIXES + SETTINGS_SUFFIXES):
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        if path.name.endswith(SETTINGS_SUFFIXES):
            digest.update(path.read_bytes())
            continue
        size = path.stat().st_size
        digest.update(f"{size}\0".encode())
        with path.open("rb") as weights:
            digest.update(weights.read(SAMPLED_BYTES))
            weights.seek(max(SAMPLED_BYTES, size - SAMPLED_BYTES))
            digest.update(weights.read(SAMPLED_BYTES))
    return "local-" + digest.hexdigest()[:16]


def _from_pretrained(source: str, *, revision: str | None, local_only: bool, trust_remote_code: bool) -> tuple:
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer

    options = {"revision": revision, "local_files_only": local_only, "trust_remote_code": trust_remote_code}
    try:
        config = AutoConfig.from_pretrained(source, **options)
        model = _model_class(config).from_pretrained(source, **options)
        image_processor = AutoImageProcessor.from_pretrained(source, **options)
        tokenizer = _tokenizer(AutoTokenizer, source, options)
    except (OSError, ValueError, KeyError) as error:
        raise load_failure(source, error, trust_remote_code) from error
    return model.eval(), image_processor, tokenizer


def load_failure(source: str, error: Exception, trust_remote_code: bool) -> ModelUnavailable:
    """`from_pretrained`'s error as one line naming the model (the first line of the error's text)."""
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if "custom code" in first_line and not trust_remote_code:
        first_line = "it needs its own Python code to load; allow that only if you trust it (--trust-remote-code)"
    return ModelUnavailable(f"model {source!r} could not be loaded: {first_line}")


def _tokenizer(auto_tokenizer: Any, source: str, options: dict[str, Any]) -> Any:
    """The tokenizer; for a folder that lacks its files, an error naming them.

    Checked only after loading fails, so tokenizers saved in other files (a model's own
    code may use any) still load.
    """
    try:
        return auto_tokenizer.from_pretrained(source, **options)
    except (OSError, ValueError, KeyError):
        if Path(source).is_dir():
            _check_tokenizer_files(Path(source))
        raise


def _check_tokenizer_files(folder: Path) -> None:
    """Raise ModelUnavailable naming the tokenizer files `folder` lacks, if it lacks any."""
    present = {path.name for path in folder.iterdir()}
    if any(all(name in present for name in names) for names in TOKENIZER_FILE_SETS):
        return
    partial = next((names for names in TOKENIZER_FILE_SETS if any(name in present for name in names)), None)
    if partial is not None:
        missing = ", ".join(name for name in partial if name not in present)
        found = ", ".join(name for name in partial if name in present)
        problem = f"has {found} but not {missing}"
    else:
        problem = ("has no tokenizer files (none of tokenizer.json, vocab.json + merges.txt, vocab.txt, "
                   "tokenizer.model, spiece.model)")
    raise ModelUnavailable(f"model folder {str(folder)!r} {problem}; copy them from the model it was trained "
                           "from, or save its tokenizer there with tokenizer.save_pretrained(folder)")


def _model_class(config: Any) -> Any:
    """VisionEncoderDecoderModel for ViT+GPT-2 style models, else the image-to-text Auto class."""
    import transformers

    if config.model_type == "vision-encoder-decoder":
        return transformers.VisionEncoderDecoderModel
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    )

    if config.model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES or getattr(config, "auto_map", None):
        return transformers.AutoModelForImageTextToText
    raise ModelUnavailable(f"model type {config.model_type!r} is not an image-to-text model")


def place_model(model: Any, device: torch.device, dtype: torch.dtype, quantize: str | None) -> Any:
    """Move a model to its device and dtype; on the CPU, quantize it or run fp32 products through oneDNN."""
    import torch

    from alttext.caption.cpu_products import use_fast_products

    _set_cpu_threads(device)
    model = model.to(device=device, dtype=dtype)
    if quantize == "int8":
        model = quantize_int8(model)
    elif device.type == "cpu" and dtype == torch.float32:
        use_fast_products(model)
    return model.eval()


def _set_cpu_threads(device: torch.device) -> None:
    """Use every core this process may run on, unless the user pinned a thread count."""
    import torch

    if device.type != "cpu" or os.environ.get("OMP_NUM_THREADS"):
        return
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores))


def quantize_int8(model: Any) -> Any:
    """Dynamic int8 quantization of every Linear layer (GPT-2's Conv1D layers become Linear first).

    This trades some caption fidelity for speed: weights are stored as int8 and activations are
    quantized on the fly, so captions can differ from the fp32 model's. Layers are quantized one
    at a time, each layer's fp32 weights dropped as its int8 copy is made (torch.ao's
    `quantize_dynamic` leaves every replaced layer in a reference cycle, alive until the garbage
    collector runs), and the freed memory goes back to the system: the int8 model's peak memory
    stays below the fp32 model's. Its products equal `quantize_dynamic`'s.

    torch.ao's dynamic quantization is deprecated in favour of torchao, but torchao 0.18's CPU
    int8 products are about 3x slower than torch.ao's (fbgemm) and its import prints errors about
    its CUDA libraries; until that changes, torch.ao is used and only its deprecation warnings are
    silenced.
    """
    import torch
    from transformers.pytorch_utils import Conv1D

    from alttext.caption.heap import release_freed_memory

    with _quantization_deprecations_silenced():
        from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear
        from torch.ao.quantization.qconfig import default_dynamic_qconfig

        # Only the parents are listed: a list of the layers themselves would keep them all alive.
        parents = [module for module in model.modules()
                   if any(isinstance(child, (Conv1D, torch.nn.Linear)) for child in module.children())]
        for parent in parents:
            for name, child in list(parent.named_children()):
                if isinstance(child, Conv1D):
                    child = _conv1d_as_linear(child)
                if type(child) is torch.nn.Linear:
                    child.qconfig = default_dynamic_qconfig  # type: ignore[assignment]  # torch types it as a Module attribute
                    setattr(parent, name, DynamicInt8Linear.from_float(child))
    release_freed_memory()
    return model


# torch.ao's warnings that its quantization API is deprecated (it works, see quantize_int8).
QUANTIZATION_DEPRECATIONS = (
    r"torch\.ao\.quantization is deprecated",
    r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other quantized tensor creation",
)


@contextmanager
def _quantization_deprecations_silenced() -> Iterator[None]:
    with warnings.catch_warnings():
        for message in QUANTIZATION_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message)
        yield


def _conv1d_as_linear(conv: Any) -> Any:
    """GPT-2's Conv1D (weight [in, out]) as the Linear layer it is (weight [out, in])."""
    import torch

    # skip_init: no random weights made only to be overwritten.
    linear = torch.nn.utils.skip_init(torch.nn.Linear, conv.weight.shape[0], conv.weight.shape[1])
    linear.weight.data = conv.weight.data.t().contiguous()
    linear.bias.data = conv.bias.data
    return linear

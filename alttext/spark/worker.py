"""What runs inside Spark's Python workers: reading and hashing path rows, and captioning
distinct images with alttext's own Captioner, loaded once per worker process.

Spark reuses its Python workers across tasks (spark.python.worker.reuse, on by default), so
the Captioner kept in `_CAPTIONERS` loads the model once per worker and every later
partition of the job, or of the next job, captions with it straight away.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    import pandas as pd

    from alttext.caption.captioner import Captioner, CaptionResult

OUTPUT_FIELDS = ("path", "sha256", "caption", "raw", "text", "error", "model", "settings", "hit_limit")
_CAPTIONERS: dict[tuple[str, str], Captioner] = {}
LOCAL_SCHEMES = ("", "file")
UNNAMED = "<image without a path>"
CHANNELS = (1, 3, 4)  # gray, BGR and BGRA: the image data source's layouts
CHUNK = 256  # distinct images per Captioner call: output flows out of a large Arrow batch in steps


@dataclass(frozen=True)
class Job:
    """What each worker needs to build its Captioner; pickled into every task."""

    model: str
    shipped_model: str | None = None  # the model folder's name among the job's SparkFiles
    options: dict[str, Any] = field(default_factory=dict)  # Captioner keywords besides model and device
    device: str = "auto"


# Path rows: read and hash on the executors, so no image ever passes through the driver.

def hash_paths(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """(path) rows to (path, key, error): the content hash of a readable file, else why not."""
    import pandas as pd

    for frame in batches:
        keys, errors = zip(*(_hash_path(path) for path in frame["path"])) if len(frame) else ((), ())
        yield pd.DataFrame({"path": frame["path"], "key": list(keys), "error": list(errors)})


def _hash_path(path: str | None) -> tuple[str | None, str | None]:
    from alttext.caption.imageio import ImageError, read_bytes

    if path is None:
        return None, "a row has no path"
    try:
        return hashlib.sha256(read_bytes(local_source(path), path)).hexdigest(), None
    except ImageError as error:
        return None, str(error)


def local_source(path: str) -> str:
    """A path or `data:` URI as given; a file: URI as its local path. Other schemes cannot be read here."""
    if path.startswith("data:"):
        return path
    parsed = urlparse(path)
    if parsed.scheme.lower() in LOCAL_SCHEMES or (len(parsed.scheme) == 1 and os.name == "nt"):
        return unquote(parsed.path) if parsed.scheme else path
    from alttext.caption.imageio import ImageError

    raise ImageError(f"{path}: {parsed.scheme}: URIs are read with spark.read.format('binaryFile'); "
                     "a path column holds local paths, file: or data: URIs")


# Image data source rows: OpenCV-ordered pixels (BGR, BGRA or gray) to RGB pixels.

def image_struct_rows(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """(origin, height, width, nChannels, data) rows to (path, key, error, data, width, height).

    `key` is the Captioner's own hash of an in-memory RGB image, so it is also the result's sha256.
    """
    import pandas as pd

    for frame in batches:
        rows = [_rgb_row(*row) for row in frame.itertuples(index=False)]
        yield pd.DataFrame(rows, columns=["path", "key", "error", "data", "width", "height"])


def _rgb_row(origin: str | None, height: int, width: int, channels: int, data: bytes | None) -> tuple:
    name = origin or UNNAMED
    if channels not in CHANNELS or data is None or height <= 0 or width <= 0 or len(data) != height * width * channels:
        return origin, None, f"{name}: the image data source could not decode it", None, None, None
    import numpy as np
    from PIL import Image

    from alttext.caption.imageio import to_rgb

    pixels = np.frombuffer(data, dtype=np.uint8).reshape(height, width, channels)
    pixels = pixels[..., [2, 1, 0, 3][:channels]] if channels > 1 else pixels[..., 0]  # BGR(A) to RGB(A)
    rgb = to_rgb(Image.fromarray(np.ascontiguousarray(pixels)), name).tobytes()
    digest = hashlib.sha256(f"pil:RGB:{width}x{height}:".encode())
    digest.update(rgb)
    return origin, digest.hexdigest(), None, rgb, width, height


# Distinct images: one Captioner call per chunk, one output row per path that holds the image.

def caption_groups(batches: Iterator[pd.DataFrame], job: Job) -> Iterator[pd.DataFrame]:
    """(key, error, paths, data, width, height) rows to one result row per path."""
    captioner: Captioner | None = None
    for frame in batches:
        for start in range(0, len(frame), CHUNK):
            chunk = frame.iloc[start:start + CHUNK]
            todo = chunk[chunk["error"].isna()]
            results: list[CaptionResult] = []
            if len(todo):
                captioner = captioner or _captioner(job)
                results = captioner.caption_results(
                    [_source(row) for row in todo.itertuples(index=False)],
                    [_name(row.paths) for row in todo.itertuples(index=False)])
            yield _rows(chunk, dict(zip(todo.index, results)), captioner, job)


def _source(row: Any) -> Any:
    """What the Captioner reads: raw pixels as an image, encoded bytes, or the file at the path."""
    if _present(row.data) and _present(row.width):
        from PIL import Image

        return Image.frombytes("RGB", (int(row.width), int(row.height)), bytes(row.data))
    if _present(row.data):
        return bytes(row.data)
    return local_source(row.paths[0])


def _present(value: Any) -> bool:
    """Not null: pandas shows a null cell as None, NaN or NA depending on the column's type."""
    import pandas as pd

    return value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value))


def _name(paths: Any) -> str:
    names = [path for path in paths if path] if paths is not None else []
    if not names:
        return UNNAMED
    return names[0] if len(names) == 1 else f"{names[0]} (and {len(names) - 1} identical)"


def _rows(chunk: pd.DataFrame, results: dict[Any, CaptionResult], captioner: Captioner | None,
          job: Job) -> pd.DataFrame:
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for index, row in chunk.iterrows():
        result = results.get(index)
        cells = _result_cells(result, captioner, job) if result is not None else _failed_cells(row["error"])
        paths = row["paths"] if row["paths"] is not None and len(row["paths"]) else [None]
        rows.extend({"path": path, **cells} for path in paths)
    return pd.DataFrame(rows, columns=list(OUTPUT_FIELDS))


def _failed_cells(error: str) -> dict[str, Any]:
    return {"sha256": None, "caption": None, "raw": None, "text": "", "error": error,
            "model": None, "settings": None, "hit_limit": None}


def _result_cells(result: CaptionResult, captioner: Captioner | None, job: Job) -> dict[str, Any]:
    from alttext.caption.results_table import model_and_settings

    model = settings = None
    if result.error is None and captioner is not None and result.content_hash is not None:
        model, settings = model_and_settings(_cache_key(captioner, result.content_hash))
    return {"sha256": result.content_hash, "caption": result.caption, "raw": result.raw,
            "text": read_text(result), "error": result.error, "model": model, "settings": settings,
            "hit_limit": result.hit_limit}


def read_text(result: CaptionResult) -> str:
    """Text read from the image, where this alttext's CaptionResult carries it; else ""."""
    return getattr(result, "text", None) or ""


def _cache_key(captioner: Captioner, digest: str) -> Any:
    """The key the Captioner itself stores this caption under, so an import fills that very entry."""
    from alttext.caption.captioner import model_identity

    identity = captioner._identity or model_identity(captioner.model_name, captioner.revision)
    assert identity is not None, "the captioner has run, so its model is known"
    return captioner._key(digest, identity)


# One Captioner per worker process and device.

def _captioner(job: Job) -> Captioner:
    from alttext.caption.captioner import Captioner

    device = task_device(job.device)
    model = shipped_model_folder(job)
    key = (repr((job, model)), device)
    if key not in _CAPTIONERS:
        _limit_threads(device)
        _CAPTIONERS[key] = Captioner(model, device=device, progress=False, **job.options)
    return _CAPTIONERS[key]


def task_device(requested: str) -> str:
    """The GPU Spark gave this task (spark.task.resource.gpu.amount), unless a device was named."""
    if requested != "auto":
        return requested
    from pyspark import TaskContext

    context = TaskContext.get()
    gpus = context.resources().get("gpu") if context is not None else None
    if gpus is not None and gpus.addresses:
        return f"cuda:{gpus.addresses[0]}"
    return requested


def shipped_model_folder(job: Job) -> str:
    """This worker's copy of a model folder shipped with the job, else the model as named."""
    if job.shipped_model is None:
        return job.model
    from pyspark import SparkFiles

    copy = SparkFiles.get(job.shipped_model)
    return copy if os.path.isdir(copy) else job.model


def _limit_threads(device: str) -> None:
    """On CPU executors each task gets spark.task.cpus cores, not the whole machine."""
    if device.startswith(("cuda", "mps")):
        return
    from pyspark import TaskContext

    context = TaskContext.get()
    cores = context.cpus() if context is not None else None
    if cores:
        os.environ["OMP_NUM_THREADS"] = str(cores)  # read by the model loader, which keeps it
        import torch

        torch.set_num_threads(cores)
